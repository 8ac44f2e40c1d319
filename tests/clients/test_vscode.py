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
