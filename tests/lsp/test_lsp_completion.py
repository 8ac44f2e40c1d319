"""Completion requests: cancellation, superseded requests, ``textDocument/completion``
items with workspace symbols, and the acceptance signals."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsp_support import (
    HOLD_FILE,
    init_params,
    inline,
    open_doc,
    requests_seen,
    status,
    wait_for,
    wait_indexed,
)
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

# Each test starts the real server (imports, LanceDB, a first index): several seconds.
pytestmark = pytest.mark.slow

CM_LINE = "    return inches * CENTIM"
CM_TEXT = (
    "from geometry.units import CENTIMETRES_PER_INCH\n\n\n"
    "def to_cm(inches: float) -> float:\n" + CM_LINE
)


def inline_params(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic
        ),
    )


async def test_cancel_request_stops_a_queued_completion(
    client: LanguageClient, workspace: Path
) -> None:
    await wait_indexed(client)
    busy_uri = await open_doc(client, workspace / "busy.py", CM_TEXT)
    uri = await open_doc(client, workspace / "cm.py", CM_TEXT)
    # The completion thread is held, so the first request occupies it and the second waits
    # in the queue until its cancellation arrives.
    HOLD_FILE.touch()
    try:
        busy = client.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(busy_uri, 4, len(CM_LINE))
        )
        victim = client.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, 4, len(CM_LINE)), msg_id="v"
        )
        await requests_seen(client, 2)
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="v"))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wrap_future(victim)
    finally:
        HOLD_FILE.unlink(missing_ok=True)
    assert isinstance(await asyncio.wrap_future(busy), types.InlineCompletionList)
    counts = (await status(client))["completer"]["requests"]
    assert counts["cancelled"] == 1
    assert counts["completed"] == 1  # the cancelled one never reached the pipeline
    # And the server carries on.
    assert [i.insert_text for i in (await inline(client, uri, 4, len(CM_LINE))).items] == [
        "ETRES_PER_INCH"
    ]


async def test_only_the_latest_keystroke_reaches_the_model(
    client: LanguageClient, workspace: Path
) -> None:
    await wait_indexed(client)
    busy_uri = await open_doc(client, workspace / "busy.py", CM_TEXT)
    uri = await open_doc(client, workspace / "typing.py", CM_TEXT)
    # A request elsewhere holds the completion thread while six keystrokes' requests for one
    # document arrive, written in order without waiting for answers.
    HOLD_FILE.touch()
    try:
        busy = client.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(busy_uri, 4, len(CM_LINE))
        )
        futures = [
            client.protocol.send_request(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, 4, len(CM_LINE))
            )
            for _ in range(6)
        ]
        await requests_seen(client, 7)
    finally:
        HOLD_FILE.unlink(missing_ok=True)
    results = [await asyncio.wrap_future(f) for f in futures]
    await asyncio.wrap_future(busy)
    assert [i.insert_text for i in results[-1].items] == ["ETRES_PER_INCH"]
    assert all(not r.items for r in results[:-1]), "superseded requests must come back empty"
    counts = (await status(client))["completer"]["requests"]
    assert counts == {"requests": 7, "completed": 2, "superseded": 5, "cancelled": 0}


async def test_completion_items_carry_the_suggestion_and_workspace_symbols(
    client: LanguageClient, workspace: Path
) -> None:
    await wait_indexed(client)
    uri = await open_doc(client, workspace / "cm.py", CM_TEXT)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=4, character=len(CM_LINE)),
        )
    )
    assert isinstance(result, types.CompletionList)
    first = result.items[0]
    assert isinstance(first.text_edit, types.TextEdit)
    assert first.text_edit.new_text == "CENTIMETRES_PER_INCH"
    assert first.text_edit.range.start == types.Position(line=4, character=len(CM_LINE) - 6)
    assert first.command is not None and first.command.command == "tandem.acceptCompletion"
    symbols = {item.label: item for item in result.items[1:]}
    assert "CENTIMETRES_PER_INCH" in symbols
    assert symbols["CENTIMETRES_PER_INCH"].detail == "geometry/units.py:1"

    text = "from geometry import units\n\nx = units.inches_to"
    uri2 = await open_doc(client, workspace / "sym.py", text)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri2),
            position=types.Position(line=2, character=len("x = units.inches_to")),
        )
    )
    labels = {item.label: item.kind for item in result.items}
    assert labels.get("inches_to_centimetres") == types.CompletionItemKind.Function


async def test_acceptance_signals_are_counted_locally(
    client: LanguageClient, workspace: Path
) -> None:
    await wait_indexed(client)
    uri = await open_doc(client, workspace / "cm.py", CM_TEXT)
    (item,) = (await inline(client, uri, 4, len(CM_LINE))).items
    raw_item = {"insertText": item.insert_text, "command": {"title": "", "command": ""}}
    client.protocol.notify("textDocument/didShowCompletion", {"item": raw_item})
    assert item.command is not None
    for _ in range(2):  # a second acceptance of the same item is not counted again
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=item.command.command, arguments=list(item.command.arguments or [])
            )
        )
    client.protocol.notify(
        "textDocument/didPartiallyAcceptCompletion", {"item": raw_item, "acceptedLength": 6}
    )
    signals = (await status(client))["signals"]
    assert signals == {
        "offered": 1,
        "shown": 1,
        "accepted": 1,
        "partially_accepted": 1,
        "accepted_chars": 6,
    }


async def test_a_model_that_cannot_load_is_shown_once_and_retrieval_answers(
    bare_client: LanguageClient, workspace: Path
) -> None:
    options = {
        "index": {"embedder": "none"},
        "model": {"backend": "transformers", "model": str(workspace / "no-such-model")},
    }
    await bare_client.initialize_session(init_params(workspace, options=options))
    await wait_indexed(bare_client)
    await wait_for(lambda: bare_client.messages, timeout=30)
    (message,) = bare_client.messages
    assert message.type == types.MessageType.Warning
    assert "could not load model" in message.message and "no-such-model" in message.message
    assert "Fix:" in message.message  # what to do about it
    uri = await open_doc(bare_client, workspace / "cm.py", CM_TEXT)
    result = await inline(bare_client, uri, 4, len(CM_LINE))
    assert [i.insert_text for i in result.items] == ["ETRES_PER_INCH"]
    completer = (await status(bare_client))["completer"][workspace.name]
    assert completer["backend"] == "retrieval" and "no-such-model" in completer["fallback_reason"]
