"""Completion points from a repository's own history (``tandem eval --history``).

A point is a line a real commit added to a source file: the workspace is the tree at the
commit's parent, the file being written is the commit's version of that file, the cursor is
at the line's first non-blank character and the truth is the rest of the line. The buffer is
the commit's file with that line cut at the cursor: the lines above and below are as the
commit left them (someone editing a file sees all of it), and the answer itself appears
nowhere in it or in the parent's tree.

Renames are followed (``-M``), so the lines a renamed file kept are not "added". Lines
without a letter or digit (``)``, ``});``) are skipped: they would make exact match cheap.
One file per commit (the one with the most such lines) and a seeded sample of its lines.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.gitsnapshot import git, show_file

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_WORDY = re.compile(r"[A-Za-z0-9]")


@dataclass
class FileChange:
    path: str  # in the commit
    old_path: str | None  # in the parent (None: a new file); differs on a rename
    added: int


@dataclass
class HistoryCommit:
    commit: str
    parent: str
    subject: str
    files: list[FileChange]


@dataclass
class HistoryPoint:
    commit: str
    parent: str
    path: str
    line: int  # 0-based, in the commit's version of the file
    col: int  # the line's first non-blank character
    truth: str  # the rest of the line (trailing whitespace removed)

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "path": self.path,
            "line": self.line + 1,
            "col": self.col + 1,
            "truth": self.truth,
        }


@dataclass
class CommitPoints:
    """The points of one commit and what they need: the commit's text of the file."""

    commit: HistoryCommit
    path: str
    text: str
    points: list[HistoryPoint] = field(default_factory=list)


def source_commits(
    repo: Path,
    rev: str,
    n: int,
    is_source: Callable[[str], bool],
    scan: int | None = None,
) -> list[HistoryCommit]:
    """The last ``n`` non-merge commits (first-parent line ending at ``rev``) that add lines
    to a file ``is_source`` accepts, oldest first."""
    found: list[HistoryCommit] = []
    limit = scan if scan is not None else max(50, 20 * n)
    log = git(
        repo, "log", "--first-parent", "--no-merges", f"-n{limit}", "--format=%H %P%x09%s", rev
    )
    for entry in log.splitlines():
        ids, _, subject = entry.partition("\t")
        parts = ids.split()
        if len(parts) != 2:  # the root commit has no parent to stand in for "before"
            continue
        commit, parent = parts
        files = [f for f in changed_files(repo, parent, commit) if f.added and is_source(f.path)]
        if files:
            found.append(HistoryCommit(commit, parent, subject, files))
            if len(found) == n:
                break
    return found[::-1]


def changed_files(repo: Path, parent: str, commit: str) -> list[FileChange]:
    """Files the commit added lines to, with renames followed (binary files skipped)."""
    raw = git(repo, "diff", "--numstat", "-z", "-M", parent, commit)
    fields = raw.split("\0")
    out: list[FileChange] = []
    i = 0
    while i < len(fields) - 1:
        added, _deleted, path = fields[i].split("\t", 2)
        if path:  # a plain change: "added\tdeleted\tpath"
            old: str | None = path
            i += 1
        else:  # a rename: "added\tdeleted\t" then the old and the new path
            old, path = fields[i + 1], fields[i + 2]
            i += 3
        if added == "-":
            continue
        out.append(FileChange(path, old, int(added)))
    new = set(git(repo, "diff", "--name-only", "-z", "--diff-filter=A", parent, commit).split("\0"))
    for f in out:
        if f.path in new and f.old_path == f.path:
            f.old_path = None
    return out


def added_lines(repo: Path, parent: str, commit: str, change: FileChange) -> list[int]:
    """0-based numbers of the lines ``commit`` added to ``change.path``."""
    paths = (
        [change.path]
        if change.old_path in (None, change.path)
        else [change.old_path or "", change.path]
    )
    diff = git(
        repo, "diff", "-U0", "-M", "--no-color", "--no-ext-diff", parent, commit, "--", *paths
    )
    lines: list[int] = []
    current: int | None = None
    for row in diff.splitlines():
        m = _HUNK.match(row)
        if m:
            current = int(m.group(1)) - 1
            continue
        if current is None or row.startswith(("+++", "---")):
            continue
        if row.startswith("+"):
            lines.append(current)
            current += 1
    return lines


def commit_points(
    repo: Path,
    commit: HistoryCommit,
    per_commit: int,
    seed: int,
    eligible: Callable[[str, str], bool] = lambda _path, _text: True,
) -> CommitPoints | None:
    """The points of one commit: its file with the most added wordy lines (``eligible``
    says whether a file may be completed in, e.g. not ignored or secret) and a seeded
    sample of ``per_commit`` of them."""
    best: tuple[int, str, FileChange, str, list[tuple[int, int, str]]] | None = None
    for change in commit.files:
        text = show_file(repo, commit.commit, change.path)
        if not eligible(change.path, text):
            continue
        lines = text.split("\n")
        candidates = []
        for n in added_lines(repo, commit.parent, commit.commit, change):
            if n >= len(lines):
                continue
            line = lines[n].rstrip()
            col = len(line) - len(line.lstrip())
            if _WORDY.search(line):
                candidates.append((n, col, line[col:]))
        key = (-len(candidates), change.path)
        if candidates and (best is None or key < (best[0], best[1])):
            best = (key[0], key[1], change, text, candidates)
    if best is None:
        return None
    _, _, change, text, candidates = best
    rng = random.Random(f"{seed}:{commit.commit}")
    chosen = sorted(rng.sample(candidates, min(per_commit, len(candidates))))
    points = [
        HistoryPoint(commit.commit, commit.parent, change.path, n, col, truth)
        for n, col, truth in chosen
    ]
    return CommitPoints(commit, change.path, text, points)


def buffer_at(text: str, point: HistoryPoint) -> str:
    """The file being written at ``point``: the commit's text with the point's line cut at
    the cursor (its indentation kept, the answer gone)."""
    lines = text.split("\n")
    lines[point.line] = lines[point.line][: point.col]
    return "\n".join(lines)
