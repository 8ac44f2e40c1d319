"""Background prefill: where it puts the cursor after an edit (``didChange`` has no cursor),
and, over the real server, that opening a document warms the cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.tiny_model import build_tiny_model
from lsp_support import init_params, inline, open_doc, status, wait_for, wait_indexed
from lsprotocol import types
from pytest_lsp import LanguageClient

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


# -- didOpen, end to end: the real server with the tiny model (transformers) -------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


async def _prefill_counts(client: LanguageClient) -> dict[str, int]:
    return dict((await status(client))["completer"]["prefill"])


@pytest.mark.slow
async def test_opening_a_document_warms_the_cache(
    bare_client: LanguageClient, workspace: Path, tiny_model: Path
) -> None:
    options = {
        "index": {"embedder": "none"},
        "model": {"backend": "transformers", "model": str(tiny_model)},
    }
    await bare_client.initialize_session(init_params(workspace, options=options))
    await wait_indexed(bare_client)

    async def loaded() -> bool:
        return bool((await status(bare_client))["completer"][workspace.name]["loaded"])

    await wait_for(loaded, timeout=60)
    path = workspace / "app.py"
    before = await _prefill_counts(bare_client)
    uri = await open_doc(bare_client, path)

    async def ran(n: int) -> bool:
        return (await _prefill_counts(bare_client))["ran"] >= before["ran"] + n

    await wait_for(lambda: ran(1), timeout=60)
    after_open = await _prefill_counts(bare_client)
    assert after_open["tokens"] > before["tokens"]  # the file's end was read into the cache
    assert after_open["failed"] == 0

    # A request puts the cursor near the top; reopening the document warms the cache there.
    await inline(bare_client, uri, 3, 0)
    bare_client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await open_doc(bare_client, path)
    await wait_for(lambda: ran(2), timeout=60)
    assert (await _prefill_counts(bare_client))["failed"] == 0
