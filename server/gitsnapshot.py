"""A workspace's git history, read without touching the user's working tree or index.

``tandem eval --history`` replays past commits and ``tandem train --until REV`` trains on
the tree at REV. Both need the files as they were at a commit. They get them from a scratch
clone (``git clone --shared``: it borrows the repository's objects, writes nothing into it)
that is checked out at one commit after another, with its own index outside the clone, so
the user's files, ``.git`` and ``.tandem`` are only ever read.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from indexer.walk import IGNORE_FILES


class GitError(Exception):
    """A git command failed (not a repository, an unknown revision, no git installed)."""


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run ``git -C repo args`` and return its stdout (text)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except FileNotFoundError:
        raise GitError("git is not installed (needed to read the workspace's history)") from None
    if check and done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise GitError(f"git {args[0]} failed in {repo}: {detail[0]}")
    return done.stdout


def repo_root(path: Path) -> Path:
    """The top of the git working tree containing ``path``."""
    try:
        return Path(git(path, "rev-parse", "--show-toplevel").strip())
    except GitError:
        raise GitError(f"{path} is not inside a git repository") from None


def resolve_commit(repo: Path, rev: str) -> str:
    """The full commit id ``rev`` names (a branch, tag, abbreviated id, ``HEAD~3``)."""
    if rev.startswith("-"):
        raise GitError(f"not a revision: {rev!r}")
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    except GitError:
        raise GitError(f"{rev!r} names no commit in {repo}") from None


def show_file(repo: Path, commit: str, path: str) -> str:
    """The text of ``path`` as committed in ``commit``."""
    return git(repo, "show", f"{commit}:{path}")


class Snapshot:
    """A scratch clone of ``repo`` at ``dir/<repo name>``, moved from commit to commit.

    The index of the snapshot lives at ``dir/index`` (outside the clone), so moving the
    clone and re-syncing brings the index up to date incrementally. ``ignore_from``: copy
    that workspace's untracked ignore files (``.tandemignore`` of forgotten paths) in, so
    what the user keeps out stays out of the snapshot too."""

    def __init__(self, repo: Path, dir: Path, ignore_from: Path | None = None) -> None:
        self.repo = Path(repo)
        self.dir = Path(dir)
        self.tree = self.dir / self.repo.resolve().name  # prompts name the repository
        self.index_db = str(self.dir / "index")
        self._ignore_from = ignore_from
        self.commit: str | None = None
        if not (self.tree / ".git").exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(self.tree, ignore_errors=True)
            clone = ("clone", "--quiet", "--shared", "--no-checkout")
            git(self.dir, *clone, str(self.repo.resolve()), self.tree.name)

    def checkout(self, commit: str) -> Path:
        """Make the clone's files exactly those of ``commit``; returns the tree's path."""
        git(self.tree, "checkout", "--quiet", "--force", "--detach", commit)
        git(self.tree, "clean", "--quiet", "-f", "-d", "-x")
        if self._ignore_from is not None:
            where = self.tree / self._ignore_from.resolve().relative_to(self.repo.resolve())
            for name in IGNORE_FILES:
                src = self._ignore_from / name
                if src.is_file() and where.is_dir() and not (where / name).exists():
                    shutil.copyfile(src, where / name)
        self.commit = commit
        return self.tree

    def remove(self) -> None:
        self.remove_dir(self.dir)

    @staticmethod
    def remove_dir(dir: Path) -> None:
        shutil.rmtree(dir, ignore_errors=True)


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    """``older`` is ``newer`` or one of its ancestors."""
    done = subprocess.run(
        ["git", "-C", str(repo), "merge-base", "--is-ancestor", older, newer],
        capture_output=True,
    )
    return done.returncode == 0
