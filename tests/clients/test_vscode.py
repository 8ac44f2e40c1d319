"""Tandem in a real VS Code (code-server), driven by Playwright with Debian's Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from editor_harness import HERE, NODE24_BIN, CodeServer, node24_env

EXPECTED_LINE = "    return math.hypot(dx, dy)"


@pytest.mark.slow
def test_ghost_text_is_shown_accepted_and_saved(
    code_server: CodeServer, workspace: Path, artifacts: Path
) -> None:
    drive = subprocess.run(
        [
            str(NODE24_BIN / "node"),
            str(HERE / "vscode_drive.mjs"),
            "complete",
            f"{code_server.url}/?folder={workspace}",
            "shapes.py",
            str(artifacts),
        ],
        env=node24_env(),
        capture_output=True,
        text=True,
        timeout=240,
        cwd=HERE,
    )
    shutil.copy(code_server.log, artifacts / "code-server.log")
    assert drive.returncode == 0, drive.stderr
    seen = json.loads(drive.stdout.strip().splitlines()[-1])
    assert seen["ok"], f"{seen.get('error')}\n--- driver log:\n{drive.stderr}"

    # The status bar showed the index state once indexing was done.
    assert "chunks" in seen["status"], seen
    assert "retrieval" in seen["statusLabel"], seen
    # Typing `return math.hyp` showed the rest of geometry.py's line as ghost text ...
    assert seen["ghost"].strip() == "ot(dx, dy)", seen
    # ... Tab accepted it, and the saved file has the whole line.
    lines = (workspace / "shapes.py").read_text().splitlines()
    assert lines[-2:] == ["def span(a: Point, b: Point) -> float:", EXPECTED_LINE], lines[-4:]
    # The item's command told the server: the acceptance is counted.
    assert "1 accepted" in seen["afterAccept"].get("label", ""), seen["afterAccept"]
    # A settings change reaches the server: completions off, no ghost text; on, back again.
    assert seen["ghostWhileDisabled"] is None, seen
    assert seen["ghostReenabled"] == "ot(dx, dy)", seen
    changes = [s for s in seen["steps"] if s["name"] == "setting tandem.completion.enabled changed"]
    assert len(changes) == 2, seen["steps"]
    settings = json.loads(code_server.settings.read_text())
    assert settings.get("tandem.completion.enabled", True) is True  # back to the default
    # The status item's menu offers the four actions; Reindex ran and Show Log showed the log.
    actions = ["Reindex", "Forget This File", "Train Adapter", "Show Log"]
    assert len(seen["menu"]) == len(actions), seen["menu"]
    rows = zip(seen["menu"], actions, strict=True)
    assert all(row.startswith(action) for row, action in rows), seen["menu"]
    assert "chunks" in seen["afterReindex"]["text"]
    assert "Settings changed" in seen["log"] and "tandem.lsp" in seen["log"], seen["log"]
    assert "[error]" not in seen["log"], seen["log"]
    assert seen["errors"] == [], seen["errors"]
    # Forget This File (geometry.py, confirmed in the dialog) took its chunks out.
    assert seen["forget"]["after"] < seen["forget"]["before"], seen["forget"]


# Debian's own Python, which has no Tandem (the workspace copy is not the repository, so
# `server` is not importable from the current directory either).
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.mark.slow
@pytest.mark.parametrize("code_server_python", [SYSTEM_PYTHON])
def test_missing_tandem_gives_a_message_with_the_fix(
    code_server: CodeServer, workspace: Path, artifacts: Path
) -> None:
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import server.cli"], cwd=workspace, capture_output=True
    )
    assert probe.returncode != 0, "this test needs a Python without Tandem installed"
    drive = subprocess.run(
        [
            str(NODE24_BIN / "node"),
            str(HERE / "vscode_drive.mjs"),
            "not-installed",
            f"{code_server.url}/?folder={workspace}",
            "shapes.py",
            str(artifacts),
        ],
        env=node24_env(),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=HERE,
    )
    assert drive.returncode == 0, drive.stderr
    seen = json.loads(drive.stdout.strip().splitlines()[-1])
    assert seen["ok"], f"{seen.get('error')}\n--- driver log:\n{drive.stderr}"
    assert "not installed" in seen["status"]
    message = seen["notification"]
    # It names the interpreter, says how to install, and where to point Tandem instead.
    assert SYSTEM_PYTHON in message
    assert "No module named 'server'" in message
    assert f"{SYSTEM_PYTHON} -m pip install" in message
    assert "tandem.pythonPath" in message
