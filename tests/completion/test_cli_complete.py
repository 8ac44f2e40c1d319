"""``tandem complete`` end to end: the real CLI in a subprocess, on a real index, with the
tiny model built by the test and with SmolLM2."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from completion_support import TANDEM, env


def cursor_in_report(root: Path) -> str:
    """FILE:LINE:COL (1-based) just after ``return sum(item.tot`` in grand_total."""
    lines = (root / "shop/report.py").read_text().split("\n")
    for n, line in enumerate(lines, 1):
        if line.startswith("    return sum(item.total_cents()"):
            return f"{root / 'shop/report.py'}:{n}:{len('    return sum(item.tot') + 1}"
    raise AssertionError("fixture changed")


def tandem(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TANDEM, *args], capture_output=True, text=True, env=env(), timeout=timeout
    )


def complete_json(*args: str) -> dict[str, Any]:
    proc = tandem("complete", *args, "--json")
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def test_tiny_model_completion(indexed_workspace: Path, tiny_model_dir: Path) -> None:
    from server.backends.gguf_models import converter_script

    obj = complete_json(cursor_in_report(indexed_workspace), "--model", str(tiny_model_dir))
    # The model folder is converted for llama.cpp when `make setup` installed both.
    llama_cpp = importlib.util.find_spec("llama_cpp") is not None and converter_script()
    assert obj["backend"] == ("llamacpp" if llama_cpp else "transformers")
    assert obj["error"] is None
    assert obj["completion"].strip()
    assert obj["path"] == "shop/report.py"
    assert {"context_ms", "prompt_tokens", "model_ms", "postprocess_ms"} <= set(obj["timings"])
    assert obj["timings"]["prompt_tokens"] > 0
    assert any(s["path"] == "shop/cart.py" for s in obj["snippets"])


def test_human_output_shows_stages(indexed_workspace: Path) -> None:
    proc = tandem("complete", cursor_in_report(indexed_workspace), "--backend", "retrieval")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "completion:" in out and "al_cents() for item in" in out
    assert "snippets (" in out and "shop/cart.py" in out
    for stage in ("context", "prompt tokens", "model", "post-processing", "total"):
        assert stage in out


def test_as_typed_drops_the_rest_of_the_line(indexed_workspace: Path) -> None:
    obj = complete_json(cursor_in_report(indexed_workspace), "--backend", "retrieval", "--as-typed")
    assert obj["file_has"] == "al_cents() for item in cart.items)"
    # With the rest of the line gone, the completion is the whole rest, brackets balanced.
    # (copied from Cart.total_cents, the only other line that starts the same way)
    assert obj["completion"] == "al_cents() for item in self.items)"


def test_bad_model_falls_back_and_says_why(indexed_workspace: Path, tmp_path: Path) -> None:
    proc = tandem(
        "complete", cursor_in_report(indexed_workspace), "--model", str(tmp_path / "nope")
    )
    assert proc.returncode == 0
    assert "falling back to retrieval" in proc.stderr and "could not load model" in proc.stderr
    assert "al_cents()" in proc.stdout


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("shop/report.py:0:1", "1-based"),
        ("shop/report.py:x:1", "must be numbers"),
        ("shop/report.py", "FILE:LINE:COL"),
        ("shop/report.py:999:1", "past its end"),
        ("shop/missing.py:1:1", "no such file"),
    ],
)
def test_bad_positions_are_user_errors(indexed_workspace: Path, spec: str, message: str) -> None:
    proc = tandem("complete", spec, "--root", str(indexed_workspace), "--backend", "retrieval")
    assert proc.returncode == 2 and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unindexed_workspace_says_how_to_fix(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    proc = tandem("complete", f"{tmp_path / 'a.py'}:1:3", "--root", str(tmp_path))
    assert proc.returncode == 2 and "tandem index" in proc.stderr


@pytest.mark.slow
def test_smollm2_completion(indexed_workspace: Path) -> None:
    """The default: the bundled SmolLM2 on llama.cpp (make setup installs it), as typed:
    with the rest of the line still in the buffer, SmolLM2 re-types exactly that rest,
    which post-processing rightly drops (nothing to add)."""
    obj = complete_json(cursor_in_report(indexed_workspace), "--as-typed")
    assert obj["backend"] == "llamacpp" and obj["error"] is None, obj
    assert obj["notice"] is None
    assert obj["model"] == "smollm2" and obj["template"] == "prefix"
    completion = obj["completion"]
    assert completion.strip() and "\n" not in completion
    # Token healing: the word being typed (`item.tot`) is continued, not ended.
    assert completion[0].isalnum() or completion[0] == "_", completion
