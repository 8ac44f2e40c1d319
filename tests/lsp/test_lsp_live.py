"""A live index: unsaved buffers (the overlay), saves, and file events."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lsp_support import inline, open_doc, status, wait_for, wait_indexed
from lsprotocol import types
from pytest_lsp import LanguageClient

# Each test starts the real server (imports, LanceDB, a first index): several seconds.
pytestmark = pytest.mark.slow

FURLONG_LINE = "    return metres / METRES_PER_F"
FURLONG_USER = "from geometry.units import to_furlongs\n\n\ndef go(metres):\n" + FURLONG_LINE
FURLONG_DEF = (
    "\n\nMETRES_PER_FURLONG = 201.168\n\n\n"
    "def to_furlongs(metres: float) -> float:\n    return metres / METRES_PER_FURLONG\n"
)


async def index_files(client: LanguageClient) -> int:
    return (await status(client))["folders"][0]["index"]["files"]


async def suggestion(client: LanguageClient, uri: str, line: int, col: int) -> str:
    result = await inline(client, uri, line, col)
    return result.items[0].insert_text if result.items else ""


async def test_unsaved_edit_is_seen_by_retrieval_in_another_file(
    client: LanguageClient, workspace: Path
) -> None:
    await wait_indexed(client)
    units = workspace / "geometry" / "units.py"
    original = units.read_text()
    units_uri = await open_doc(client, units)
    user_uri = await open_doc(client, workspace / "user.py", FURLONG_USER)
    assert await suggestion(client, user_uri, 4, len(FURLONG_LINE)) == ""

    # Type the new definition at the end of units.py, without saving.
    end = types.Position(line=len(original.splitlines()), character=0)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=units_uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=end, end=end), text=FURLONG_DEF
                )
            ],
        )
    )
    t0 = time.monotonic()
    seen = await wait_for(
        lambda: suggestion(client, user_uri, 4, len(FURLONG_LINE)), timeout=5, interval=0.02
    )
    elapsed = time.monotonic() - t0
    assert seen == "URLONG"
    assert elapsed < 1.0, f"the edit took {elapsed:.2f}s to reach retrieval"
    # The on-disk index was not rewritten for an unsaved edit.
    assert units.read_text() == original
    assert (await status(client))["folders"][0]["batches"] == 0

    # Closing the buffer without saving drops the overlay: the suggestion goes away.
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=units_uri))
    )
    assert await suggestion(client, user_uri, 4, len(FURLONG_LINE)) == ""


async def test_save_syncs_the_file_into_the_index(client: LanguageClient, workspace: Path) -> None:
    await wait_indexed(client)
    units = workspace / "geometry" / "units.py"
    units.write_text(units.read_text() + FURLONG_DEF)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=units.as_uri())
        )
    )
    user_uri = await open_doc(client, workspace / "user.py", FURLONG_USER)
    seen = await wait_for(lambda: suggestion(client, user_uri, 4, len(FURLONG_LINE)), timeout=10)
    assert seen == "URLONG"
    assert (await status(client))["folders"][0]["batches"] == 1


async def test_deleted_file_and_watched_files_event_removes_its_chunks(
    client: LanguageClient, workspace: Path
) -> None:
    await wait_indexed(client)
    # VS Code watches files for the server once asked to (dynamic registration).
    (registration,) = client.registrations  # type: ignore[attr-defined]
    assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    assert await index_files(client) == 6

    caller = "from obsolete import legacy_checksum_marker\n\n\ndef check(data):\n    return sum(da"
    uri = await open_doc(client, workspace / "caller.py", caller)
    assert await suggestion(client, uri, 4, len("    return sum(da")) == "ta) % 251"

    obsolete = workspace / "obsolete.py"
    obsolete.unlink()
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=obsolete.as_uri(), type=types.FileChangeType.Deleted)]
        )
    )
    await wait_for(lambda: index_files_is(client, 5), timeout=10)
    assert await suggestion(client, uri, 4, len("    return sum(da")) == ""


async def index_files_is(client: LanguageClient, n: int) -> bool:
    return await index_files(client) == n


async def test_a_burst_of_file_events_is_one_batch(client: LanguageClient, workspace: Path) -> None:
    """A branch switch: 40 files appear at once, reported in 40 notifications."""
    await wait_indexed(client)
    events = []
    for i in range(40):
        path = workspace / "generated" / f"mod_{i}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"def generated_function_{i}(x):\n    return x + {i}\n")
        events.append(types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Created))
    for event in events:
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(changes=[event])
        )
    await wait_for(lambda: index_files_is(client, 46), timeout=15)
    folder = (await status(client))["folders"][0]
    assert folder["events"] == 40
    assert folder["batches"] == 1


async def test_ignored_and_secret_buffers_stay_out_of_retrieval(
    client: LanguageClient, workspace: Path
) -> None:
    await wait_indexed(client)
    # A draft in an ignored folder, open in the editor, holds the definition the user needs:
    # the index would never hold it, so neither may the overlay.
    (workspace / ".gitignore").write_text("scratch/\n")
    draft = workspace / "scratch" / "draft.py"
    draft.parent.mkdir()
    draft.write_text(FURLONG_DEF)
    await open_doc(client, draft)
    env_uri = await open_doc(client, workspace / ".env", "API_KEY=abc123\nDB_PASSWORD=\n")
    user_uri = await open_doc(client, workspace / "user.py", FURLONG_USER)

    async def parsed() -> bool:
        return bool((await status(client))["overlay"]["parses"] >= 3)

    await wait_for(parsed, timeout=10)
    assert (await status(client))["overlay"]["files"] == {str(workspace): 1}  # user.py alone
    assert await suggestion(client, user_uri, 4, len(FURLONG_LINE)) == ""
    assert await suggestion(client, env_uri, 1, len("DB_PASSWORD=")) == ""
