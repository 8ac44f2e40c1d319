"""Post-processing: from a model's raw continuation to ghost text."""

from server.postprocess.multiline import decide_multiline
from server.postprocess.pipeline import postprocess

__all__ = ["decide_multiline", "postprocess"]
