"""Where background prefill puts the cursor after an edit (``didChange`` has no cursor)."""

from __future__ import annotations

from lsprotocol import types

from server.lsp.prefill import end_of_change


def change(line: int, char: int, text: str) -> types.TextDocumentContentChangePartial:
    at = types.Position(line, char)
    return types.TextDocumentContentChangePartial(range=types.Range(at, at), text=text)


def test_the_cursor_is_where_the_last_change_ends() -> None:
    assert end_of_change([change(3, 4, "x")]) == types.Position(3, 5)
    assert end_of_change([change(3, 4, "ab\n    cd")]) == types.Position(4, 6)
    assert end_of_change([change(0, 0, "a"), change(7, 2, "é€")]) == types.Position(7, 4)
    assert end_of_change([change(1, 1, "😀")]) == types.Position(1, 3)  # UTF-16 units


def test_a_whole_text_change_or_none_says_nothing_about_the_cursor() -> None:
    whole = types.TextDocumentContentChangeWholeDocument(text="all new")
    assert end_of_change([whole]) is None
    assert end_of_change([]) is None
