"""An editor (the real ``tandem serve`` over stdio) on a developer's checkout, configured
with CI's base index in S3: it indexes only the local delta, sees base ∪ delta ∪ unsaved
buffers, forgets a deleted file, and picks up a rebuilt base without a restart."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, client_capabilities
from s3_support import S3Server, head, tandem

CONSTANTS = (
    "SPEED_OF_LIGHT_MPS = 299792458.0\n\n\n"
    "def light_seconds(metres: float) -> float:\n    return metres / SPEED_OF_LIGHT_MPS\n"
)
LEGACY = (
    "LEGACY_MODULUS_PRIME = 251\n\n\n"
    "def legacy_sum(data: bytes) -> int:\n    return sum(data) % LEGACY_MODULUS_PRIME\n"
)
LOCAL = "DRAFT_FACTOR_LOCAL = 7\n\n\ndef draft(x: int) -> int:\n    return x * DRAFT_FACTOR_LOCAL\n"
CI_NEW = (
    "CI_ONLY_OFFSET_XYZ = 3\n\n\ndef ci_helper(x: int) -> int:\n    return x + CI_ONLY_OFFSET_XYZ\n"
)
FURLONG_DEF = (
    "\n\nMETRES_PER_FURLONG = 201.168\n\n\n"
    "def to_furlongs(metres: float) -> float:\n    return metres / METRES_PER_FURLONG\n"
)


def _user(module: str, function: str, typed: str) -> str:
    """A buffer whose last line the retrieval backend can only finish from the definition
    of ``function`` (it continues a line the way a retrieved snippet's line goes on)."""
    return f"from {module} import {function}\n\n\ndef go(v):\n    return {typed}"


def _commit(root: Path, message: str) -> None:
    git = ["git", "-C", str(root), "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", message], check=True)


