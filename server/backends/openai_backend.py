"""Any OpenAI-compatible ``/v1/completions`` server (vLLM, llama.cpp server, Ollama).

Plain stdlib HTTP with a timeout on every request: a slow or dead server becomes an error
in the result, never a hang. The API key is read from the environment variable named in
the settings, never from the settings themselves.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from server.backends.base import BackendError, Generation, GenerationParams
from server.decoding.healing import heal_answer
from server.prompt.healing import MAX_CUT_TOKENS

if TYPE_CHECKING:
    from server.prompt import Prompt
    from server.settings import ModelSettings


class OpenAIBackend:
    name = "openai"

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 10.0
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise BackendError(
                f"model.openai_base_url {base_url!r} is not an http(s) URL; "
                "set it to e.g. http://127.0.0.1:8000/v1"
            )
        if not model:
            raise BackendError(
                "model.openai_model is empty: set it to the model name the server serves "
                "(e.g. Qwen/Qwen2.5-Coder-1.5B), or use model.backend = retrieval"
            )
        self.url = base_url.rstrip("/") + "/completions"
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, ms: ModelSettings) -> OpenAIBackend:
        key = os.environ.get(ms.openai_api_key_env) if ms.openai_api_key_env else None
        return cls(ms.openai_base_url, ms.openai_model, key, ms.timeout_s)

    def _body(self, prompt: Prompt, params: GenerationParams) -> dict[str, Any]:
        # A healed prompt's answer re-types the cut first: a newline in it is not the end.
        newline_stops = params.multiline or "\n" in prompt.heal
        stop = ([] if newline_stops else ["\n"]) + list(params.stop)
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt.text,
            "max_tokens": params.max_tokens + (MAX_CUT_TOKENS if prompt.heal else 0),
            "temperature": params.temperature,
            "stream": False,
        }
        if stop:
            body["stop"] = stop[:4]  # the OpenAI API accepts at most four
        return body

    def generate(
        self, prompt: Prompt, params: GenerationParams, cancel: threading.Event | None = None
    ) -> Generation:
        t0 = time.perf_counter()
        gen = Generation(text="", prompt_tokens=len(prompt.ids))
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = json.dumps(self._body(prompt, params)).encode()
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                payload = json.loads(response.read().decode("utf-8"))
            choice = payload["choices"][0]
            gen.text = str(choice.get("text") or "")
            gen.finish_reason = str(choice.get("finish_reason") or "stop")
            usage = payload.get("usage") or {}
            gen.prompt_tokens = int(usage.get("prompt_tokens") or gen.prompt_tokens)
            gen.new_tokens = int(usage.get("completion_tokens") or 0)
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")[:200].strip()
            gen.error = f"{self.url} answered HTTP {e.code} {e.reason}: {detail}"
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            reason = getattr(e, "reason", e)
            gen.error = f"{self.url} unreachable or too slow ({self.timeout_s:g} s): {reason}"
        except (ValueError, KeyError, IndexError, TypeError) as e:
            gen.error = f"{self.url} sent an unexpected answer: {type(e).__name__}: {e}"
        if gen.error:
            gen.finish_reason = "error"
        elif prompt.heal:
            healed = heal_answer(gen.text, prompt.heal, prompt.heal_then_nonspace)
            gen.extra["heal_mismatch"] = float(healed is None)
            gen.text = healed or ""
        if not params.multiline and "\n" in gen.text:
            gen.text = gen.text[: gen.text.index("\n")]
        gen.model_ms = gen.first_token_ms = (time.perf_counter() - t0) * 1000
        if cancel is not None and cancel.is_set():
            gen.finish_reason = "cancelled"
        return gen
