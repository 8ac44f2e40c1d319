"""Property: any sequence of creates, edits, renames, touches and deletes followed by an
incremental index (full ``sync`` or ``sync_paths`` of the touched paths) gives exactly the
tables a fresh index of the final tree gives."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from index_helpers import canonical, lexical, write

from indexer.sync import sync, sync_paths

NAMES = ["a.py", "b.py", "pkg/c.py", "pkg/d.js", "pkg/sub/e.py", "notes.md", "pkg/sub/f.go"]
FUNCS = ["alpha", "beta", "gamma", "delta"]


def body(funcs: list[str]) -> str:
    if not funcs:
        return ""
    return "".join(f"def {n}(x):\n    return x + {i}\n\n\n" for i, n in enumerate(funcs))


bodies = st.lists(st.sampled_from(FUNCS), max_size=3).map(body)
names = st.sampled_from(NAMES)
ops = st.one_of(
    st.tuples(st.just("write"), names, bodies),
    st.tuples(st.just("rename"), names, names),
    st.tuples(st.just("delete"), names),
    st.tuples(st.just("touch"), names),
    st.tuples(st.just("rmtree"), st.sampled_from(["pkg", "pkg/sub"])),
)


def apply(root: Path, op: tuple[str, ...]) -> set[str]:
    kind = op[0]
    if kind == "write":
        write(root, {op[1]: op[2]})
        return {op[1]}
    if kind == "rename":
        src, dst = root / op[1], root / op[2]
        if src.exists() and src != dst:
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
        return {op[1], op[2]}
    if kind == "delete":
        (root / op[1]).unlink(missing_ok=True)
        return {op[1]}
    if kind == "touch":
        p = root / op[1]
        if p.exists():
            st_ = p.stat()
            os.utime(p, ns=(st_.st_atime_ns, st_.st_mtime_ns + 1_000_000))
        return {op[1]}
    shutil.rmtree(root / op[1], ignore_errors=True)
    return {op[1]}


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    initial=st.dictionaries(names, bodies, max_size=5),
    sequence=st.lists(ops, max_size=8),
    by_paths=st.booleans(),
)
def test_incremental_equals_fresh(
    tmp_path_factory: pytest.TempPathFactory,
    initial: dict[str, str],
    sequence: list[tuple[str, ...]],
    by_paths: bool,
) -> None:
    base = tmp_path_factory.mktemp("prop")
    root = base / "ws"
    root.mkdir()
    write(root, dict(initial))
    sync(root, lexical())
    touched: set[str] = set()
    for op in sequence:
        touched |= apply(root, op)
    if by_paths:
        sync_paths(root, lexical(), sorted(touched))
    else:
        sync(root, lexical())
    sync(root, lexical(base / "fresh"))
    assert canonical(root / ".tandem") == canonical(base / "fresh")
