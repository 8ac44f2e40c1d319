"""Match an import's candidate paths against the indexed paths, at query time.

Candidates (see ``indexer.imports``) are ordered most specific first, so the rule is:

1. the first candidate that is exactly an indexed path (a relative import's exact path, a
   folder candidate naming an indexed folder);
2. for non-relative imports only, the first candidate that is a suffix of indexed paths
   (at a "/" boundary) - the longest suffix, since candidates are ordered longest first;
3. among several paths matching one candidate: the one sharing the most leading folders
   with the importing file, then the shortest, then the first in lexicographic order.

A candidate ending in "/" names a folder; it resolves to a file directly inside it (the
one named like the folder, else the first non-test file); ``resolve_all`` gives them all.

``PathIndex`` holds the suffix maps; build it once per index version (thousands of paths
take milliseconds) and pass it to every call.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from indexer.types import ImportRef, SymbolDef

_RELATIVE_PREFIXES = (".", "self::", "super::")
_MODULE_FILES = frozenset({"__init__", "index", "mod"})


def _suffixes(path: str) -> Iterable[str]:
    """ "a/b/c.py" -> "a/b/c.py", "b/c.py", "c.py"."""
    yield path
    start = path.find("/")
    while start != -1:
        yield path[start + 1 :]
        start = path.find("/", start + 1)


class PathIndex:
    """Indexed workspace-relative paths with O(1) suffix and folder lookups."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths: frozenset[str] = frozenset(paths)
        self._by_suffix: dict[str, list[str]] = {}
        self._folders_by_suffix: dict[str, list[str]] = {}
        self._files_in: dict[str, list[str]] = {}
        for path in sorted(self.paths):
            for suffix in _suffixes(path):
                self._by_suffix.setdefault(suffix, []).append(path)
            folder = posixpath.dirname(path)
            if folder not in self._files_in:
                self._files_in[folder] = []
                if folder:
                    for suffix in _suffixes(folder):
                        self._folders_by_suffix.setdefault(suffix, []).append(folder)
            self._files_in[folder].append(path)

    def __contains__(self, path: object) -> bool:
        return path in self.paths

    def __len__(self) -> int:
        return len(self.paths)

    def ending_with(self, suffix: str) -> list[str]:
        """Paths equal to ``suffix`` or ending with "/" + ``suffix`` (sorted)."""
        return self._by_suffix.get(suffix, [])

    def folders_ending_with(self, suffix: str) -> list[str]:
        """Folders (holding indexed files) equal to or ending with ``suffix``."""
        return self._folders_by_suffix.get(suffix.strip("/"), [])

    def files_in(self, folder: str) -> list[str]:
        """Indexed files directly inside ``folder`` (sorted)."""
        return self._files_in.get(folder.strip("/"), [])


def is_relative(ref: ImportRef) -> bool:
    """Relative imports ("./x", "..m", "super::x") resolve only to their exact paths."""
    return ref.module.startswith(_RELATIVE_PREFIXES)


def _as_index(known_paths: PathIndex | Iterable[str]) -> PathIndex:
    return known_paths if isinstance(known_paths, PathIndex) else PathIndex(known_paths)


def _closest(paths: list[str], importer: str | None) -> str:
    if len(paths) == 1:
        return paths[0]
    folder = posixpath.dirname(importer).split("/") if importer else []

    def rank(path: str) -> tuple[int, int, str]:
        parts = path.split("/")[:-1]
        shared = 0
        for mine, theirs in zip(folder, parts, strict=False):
            if mine != theirs:
                break
            shared += 1
        return (-shared, len(parts), path)

    return min(paths, key=rank)


def _folder_file(index: PathIndex, folder: str) -> str | None:
    files = index.files_in(folder)
    if not files:
        return None
    name = posixpath.basename(folder)
    for path in files:
        if posixpath.splitext(posixpath.basename(path))[0] == name:
            return path
    plain = [p for p in files if not _is_test(p)]
    return (plain or files)[0]


def _is_test(path: str) -> bool:
    stem = posixpath.splitext(posixpath.basename(path))[0]
    return stem.endswith(("_test", "Test", ".test", ".spec")) or stem.startswith("test_")


def _match(ref: ImportRef, index: PathIndex, importer: str | None) -> tuple[str, bool] | None:
    """The best match as (path or folder, is_folder)."""
    for candidate in ref.candidates:
        if candidate.endswith("/"):
            if index.files_in(candidate):
                return candidate.rstrip("/"), True
        elif candidate in index.paths:
            return candidate, False
    if is_relative(ref):
        return None
    for candidate in ref.candidates:
        if candidate.endswith("/"):
            folders = index.folders_ending_with(candidate)
            if folders:
                return _closest(folders, importer), True
        else:
            paths = index.ending_with(candidate)
            if paths:
                return _closest(paths, importer), False
    return None


