"""Forgetting with an adapter around: ``tandem forget`` names the adapters that saw the
file, ``--retrain`` replaces them without it, and ``tandem status`` counts the active
adapter's training files that changed or went away."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from trainer_workspace import Trained

from server.cli import main
from server.trainer.background import AdapterWatch
from server.trainer.manifest import read_manifest


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_status_counts_changed_and_deleted_training_files(
    trained_copy: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    root = trained_copy.root
    status = _json(capsys, ["status", "--root", str(root), "--json"])["adapter"]
    assert status["path"] == str(trained_copy.adapter)
    assert status["training_files"] == len(trained_copy.manifest["training_files"])
    assert status["changed"] == status["deleted"] == 0

    changed, deleted = sorted(trained_copy.manifest["training_files"])[:2]
    with (root / changed).open("a") as f:
        f.write("\nEXTRA = 1\n")
    (root / deleted).unlink()
    status = _json(capsys, ["status", "--root", str(root), "--json"])["adapter"]
    assert (status["changed"], status["deleted"]) == (1, 1)

    assert main(["status", "--root", str(root)]) == 0
    assert "changed 1, deleted 1" in " ".join(capsys.readouterr().out.split())


@pytest.mark.slow
def test_forget_lists_the_adapter_and_retrain_replaces_it(
    trained_copy: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    root, adapter = trained_copy.root, trained_copy.adapter
    victim = next(p for p in sorted(trained_copy.manifest["training_files"]) if "models_" in p)
    watch = AdapterWatch(root)
    assert watch.current == adapter and not watch.poll()

    info = _json(capsys, ["forget", "--root", str(root), victim, "--json"])
    assert info["removed"] == [victim]
    assert info["adapters"] == [{"adapter": str(adapter), "files": [victim]}]
    assert main(["forget", "--root", str(root), victim]) == 0
    out = capsys.readouterr().out
    assert adapter.name in out and victim in out and "--retrain" in out

    info = _json(capsys, ["forget", "--root", str(root), victim, "--retrain", "--json"])
    assert info["retrained"] == [str(adapter)]
    replaced = read_manifest(adapter)
    assert victim not in replaced.training_files and victim in replaced.excluded_files
    assert replaced.hyperparameters == trained_copy.manifest["hyperparameters"]
    assert watch.poll() and watch.current == adapter  # the server would reload it now
    assert _json(capsys, ["forget", "--root", str(root), victim, "--json"])["adapters"] == []


def test_forget_without_adapters_lists_none(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    info = _json(capsys, ["forget", "--root", str(workspace), "shop/util.py", "--json"])
    assert info["removed"] == ["shop/util.py"] and info["adapters"] == []
