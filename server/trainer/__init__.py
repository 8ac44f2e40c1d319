"""LoRA fine-tuning on the workspace's indexed code, and the manifests that let Tandem say
what an adapter has seen.

Import-light: ``tandem status`` and ``tandem forget`` use the manifest helpers without
loading torch; the heavy names (``train``, ``start_training``) load on first use.

Public API::

    train(root, options=None, progress=None, should_stop=None) -> Manifest
    start_training(root, options, progress_cb=None, on_done=None) -> TrainingHandle
    AdapterWatch(root, configured_adapter).poll() -> bool   # .current: folder to load
    TrainOptions, TrainProgress, Manifest, read_manifest, active_adapter,
    adapters_containing, staleness
"""

from __future__ import annotations

import importlib
from typing import Any

from server.trainer.manifest import (
    Manifest,
    active_adapter,
    adapters_containing,
    list_adapters,
    read_manifest,
    staleness,
)
from server.trainer.options import TrainOptions
from server.trainer.progress import TrainProgress

_LAZY = {
    "train": "server.trainer.train",
    "TrainingError": "server.trainer.train",
    "TrainingInterrupted": "server.trainer.lora",
    "start_training": "server.trainer.background",
    "TrainingHandle": "server.trainer.background",
    "AdapterWatch": "server.trainer.background",
}

__all__ = [
    "AdapterWatch",
    "Manifest",
    "TrainOptions",
    "TrainProgress",
    "TrainingError",
    "TrainingHandle",
    "TrainingInterrupted",
    "active_adapter",
    "adapters_containing",
    "list_adapters",
    "read_manifest",
    "staleness",
    "start_training",
    "train",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'server.trainer' has no attribute {name!r}")