def resolve_import(
    ref: ImportRef, known_paths: PathIndex | Iterable[str], importer: str | None = None
) -> str | None:
    """The indexed file ``ref`` most likely names, or None (an external module).

    ``importer`` (the importing file's path) only breaks ties between equal suffix matches.
    """
    index = _as_index(known_paths)
    found = _match(ref, index, importer)
    if found is None:
        return None
    path, is_folder = found
    return _folder_file(index, path) if is_folder else path


def resolve_all(
    ref: ImportRef, known_paths: PathIndex | Iterable[str], importer: str | None = None
) -> list[str]:
    """Every indexed file ``ref`` names: a folder's files (Go package), else the one file."""
    index = _as_index(known_paths)
    found = _match(ref, index, importer)
    if found is None:
        return []
    path, is_folder = found
    if not is_folder:
        return [path]
    files = index.files_in(path)
    return [p for p in files if not _is_test(p)] or list(files)


class Origin(NamedTuple):
    """Where a name comes from: the file and its name there (None: the module itself)."""

    path: str
    name: str | None


def _module_stem(path: str) -> str:
    stem = posixpath.splitext(posixpath.basename(path))[0]
    if stem in _MODULE_FILES:
        return posixpath.basename(posixpath.dirname(path))
    return stem


def _defines(definitions: list[SymbolDef], name: str) -> bool:
    return any(d.qualified == name for d in definitions)


def follow_reexports(
    name: str,
    path: str,
    imports_of: Callable[[str], Sequence[ImportRef]],
    known_paths: PathIndex | Iterable[str],
    definitions_of: Callable[[str], list[SymbolDef]] | None = None,
    max_depth: int = 4,
    reaches: Callable[[str, str], bool] | None = None,
) -> Origin | None:
    """Follow ``name`` from the file ``path`` (e.g. a package ``__init__.py`` or a TS
    ``index.ts``) through the imports that re-export it, to the file that defines it.

    Without ``definitions_of`` the first file that does not import ``name`` is taken as its
    definition; with it, files are checked and star re-exports are searched as well.
    Returns None for a name that leaves the workspace, a cycle, or more than ``max_depth``
    hops. Both callables are called once per file visited (plain dict lookups suit them).
    ``reaches(file, name)``, when given, may say False for a star import's file that cannot
    lead to ``name`` (a C header graph has hundreds of files): it is not searched.
    """
    index = _as_index(known_paths)
    return _follow(name, path, imports_of, index, definitions_of, max_depth, set(), reaches)


def _follow(
    name: str,
    path: str,
    imports_of: Callable[[str], Sequence[ImportRef]],
    index: PathIndex,
    definitions_of: Callable[[str], list[SymbolDef]] | None,
    depth: int,
    seen: set[tuple[str, str]],
    reaches: Callable[[str, str], bool] | None = None,
) -> Origin | None:
    while depth >= 0:
        if (path, name) in seen:
            return None
        seen.add((path, name))
        if definitions_of is not None and _defines(definitions_of(path), name):
            return Origin(path, name)
        refs = imports_of(path)
        direct = next((r for r in refs if r.local_name == name), None)
        if direct is None:
            if definitions_of is None:
                return Origin(path, name)
            if name == "default":
                return Origin(path, name)  # the default export has the definition's own name
            for star in (r for r in refs if r.local_name == "*"):
                target = resolve_import(star, index, path)
                if target is None or depth == 0:
                    continue
                if reaches is not None and not reaches(target, name):
                    continue
                found = _follow(
                    name, target, imports_of, index, definitions_of, depth - 1, seen, reaches
                )
                if found is not None:
                    return found
            return None
        if direct.module == "" and direct.name and direct.name != name:
            name = direct.name  # an alias inside the file: export default foo
            depth -= 1
            continue
        target = resolve_import(direct, index, path)
        if target is None:
            return None
        member = direct.name
        if member is None or member == "*":
            return Origin(target, None)
        if _module_stem(target) == member.rsplit(".", 1)[-1] and (
            definitions_of is None or not _defines(definitions_of(target), member)
        ):
            return Origin(target, None)  # "from pkg import mod" names the submodule
        path, name = target, member
        depth -= 1
    return None
