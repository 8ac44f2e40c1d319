"""What a training run is asked to do: one dataclass shared by the CLI, the LSP command and
the manifest (which records it, so a replacement can be trained with the same settings)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainOptions:
    model: str = "smollm2"  # base model: "smollm2", a Hugging Face id or a local path
    template: str = "auto"  # prompt template, as settings.model.template (auto: by tokens)
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] | None = None  # None: every linear layer but the output head
    max_steps: int | None = None  # when set, wins over epochs
    epochs: float = 1.0
    max_examples: int | None = None  # cap on training examples (sampled with the seed)
    holdout_examples: int = 32  # cap on holdout examples (loss before/after)
    holdout_fraction: float = 0.1  # share of files held out (by file, never by chunk)
    lr: float = 5e-4
    batch_size: int = 4
    seq_len: int = 256  # tokens per example
    out: str | None = None  # adapter folder; default <root>/.tandem/adapters/lora-<time>
    seed: int = 0
    checkpoint_every: int = 10  # steps between resumable checkpoints
    device: str = "auto"  # auto | cpu | cuda
    exclude: list[str] = field(default_factory=list)  # workspace paths never trained on
    until: str | None = None  # a git revision: train on the tree committed there, not on disk

    def validate(self) -> list[str]:
        """Problems a user can fix, one line each (empty when the options are usable)."""
        problems = []
        if self.rank < 1:
            problems.append(f"rank must be at least 1, got {self.rank}")
        if self.alpha <= 0:
            problems.append(f"alpha must be positive, got {self.alpha}")
        if not 0 <= self.dropout < 1:
            problems.append(f"dropout must be in [0, 1), got {self.dropout}")
        if self.max_steps is not None and self.max_steps < 1:
            problems.append(f"max steps must be at least 1, got {self.max_steps}")
        if self.epochs <= 0:
            problems.append(f"epochs must be positive, got {self.epochs}")
        if self.max_examples is not None and self.max_examples < 1:
            problems.append(f"max examples must be at least 1, got {self.max_examples}")
        if self.lr <= 0:
            problems.append(f"learning rate must be positive, got {self.lr}")
        if self.batch_size < 1:
            problems.append(f"batch size must be at least 1, got {self.batch_size}")
        if self.seq_len < 16:
            problems.append(f"sequence length must be at least 16, got {self.seq_len}")
        if not 0 <= self.holdout_fraction < 1:
            problems.append(f"holdout fraction must be in [0, 1), got {self.holdout_fraction}")
        if self.checkpoint_every < 1:
            problems.append(f"checkpoint interval must be at least 1, got {self.checkpoint_every}")
        if self.device not in ("auto", "cpu", "cuda"):
            problems.append(f"device must be auto, cpu or cuda, got {self.device!r}")
        return problems

    def hyperparameters(self) -> dict[str, Any]:
        """The options that shape the adapter (recorded in the manifest)."""
        skip = {"out", "device", "exclude", "until"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> TrainOptions:
        """Options from untrusted JSON (the ``tandem.train`` command's argument): an unknown
        key or a value of the wrong type is an error naming it, never silently dropped."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ValueError(f"unknown training option(s): {', '.join(unknown)}")
        options = cls(**dict(raw))
        for name, value in raw.items():
            default = getattr(cls(), name)
            ok = (
                value is None
                or isinstance(value, type(default))
                or (isinstance(default, float) and isinstance(value, int))
            )
            if default is None:
                ok = value is None or isinstance(value, (int, str, list))
            if not ok or (isinstance(value, bool) and not isinstance(default, bool)):
                raise ValueError(f"training option {name}: {value!r} has the wrong type")
        return options

    @classmethod
    def from_hyperparameters(cls, raw: dict[str, Any]) -> TrainOptions:
        """Options from a manifest's record, ignoring keys this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})
