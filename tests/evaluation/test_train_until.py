"""``tandem train --until REV`` trains on the files committed at REV (not the working tree,
not later commits), records REV in the manifest, and ``eval --history`` then runs the LoRA
set-ups with it, having checked it was trained before every evaluated commit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from history_repo import UNCOMMITTED_MARKER, HistoryRepo, build_history_repo

from indexer.types import content_hash
from server.cli import main

ADAPTERS = {"adapters", "checkpoints"}  # what train --until writes into .tandem
TRAIN = ["--max-steps", "2", "--lr", "2e-2", "--seq-len", "64", "--batch-size", "2"]


@pytest.mark.slow
def test_train_until_uses_the_tree_at_rev_then_history_eval_uses_the_adapter(
    tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo: HistoryRepo = build_history_repo(tmp_path / "shop-repo")
    c = repo.commits
    status = repo.git("status", "--porcelain")
    argv = ["train", str(repo.root), "--until", "HEAD~3", "--model", str(tiny_model), *TRAIN]
    assert main([*argv, "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)

    assert manifest["until_rev"] == "HEAD~3" and manifest["until_commit"] == c["B"]
    seen = {**manifest["training_files"], **manifest["holdout_files"]}
    # Commit B's files, at B: not receipt.py (C), not prices.py (D), not the uncommitted edit.
    assert set(seen) == {"shop/cart.py", "shop/pricing.py"}
    for path, digest in seen.items():
        assert digest == content_hash(repo.show(c["B"], path))
    assert seen["shop/cart.py"] != content_hash((repo.root / "shop/cart.py").read_text())
    assert manifest["root"] == str(repo.root.resolve())
    assert repo.git("status", "--porcelain") == status  # the working tree is untouched
    assert UNCOMMITTED_MARKER in (repo.root / "shop/cart.py").read_text()
    assert {p.name for p in (repo.root / ".tandem").iterdir()} <= {".gitignore", *ADAPTERS}
    (adapter,) = (repo.root / ".tandem" / "adapters").iterdir()

    # Trained at B: it saw commit B's answers, so a run over B-D leaves it out; over C-D
    # (parents B and C) it is picked and the four set-ups run.
    history = ["eval", str(repo.root), "--points-per-commit", "1", "--embedder", "none"]
    history += ["--max-tokens", "4", "--json"]
    assert main([*history, "--history", "3"]) == 0
    captured = capsys.readouterr()
    assert "LoRA set-ups skipped" in captured.err and "--until " + c["A"][:12] in captured.err
    assert list(json.loads(captured.out)["setups"]) == ["base", "base + retrieval"]
    assert main([*history, "--history", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["adapter"] == str(adapter) and report["adapter_until"] == c["B"]
    assert list(report["setups"]) == ["base", "base + retrieval", "LoRA", "LoRA + retrieval"]
    assert [x["commit"] for x in report["commits"]] == [c["C"], c["D"]]
    assert all(s["errors"] == 0 and s["points"] == 2 for s in report["setups"].values())


def test_train_until_an_unknown_revision_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = build_history_repo(tmp_path / "shop-repo")
    assert main(["train", str(repo.root), "--until", "no-such-tag"]) == 2
    assert "names no commit" in capsys.readouterr().err
    assert not (repo.root / ".tandem").exists()
