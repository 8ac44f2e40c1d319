"""``tandem eval --history`` on a git history the test builds, with the tiny model and
retrieval: the right lines and truths, each on its parent's tree, nothing of the answer in
the index or the context, the user's repository untouched, and the report's arithmetic."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from history_repo import D_ADDED, UNCOMMITTED_MARKER, HistoryRepo, build_history_repo

from server.cli import main
from server.evaluation.history import first_identifier, percentile
from server.evaluation.models import edit_similarity

SETUP_FIELDS = {
    "points",
    "exact_match",
    "edit_similarity",
    "identifier_match",
    "identifier_points",
    "empty",
    "errors",
    "latency_p50_ms",
    "latency_p95_ms",
    "prompt_tokens",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> HistoryRepo:
    return build_history_repo(tmp_path_factory.mktemp("history") / "shop-repo")


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main([*argv, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def state(repo: HistoryRepo) -> tuple[str, str, bool]:
    """What the eval must leave alone: HEAD, the working tree's changes, no user index."""
    status = repo.git("status", "--porcelain")
    return repo.git("rev-parse", "HEAD"), status, (repo.root / ".tandem").exists()


@pytest.mark.slow
def test_history_eval_points_parent_tree_no_leak_and_arithmetic(
    repo: HistoryRepo, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = state(repo)
    scratch = tmp_path / "scratch"
    argv = ["eval", str(repo.root), "--history", "3", "--points-per-commit", "2"]
    argv += ["--model", str(tiny_model), "--adapter", "none", "--embedder", "none"]
    argv += ["--max-tokens", "6", "--scratch", str(scratch), "--ablate-decoding"]
    report = run_json(argv, capsys)

    c = repo.commits
    # The last three commits that add code, oldest first; the prose-only commit E is not one.
    assert [x["commit"] for x in report["commits"]] == [c["B"], c["C"], c["D"]]
    assert [x["parent"] for x in report["commits"]] == [c["A"], c["B"], c["C"]]
    assert [x["path"] for x in report["commits"]] == [
        "shop/cart.py",
        "shop/receipt.py",
        "shop/prices.py",  # more added lines than cart.py's changed import
    ]
    assert report["points"] == len(report["details"]) == 6
    for d in report["details"]:
        line = repo.show(d["commit"], d["path"]).split("\n")[d["line"] - 1]
        assert d["col"] - 1 == len(line) - len(line.lstrip())  # first non-blank character
        assert d["truth"] == line.strip()  # the rest of the line
        assert UNCOMMITTED_MARKER not in json.dumps(d)
    # The rename is followed: only the two lines commit D added, not the ones it moved.
    assert {d["truth"] for d in report["details"] if d["commit"] == c["D"]} == D_ADDED

    # The answer is nowhere in what the model is shown: not elsewhere in the buffer, not
    # in any snippet; and the index is the parent's (checked on the last one, kept here).
    assert not any(d["answer_in_file"] for d in report["details"])
    assert set(report["answer_in_snippets"].values()) == {0}
    tree = scratch / repo.root.name
    assert (
        subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        == c["C"]
    )
    from indexer.search import open_index

    index = open_index(tree, str(scratch / "index"))
    at_c = ["shop/__init__.py", "shop/cart.py", "shop/pricing.py", "shop/receipt.py"]
    assert sorted(index.known_paths()) == at_c
    indexed = "\n".join(ch.text for p in index.known_paths() for ch in index.chunks(p))
    assert not any(t in indexed for t in D_ADDED)
    # Snippets come from the parent's tree or the buffer being written, nothing later.
    used = 0
    for d in report["details"]:
        parent_files = set(repo.git("ls-tree", "-r", "--name-only", d["parent"]).split())
        for snippet in d["base + retrieval"]["snippets"]:
            assert snippet.split(":")[0] in parent_files | {d["path"]}
            used += 1
    assert used
    assert all(not d["base"]["snippets"] for d in report["details"])

    # The user's repository: same HEAD, same uncommitted edit, no index written into it.
    assert state(repo) == before

    # Shape and arithmetic: every figure follows from the completions in the details.
    names = list(report["setups"])
    assert names[:2] == ["base", "base + retrieval"]
    assert names[2:] == [
        "base + retrieval, no token healing",
        "base + retrieval, no guided identifiers",
        "base + retrieval, none of them",
    ]
    assert report["decoding_defaults"] == {"token_healing": True, "guided_identifiers": True}
    truths = [d["truth"] for d in report["details"]]
    for name, s in report["setups"].items():
        assert set(s) == SETUP_FIELDS
        out = [d[name]["completion"] for d in report["details"]]
        ms = [d[name]["ms"] for d in report["details"]]
        assert s["points"] == 6 and s["errors"] == 0
        assert all(d[name]["backend"] != "retrieval" for d in report["details"])
        exact = sum(o.rstrip() == t for o, t in zip(out, truths, strict=True)) / 6
        sim = sum(edit_similarity(o.rstrip(), t) for o, t in zip(out, truths, strict=True)) / 6
        assert s["exact_match"] == pytest.approx(exact, abs=1e-4)
        assert s["edit_similarity"] == pytest.approx(sim, abs=1e-4)
        assert s["empty"] == pytest.approx(sum(not o.strip() for o in out) / 6, abs=1e-4)
        named = [(o, t) for o, t in zip(out, truths, strict=True) if first_identifier(t)]
        assert s["identifier_points"] == len(named) == 6
        hits = sum(first_identifier(o) == first_identifier(t) for o, t in named)
        assert s["identifier_match"] == pytest.approx(hits / len(named), abs=1e-4)
        assert s["latency_p50_ms"] == pytest.approx(percentile(ms, 50), abs=0.1)
        assert s["latency_p95_ms"] == pytest.approx(percentile(ms, 95), abs=0.1)
        assert 0 < s["latency_p50_ms"] <= s["latency_p95_ms"] == pytest.approx(max(ms), abs=0.1)
    assert (
        report["setups"]["base + retrieval"]["prompt_tokens"]
        > report["setups"]["base"]["prompt_tokens"]
    )

    # Seeded: the same command picks the same points (the scratch clone is reused).
    again = run_json(argv, capsys)
    assert [(d["commit"], d["line"]) for d in again["details"]] == [
        (d["commit"], d["line"]) for d in report["details"]
    ]


def test_history_eval_refuses_an_adapter_that_saw_the_answers(
    repo: HistoryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from server.trainer.manifest import Manifest, write_manifest

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    fields: dict[str, Any] = {
        "base_model": "smollm2",
        "base_weights_hash": "",
        "template": "starcoder",
        "training_files": {},
        "holdout_files": {},
        "excluded_files": [],
        "examples": 1,
        "holdout_examples": 0,
        "train_tokens": 1,
        "steps": 1,
        "hyperparameters": {},
    }
    write_manifest(adapter, Manifest(**fields))  # trained on the files on disk
    argv = ["eval", str(repo.root), "--history", "3", "--adapter", str(adapter)]
    assert main(argv) == 2
    assert "tandem train --until" in capsys.readouterr().err
    write_manifest(adapter, Manifest(**fields, until_commit=repo.commits["C"]))  # too late
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "after the first evaluated commit's parent" in err
    assert f"--until {repo.commits['A'][:12]}" in err


def test_history_eval_bad_input_is_a_clear_error(
    tmp_path: Path, repo: HistoryRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["eval", str(plain), "--history", "2"]) == 2
    assert "not inside a git repository" in capsys.readouterr().err
    assert main(["eval", str(repo.root), "--history", "2", "--rev", "no-such-branch"]) == 2
    assert "names no commit" in capsys.readouterr().err
    assert main(["eval", str(repo.root), "--history", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
    argv = ["eval", str(repo.root), "--history", "1", "--adapter", "none", "--setups", "LoRA"]
    assert main(argv) == 2
    assert "no set-up named LoRA (this run has 'base', 'base + retrieval')" in (
        capsys.readouterr().err
    )


def test_setups_are_chosen_by_name_even_with_a_comma_in_it() -> None:
    from server.cli.eval_history_cmd import _wanted_setups
    from server.evaluation.history import plan_setups

    known = {s.name for s in plan_setups(adapter=True, ablate=True)}
    ablation = "LoRA + retrieval, no token healing"
    assert ablation in known
    assert _wanted_setups([ablation, "base,LoRA"], known) == [ablation, "base", "LoRA"]
    assert _wanted_setups(["base, nope"], known) == ["base", "nope"]  # then reported unknown
