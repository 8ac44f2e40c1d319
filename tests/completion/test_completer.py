"""The pipeline on a real index: context → prompt → backend → post-processing, with the
retrieval fallback while a model loads or when it cannot load."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from indexer.search import open_index
from server.completion import Completer, CompletionRequest, split_at_cursor, with_workspace_adapter
from server.settings import Settings

TIMING_KEYS = {"context_ms", "prompt_tokens", "model_ms", "first_token_ms", "postprocess_ms"}


def request_in_report(root: Path) -> CompletionRequest:
    """A new function at the end of shop/report.py, cursor mid-expression."""
    text = (root / "shop/report.py").read_text()
    text += "\n\ndef count(cart: Cart) -> int:\n    return sum(item.tot\n"
    lines = text.split("\n")
    line = len(lines) - 2
    return CompletionRequest("shop/report.py", text, line, len(lines[line]))


def settings_for(backend: str, model: str = "smollm2") -> Settings:
    s = Settings()
    s.model.backend = backend
    s.model.model = model
    return s


def test_split_at_cursor_clamps() -> None:
    assert split_at_cursor("ab\ncd\n", 1, 1) == ("ab\nc", "d\n")
    assert split_at_cursor("ab\r\ncd", 0, 99) == ("ab", "\r\ncd")
    assert split_at_cursor("ab", 5, 0) == ("ab", "")


def test_retrieval_backend_completes_from_the_index(indexed_workspace: Path) -> None:
    index = open_index(indexed_workspace)
    completer = Completer(indexed_workspace, index, settings_for("retrieval"))
    r = completer.complete(request_in_report(indexed_workspace))
    assert r.backend == "retrieval" and r.error is None
    assert r.text.startswith("al_cents() for item in ")
    assert any(s.path == "shop/cart.py" for s in r.snippets)
    assert set(r.timings) >= TIMING_KEYS and r.timings["total_ms"] > 0
    assert completer.status()["backend"] == "retrieval"


def test_index_provider_callable_and_missing_index(tmp_path: Path) -> None:
    completer = Completer(tmp_path, lambda: None, settings_for("retrieval"))
    r = completer.complete(CompletionRequest("a.py", "x = 1\nx", 1, 1))
    assert r.text == "" and r.snippets == [] and r.error is None


def test_unloadable_model_falls_back_with_one_clear_message(
    indexed_workspace: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-model"
    completer = Completer(
        indexed_workspace, open_index(indexed_workspace), settings_for("transformers", str(missing))
    )
    assert completer.wait_until_loaded(60) is False
    status = completer.status()
    assert status["backend"] == "retrieval" and not status["loaded"]
    reason = status["fallback_reason"]
    assert "could not load model" in reason and str(missing) in reason and "Fix:" in reason
    r = completer.complete(request_in_report(indexed_workspace))
    assert r.backend == "retrieval" and r.text.startswith("al_cents()")
    assert r.error is not None and "could not load model" in r.error


def test_missing_adapter_is_reported(indexed_workspace: Path, tiny_model_dir: Path) -> None:
    settings = settings_for("transformers", str(tiny_model_dir))
    settings.model.adapter = str(indexed_workspace / "no-adapter")
    completer = Completer(indexed_workspace, None, settings)
    assert completer.wait_until_loaded(60) is False
    assert "adapter_config.json" in completer.status()["fallback_reason"]


def test_retrieval_answers_while_the_model_loads(
    indexed_workspace: Path, tiny_model_dir: Path
) -> None:
    index = open_index(indexed_workspace)
    settings = settings_for("transformers", str(tiny_model_dir))
    completer = Completer(indexed_workspace, index, settings, preload=False)
    req = request_in_report(indexed_workspace)
    first = completer.complete(req)  # starts the load, does not wait for it
    assert first.backend == "retrieval" and first.text
    assert first.error is not None and "loading" in first.error

    assert completer.wait_until_loaded(60)
    status = completer.status()
    assert status["loaded"] and status["backend"] == "transformers"
    assert status["template"] == "prefix"
    r = completer.complete(req)
    assert r.backend == "transformers" and r.error is None and r.text
    assert r.timings["prompt_tokens"] > 20 and r.timings["first_token_ms"] > 0

    # Same settings: the model stays. Another backend: it goes.
    completer.reload(dataclasses.replace(settings))
    assert completer.status()["loaded"]
    completer.reload(settings_for("retrieval"))
    assert completer.status()["backend"] == "retrieval"
    assert completer.complete(req).backend == "retrieval"


@pytest.mark.parametrize("multiline", ["never", "always"])
def test_multiline_setting_is_obeyed(indexed_workspace: Path, multiline: str) -> None:
    settings = settings_for("retrieval")
    settings.completion.multiline = multiline
    completer = Completer(indexed_workspace, open_index(indexed_workspace), settings)
    text = "from shop.cart import Cart\n\n\ndef receipt(cart: Cart) -> str:\n"
    r = completer.complete(CompletionRequest("shop/other.py", text, 4, 0))
    if multiline == "never":
        assert r.text == "    lines = []"
    else:
        assert r.text.startswith("    lines = []\n    for item in cart.items:\n        lines.")


def save_adapter(tiny_model_dir: Path, folder: Path, seed: int) -> None:
    """A LoRA adapter for the tiny model, as peft writes one (what `tandem train` saves)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    config = LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    get_peft_model(base, config).save_pretrained(str(folder))


