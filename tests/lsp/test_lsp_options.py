"""Settings: bad ``initializationOptions`` are shown and replaced by defaults (never a failed
initialize); ``workspace/configuration`` is pulled and ``didChangeConfiguration`` honoured."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_support import FAST_OPTIONS, init_params, status, wait_for, wait_indexed
from lsprotocol import types
from pytest_lsp import LanguageClient

# Each test starts the real server (imports, LanceDB, a first index): several seconds.
pytestmark = pytest.mark.slow


async def test_bad_initialization_options_show_a_message_and_use_defaults(
    bare_client: LanguageClient, workspace: Path
) -> None:
    options = {
        "model": {"backend": "gpt-17", "max_tokens": "lots"},
        "completion": {"max_tokens": "lots", "debounce_ms": 30},
        "index": {"embedder": "none", "nonsense": 1},
        "colour": "blue",
    }
    result = await bare_client.initialize_session(init_params(workspace, options=options))
    assert result.capabilities.inline_completion_provider is not None
    await wait_for(lambda: bare_client.messages, timeout=10)
    (message,) = bare_client.messages
    assert message.type == types.MessageType.Warning
    for fragment in (
        "model.backend",
        "gpt-17",
        "completion.max_tokens",
        "index.nonsense",
        "colour",
    ):
        assert fragment in message.message
    await wait_indexed(bare_client)
    state = await status(bare_client)
    assert len(state["settings_errors"]) == 5
    # The good values were kept (no embedder), the bad ones defaulted (the backend).
    assert state["folders"][0]["index"]["embedder"] == "none"
    assert state["completer"]["requests"]["requests"] == 0


async def test_non_object_options_still_initialize(
    bare_client: LanguageClient, workspace: Path
) -> None:
    result = await bare_client.initialize_session(init_params(workspace, options=[1, 2, 3]))
    assert result.server_info is not None
    await wait_for(lambda: bare_client.messages, timeout=10)
    assert "settings must be an object" in bare_client.messages[0].message


async def test_configuration_is_pulled_and_changes_are_honoured(
    bare_client: LanguageClient, workspace: Path
) -> None:
    # The client's "tandem" section overrides initializationOptions.
    bare_client.set_configuration(
        {"completion": {"enabled": False}, "index": {"embedder": "none"}}, section="tandem"
    )
    await bare_client.initialize_session(init_params(workspace, options=FAST_OPTIONS))
    await wait_indexed(bare_client)
    uri = (workspace / "cfg.py").as_uri()
    bare_client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri,
                language_id="python",
                version=1,
                text="def f(inches):\n    return inches * CENTIM",
            )
        )
    )
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=1, character=len("    return inches * CENTIM")),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
    )
    assert (await bare_client.text_document_inline_completion_async(params)).items == ()

    # The user turns completions back on: the client notifies, the server pulls again.
    bare_client.set_configuration(
        {"completion": {"enabled": True}, "index": {"embedder": "none"}}, section="tandem"
    )
    bare_client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=None)
    )

    async def has_items() -> bool:
        result = await bare_client.text_document_inline_completion_async(params)
        return bool(result.items)

    await wait_for(has_items, timeout=10)
