"""``train(root, options)``: index → examples → LoRA → adapter folder + manifest.

The run is resumable: checkpoints live in ``<root>/.tandem/checkpoints/<fingerprint>/``,
where the fingerprint covers the base weights, the hyperparameters, the output folder and
the training files' content hashes, so rerunning the same command on the same workspace
continues an interrupted run, and anything else starts afresh. The adapter is written to a
temporary sibling and renamed into place, so a server watching the folder never loads half
an adapter.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from server.trainer.examples import ExampleSet, build_examples
from server.trainer.lora import (
    mean_loss,
    pick_device,
    run_training,
    total_steps,
    wrap_lora,
)
from server.trainer.manifest import (
    HoldoutScores,
    Manifest,
    adapters_dir,
    read_manifest,
    write_manifest,
)
from server.trainer.options import TrainOptions
from server.trainer.progress import ProgressCallback, TrainProgress
from server.trainer.template import renderer_for
from server.trainer.until import UntilError, tree_at

LN2 = 0.6931471805599453


class TrainingError(Exception):
    """A training run that cannot start (bad options, nothing to train on)."""


def checkpoints_dir(root: Path) -> Path:
    return root / ".tandem" / "checkpoints"


def train(
    root: Path | str,
    options: TrainOptions | Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    lm: Any = None,
    index: Any = None,
) -> Manifest:
    """Fine-tune a LoRA adapter on the workspace's indexed code and return its manifest.

    ``options`` may be a ``TrainOptions`` or the same as a JSON object (the LSP command's
    argument); None means the defaults.

    ``lm`` (a ``LoadedLM``) and ``index`` may be passed in to reuse ones already open;
    ``should_stop`` lets a caller interrupt (a checkpoint is written, then
    ``TrainingInterrupted`` is raised; the same call later resumes).
    """
    root = Path(root).resolve()
    if options is None:
        options = TrainOptions()
    elif not isinstance(options, TrainOptions):
        try:
            options = TrainOptions.from_mapping(options)
        except (TypeError, ValueError) as e:
            raise TrainingError(str(e)) from None
    problems = options.validate()
    if problems:
        raise TrainingError("; ".join(problems))
    report = progress or (lambda _p: None)
    started = time.perf_counter()
    with ExitStack() as stack:
        source, until_commit = root, ""
        if options.until:
            try:
                tree = stack.enter_context(tree_at(root, options.until, report))
            except UntilError as e:
                raise TrainingError(str(e)) from None
            source, index, until_commit = tree.path, tree.index, tree.commit
        return _train(root, source, options, report, should_stop, lm, index, until_commit, started)


def _train(
    root: Path,
    source: Path,
    options: TrainOptions,
    report: ProgressCallback,
    should_stop: Callable[[], bool] | None,
    lm: Any,
    index: Any,
    until_commit: str,
    started: float,
) -> Manifest:
    """``train`` on the files under ``source`` (``root`` itself, or its tree at a commit)."""
    if index is None:
        from indexer.search import open_index

        index = open_index(root)
    if lm is None:
        from server.backends.loader import load_causal_lm

        report(TrainProgress("loading", message=f"loading {options.model}"))
        lm = load_causal_lm(options.model)
    renderer = renderer_for(lm, options.template)
    tokenizer = lm.tokenizer

    report(TrainProgress("examples", message="building examples from the index"))
    examples = build_examples(
        source,
        index,
        renderer,
        seq_len=options.seq_len,
        holdout_fraction=options.holdout_fraction,
        seed=options.seed,
        max_examples=options.max_examples,
        holdout_examples=options.holdout_examples,
        exclude=options.exclude,
    )
    if not examples.train:
        raise TrainingError(
            f"no training examples: is {root} indexed (`tandem index`) with any code left "
            "after exclusions?"
        )
    out = Path(options.out).expanduser().resolve() if options.out else None
    _check_out_folder(out)
    fingerprint = _fingerprint(lm, options, examples, out)
    checkpoint_dir = checkpoints_dir(root) / fingerprint

    device = pick_device(options.device)
    pad_id = _pad_id(tokenizer)
    torch.manual_seed(options.seed)  # the LoRA init, then dropout: same seed, same adapter
    model = wrap_lora(lm.model, options).to(device)
    batch = options.batch_size

    # The loss before training is measured once; a resumed run reads it back from the
    # checkpoint (the adapter has already moved by then).
    extra: dict[str, Any] = {}
    resumed = (checkpoint_dir / "checkpoint.pt").is_file()
    if not resumed:
        report(TrainProgress("holdout-before", message="measuring holdout loss before training"))
        with model.disable_adapter():
            before, holdout_tokens = mean_loss(model, examples.holdout, pad_id, device, batch)
        extra = {"loss_before": before, "holdout_tokens": holdout_tokens}
    loop = run_training(
        model,
        examples.train,
        options,
        pad_id,
        device,
        checkpoint_dir,
        fingerprint,
        extra=extra,
        progress=report,
        should_stop=should_stop,
    )
    if "loss_before" not in loop.extra:  # a checkpoint from before this was recorded
        with model.disable_adapter():
            loop.extra["loss_before"], loop.extra["holdout_tokens"] = mean_loss(
                model, examples.holdout, pad_id, device, batch
            )
    report(TrainProgress("holdout-after", message="measuring holdout loss after training"))
    after, _ = mean_loss(model, examples.holdout, pad_id, device, batch)
    before = loop.extra["loss_before"]

    report(TrainProgress("saving", message="saving the adapter"))
    now = datetime.now(UTC)
    final = out or adapters_dir(root) / f"lora-{now:%Y%m%d-%H%M%S}"
    manifest = Manifest(
        base_model=options.model,
        base_weights_hash=str(getattr(lm, "weights_hash", "")),
        template=renderer.name,
        training_files=examples.train_files,
        holdout_files=examples.holdout_files,
        excluded_files=sorted({*examples.excluded, *options.exclude}),
        examples=len(examples.train),
        holdout_examples=len(examples.holdout),
        train_tokens=loop.tokens,
        steps=loop.steps,
        hyperparameters=options.hyperparameters(),
        holdout=HoldoutScores(
            loss_before=before,
            loss_after=after,
            bits_per_token_before=before / LN2 if before is not None else None,
            bits_per_token_after=after / LN2 if after is not None else None,
            tokens=int(loop.extra.get("holdout_tokens", 0)),
        ),
        time_s=round(time.perf_counter() - started + loop.previous_seconds, 2),
        tokens_per_s=round(loop.tokens / loop.seconds, 1) if loop.seconds else 0.0,
        device=str(device),
        created=now.isoformat(timespec="seconds"),
        root=str(root),
        until_rev=options.until or "",
        until_commit=until_commit,
    )
    _keep_out_of_git(root / ".tandem", final)
    _publish(model, manifest, final)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    report(TrainProgress("done", loop.steps, loop.steps, message=f"adapter saved to {final}"))
    return manifest


def planned_steps(n_examples: int, options: TrainOptions) -> int:
    """Steps a run will take for ``n_examples`` (for progress bars before it starts)."""
    return total_steps(n_examples, options)


def _pad_id(tokenizer: Any) -> int:
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0):
        if candidate is not None:
            return int(candidate)
    return 0


def _check_out_folder(out: Path | None) -> None:
    """Never overwrite a folder that is not a Tandem adapter."""
    if out is None or not out.exists():
        return
    if not out.is_dir():
        raise TrainingError(f"--out {out} exists and is not a folder")
    if any(out.iterdir()):
        try:
            read_manifest(out)
        except ValueError:
            raise TrainingError(
                f"--out {out} is a non-empty folder without a Tandem manifest; "
                "choose another folder"
            ) from None


def _fingerprint(lm: Any, options: TrainOptions, examples: ExampleSet, out: Path | None) -> str:
    record = {
        "weights": str(getattr(lm, "weights_hash", "")),
        "model": options.model,
        "hyperparameters": options.hyperparameters(),
        "files": sorted(examples.train_files.items()),
        "examples": len(examples.train),
        "out": str(out) if out else None,
    }
    return hashlib.blake2b(json.dumps(record, sort_keys=True).encode(), digest_size=8).hexdigest()


def _keep_out_of_git(tandem_dir: Path, final: Path) -> None:
    """An adapter under ``.tandem`` of a workspace with no index yet (``--until``): the
    folder gets the ``.gitignore`` the index would have written."""
    if final.is_relative_to(tandem_dir) and not (tandem_dir / ".gitignore").exists():
        tandem_dir.mkdir(parents=True, exist_ok=True)
        (tandem_dir / ".gitignore").write_text("*\n")


def _publish(model: Any, manifest: Manifest, final: Path) -> None:
    """Write adapter + manifest beside ``final``, then swap it into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    write_manifest(tmp, manifest)
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
