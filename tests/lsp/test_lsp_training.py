"""``tandem.train`` from the editor: it answers at once, trains in the background with
``$/progress``, can be cancelled from the progress notification, and completion loads the
new adapter when it is done. The model is the tiny one a test builds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.tiny_model import build_tiny_model
from lsp_support import init_params, status, wait_for, wait_indexed
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

# Each test starts the real server and trains a real (tiny) model: many seconds.
pytestmark = pytest.mark.slow

FAST_TRAINING = {"seq_len": 64, "batch_size": 2, "lr": 2e-2, "holdout_examples": 4}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


async def start(
    client: LanguageClient, workspace: Path, tiny_model: Path, db: Path | None = None
) -> None:
    options = {
        "index": {"embedder": "none", "db": str(db) if db else None},
        "model": {"backend": "transformers", "model": str(tiny_model)},
    }
    await client.initialize_session(init_params(workspace, options=options))
    await wait_indexed(client)


async def train(client: LanguageClient, **options: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tandem.train", arguments=[options])
    )


def training_reports(client: LanguageClient) -> list[Any]:
    (token,) = training_tokens(client)
    return list(client.progress_reports[token])


def training_tokens(client: LanguageClient) -> list[Any]:
    return [t for t in client.progress_reports if str(t).startswith("tandem-train-")]


async def completer(client: LanguageClient, workspace: Path) -> dict[str, Any]:
    return (await status(client))["completer"][workspace.name]


async def test_train_in_the_background_then_completion_uses_the_adapter(
    bare_client: LanguageClient, workspace: Path, tiny_model: Path, tmp_path: Path
) -> None:
    # The index lives outside the workspace (index.db): training reads the server's own.
    await start(bare_client, workspace, tiny_model, db=tmp_path / "elsewhere")
    assert not (workspace / ".tandem" / "chunks.lance").exists()
    await wait_for(lambda: _loaded(completer(bare_client, workspace)), timeout=60)
    assert (await completer(bare_client, workspace))["adapter"] is None

    result = await train(bare_client, max_steps=4, **FAST_TRAINING)
    assert result == {"started": True, "folder": str(workspace), "model": str(tiny_model)}

    await wait_for(lambda: _ended(bare_client), timeout=120)
    reports = training_reports(bare_client)
    assert reports[0].kind == "begin" and reports[0].cancellable
    assert any(r.kind == "report" and "step 4/4" in (r.message or "") for r in reports)
    assert reports[-1].message.startswith("adapter saved to ")
    (adapter,) = (workspace / ".tandem" / "adapters").iterdir()
    assert (adapter / "manifest.json").is_file()
    assert any("adapter saved" in m.message for m in bare_client.messages)

    # Completion switches to the new adapter by itself.
    async def uses_adapter() -> bool:
        state = await completer(bare_client, workspace)
        return bool(state["adapter"] == str(adapter) and state["loaded"])

    await wait_for(uses_adapter, timeout=60)
    assert (await status(bare_client))["training"]["running"] is False


async def test_a_run_can_be_cancelled_and_only_one_runs_at_a_time(
    bare_client: LanguageClient, workspace: Path, tiny_model: Path
) -> None:
    await start(bare_client, workspace, tiny_model)
    assert (await train(bare_client, max_steps=100_000, **FAST_TRAINING))["started"]

    def training_steps() -> bool:
        reports = training_reports(bare_client)
        return any(r.kind == "report" and "step" in (r.message or "") for r in reports)

    await wait_for(training_steps, timeout=120)
    with pytest.raises(JsonRpcException, match="already in progress"):
        await train(bare_client, max_steps=4)
    assert (await status(bare_client))["training"]["running"] is True

    (token,) = training_tokens(bare_client)
    bare_client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    await wait_for(lambda: _ended(bare_client), timeout=60)
    assert "cancelled" in training_reports(bare_client)[-1].message
    state = (await status(bare_client))["training"]
    assert state["running"] is False and "cancelled" in state["outcome"]
    # Nothing half-made is offered to completion.
    assert not list((workspace / ".tandem" / "adapters").glob("*/manifest.json"))


async def _loaded(state: Any) -> bool:
    return bool((await state)["loaded"])


def _ended(client: LanguageClient) -> bool:
    return bool(training_tokens(client)) and training_reports(client)[-1].kind == "end"
