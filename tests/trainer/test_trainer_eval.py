"""``tandem eval --models`` on the fixture with the tiny model: the four set-ups in a
markdown table, a PNG chart and JSON, scored only on files the adapter never saw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from trainer_workspace import Trained

from server.cli import main
from server.evaluation.models import SETUPS, edit_similarity


@pytest.mark.slow
def test_eval_models_reports_four_setups(
    trained: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "chart.png"
    table_file = tmp_path / "table.md"
    argv = ["eval", str(trained.root), "--models", "--limit", "4", "--max-tokens", "6"]
    argv += ["--chart", str(chart)]
    assert main([*argv, "--markdown", str(table_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)

    assert report["points"] == 4 and report["dropped"] == 0  # --eval-points 4 kept them out
    assert list(report["setups"]) == list(SETUPS)
    for name, s in report["setups"].items():
        assert s["bits_per_token"] > 0
        assert 0 <= s["exact_match"] <= 1 and 0 <= s["edit_similarity"] <= 1
        assert (s["hit_at_k"] is None) == ("retrieval" not in name)
    with_snippets = report["setups"]["base + retrieval"]
    assert with_snippets["prompt_tokens"] > report["setups"]["base"]["prompt_tokens"]
    assert with_snippets["hit_at_k"] > 0  # the fixture's definitions are easy to find
    trained_on = set(trained.manifest["training_files"])
    assert all(d["path"] not in trained_on for d in report["details"])
    assert all(set(SETUPS) <= set(d) for d in report["details"])

    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = table_file.read_text().splitlines()
    assert lines[0].startswith("| set-up | bits/token")
    assert [line.split("|")[1].strip() for line in lines[2:6]] == list(SETUPS)


def test_eval_models_without_an_adapter_says_how_to_train(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", str(workspace), "--models"]) == 2
    assert "tandem train" in capsys.readouterr().err


def test_edit_similarity() -> None:
    assert edit_similarity("Console(", "Console(") == 1.0
    assert edit_similarity("", "x") == 0.0
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
