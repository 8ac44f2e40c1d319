"""Progress reports of a training run: one plain record the CLI draws as a rich bar and the
language server forwards as ``$/progress``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TrainProgress:
    phase: str  # loading | examples | holdout-before | training | holdout-after | saving | done
    step: int = 0
    total_steps: int = 0
    loss: float | None = None  # mean loss of the latest step (nats per token)
    tokens_per_s: float = 0.0
    eta_s: float | None = None  # time left in the training phase
    message: str = ""

    def describe(self) -> str:
        """One line for logs and ``$/progress`` messages."""
        if self.phase != "training":
            return self.message or self.phase
        parts = [f"step {self.step}/{self.total_steps}"]
        if self.loss is not None:
            parts.append(f"loss {self.loss:.3f}")
        parts.append(f"{self.tokens_per_s:.0f} tok/s")
        if self.eta_s is not None:
            parts.append(f"{clock(self.eta_s)} left")
        return ", ".join(parts)

    @property
    def fraction(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0


ProgressCallback = Callable[[TrainProgress], None]


def clock(seconds: float) -> str:
    """m:ss (or h:mm:ss)."""
    s = max(0, round(seconds))
    return (
        f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )
