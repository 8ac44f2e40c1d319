"""``workspace/executeCommand``: tandem.reindex, tandem.forget, tandem.status, tandem.train."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_support import progress_kinds, status, wait_for, wait_indexed
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pytest_lsp import LanguageClient

# Each test starts the real server (imports, LanceDB, a first index): several seconds.
pytestmark = pytest.mark.slow


async def command(client: LanguageClient, name: str, *args: object) -> object:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=name, arguments=list(args))
    )


async def test_status_and_clear_errors_for_bad_arguments(
    client: LanguageClient, workspace: Path
) -> None:
    await wait_indexed(client)
    state = await status(client)
    (folder,) = state["folders"]
    assert folder["root"] == str(workspace)
    assert folder["index"]["files"] == 6
    assert folder["index"]["chunks"] > 6
    assert folder["index"]["embedder"] == "none"
    assert state["signals"]["accepted"] == 0
    assert "requests" in state["completer"]
    assert state["settings_errors"] == []

    # Bad arguments give clear errors, and the server carries on.
    with pytest.raises(JsonRpcInvalidParams, match="expected one or more paths"):
        await command(client, "tandem.forget")
    with pytest.raises(JsonRpcInvalidParams, match="not inside a workspace folder"):
        await command(client, "tandem.forget", "/etc/passwd")
    with pytest.raises(JsonRpcException, match="not defined"):
        await command(client, "tandem.nonsense")
    with pytest.raises(JsonRpcInvalidParams, match="rank must be at least 1"):
        await command(client, "tandem.train", {"rank": 0})
    with pytest.raises(JsonRpcInvalidParams, match="must be an object"):
        await command(client, "tandem.train", "fast please")
    # Still serving.
    assert (await status(client))["folders"]


async def test_reindex_picks_up_files_changed_behind_the_servers_back(
    client: LanguageClient, workspace: Path
) -> None:
    await wait_indexed(client)
    # No file event for this one (e.g. the editor was closed): only a reindex finds it.
    (workspace / "late.py").write_text("def arrived_late():\n    return 1\n")
    result = await command(client, "tandem.reindex")
    assert result == {"queued": [str(workspace)]}
    await wait_indexed(client, count=2)
    assert len(progress_kinds(client)) == 2
    state = await status(client)
    assert state["folders"][0]["index"]["files"] == 7
    assert state["folders"][0]["full_syncs"] == 2


async def test_forget_removes_a_path_and_keeps_it_out(
    client: LanguageClient, workspace: Path
) -> None:
    await wait_indexed(client)
    result = await command(client, "tandem.forget", "obsolete.py")
    assert result == {"forgetting": ["obsolete.py"]}

    async def files() -> int:
        return (await status(client))["folders"][0]["index"]["files"]

    await wait_for(lambda: _equals(files(), 5), timeout=10)
    assert "/obsolete.py" in (workspace / ".tandemignore").read_text()
    # A later reindex does not bring it back.
    await command(client, "tandem.reindex")
    await wait_indexed(client, count=2)
    assert await files() == 5
    # A folder can be forgotten by URI too.
    await command(client, "tandem.forget", (workspace / "geometry").as_uri())
    await wait_for(lambda: _equals(files(), 1), timeout=10)


async def _equals(value: object, expected: int) -> bool:
    return await value == expected  # type: ignore[misc]
