"""Fixtures for the editor tests: a fresh copy of the fixture workspace for each test and
code-server with the built extension installed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from editor_harness import (
    ARTIFACTS,
    CODE_SERVER,
    FIXTURE,
    NODE24_BIN,
    VSIX,
    CodeServer,
    free_port,
    node24_env,
    require,
    stop_group,
    wait_healthy,
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the fixture workspace, with its own index (.tandem/ inside)."""
    root = tmp_path / "workspace"
    shutil.copytree(FIXTURE, root)
    return root


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def code_server_python() -> str:
    """The interpreter `tandem.pythonPath` names; a test may parametrize it."""
    return sys.executable


@pytest.fixture
def code_server(tmp_path: Path, workspace: Path, code_server_python: str) -> Iterator[CodeServer]:
    """code-server on 127.0.0.1 (auth none, a free port) with the built .vsix installed and
    Tandem set to the retrieval backend with this test's Python."""
    require(NODE24_BIN / "node", "Node 24 (for code-server)")
    require(CODE_SERVER, "code-server")
    require(VSIX, "the Tandem .vsix")
    data = tmp_path / "code-server"
    user = data / "data" / "User"
    user.mkdir(parents=True)
    # Settings a test needs to be deterministic: no word-based suggest widget competing for
    # Tab, no welcome page, no trust prompt; Tandem on the model-free backend.
    settings = {
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "workbench.secondarySideBar.defaultVisibility": "hidden",
        "chat.disableAIFeatures": True,
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "update.mode": "none",
        "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
        "editor.suggestOnTriggerCharacters": False,
        "editor.wordBasedSuggestions": "off",
        "editor.inlineSuggest.enabled": True,
        "files.autoSave": "off",
        "tandem.pythonPath": code_server_python,
        "tandem.model.backend": "retrieval",
        "tandem.index.embedder": "none",
    }
    (user / "settings.json").write_text(json.dumps(settings, indent=2))
    config = data / "config.yaml"
    config.write_text("auth: none\ncert: false\n")
    common = [
        str(CODE_SERVER),
        "--config",
        str(config),
        "--user-data-dir",
        str(data / "data"),
        "--extensions-dir",
        str(data / "extensions"),
    ]
    env = node24_env(XDG_CONFIG_HOME=str(data / "xdg"), XDG_DATA_HOME=str(data / "xdg"))
    subprocess.run(
        [*common, "--install-extension", str(VSIX)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    log = tmp_path / "code-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *common,
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--auth",
                "none",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                str(workspace),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log, timeout=60)
        yield CodeServer(url=url, process=process, log=log, settings=user / "settings.json")
    finally:
        stop_group(process)
