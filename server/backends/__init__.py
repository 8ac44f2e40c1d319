"""Model backends: transformers (local, optional LoRA), OpenAI-compatible HTTP, retrieval-only.

Kept import-light: torch and transformers load only in ``loader`` and
``transformers_backend``, when a model is actually used.
"""

from server.backends.base import Backend, BackendError, Generation, GenerationParams

__all__ = ["Backend", "BackendError", "Generation", "GenerationParams"]