async def _wait(predicate: Any, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        await asyncio.sleep(0.2)


async def test_editor_over_a_base_in_s3_with_a_local_delta(
    s3: S3Server, bucket: str, repo: Path, tmp_path: Path
) -> None:
    base = f"s3://{bucket}/main"
    (repo / "geometry" / "constants.py").write_text(CONSTANTS)
    (repo / "geometry" / "legacy.py").write_text(LEGACY)
    _commit(repo, "constants, legacy")
    env = s3.env()
    assert tandem(["index", str(repo), "--db", base, "--embedder", "none"], env).returncode == 0

    dev = tmp_path / "dev"  # a developer's clone with one file of their own
    shutil.copytree(repo, dev)
    (dev / "geometry" / "local_only.py").write_text(LOCAL)

    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "server", "serve", "--stdio"], server_env=env
    )
    client = await config.start()

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(ls: Any, params: types.RegistrationParams) -> None:
        """Accept the file watchers, as VS Code does: the test sends the file events."""

    options = {
        "index": {"embedder": "none", "base": base, "base_poll_s": 0.5},
        "model": {"backend": "retrieval"},
        "completion": {"debounce_ms": 20},
    }
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            workspace_folders=[types.WorkspaceFolder(uri=dev.as_uri(), name="dev")],
            root_uri=dev.as_uri(),
            initialization_options=options,
        )
    )
    docs = {"n": 0}

    async def status() -> dict[str, Any]:
        out = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="tandem.status")
        )
        return out["folders"][0] if out["folders"] else {}

    async def suggest(module: str, function: str, typed: str) -> str:
        docs["n"] += 1
        uri = (dev / f"user_{docs['n']}.py").as_uri()  # an unsaved buffer, never on disk
        text = _user(module, function, typed)
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
        lines = text.splitlines()
        result = await client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=len(lines) - 1, character=len(lines[-1])),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked
                ),
            )
        )
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        return result.items[0].insert_text if result and result.items else ""

    try:
        first = await _wait(lambda: _indexed(status))
        index = first["index"]
        assert index["base"] == base and index["base_commit"] == head(repo)[:12]
        assert (index["delta_files"], index["delta_deleted"]) == (1, 0)
        assert s3.secret not in str(first)

        # base ∪ delta: a definition only in the base, one only in the delta
        assert (
            await suggest("geometry.constants", "light_seconds", "metres / SPEED_OF_L")
            == "IGHT_MPS"
        )
        assert await suggest("geometry.local_only", "draft", "x * DRAFT_FACTOR_L") == "OCAL"

        # An unsaved edit in a base file is layered over both (the open-buffer overlay).
        units = dev / "geometry" / "units.py"
        units_uri = units.as_uri()
        original = units.read_text()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=units_uri, language_id="python", version=1, text=original
                )
            )
        )
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=units_uri, version=2),
                content_changes=[
                    types.TextDocumentContentChangeWholeDocument(original + FURLONG_DEF)
                ],
            )
        )
        assert await suggest("geometry.units", "to_furlongs", "metres / METRES_PER_F") == "URLONG"

        # A deletion: the base still has legacy.py, the working tree no longer does.
        assert (
            await suggest("geometry.legacy", "legacy_sum", "sum(data) % LEGACY_MODULUS_P") == "RIME"
        )
        (dev / "geometry" / "legacy.py").unlink()
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(
                        uri=(dev / "geometry" / "legacy.py").as_uri(),
                        type=types.FileChangeType.Deleted,
                    )
                ]
            )
        )
        await _wait(lambda: _field(status, "delta_deleted", 1))
        assert await suggest("geometry.legacy", "legacy_sum", "sum(data) % LEGACY_MODULUS_P") == ""

        # CI runs again on a newer main; the running editor picks the new base up.
        (repo / "geometry" / "ci_new.py").write_text(CI_NEW)
        (repo / "geometry" / "shapes.py").write_text(
            (repo / "geometry" / "shapes.py").read_text() + "\n\nCI_EDIT = 1\n"
        )
        _commit(repo, "ci_new, shapes")
        rebuilt = tandem(["index", str(repo), "--db", base, "--embedder", "none"], env)
        assert rebuilt.returncode == 0, rebuilt.stderr
        await _wait(lambda: _field(status, "base_commit", head(repo)[:12]))
        now = (await status())["index"]
        # The developer's older shapes.py now differs from the base: it joins the delta (the
        # working tree wins); ci_new.py, not pulled yet, is hidden like a deletion.
        assert now["delta_files"] == 2 and now["delta_deleted"] == 2
        assert await suggest("geometry.ci_new", "ci_helper", "x + CI_ONLY_OFFSET_X") == ""
        # After a pull, the file is the base's again: served from the base, not re-indexed.
        shutil.copy(repo / "geometry" / "ci_new.py", dev / "geometry" / "ci_new.py")
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(
                        uri=(dev / "geometry" / "ci_new.py").as_uri(),
                        type=types.FileChangeType.Created,
                    )
                ]
            )
        )
        await _wait(lambda: _field(status, "delta_deleted", 1))
        assert await suggest("geometry.ci_new", "ci_helper", "x + CI_ONLY_OFFSET_X") == "YZ"
        assert (await status())["index"]["delta_files"] == 2
    finally:
        await client.shutdown_session()
        await client.stop()


async def _indexed(status: Any) -> dict[str, Any] | None:
    folder = await status()
    return folder if folder.get("full_syncs", 0) >= 1 and "index" in folder else None


async def _field(status: Any, key: str, value: Any) -> bool:
    return bool((await status()).get("index", {}).get(key) == value)


async def test_a_missing_base_bucket_is_shown_once_and_the_server_keeps_working(
    s3: S3Server, repo: Path
) -> None:
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "server", "serve", "--stdio"], server_env=s3.env()
    )
    client = await config.start()
    options = {
        "index": {"embedder": "none", "base": "s3://no-such-bucket/main", "base_poll_s": 0.5},
        "model": {"backend": "retrieval"},
    }
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            workspace_folders=[types.WorkspaceFolder(uri=repo.as_uri(), name="main")],
            initialization_options=options,
        )
    )
    try:

        async def shown() -> list[str]:
            return [m.message for m in client.messages if "no-such-bucket" in m.message]

        messages = await _wait(shown)
        assert "the bucket 'no-such-bucket' does not exist" in messages[0]
        assert s3.secret not in messages[0]
        await asyncio.sleep(2)  # several polls later: still said once
        assert len(await shown()) == 1
        # The server answers: status, and a completion (from the buffer alone).
        out = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="tandem.status")
        )
        assert "no-such-bucket" in out["folders"][0]["error"]
        uri = (repo / "app.py").as_uri()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text="def f():\n    return 1\n"
                )
            )
        )
        result = await client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=4),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked
                ),
            )
        )
        assert result is not None
    finally:
        await client.shutdown_session()
        await client.stop()
