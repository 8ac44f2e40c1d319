"""Fixtures for the completion tests: a small real workspace with a real index, SmolLM2's
real tokenizer, and the tiny model (built once per session)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from completion_support import index_workspace, write_workspace


@pytest.fixture(scope="session")
def indexed_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_workspace(tmp_path_factory.mktemp("shop"))
    index_workspace(root)
    return root


@pytest.fixture(scope="session")
def smollm2_tokenizer() -> Any:
    from transformers import AutoTokenizer

    from server.backends.loader import smollm2_tokenizer_dir

    return AutoTokenizer.from_pretrained(str(smollm2_tokenizer_dir()))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from helpers.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_lm(tiny_model_dir: Path) -> Any:
    from server.backends.loader import load_causal_lm

    return load_causal_lm(str(tiny_model_dir), device="cpu")
