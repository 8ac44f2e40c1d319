"""Any OpenAI-compatible ``/v1/completions`` server (vLLM, llama.cpp server, Ollama).

The answer streams (server-sent events) over a kept-alive connection: a cancelled request
(the user typed on) closes its stream at once, so the server stops generating, and the next
keystroke's request skips the TCP/TLS handshake. Every failure (server down, HTTP error,
bad JSON, a stream cut mid-way, too slow) becomes a one-line error in the result, never an
exception or a hang. The API key is read from the environment variable named in the
settings, never from the settings themselves.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from server.backends.base import BackendError, Generation, GenerationParams
from server.backends.http_stream import (
    Cancelled,
    ConnectionPool,
    StreamError,
    error_detail,
    sse_data,
)
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
        try:
            self.pool = ConnectionPool(self.url, timeout_s)
        except ValueError as e:
            raise BackendError(f"model.openai_base_url {base_url!r}: {e}") from e

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
            "stream": True,
        }
        if stop:
            body["stop"] = stop[:4]  # the OpenAI API accepts at most four
        return body

    def generate(
        self, prompt: Prompt, params: GenerationParams, cancel: threading.Event | None = None
    ) -> Generation:
        t0 = time.perf_counter()
        gen = Generation(text="", prompt_tokens=len(prompt.ids))
        headers = {"Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            with self.pool.post(self._body(prompt, params), headers, cancel) as response:
                self._read(response, gen, t0, cancel)
        except Cancelled:
            pass
        except StreamError as e:
            if not _is_set(cancel):
                gen.error = f"{self.url}: {e}"
        if _is_set(cancel):
            gen.finish_reason = "cancelled"
            gen.error = None
        elif gen.error:
            gen.finish_reason = "error"
            gen.text = ""  # a cut answer is not shown: retrieval answers instead
        elif prompt.heal:
            healed = heal_answer(gen.text, prompt.heal, prompt.heal_then_nonspace)
            gen.extra["heal_mismatch"] = float(healed is None)
            gen.text = healed or ""
        if not params.multiline and "\n" in gen.text:
            gen.text = gen.text[: gen.text.index("\n")]
        gen.model_ms = (time.perf_counter() - t0) * 1000
        if not gen.first_token_ms:
            gen.first_token_ms = gen.model_ms
        return gen

    def _read(
        self,
        response: http.client.HTTPResponse,
        gen: Generation,
        t0: float,
        cancel: threading.Event | None,
    ) -> None:
        """Fill ``gen`` from the answer; raise ``StreamError`` on any failure."""
        if response.status != 200:
            detail = error_detail(response)
            raise StreamError(f"answered HTTP {response.status} {response.reason}: {detail}")
        parts: list[str] = []
        try:
            if "text/event-stream" not in (response.getheader("Content-Type") or ""):
                _take_payload(gen, json.loads(response.read()), parts)  # a server that won't stream
            else:
                ended = False
                for data in sse_data(response):
                    if data.strip() == "[DONE]":
                        ended = True  # read on to the end of the body: the connection is reused
                        continue
                    if _take_payload(gen, json.loads(data), parts) and not gen.first_token_ms:
                        gen.first_token_ms = (time.perf_counter() - t0) * 1000
                    if _is_set(cancel):
                        return
                    if time.perf_counter() - t0 > self.timeout_s:
                        raise StreamError(f"too slow: still generating after {self.timeout_s:g} s")
                if not ended and not _is_set(cancel):
                    raise StreamError(f"the stream was cut after {len(parts)} tokens")
        except TimeoutError as e:
            raise StreamError(
                f"no data for {self.timeout_s:g} s (after {len(parts)} tokens)"
            ) from e
        except (OSError, http.client.HTTPException) as e:
            if _is_set(cancel):
                return
            raise StreamError(
                f"the stream was cut after {len(parts)} tokens ({type(e).__name__})"
            ) from e
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
            raise StreamError(f"sent an unexpected answer: {type(e).__name__}: {e}") from e
        finally:
            gen.text = "".join(parts)
            gen.new_tokens = gen.new_tokens or len(parts)


def _is_set(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()


def _take_payload(gen: Generation, payload: dict[str, Any], parts: list[str]) -> bool:
    """One answer object (a whole answer, or one streamed chunk): its text goes into
    ``parts``; its finish reason and usage into ``gen``. Returns True if it carried text."""
    if payload.get("error"):
        err = payload["error"]
        message = err.get("message") if isinstance(err, dict) else err
        raise StreamError(f"the server reported an error: {str(message)[:200]}")
    usage = payload.get("usage") or {}
    if usage:
        gen.prompt_tokens = int(usage.get("prompt_tokens") or gen.prompt_tokens)
        gen.new_tokens = int(usage.get("completion_tokens") or gen.new_tokens)
    choices = payload["choices"]
    if not choices:  # a usage-only chunk
        return False
    choice = choices[0]
    text = str(choice.get("text") or "")
    if text:
        parts.append(text)
    if choice.get("finish_reason"):
        gen.finish_reason = str(choice["finish_reason"])
    return bool(text)
