"""``textDocument/completion`` after ``receiver.``: the members of the receiver's inferred
type, from the index and from unsaved buffers, over the real server (stdio)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_support import init_params, open_doc, wait_for, wait_indexed
from lsprotocol import types
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.slow

SESSION = '''"""Client sessions."""


class Session:
    """A client session."""

    def send(self, request: str) -> str:
        return request

    def close(self) -> None:
        pass
'''
SESSION_EDITED = (
    SESSION
    + """
    def reconnect(self, retries: int = 3) -> bool:
        return True
"""
)
CALLER = "from net.session import Session\n\n\ndef run(session: Session) -> None:\n    session."


async def test_completion_after_a_dot_lists_the_members_of_the_inferred_type(
    bare_client: LanguageClient, workspace: Path
) -> None:
    (workspace / "net").mkdir()
    (workspace / "net" / "session.py").write_text(SESSION)
    await bare_client.initialize_session(init_params(workspace))
    await wait_indexed(bare_client)
    # A method added a moment ago in another unsaved buffer, and a caller never saved.
    await open_doc(bare_client, workspace / "net" / "session.py", SESSION_EDITED)
    uri = await open_doc(bare_client, workspace / "caller.py", CALLER)
    params = types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=4, character=len("    session.")),
    )

    async def members() -> dict[str, types.CompletionItem] | None:
        result = await bare_client.text_document_completion_async(params)
        assert isinstance(result, types.CompletionList)
        items = {i.label: i for i in result.items}
        return items if "reconnect" in items else None

    items = await wait_for(members, timeout=30)
    assert {"send", "close", "reconnect"} <= set(items)
    send = items["send"]
    assert send.kind == types.CompletionItemKind.Method
    assert send.detail == "def send(self, request: str) -> str"
    assert send.label_details is not None
    assert send.label_details.description == "net/session.py:7"
    assert items["reconnect"].detail == "def reconnect(self, retries: int = 3) -> bool"
    assert items["reconnect"].label_details.description == "net/session.py:13"  # type: ignore[union-attr]
    assert "__init__" not in items and "Session" not in items  # members, not symbols
