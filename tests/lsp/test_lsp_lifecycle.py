"""Initialize, capabilities, background indexing with progress, and a first inline
completion — with the client capabilities of VS Code and of Neovim."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_support import (
    NEOVIM,
    VSCODE,
    init_params,
    inline,
    open_doc,
    progress_kinds,
    status,
    wait_for,
    wait_indexed,
)
from lsprotocol import types
from pytest_lsp import LanguageClient

# Each test starts the real server (imports, LanceDB, a first index): several seconds.
pytestmark = pytest.mark.slow

CM_LINE = "    return inches * CENTIM"
CM_TEXT = (
    "from geometry.units import CENTIMETRES_PER_INCH\n\n\n"
    "def to_cm(inches: float) -> float:\n" + CM_LINE
)


@pytest.mark.parametrize("preset", [VSCODE, NEOVIM])
async def test_initialize_progress_then_inline_completion(
    bare_client: LanguageClient, workspace: Path, preset: str
) -> None:
    result = await bare_client.initialize_session(init_params(workspace, preset))
    caps = result.capabilities
    assert result.server_info is not None and result.server_info.name == "tandem"
    assert caps.inline_completion_provider is not None
    assert caps.completion_provider is not None
    assert caps.text_document_sync is not None
    sync = caps.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert caps.execute_command_provider is not None
    commands = set(caps.execute_command_provider.commands)
    assert {"tandem.reindex", "tandem.forget", "tandem.status", "tandem.train"} <= commands

    await wait_indexed(bare_client)
    (kinds,) = progress_kinds(bare_client)
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert "report" in kinds
    reports = [r for r in next(iter(bare_client.progress_reports.values())) if r.kind == "report"]
    assert all(r.percentage is not None and 0 <= r.percentage <= 100 for r in reports)
    assert any(r.message for r in reports)

    # Complete with a constant defined in another file.
    uri = await open_doc(bare_client, workspace / "new_module.py", CM_TEXT)
    items = await inline(bare_client, uri, 4, len(CM_LINE))
    assert isinstance(items, types.InlineCompletionList)
    assert [item.insert_text for item in items.items] == ["ETRES_PER_INCH"]
    item = items.items[0]
    assert item.range == types.Range(
        start=types.Position(line=4, character=len(CM_LINE)),
        end=types.Position(line=4, character=len(CM_LINE)),
    )
    assert item.command is not None and item.command.command == "tandem.acceptCompletion"

    state = await status(bare_client)
    (folder,) = state["folders"]
    assert folder["root"] == str(workspace)
    assert folder["full_syncs"] == 1
    # Neovim cannot watch files for us: the server watches them itself.
    assert state["file_events"] == ("client" if preset == VSCODE else "server")
    if preset == NEOVIM:
        (workspace / "obsolete.py").unlink()  # no notification: the server's watcher sees it

        async def forgotten() -> bool:
            return (await status(bare_client))["folders"][0]["index"]["files"] == 5

        await wait_for(forgotten, timeout=15)


async def test_several_folders_each_with_its_own_index(
    bare_client: LanguageClient, workspace: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "inches.py").write_text(
        "CENTIMETRES_PER_INCH = 2.54\n\n\n"
        "def to_cm(inches):\n    return inches * CENTIMETRES_PER_INCH\n"
    )
    params = init_params(workspace, VSCODE)
    params.workspace_folders = [types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")]
    await bare_client.initialize_session(params)
    await wait_indexed(bare_client)

    bare_client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=other.as_uri(), name="other")], removed=[]
            )
        )
    )
    await wait_indexed(bare_client, count=2)
    folders = {f["root"]: f for f in (await status(bare_client))["folders"]}
    assert folders[str(other)]["index"]["files"] == 1
    assert folders[str(workspace)]["index"]["files"] == 6
    assert (other / ".tandem").is_dir() and (workspace / ".tandem").is_dir()

    # A file in "other" is completed from other's index (which knows CENTIMETRES_PER_INCH).
    uri = await open_doc(bare_client, other / "new.py", CM_TEXT.replace("geometry.units", "inches"))
    assert [i.insert_text for i in (await inline(bare_client, uri, 4, len(CM_LINE))).items] == [
        "ETRES_PER_INCH"
    ]

    bare_client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[], removed=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")]
            )
        )
    )
    assert [f["root"] for f in (await status(bare_client))["folders"]] == [str(other)]
