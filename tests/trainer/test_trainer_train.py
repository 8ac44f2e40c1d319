"""Training the tiny model on an indexed fixture: the loss falls, the adapter reloads and
changes the model, the manifest says what was trained, and an interrupted run resumes to
the same weights as an uninterrupted one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from trainer_workspace import IGNORED_MARKER, SECRET_MARKER

from indexer.types import content_hash
from server.backends.loader import load_causal_lm
from server.trainer.lora import TrainingInterrupted
from server.trainer.manifest import list_adapters, read_manifest
from server.trainer.options import TrainOptions
from server.trainer.train import checkpoints_dir, train

FAST = {"seq_len": 64, "batch_size": 2, "holdout_examples": 8, "holdout_fraction": 0.2}


def _options(model: Path, **kw: object) -> TrainOptions:
    return TrainOptions(model=str(model), **{**FAST, **kw})  # type: ignore[arg-type]


@pytest.mark.slow
def test_training_lowers_holdout_loss_and_the_adapter_reloads(
    workspace: Path, tiny_model: Path
) -> None:
    seen = []
    manifest = train(workspace, _options(tiny_model, max_steps=8, lr=2e-2), progress=seen.append)

    h = manifest.holdout
    assert h.loss_before is not None and h.loss_after is not None
    assert h.loss_after < h.loss_before - 0.05, h
    assert h.bits_per_token_after == pytest.approx(h.loss_after / 0.6931471805599453)
    assert h.tokens > 0
    training_steps = [p for p in seen if p.phase == "training"]
    assert [p.step for p in training_steps] == list(range(1, 9))
    assert all(p.tokens_per_s > 0 and p.loss is not None for p in training_steps)
    assert training_steps[-1].eta_s == 0

    (adapter,) = list_adapters(workspace)
    assert (adapter / "adapter_model.safetensors").is_file()
    assert read_manifest(adapter) == manifest
    assert not list(checkpoints_dir(workspace).glob("*/*"))  # finished: no checkpoint left

    base = load_causal_lm(str(tiny_model))
    tuned = load_causal_lm(str(tiny_model), str(adapter))
    ids = torch.tensor([base.tokenizer.encode("def create_orders(ident: int, name: str)")])
    with torch.no_grad():
        difference = (base.model(ids).logits - tuned.model(ids).logits).abs().max()
    assert difference > 1e-3


@pytest.mark.slow
def test_manifest_records_what_was_trained_and_never_secrets(
    workspace: Path, tiny_model: Path
) -> None:
    out = workspace.parent / "adapter"
    manifest = train(workspace, _options(tiny_model, max_steps=2, rank=4, alpha=8, out=str(out)))
    raw = json.loads((out / "manifest.json").read_text())

    assert raw["base_model"] == str(tiny_model)
    assert raw["base_weights_hash"] == load_causal_lm(str(tiny_model)).weights_hash
    assert raw["template"] == "prefix"  # SmolLM2's tokenizer has no FIM tokens
    assert raw["steps"] == 2 and raw["examples"] == manifest.examples > 0
    assert raw["hyperparameters"]["rank"] == 4 and raw["hyperparameters"]["alpha"] == 8
    assert raw["time_s"] > 0 and raw["train_tokens"] > 0
    for key in ("loss_before", "loss_after", "bits_per_token_before", "bits_per_token_after"):
        assert raw["holdout"][key] > 0
    files = raw["training_files"]
    assert "shop/util.py" in files or "shop/util.py" in raw["holdout_files"]
    for path, digest in files.items():
        assert digest == content_hash((workspace / path).read_text())
    assert not set(files) & set(raw["holdout_files"])  # split by file
    everything = set(files) | set(raw["holdout_files"])
    assert ".env" not in everything and not any(p.startswith("build/") for p in everything)
    assert SECRET_MARKER not in (out / "manifest.json").read_text()
    assert IGNORED_MARKER not in (out / "manifest.json").read_text()


@pytest.mark.slow
def test_interrupted_run_resumes_to_the_same_adapter(workspace: Path, tiny_model: Path) -> None:
    straight = workspace.parent / "straight"
    resumed = workspace.parent / "resumed"
    train(workspace, _options(tiny_model, max_steps=5, lr=1e-2, out=str(straight)))

    calls = {"n": 0}

    def stop_after_two() -> bool:
        calls["n"] += 1
        return calls["n"] == 2

    with pytest.raises(TrainingInterrupted) as stopped:
        train(
            workspace,
            _options(tiny_model, max_steps=5, lr=1e-2, out=str(resumed)),
            should_stop=stop_after_two,
        )
    assert stopped.value.step == 2 and (stopped.value.checkpoint / "checkpoint.pt").is_file()
    assert not resumed.exists()

    messages = []
    manifest = train(
        workspace,
        _options(tiny_model, max_steps=5, lr=1e-2, out=str(resumed)),
        progress=lambda p: messages.append(p.message),
    )
    assert "resumed at step 2" in messages
    assert manifest.steps == 5
    a = load_file(straight / "adapter_model.safetensors")
    b = load_file(resumed / "adapter_model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key])


def test_bad_options_are_refused_before_any_work(workspace: Path) -> None:
    from server.trainer.train import TrainingError

    with pytest.raises(TrainingError, match="rank must be at least 1"):
        train(workspace, TrainOptions(rank=0, lr=-1))
