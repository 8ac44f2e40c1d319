"""Member completion points: the cursor just before ``m`` in the first call ``x.m(…)`` of a
file, where ``m`` is a method of exactly one non-test class of the workspace, defined in
another file, no builtin or standard-library name, and ``x`` is not an imported module.

The moment a completion needs to know what ``x`` is: the import graph says nothing about
it, and the name ``m`` is not typed yet. Points carry the same fields as the import points
(``server.evaluation.points.Point``; ``import_line`` is 0), so the same scoring applies.
"""

from __future__ import annotations

import builtins
import random
import re
from pathlib import Path
from typing import Any

from server.context.builder import view_for
from server.context.definitions import resolve_ref
from server.context.workspace import Layered
from server.evaluation.points import MIN_LINES_ABOVE, Point, _lines, header_line

# Call nodes, and the member-access nodes a call's function may be (all grammars).
_CALLS = frozenset({"call", "call_expression", "method_invocation"})
_ACCESS = frozenset(
    {"attribute", "member_expression", "selector_expression", "field_expression", "field_access"}
)
_TEST_DIRS = frozenset({"test", "tests", "testing", "__tests__", "spec", "specs", "e2e"})
_TEST_STEM = re.compile(r"(^test_|^conftest$|_test$|Tests?$|\.test$|\.spec$|_spec$)")
# Members of the builtin types and of JavaScript's standard objects: never a point.
_JS_STD = frozenset(
    """
    push pop shift unshift slice splice map filter reduce forEach find findIndex some every
    includes indexOf join concat sort reverse flat flatMap keys values entries get set has
    delete clear add then catch finally toString valueOf toJSON apply call bind
    addEventListener removeEventListener emit on off once next return throw log error warn
    info debug trim split replace match test exec startsWith endsWith padStart padEnd
    toLowerCase toUpperCase charAt substring substr length size append close write read
    send end
    """.split()  # noqa: SIM905 - a word list reads better as prose
)


def _std_names() -> frozenset[str]:
    """Attributes of the builtin types and of the most used standard modules."""
    import collections
    import io
    import json
    import logging
    import os
    import pathlib
    import re as re_mod
    import subprocess
    import sys
    import threading

    names: set[str] = set(_JS_STD)
    for obj in (str, bytes, list, dict, set, frozenset, tuple, int, float, object, type):
        names.update(dir(obj))
    names.update(dir(builtins))
    for mod in (os, os.path, sys, json, re_mod, logging, io, subprocess, threading, collections):
        names.update(n for n in dir(mod) if not n.startswith("_"))
    for cls in (
        pathlib.Path,
        logging.Logger,
        io.StringIO,
        threading.Thread,
        re_mod.Pattern,
        re_mod.Match,
        collections.OrderedDict,
        collections.deque,
    ):
        names.update(dir(cls))
    return frozenset(names)


def is_test_path(path: str) -> bool:
    parts = path.split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    return bool(_TEST_DIRS.intersection(parts[:-1])) or bool(_TEST_STEM.search(stem))


def build_member_points(
    root: str | Path, index: Any, limit: int | None = None, seed: int = 0
) -> list[Point]:
    """Every member point of the indexed workspace at ``root``, in path order; with
    ``limit``, a seeded sample of that many (kept in path order)."""
    from indexer.languages import get_parser, language_for_path

    root = Path(root)
    view = view_for(index)
    layer = Layered(view, None)
    std = _std_names()
    owners: dict[str, list[tuple[str, Any]]] = {}
    for name, rows in view.by_name.items():
        methods = [
            (p, d)
            for p, d in rows
            if d.kind == "method" and "." in d.qualified and not is_test_path(p)
        ]
        if len({(p, d.qualified.rsplit(".", 1)[0]) for p, d in methods}) == 1:
            owners[name] = methods
    texts: dict[str, list[str]] = {}
    points: list[Point] = []
    for path in sorted(view.files):
        if is_test_path(path):
            continue
        language = language_for_path(path)
        parser = get_parser(language) if language else None
        if parser is None:
            continue
        try:
            text = (root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        entry = view.files[path]
        modules = set()
        for ref in entry.imports:
            if ref.name is None:
                modules.add(ref.local_name.split(".", 1)[0])
            elif ref.name != "*":
                res = resolve_ref(layer, ref, path)
                if res is not None and res.definition is None:
                    modules.add(ref.local_name)
        lines = text.split("\n")
        seen: set[str] = set()
        tree = parser.parse(text.encode("utf-8"))
        for member, receiver in _member_calls(tree.root_node):
            name = _text(member)
            if name in seen or name not in owners or name in std:
                continue
            base = re.match(r"[A-Za-z_$][\w$]*", _text(receiver))
            if base is None or base.group(0) in modules:
                continue
            seen.add(name)
            def_path, d = owners[name][0]
            if def_path == path:
                continue
            row, byte_col = member.start_point
            if sum(1 for t in lines[:row] if t.strip()) < MIN_LINES_ABOVE:
                continue
            col = len(lines[row].encode("utf-8")[:byte_col].decode("utf-8", "replace"))
            header = header_line(_lines(root, def_path, texts), d.start_line, d.end_line)
            points.append(Point(path, row, col, name, def_path, header, d.qualified, 0))
    if limit is not None and len(points) > limit:
        order = {id(p): i for i, p in enumerate(points)}
        points = sorted(random.Random(seed).sample(points, limit), key=lambda p: order[id(p)])
    return points


def _text(node: Any) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text else ""


def _member_calls(root: Any) -> list[tuple[Any, Any]]:
    """(member name node, receiver node) of every call ``receiver.member(…)``, in source
    order."""
    out: list[tuple[Any, Any]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in _CALLS:
            fn = node.child_by_field_name("function")
            if fn is not None and fn.type in _ACCESS and len(fn.named_children) >= 2:
                out.append((fn.named_children[-1], fn.named_children[0]))
            elif node.type == "method_invocation":
                obj, name = node.child_by_field_name("object"), node.child_by_field_name("name")
                if obj is not None and name is not None:
                    out.append((name, obj))
        stack.extend(reversed(node.children))
    out.sort(key=lambda pair: pair[0].start_byte)
    return out
