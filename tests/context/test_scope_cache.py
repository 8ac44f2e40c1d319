"""The in-scope names of a file are kept between cursors (a C file's include closure holds
thousands), yet an edit anywhere, saved or not, is seen at the next cursor."""

from __future__ import annotations

from pathlib import Path

from test_scope import index_files

from indexer.chunker import parse_file
from indexer.scope import Resolver
from server.context.buffer import current_entry
from server.context.builder import view_for
from server.context.definitions import scope_rows
from server.context.workspace import Layered

FILES = {  # each name is named by some other chunk too (a name nothing else names is left out)
    "a.h": '#include "deep.h"\nint a_fn(int x);\n',
    "deep.h": "typedef int deep_t;\n",
    "c.h": "int c_fn(void);\n",
    "b.c": "int b(void)\n{\n    deep_t d = a_new(1) + c_fn() + a_fn(2);\n    return d;\n}\n",
    "e.c": "int e(void)\n{\n    return a_new(3);\n}\n",
    "main.c": '#include "a.h"\n\nint main(void)\n{\n    return 0;\n}\n',
}


def names(index: object, path: str, text: str, overlay: dict | None = None) -> set[str]:
    view = view_for(index)
    parsed = {p: parse_file(p, t) for p, t in (overlay or {}).items()}
    current = current_entry(view, path, text, parsed)
    layer = Layered(view, parsed, current)
    return {r.d.name for r in scope_rows(layer, Resolver(layer), path)}


def test_rows_are_kept_and_every_edit_is_seen(tmp_path: Path) -> None:
    index = index_files(tmp_path, FILES)
    view = view_for(index)
    main = FILES["main.c"]
    assert names(index, "main.c", main) == {"a_fn", "deep_t"}
    assert len(view.scope_rows) == 1
    assert names(index, "main.c", main + "\n") == {"a_fn", "deep_t"}  # typing: kept
    assert len(view.scope_rows) == 1

    # An include just typed in the buffer (not saved) brings its header at once.
    edited = '#include "c.h"\n' + main
    assert names(index, "main.c", edited, {"main.c": edited}) == {"a_fn", "deep_t", "c_fn"}

    # An unsaved edit of an included header is seen too, and leaves the saved state's rows.
    header = FILES["a.h"] + "int a_new(int y);\n"
    assert names(index, "main.c", main, {"a.h": header}) == {"a_fn", "a_new", "deep_t"}
    assert names(index, "main.c", main) == {"a_fn", "deep_t"}

    # A saved change (the index moved) drops what was kept.
    (tmp_path / "deep.h").write_text("typedef int deep_t;\n#define A_FN_MAX 9\n")
    (tmp_path / "b.c").write_text(FILES["b.c"].replace("return d;", "return A_FN_MAX;"))
    index = index_files(tmp_path, {})
    assert names(index, "main.c", main) == {"a_fn", "deep_t", "A_FN_MAX"}