def test_adapter_loads_and_a_retrained_one_is_picked_up(
    indexed_workspace: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    adapter = tmp_path / "adapter"
    save_adapter(tiny_model_dir, adapter, seed=1)
    settings = settings_for("transformers", str(tiny_model_dir))
    settings.model.adapter = str(adapter)
    completer = Completer(indexed_workspace, open_index(indexed_workspace), settings)
    assert completer.wait_until_loaded(60), completer.status()["fallback_reason"]
    assert completer.status()["adapter"] == str(adapter)
    req = request_in_report(indexed_workspace)
    before = completer.complete(req)
    assert before.backend == "transformers" and before.text

    completer.reload(settings)  # nothing changed: the model stays
    assert completer.status()["loaded"]

    save_adapter(tiny_model_dir, adapter, seed=2)  # retrained in place
    completer.reload(settings)
    assert not completer.status()["loaded"]
    assert completer.wait_until_loaded(60)
    after = completer.complete(req)
    assert after.backend == "transformers" and after.text != before.text


def write_workspace_adapter(root: Path, name: str, base_model: str, created: str) -> Path:
    """An adapter folder as `tandem train` leaves it under .tandem/adapters (weights are not
    read here: only which folder completion would load)."""
    from server.trainer.manifest import Manifest, write_manifest

    folder = root / ".tandem" / "adapters" / name
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text("{}")
    manifest = Manifest(
        base_model=base_model,
        base_weights_hash="",
        template="prefix",
        training_files={},
        holdout_files={},
        excluded_files=[],
        examples=1,
        holdout_examples=0,
        train_tokens=1,
        steps=1,
        hyperparameters={},
        created=created,
    )
    write_manifest(folder, manifest)
    return folder


def test_completion_uses_the_newest_adapter_trained_for_its_model(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    settings = settings_for("transformers", "base-a")
    assert with_workspace_adapter(root, settings).model.adapter is None

    older = write_workspace_adapter(root, "lora-1", "base-a", "2026-01-01T00:00:00Z")
    write_workspace_adapter(root, "lora-3", "base-b", "2026-03-01T00:00:00Z")  # other model
    assert with_workspace_adapter(root, settings).model.adapter == str(older)
    newer = write_workspace_adapter(root, "lora-2", "base-a", "2026-02-01T00:00:00Z")
    assert with_workspace_adapter(root, settings).model.adapter == str(newer)

    # A configured adapter wins (relative to the workspace); "none" turns adapters off.
    settings.model.adapter = ".tandem/adapters/lora-1"
    assert with_workspace_adapter(root, settings).model.adapter == str(older)
    settings.model.adapter = "none"
    assert with_workspace_adapter(root, settings).model.adapter is None
    # Other backends never load one.
    assert with_workspace_adapter(root, settings_for("retrieval")).model.adapter is None


def test_a_newly_trained_adapter_replaces_the_model_in_use(
    indexed_workspace: Path, tiny_model_dir: Path
) -> None:
    settings = settings_for("transformers", str(tiny_model_dir))
    completer = Completer(indexed_workspace, open_index(indexed_workspace), settings)
    assert completer.wait_until_loaded(60), completer.status()["fallback_reason"]
    assert completer.status()["adapter"] is None
    assert not completer.refresh_adapter()  # nothing new: the model stays

    folder = write_workspace_adapter(
        indexed_workspace, "lora-1", str(tiny_model_dir), "2026-01-01T00:00:00Z"
    )
    save_adapter(tiny_model_dir, folder, seed=1)
    assert completer.refresh_adapter()
    assert completer.wait_until_loaded(60), completer.status()["fallback_reason"]
    assert completer.status()["adapter"] == str(folder)
    assert not completer.refresh_adapter()


def test_no_completion_in_secret_files(indexed_workspace: Path) -> None:
    completer = Completer(
        indexed_workspace, open_index(indexed_workspace), settings_for("retrieval")
    )
    for path in (".env", "config/.env.local", "deploy/id_rsa"):
        result = completer.complete(CompletionRequest(path, "DB_PASSWORD=", 0, 12))
        assert result.text == "" and result.snippets == []
        assert result.error is not None and "secret" in result.error
