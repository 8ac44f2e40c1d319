"""The view loads files in path order: the index lists its paths as a set, whose order
follows each process's string hashing, and a name defined in two files (Go build tags)
must come back in the same order in every process, or ties between equal scores fall
differently from one run of the same eval to the next."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_scope import index_files

FILES = {
    "go.mod": "module example.com/m\n\ngo 1.22\n",
    **{
        f"{stem}.go": f"//go:build {stem}\n\npackage m\n\n// Mode is the mode.\nconst Mode = 1\n"
        for stem in ("zeta", "alpha", "mike", "kilo", "bravo", "yankee", "delta", "oscar")
    },
}

PROBE = """
import json, sys
from indexer.search import open_index
from server.context.builder import view_for
view = view_for(open_index(sys.argv[1]))
print(json.dumps([p for p, _ in view.by_name["Mode"]]))
"""


def test_a_name_defined_in_several_files_comes_back_in_path_order(tmp_path: Path) -> None:
    index_files(tmp_path, FILES)
    seen = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "LANCEDB_LOG": "error"}
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(tmp_path)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        seen.append(json.loads(out.stdout.strip().splitlines()[-1]))
    assert seen[0] == sorted(seen[0]) and len(seen[0]) == 8, seen
    assert seen[0] == seen[1], seen
