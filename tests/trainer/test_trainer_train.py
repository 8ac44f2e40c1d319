"""Training the tiny model on an indexed fixture: the loss falls, the adapter reloads and
changes the model, the manifest says what was trained (and never a secret or an ignored
file), and an interrupted run resumes to the same weights as an uninterrupted one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from trainer_workspace import IGNORED_MARKER, SECRET_MARKER, Trained

from indexer.types import content_hash
from server.backends.loader import load_causal_lm
from server.cli import main
from server.evaluation.models import eval_point_files
from server.trainer.lora import TrainingInterrupted
from server.trainer.manifest import read_manifest
from server.trainer.options import TrainOptions
from server.trainer.progress import TrainProgress
from server.trainer.train import checkpoints_dir, train


@pytest.mark.slow
def test_tandem_train_lowers_holdout_loss_and_records_it(trained: Trained) -> None:
    m = trained.manifest
    h = m["holdout"]
    assert h["loss_after"] < h["loss_before"] - 0.05, h
    assert h["bits_per_token_after"] == pytest.approx(h["loss_after"] / 0.6931471805599453)
    assert h["tokens"] > 0
    assert m["base_model"] == str(trained.tiny_model)
    assert m["base_weights_hash"] == load_causal_lm(str(trained.tiny_model)).weights_hash
    assert m["template"] == "prefix"  # SmolLM2's tokenizer has no FIM tokens
    assert m["steps"] == 8 and m["examples"] > 0 and m["train_tokens"] > 0
    assert m["hyperparameters"]["rank"] == 8 and m["hyperparameters"]["lr"] == 2e-2
    assert m["time_s"] > 0 and m["tokens_per_s"] > 0
    assert read_manifest(trained.adapter).to_json() == m
    assert not list(checkpoints_dir(trained.root).glob("*/*"))  # done: no checkpoint left


@pytest.mark.slow
def test_manifest_lists_training_files_never_secrets_nor_eval_files(trained: Trained) -> None:
    from indexer.search import open_index

    m = trained.manifest
    files, holdout = m["training_files"], m["holdout_files"]
    assert len(files) >= 5
    for path, digest in files.items():
        assert digest == content_hash((trained.root / path).read_text())
    assert not set(files) & set(holdout)  # the split is by file
    everything = set(files) | set(holdout)
    assert ".env" not in everything and not any(p.startswith("build/") for p in everything)
    text = (trained.adapter / "manifest.json").read_text()
    assert SECRET_MARKER not in text and IGNORED_MARKER not in text
    eval_files = eval_point_files(trained.root, open_index(trained.root), 4, 0)
    assert eval_files and set(eval_files) <= set(m["excluded_files"])
    assert not set(eval_files) & everything


@pytest.mark.slow
def test_adapter_reloads_and_changes_the_model(trained: Trained) -> None:
    base = load_causal_lm(str(trained.tiny_model))
    tuned = load_causal_lm(str(trained.tiny_model), str(trained.adapter))
    ids = torch.tensor([base.tokenizer.encode("def create_orders(ident: int, name: str)")])
    with torch.no_grad():
        difference = (base.model(ids).logits - tuned.model(ids).logits).abs().max()
    assert difference > 1e-3


@pytest.mark.slow
def test_interrupted_run_resumes_to_the_same_adapter(workspace: Path, tiny_model: Path) -> None:
    def options(out: Path) -> TrainOptions:
        return TrainOptions(
            model=str(tiny_model), max_steps=4, lr=1e-2, seq_len=48, batch_size=2,
            holdout_examples=2, out=str(out),
        )  # fmt: skip

    straight, resumed = workspace.parent / "straight", workspace.parent / "resumed"
    train(workspace, options(straight))
    calls = {"n": 0}

    def stop_after_two() -> bool:
        calls["n"] += 1
        return calls["n"] == 2

    with pytest.raises(TrainingInterrupted) as stopped:
        train(workspace, options(resumed), should_stop=stop_after_two)
    assert stopped.value.step == 2 and (stopped.value.checkpoint / "checkpoint.pt").is_file()
    assert not resumed.exists()

    messages: list[str] = []
    manifest = train(workspace, options(resumed), progress=lambda p: messages.append(p.message))
    assert "resumed at step 2" in messages and manifest.steps == 4
    a = load_file(straight / "adapter_model.safetensors")
    b = load_file(resumed / "adapter_model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key])


def test_bad_options_are_refused_with_a_clear_message(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", str(workspace), "--rank", "0", "--lr", "-1"]) == 2
    err = capsys.readouterr().err
    assert "rank must be at least 1" in err and "learning rate must be positive" in err
    assert not (workspace / ".tandem" / "adapters").exists()


def test_train_refuses_an_unindexed_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["train", str(tmp_path)]) == 2
    assert "tandem index" in capsys.readouterr().err


@pytest.mark.slow
def test_train_reads_an_index_kept_elsewhere(tmp_path: Path, tiny_model: Path) -> None:
    from trainer_workspace import write_workspace

    from indexer.sync import sync
    from server.settings import IndexSettings

    root = write_workspace(tmp_path / "ws")
    db = tmp_path / "indexes" / "ws"
    sync(root, IndexSettings(db=str(db), embedder="none"))
    assert main(["train", str(root), "--model", str(tiny_model), "--max-steps", "2"]) == 2
    argv = ["train", str(root), "--db", str(db), "--model", str(tiny_model)]
    assert main([*argv, "--max-steps", "2", "--seq-len", "64", "--json"]) == 0
    (adapter,) = (root / ".tandem" / "adapters").iterdir()
    assert read_manifest(adapter).training_files


@pytest.mark.slow
def test_background_training_reports_progress_cancels_and_resumes(
    workspace: Path, tiny_model: Path
) -> None:
    from server.trainer import AdapterWatch, TrainingInterrupted, start_training

    options = {"model": str(tiny_model), "max_steps": 3, "seq_len": 48, "batch_size": 2}
    options |= {"holdout_examples": 2}  # the LSP command passes a JSON object like this
    watch = AdapterWatch(workspace)
    assert watch.current is None

    def cancel_at_first_step(p: TrainProgress) -> None:
        if p.phase == "training":
            first.cancel()

    first = start_training(workspace, options, cancel_at_first_step)
    assert first.wait(120) and isinstance(first.error, TrainingInterrupted)
    assert first.manifest is None and not watch.poll()

    phases: list[str] = []
    second = start_training(workspace, options, lambda p: phases.append(p.phase))
    assert second.wait(120) and second.error is None, second.error
    assert second.manifest is not None and second.manifest.steps == 3
    assert phases[-1] == "done" and "training" in phases
    assert watch.poll() and watch.current == second.adapter


def test_options_from_the_editor_are_checked(workspace: Path) -> None:
    from server.trainer.train import TrainingError

    with pytest.raises(TrainingError, match="unknown training option"):
        train(workspace, {"rnak": 4})
    with pytest.raises(TrainingError, match="rank"):
        train(workspace, {"rank": "four"})
