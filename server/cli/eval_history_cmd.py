"""``tandem eval --history [N]``: the workspace's last N source commits as the test set.

Kept beside ``eval_cmd`` (the dispatcher of modes); the work is in
``server.evaluation.history`` and ``server.evaluation.history_points``."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from server.cli.common import UserError, print_json, resolve_root


def add_arguments(p: argparse.ArgumentParser, modes: argparse._ArgumentGroup) -> None:
    modes.add_argument(
        "--history",
        nargs="?",
        type=int,
        const=10,
        default=None,
        metavar="N",
        help="complete at lines the last N commits added (default N 10), each on the tree "
        "at the commit's parent: base / retrieval / LoRA / both",
    )
    g = p.add_argument_group(
        "--history options (also --adapter, --model, --markdown, --max-tokens)"
    )
    g.add_argument("--rev", default="HEAD", help="the newest commit to consider (default HEAD)")
    g.add_argument(
        "--points-per-commit",
        type=int,
        default=3,
        metavar="K",
        help="added lines sampled (seeded) per commit (default 3)",
    )
    g.add_argument(
        "--ablate-decoding",
        action="store_true",
        help="also run the default pipeline with token healing and guided identifiers "
        "switched off, one at a time and together",
    )
    for flag in ("token-healing", "guided-identifiers"):
        g.add_argument(
            f"--{flag}",
            choices=("on", "off"),
            default=None,
            help=f"completion.{flag.replace('-', '_')} for every set-up (default: settings)",
        )
    g.add_argument(
        "--setups",
        action="append",
        default=None,
        metavar="A,B",
        help="run only these set-ups, by name as the table shows them (e.g. 'LoRA,LoRA + "
        "retrieval' to add rows to an earlier run: the points are the same for the same seed); "
        "repeat it for names that contain a comma ('--setups \"base + retrieval, no token "
        "healing\"')",
    )
    g.add_argument(
        "--scratch",
        default=None,
        metavar="DIR",
        help="keep the scratch clone and its index here (reused by the next run); default: "
        "a temporary folder, removed afterwards",
    )


def _wanted_setups(values: list[str], known: set[str]) -> list[str]:
    """Set-up names from each ``--setups`` value: the value itself when it names one (an
    ablation's name contains a comma), else its comma-separated parts."""
    wanted: list[str] = []
    for value in values:
        if value.strip() in known:
            wanted.append(value.strip())
        else:
            wanted += [name.strip() for name in value.split(",") if name.strip()]
    return wanted


def run(args: argparse.Namespace) -> int:
    from server.evaluation.history import decoding_flags_available, plan_setups, run_history
    from server.evaluation.history_points import commit_points, source_commits
    from server.gitsnapshot import GitError, Snapshot, repo_root, resolve_commit
    from server.settings import Settings

    if args.history < 1:
        raise UserError("--history N needs N of at least 1")
    if args.points_per_commit < 1:
        raise UserError("--points-per-commit must be at least 1")
    try:
        root = repo_root(resolve_root(args.path))
        head = resolve_commit(root, args.rev)
        commits = source_commits(root, head, args.history, _is_source)
    except GitError as e:
        raise UserError(str(e)) from None
    eligible = _eligible(root)
    work = [
        cp
        for c in commits
        if (cp := commit_points(root, c, args.points_per_commit, args.seed, eligible)) is not None
    ]
    if not work:
        raise UserError(
            f"no commit up to {args.rev} in {root} adds a line to a source file Tandem indexes"
        )
    settings = Settings()
    _apply_flags(args, settings, decoding_flags_available())
    if args.embedder:
        settings.index.embedder = args.embedder
    oldest_parent = work[0].commit.parent
    adapter, until = _pick_adapter(root, args.adapter, args.model, oldest_parent)
    if adapter is not None:
        from server.trainer.manifest import read_manifest

        settings.model.model = args.model or read_manifest(adapter).base_model
    elif args.model:
        settings.model.model = args.model
    if args.max_tokens is not None:
        if args.max_tokens < 1:
            raise UserError("--max-tokens must be at least 1")
        settings.completion.max_tokens = args.max_tokens
    setups = plan_setups(adapter is not None, args.ablate_decoding)
    if args.setups is not None:
        wanted = _wanted_setups(args.setups, {s.name for s in setups})
        unknown = sorted(set(wanted) - {s.name for s in setups})
        if unknown:
            names = ", ".join(repr(s.name) for s in setups)
            raise UserError(
                f"--setups: no set-up named {', '.join(unknown)} (this run has {names})"
            )
        setups = [s for s in setups if s.name in wanted]

    keep = args.scratch is not None
    scratch = (
        Path(args.scratch).expanduser().resolve()
        if keep
        else Path(tempfile.mkdtemp(prefix="tandem-history-"))
    )
    snapshot = Snapshot(root, scratch, ignore_from=root)
    try:
        report = run_history(
            root,
            work,
            settings,
            setups,
            snapshot,
            rev=head,
            seed=args.seed,
            adapter=str(adapter) if adapter else None,
            adapter_until=until,
            progress=lambda m: print(m, file=sys.stderr, flush=True),
        )
    finally:
        if not keep:
            snapshot.remove()
    table = report.to_markdown()
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
    if args.json:
        print_json(report.to_json())
    else:
        print(table)
    return 0


def _is_source(path: str) -> bool:
    """Code with a grammar (not prose, not configuration), and not a secret file."""
    from indexer.languages import has_grammar, language_for_path
    from indexer.secrets import is_secret_file

    return has_grammar(language_for_path(path)) and not is_secret_file(path)


def _eligible(root: Path) -> Any:
    """Files completion would run in: not ignored, not too large (the workspace's rules)."""
    from indexer.walk import IgnoreRules
    from server.settings import IndexSettings

    rules = IgnoreRules(root, IndexSettings())

    def ok(path: str, text: str) -> bool:
        return rules.skip_reason(path, len(text.encode("utf-8"))) is None

    return ok


def _apply_flags(args: argparse.Namespace, settings: Any, available: list[str]) -> None:
    for flag in ("token_healing", "guided_identifiers"):
        value = getattr(args, flag)
        if value is None:
            continue
        if flag not in available:
            raise UserError(f"this build has no completion.{flag} setting")
        setattr(settings.completion, flag, value == "on")
    if args.ablate_decoding and not available:
        raise UserError("--ablate-decoding: this build has no token healing or guided identifiers")


def _pick_adapter(
    root: Path, wanted: str | None, model: str | None, oldest_parent: str
) -> tuple[Path | None, str | None]:
    """The adapter for the LoRA set-ups and the commit it was trained at. It must have been
    trained with ``--until`` at or before the oldest commit's parent: an adapter trained on
    later files has seen the answers."""
    from server.gitsnapshot import is_ancestor
    from server.trainer.manifest import list_adapters, read_manifest

    fix = (
        "train one on the tree before the first commit: "
        f"`tandem train --until {oldest_parent[:12]}`"
    )
    if wanted is not None and wanted.strip().lower() == "none":
        return None, None
    if wanted is not None:
        folder = Path(wanted).expanduser()
        folder = folder if folder.is_absolute() else root / folder
        try:
            manifest = read_manifest(folder)
        except ValueError as e:
            raise UserError(str(e)) from None
        if not manifest.until_commit:
            raise UserError(f"{folder} was trained on the files on disk, answers included; {fix}")
        if not is_ancestor(root, manifest.until_commit, oldest_parent):
            raise UserError(
                f"{folder} was trained at {manifest.until_commit[:12]}, after the first "
                f"evaluated commit's parent {oldest_parent[:12]}; {fix}"
            )
        return folder, manifest.until_commit
    for folder in list_adapters(root):
        manifest = read_manifest(folder)
        if model and manifest.base_model != model:
            continue
        if manifest.until_commit and is_ancestor(root, manifest.until_commit, oldest_parent):
            return folder, manifest.until_commit
    print(
        "no adapter trained --until a commit before the evaluated ones; LoRA set-ups "
        f"skipped ({fix})",
        file=sys.stderr,
    )
    return None, None
