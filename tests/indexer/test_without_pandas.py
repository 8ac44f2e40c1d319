"""tandem indexes and searches without pandas installed: it is not a runtime dependency
(pyarrow imports it whenever it can, ~33 MB resident in every ``tandem`` process), only a
dev one (its sources are a parse corpus, tests/helpers/corpora.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Imported first by Python (PYTHONPATH): pandas behaves as if it were not installed.
_NO_PANDAS = """
import sys


class _NoPandas:
    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoPandas())
"""


def test_pandas_is_not_a_runtime_dependency() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = [d.split(">")[0].split("=")[0].strip() for d in project["dependencies"]]
    assert "pandas" not in runtime
    assert any(d.startswith("pandas") for d in project["optional-dependencies"]["dev"])


def test_index_and_search_without_pandas(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "shapes.py").write_text(
        "class Circle:\n    def area(self, radius):\n        return 3.14159 * radius * radius\n"
    )
    (ws / "main.py").write_text("from shapes import Circle\n\nprint(Circle().area(2))\n")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_NO_PANDAS)
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{REPO}", "LANCEDB_LOG": "error"}

    def tandem(*args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "server", *args],
            env=env,
            cwd=ws,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout

    tandem("index", str(ws), "--embedder", "none")
    hits = json.loads(tandem("search", "circle area radius", "--root", str(ws), "--json"))
    assert any("shapes.py" in json.dumps(h) for h in hits)
    probe = "import sys\nimport pandas\nprint(sys.modules.get('pandas'))"
    blocked = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True)
    assert blocked.returncode != 0  # the check is real: pandas was not importable
