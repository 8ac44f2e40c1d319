"""``manifest.json``: what an adapter was trained on, and how.

An adapter cannot forget, so this record is what makes forgetting honest: it lists every
training file with its content hash, which lets ``tandem forget`` name the adapters that
have seen a file and ``tandem status`` say how many of those files changed since.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from indexer.types import content_hash

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1


@dataclass
class HoldoutScores:
    """Mean next-token loss (nats) and bits per token on the held-out examples."""

    loss_before: float | None = None
    loss_after: float | None = None
    bits_per_token_before: float | None = None
    bits_per_token_after: float | None = None
    tokens: int = 0


@dataclass
class Manifest:
    base_model: str  # the id the user gave ("smollm2", an HF id, a path)
    base_weights_hash: str  # the loaded weights' hash: an adapter only fits these
    template: str  # prompt template the examples were formatted with
    training_files: dict[str, str]  # workspace path → content hash when trained
    holdout_files: dict[str, str]
    excluded_files: list[str]
    examples: int  # training examples
    holdout_examples: int
    train_tokens: int  # tokens seen in training (with repeats over epochs)
    steps: int
    hyperparameters: dict[str, Any]
    holdout: HoldoutScores = field(default_factory=HoldoutScores)
    time_s: float = 0.0
    tokens_per_s: float = 0.0
    device: str = "cpu"
    created: str = ""  # ISO 8601, UTC
    root: str = ""  # the workspace the adapter was trained on
    until_rev: str = ""  # train --until: the revision asked for ("" = the files on disk)
    until_commit: str = ""  # ... and the commit it named: no later change was trained on
    format: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Manifest:
        data = dict(raw)
        data["holdout"] = HoldoutScores(**data.get("holdout", {}))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write atomically, so a reader never sees half a manifest."""
    path = folder / MANIFEST_NAME
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest.to_json(), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def read_manifest(folder: Path) -> Manifest:
    """The manifest of an adapter folder; ValueError names the folder when it is unusable."""
    path = folder / MANIFEST_NAME
    try:
        return Manifest.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise ValueError(f"{folder}: no {MANIFEST_NAME} (not a Tandem adapter)") from None
    except (json.JSONDecodeError, TypeError) as e:
        raise ValueError(f"{path}: unreadable manifest ({e})") from None


def file_hash(root: Path, relpath: str) -> str | None:
    """Content hash of a workspace file as it is on disk now (None when it is gone)."""
    try:
        text = (root / relpath).read_text(encoding="utf-8", errors="surrogateescape")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return content_hash(text)


def adapters_dir(root: Path) -> Path:
    """Where adapters live by default: ``<root>/.tandem/adapters/<name>/``."""
    return root / ".tandem" / "adapters"


def _adapters(root: Path) -> list[tuple[Path, Manifest]]:
    """Adapter folders under the default location with their manifests, newest first."""
    base = adapters_dir(root)
    if not base.is_dir():
        return []
    found: list[tuple[Path, Manifest]] = []
    for child in base.iterdir():
        if child.name.startswith(".") or not (child / MANIFEST_NAME).is_file():
            continue
        try:
            found.append((child, read_manifest(child)))
        except ValueError:
            continue
    found.sort(key=lambda item: (item[1].created, item[0].name), reverse=True)
    return found


def list_adapters(root: Path) -> list[Path]:
    """Adapter folders under the default location, newest first (by manifest time)."""
    return [folder for folder, _ in _adapters(root)]


def active_adapter(
    root: Path, configured: str | None = None, base_model: str | None = None
) -> Path | None:
    """The adapter completion uses: ``settings.model.adapter`` when set (relative to the
    root unless absolute; ``"none"``: no adapter), else the newest adapter under
    ``<root>/.tandem/adapters`` (trained on ``base_model``, when given)."""
    if configured:
        if configured.strip().lower() == "none":
            return None
        path = Path(configured).expanduser()
        return path if path.is_absolute() else root / path
    for folder, manifest in _adapters(root):
        if base_model is None or manifest.base_model == base_model:
            return folder
    return None


def adapters_containing(
    root: Path, paths: Iterable[str], extra: Iterable[Path] = ()
) -> list[tuple[Path, list[str]]]:
    """The adapters whose training files include any of ``paths`` (workspace-relative; a
    folder matches every file under it), each with the matching files."""
    wanted = [p.strip("/") for p in paths]
    seen: set[Path] = set()
    result: list[tuple[Path, list[str]]] = []
    for folder in [*list_adapters(root), *extra]:
        folder = folder.resolve()
        if folder in seen or not (folder / MANIFEST_NAME).is_file():
            continue
        seen.add(folder)
        try:
            manifest = read_manifest(folder)
        except ValueError:
            continue
        hits = sorted(f for f in manifest.training_files if any(_under(f, w) for w in wanted))
        if hits:
            result.append((folder, hits))
    return result


def _under(path: str, wanted: str) -> bool:
    return wanted in ("", ".") or path == wanted or path.startswith(wanted + "/")


@dataclass
class Staleness:
    """How far the workspace has moved away from what an adapter was trained on."""

    total: int
    changed: list[str]
    deleted: list[str]  # gone from disk, or no longer in the index (forgotten, ignored)

    @property
    def stale(self) -> int:
        return len(self.changed) + len(self.deleted)

    def summary(self) -> str:
        return (
            f"{len(self.changed)} of {self.total} training files changed, "
            f"{len(self.deleted)} deleted or forgotten"
        )


def staleness(root: Path, manifest: Manifest, indexed: Iterable[str] | None = None) -> Staleness:
    """Compare the manifest's training files with the disk (and the index, when given)."""
    known = set(indexed) if indexed is not None else None
    changed: list[str] = []
    deleted: list[str] = []
    for path, trained_hash in sorted(manifest.training_files.items()):
        now = file_hash(root, path)
        if now is None or (known is not None and path not in known):
            deleted.append(path)
        elif now != trained_hash:
            changed.append(path)
    return Staleness(total=len(manifest.training_files), changed=changed, deleted=deleted)
