"""A save's few chunks are embedded in numpy, so a language server never imports torch for
them (~250 MB resident for good); the vectors are torch's within float tolerance, and a
bulk job still gets torch's faster batches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
from pathlib import Path
import indexer.sync as sync_mod
from indexer.store import Store
from server.settings import IndexSettings

root = Path(sys.argv[1])
settings = IndexSettings(embedder="minilm")
out = {}
first = sync_mod.sync(root, settings)
out["first"] = [first.embedded, first.pending, "torch" in sys.modules]
(root / "app.py").write_text(
    (root / "app.py").read_text() + "\\n\\ndef shout(words):\\n    return words.upper() + '!'\\n"
)
saved = sync_mod.sync_paths(root, settings, [root / "app.py"])
out["save"] = [saved.embedded, saved.pending, "torch" in sys.modules]
store = Store.open(str(root / ".tandem"))
slug = store.meta()["embedder_slug"]
hashes, vecs = store.read_vectors(slug)
texts = dict(zip(*[store.read("chunks", ["content_hash", "text"]).column(c).to_pylist()
                   for c in ("content_hash", "text")]))
out["stored"] = {h: [texts[h], v.tolist()] for h, v in zip(hashes, vecs) if h in texts}
sync_mod.SMALL_JOB = 0  # a bulk job: torch
(root / "util.py").write_text("def twice(x):\\n    return 2 * x\\n")
bulk = sync_mod.sync_paths(root, settings, [root / "util.py"])
out["bulk"] = [bulk.embedded, bulk.pending, "torch" in sys.modules]
print(json.dumps(out))
"""


def test_a_save_is_embedded_without_torch_and_matches_torch(tmp_path: Path) -> None:
    import torch

    from indexer import bert
    from indexer.embedder import MAX_SEQ_LENGTH, _minilm_path

    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text(
        "import os\n\n\nclass Greeter:\n    def greet(self, name):\n"
        "        return f'hello {name}'\n\n\ndef home():\n    return os.getcwd()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "LANCEDB_LOG": "error"}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root)], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["first"][0] > 0 and out["first"][1:] == [0, False]  # a small workspace: numpy
    assert out["save"][0] >= 1 and out["save"][1:] == [0, False]  # the save: numpy
    assert out["bulk"][0] >= 1 and out["bulk"][1:] == [0, True]  # above SMALL_JOB: torch
    texts = [text for text, _ in out["stored"].values()]
    assert any("def shout" in t for t in texts)
    stored = np.array([v for _, v in out["stored"].values()], dtype=np.float32)
    reference = bert.BertEncoder(_minilm_path(), torch.float32, MAX_SEQ_LENGTH)
    want = reference.encode(reference.token_ids(texts))
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    cosine = (stored * want).sum(1)
    assert cosine.min() >= 0.9999, cosine
