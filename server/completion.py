"""The completion pipeline: cursor → context → prompt → backend → post-processing.

One ``Completer`` per workspace, shared by the language server and ``tandem complete``.
It is cheap to create: the model loads in a background thread, and until it is ready (or
when it cannot load) the retrieval backend answers, with the reason in ``status()``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from indexer.secrets import is_secret_file
from server.backends.base import Backend, Generation, GenerationParams
from server.backends.retrieval_backend import RetrievalBackend
from server.context import Snippet, build_context
from server.postprocess import decide_multiline, postprocess
from server.settings import Settings

if TYPE_CHECKING:
    from indexer.search import Index
    from indexer.types import ParsedFile
    from server.decoding.guide import NameSets
    from server.trainer.background import AdapterWatch

log = logging.getLogger(__name__)

SECRET_FILE = "no completions in secret files (.env, keys, credentials)"


@dataclass(slots=True)
class CompletionRequest:
    path: str  # workspace-relative, POSIX
    text: str  # the whole (unsaved) buffer
    line: int  # 0-based
    col: int  # 0-based, index into the Python str of that line
    language: str | None = None  # default: from the path
    multiline: bool | None = None  # None = decide from the context and settings


@dataclass(slots=True)
class CompletionResult:
    text: str
    snippets: list[Snippet]
    timings: dict[str, float] = field(default_factory=dict)
    backend: str = "retrieval"
    error: str | None = None


def split_at_cursor(text: str, line: int, col: int) -> tuple[str, str]:
    """(prefix, suffix) of ``text`` at a 0-based line and column, clamped into the text."""
    lines = text.splitlines(keepends=True)
    if line < 0:
        return "", text
    if line >= len(lines):
        return text, ""
    offset = sum(len(ln) for ln in lines[:line])
    content = lines[line].rstrip("\r\n")
    offset += max(0, min(col, len(content)))
    return text[:offset], text[offset:]


def _language_for(path: str) -> str | None:
    try:
        from indexer.languages import language_for_path
    except ImportError:
        return "python" if path.endswith(".py") else None
    return language_for_path(path)


@dataclass(slots=True)
class _Model:
    """The model side of the pipeline once loaded: backend, tokenizer and template."""

    backend: Backend
    tokenizer: Any
    template: str
    model_id: str
    adapter: str | None
    load_ms: float
    stamp: tuple[Any, ...] = ()  # the adapter's files when loaded (see adapter_stamp)
    notice: str | None = None  # why another backend than the configured one serves


class Completer:
    """Completes at a cursor in one workspace; thread-safe, one generation at a time."""

    def __init__(
        self,
        root: Path,
        index: Index | Callable[[], Index | None] | None,
        settings: Settings,
        *,
        preload: bool = True,
        on_load_error: Callable[[str], None] | None = None,
    ) -> None:
        self.root = Path(root)
        self._index_source = index
        self._on_load_error = on_load_error  # e.g. the language server's showMessage
        self._user_settings = settings
        self._adapters = _adapter_watch(self.root, settings)
        self._settings = _with_adapter(settings, self._adapters)
        self._retrieval = RetrievalBackend()
        self._state_lock = threading.Lock()
        self._generate_lock = threading.Lock()
        self._model: _Model | None = None
        self._loading: threading.Thread | None = None
        self._load_error: str | None = None
        self._generation = 0  # bumped by reload(): a stale loader's result is dropped
        if preload:
            self._ensure_loading()

    # -- model lifecycle -------------------------------------------------------------

    def _wants_model(self) -> bool:
        return self._settings.model.backend in (*LOCAL_BACKENDS, "openai")

    def _ensure_loading(self) -> None:
        """Start loading the configured model in the background, once."""
        with self._state_lock:
            if not self._wants_model() or self._model or self._loading or self._load_error:
                return
            gen = self._generation
            settings = self._settings
            thread = threading.Thread(
                target=self._load, args=(settings, gen), name="tandem-model-load", daemon=True
            )
            self._loading = thread
        thread.start()

    def _load(self, settings: Settings, gen: int) -> None:
        t0 = time.perf_counter()
        model: _Model | None = None
        error: str | None = None
        try:
            model = _load_model(settings)
            if model is not None:
                model.load_ms = (time.perf_counter() - t0) * 1000
        except Exception as e:  # any failure becomes one message; completion falls back
            error = str(e) or type(e).__name__
            log.warning("model load failed: %s", error)
        with self._state_lock:
            if gen != self._generation:
                return
            self._model = model
            self._load_error = error
            self._loading = None
        if error is not None and self._on_load_error is not None:
            try:
                self._on_load_error(error)
            except Exception:  # reporting must never take the completer down
                log.exception("reporting the model load failure failed")

    def wait_until_loaded(self, timeout: float | None = None) -> bool:
        """Block until the model is loaded (True) or failed / not configured (False)."""
        self._ensure_loading()
        with self._state_lock:
            thread = self._loading
        if thread is not None:
            thread.join(timeout)
        with self._state_lock:
            return self._model is not None

    def reload(self, settings: Settings) -> None:
        """New settings, or the adapter folder's files changed (retrained): drop the model
        if what to load changed; the new one loads in the background."""
        with self._state_lock:  # the same model settings: the watch knows the adapter
            same = settings.model == self._user_settings.model
            watch = self._adapters if same else _adapter_watch(self.root, settings)
        effective = _with_adapter(settings, watch)
        with self._state_lock:
            old, old_sizes = self._settings.model, _context_sizes(self._settings)
            self._user_settings, self._settings, self._adapters = settings, effective, watch
            retrained = (
                self._model is not None
                and effective.model.backend in LOCAL_BACKENDS
                and self._model.stamp != adapter_stamp(effective.model.adapter)
            )
            # llama.cpp's KV caches are sized to the prompt budgets: new budgets, new engines
            resized = effective.model.backend == "llamacpp" and (
                _context_sizes(effective) != old_sizes
            )
            if effective.model != old or retrained or resized or self._load_error:
                self._generation += 1
                self._model = None
                self._loading = None
                self._load_error = None
        self._ensure_loading()

    def refresh_adapter(self) -> bool:
        """Reload when the adapter to use changed: a newer one was trained for this
        workspace, or the one in use was rewritten or deleted. Cheap (a few stats) when
        nothing changed; True when a reload started."""
        with self._state_lock:
            user, watch = self._user_settings, self._adapters
        if watch is None or not watch.poll():
            return False
        self.reload(user)
        return True

    def loaded_backend(self) -> Backend | None:
        """The model backend once loaded (None while loading, on failure, or for
        retrieval): benchmarks use it to reset its KV cache and measure floors."""
        with self._state_lock:
            return self._model.backend if self._model else None

    def status(self) -> dict[str, Any]:
        with self._state_lock:
            ms = self._settings.model
            model = self._model
            if not self._wants_model():
                active, reason = "retrieval", None
            elif model is not None:
                active, reason = model.backend.name, None
            elif self._loading is not None:
                active, reason = "retrieval", f"{ms.backend} model is loading"
            else:
                active, reason = "retrieval", self._load_error
            return {
                "backend": active,
                "configured_backend": ms.backend,
                "model": model.model_id if model else _model_label(self._settings),
                "adapter": model.adapter if model else ms.adapter,
                "template": model.template if model else None,
                "loaded": model is not None,
                "loading": self._loading is not None,
                "load_ms": round(model.load_ms, 1) if model else None,
                "fallback_reason": reason,
                "notice": model.notice if model else None,
            }

    # -- the pipeline ----------------------------------------------------------------

    def _index(self) -> Index | None:
        src = self._index_source
        if src is None:
            return None
        if callable(src) and not hasattr(src, "search"):
            return cast("Callable[[], Index | None]", src)()
        return cast("Index", src)

    def complete(
        self,
        req: CompletionRequest,
        overlay: Mapping[str, ParsedFile] | None = None,
        cancel: threading.Event | None = None,
    ) -> CompletionResult:
        t_start = time.perf_counter()
        if is_secret_file(req.path):
            # Nothing from a credentials file goes into a prompt (see indexer/secrets.py).
            return CompletionResult("", [], backend="none", error=SECRET_FILE)
        settings = self._settings
        cs = settings.completion
        prefix, suffix = split_at_cursor(req.text, req.line, req.col)
        language = req.language or _language_for(req.path)
        multiline = req.multiline
        if multiline is None:
            multiline = {"always": True, "never": False}.get(cs.multiline)
            if multiline is None:
                multiline = decide_multiline(prefix, suffix, language)
        timings: dict[str, float] = {}
        self._ensure_loading()
        with self._state_lock:
            model = self._model
        errors: list[str] = []

        t = time.perf_counter()
        snippets: list[Snippet] = []
        names: NameSets | None = None
        try:
            snippets, names = self._context(req, overlay, model)
        except Exception as e:  # a broken index must not break typing: complete without it
            errors.append(f"context: {e}")
            log.exception("context failed")
        timings["context_ms"] = (time.perf_counter() - t) * 1000

        backend_name = "retrieval"
        gen: Generation | None = None
        if cancel is not None and cancel.is_set():
            errors.append("cancelled")
            gen = Generation(text="", finish_reason="cancelled")
        elif model is not None:
            try:
                gen = self._generate(
                    model, req, prefix, suffix, snippets, names, multiline, cancel, timings
                )
            except Exception as e:  # a model failure must not break typing: fall back
                log.exception("generation failed")
                gen = Generation(text="", error=f"{type(e).__name__}: {e}")
            backend_name = model.backend.name
            if gen.error:
                errors.append(f"{backend_name}: {gen.error}")
                gen = None  # fall back to retrieval below
        if gen is None:
            gen = self._retrieval.propose(prefix, suffix, snippets, multiline)
            backend_name = "retrieval"
            timings.setdefault("prompt_tokens", 0.0)
        timings["model_ms"] = gen.model_ms
        timings["first_token_ms"] = gen.first_token_ms
        timings["reused_tokens"] = float(gen.reused_tokens)
        timings["new_tokens"] = float(gen.new_tokens)
        timings.update(gen.extra)  # e.g. healed_tokens, heal_mismatch

        t = time.perf_counter()
        try:
            text = postprocess(gen.text, prefix, suffix, language, multiline)
        except Exception as e:  # show the raw first line rather than nothing
            log.exception("post-processing failed")
            errors.append(f"postprocess: {e}")
            text = gen.text if multiline else gen.text.split("\n", 1)[0]
        timings["postprocess_ms"] = (time.perf_counter() - t) * 1000
        timings["total_ms"] = (time.perf_counter() - t_start) * 1000
        if not errors and model is None and self._wants_model():
            status = self.status()
            if status["fallback_reason"]:
                errors.append(str(status["fallback_reason"]))
        return CompletionResult(
            text=text,
            snippets=snippets,
            timings={k: round(v, 3) for k, v in timings.items()},
            backend=backend_name,
            error="; ".join(errors) or None,
        )

    def prefill(
        self,
        req: CompletionRequest,
        overlay: Mapping[str, ParsedFile] | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Read the stable part of the prompt for ``req`` (everything before the cursor's
        line) into the model's KV cache, at low priority: it gives way as soon as ``stop``
        is set or a completion holds the model. Returns the prompt tokens the cache holds
        (0 when nothing was done: no model, no support, busy, or a secret file)."""
        if is_secret_file(req.path):
            return 0
        with self._state_lock:
            model = self._model
        warm = getattr(model.backend, "prefill_stable", None) if model else None
        if model is None or warm is None:
            return 0
        stop = stop or threading.Event()
        if not self._generate_lock.acquire(blocking=False):
            return 0  # a completion is running: it reads the prompt itself
        try:
            snippets, _ = self._context(req, overlay, model)
            if stop.is_set():
                return 0
            prefix, suffix = split_at_cursor(req.text, req.line, req.col)
            prompt = self._build_prompt(model, req, prefix, suffix, snippets)
            return int(warm(stable_ids(prompt, model.tokenizer), stop))
        finally:
            self._generate_lock.release()

    def _build_prompt(
        self,
        model: _Model,
        req: CompletionRequest,
        prefix: str,
        suffix: str,
        snippets: list[Snippet],
        names: NameSets | None = None,
    ) -> Any:
        from server.prompt import budgets_from_settings, build_prompt

        cs = self._settings.completion
        return build_prompt(
            model.tokenizer,
            model.template,
            prefix,
            suffix,
            snippets,
            budgets_from_settings(self._settings.completion),
            path=req.path,
            repo=self.root.name,
            heal=cs.token_healing,
            names=names if cs.guided_identifiers else None,
        )

    def _generate(
        self,
        model: _Model,
        req: CompletionRequest,
        prefix: str,
        suffix: str,
        snippets: list[Snippet],
        names: NameSets | None,
        multiline: bool,
        cancel: threading.Event | None,
        timings: dict[str, float],
    ) -> Generation:
        cs = self._settings.completion
        t = time.perf_counter()
        prompt = self._build_prompt(model, req, prefix, suffix, snippets, names)
        timings["prompt_ms"] = (time.perf_counter() - t) * 1000
        timings["prompt_tokens"] = float(prompt.total_tokens)
        params = GenerationParams(max_tokens=cs.max_tokens, multiline=multiline, stop=prompt.stop)
        with self._generate_lock:
            return model.backend.generate(prompt, params, cancel)

    def _context(
        self, req: CompletionRequest, overlay: Mapping[str, ParsedFile] | None, model: _Model | None
    ) -> tuple[list[Snippet], NameSets | None]:
        """The snippets for the prompt, and the names that exist at the cursor (for
        guided decoding, when a model with logits will use them)."""
        index = self._index()
        cs = self._settings.completion
        if index is None or cs.snippets <= 0:
            return [], None
        count_tokens = _token_counter(model.tokenizer) if model else None
        result = build_context(
            index,
            req.path,
            req.text,
            req.line,
            req.col,
            overlay=overlay,
            k=cs.snippets,
            budget_tokens=cs.snippet_tokens,
            count_tokens=count_tokens,
            names=cs.guided_identifiers and model is not None,
        )
        return list(result.snippets), result.names


def stable_ids(prompt: Any, tokenizer: Any) -> list[int]:
    """The prompt's ids up to the start of the cursor's line: snippets, the file's header
    and the lines above, which stay the same while the user types on that line."""
    prefix: str = prompt.prefix
    line_start = prefix.rfind("\n") + 1
    tail = prefix[line_start:] + getattr(prompt, "heal", "")
    after = len(tokenizer.encode(tail, add_special_tokens=False)) if tail else 0
    # After the prefix: the suffix and the template's closing tokens.
    after += prompt.counts.get("suffix", 0) + _closing_tokens(prompt, tokenizer)
    return list(prompt.ids[: max(0, len(prompt.ids) - after - 1)])


def _closing_tokens(prompt: Any, tokenizer: Any) -> int:
    from server.prompt import resolve_template

    tpl = resolve_template(prompt.template, tokenizer)
    if not tpl.fim:
        return 0
    return sum(
        len(tokenizer.encode(t, add_special_tokens=False)) for t in (tpl.fim_suffix, tpl.fim_middle)
    )


def _token_counter(tokenizer: Any) -> Callable[[str], int] | None:
    if tokenizer is None:
        return None

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    return count


def _model_label(settings: Settings) -> str:
    ms = settings.model
    if ms.backend == "openai":
        return ms.openai_model or "(openai: no model configured)"
    return ms.model


def _load_model(settings: Settings) -> _Model | None:
    """Load the configured backend; raises with a message saying what was tried and how
    to fix it."""
    ms = settings.model
    if ms.backend == "openai":
        from server.backends.openai_backend import OpenAIBackend
        from server.prompt import ApproxTokenizer, template_for_name

        remote = OpenAIBackend.from_settings(ms)
        template = ms.template if ms.template != "auto" else template_for_name(ms.openai_model)
        return _Model(remote, ApproxTokenizer(), template, remote.model, None, 0.0)
    if ms.backend not in LOCAL_BACKENDS:
        return None
    key = _shared_key(settings)
    with _shared_lock:
        key_lock = _key_locks.setdefault(key, threading.Lock())
    with key_lock:  # two workspaces asking for the same model load it once
        shared = _shared.get(key)
        if shared is not None:
            return dataclasses.replace(shared, load_ms=0.0)
        model = _load_local(settings)
        model.stamp = key[-1]
        with _shared_lock:
            # A retrained adapter or new budgets replace the old copy; keep few in memory.
            for old in [k for k in _shared if k[:-2] == key[:-2] or len(_shared) >= 2]:
                del _shared[old]
            _shared[key] = model
        return model


def _load_local(settings: Settings) -> _Model:
    """llama.cpp when configured and it can serve the model; else transformers, with the
    reason kept as the model's ``notice`` (shown by ``status()`` and logged once)."""
    from server.backends.base import BackendError

    ms = settings.model
    if ms.backend == "llamacpp":
        try:
            return _load_llamacpp(settings)
        except BackendError as e:
            try:
                model = _load_transformers(settings)
            except BackendError as e2:
                raise BackendError(f"{e}; and transformers: {e2}") from e2
            model.notice = f"llama.cpp is not used ({e}); serving with transformers"
            log.warning("%s", model.notice)
            return model
    return _load_transformers(settings)


def _context_sizes(settings: Settings) -> tuple[int, int]:
    """llama.cpp's (engine, reader) contexts for these completion budgets."""
    from server.backends.llamacpp_engine import contexts

    cs = settings.completion
    return contexts(cs.prefix_tokens + cs.suffix_tokens + cs.snippet_tokens, cs.max_tokens)


def _load_llamacpp(settings: Settings) -> _Model:
    from server.backends.llamacpp_backend import load_llamacpp
    from server.prompt import detect_template

    ms = settings.model
    n_ctx, reader_ctx = _context_sizes(settings)
    backend, _ = load_llamacpp(
        ms.model,
        ms.quantization,
        ms.adapter,
        ms.threads or None,
        n_ctx=n_ctx,
        reader=ms.prompt_quantization,
        lora=ms.lora,
        reader_ctx=reader_ctx,
    )
    template = ms.template if ms.template != "auto" else detect_template(backend.tokenizer)
    return _Model(backend, backend.tokenizer, template, ms.model, ms.adapter, 0.0)


def _load_transformers(settings: Settings) -> _Model:
    from server.backends.loader import load_causal_lm
    from server.backends.transformers_backend import TransformersBackend
    from server.prompt import detect_template

    ms = settings.model
    loaded = load_causal_lm(ms.model, ms.adapter, device=ms.device, dtype=ms.dtype)
    template = ms.template if ms.template != "auto" else detect_template(loaded.tokenizer)
    backend = TransformersBackend(loaded)
    backend.warm_up()
    return _Model(backend, loaded.tokenizer, template, loaded.model_id, ms.adapter, 0.0)


LOCAL_BACKENDS = ("llamacpp", "transformers")

# Loaded local models, shared by every workspace's Completer (one copy in memory).
_shared_lock = threading.Lock()
_shared: dict[tuple[Any, ...], _Model] = {}
_key_locks: dict[tuple[Any, ...], threading.Lock] = {}


def with_workspace_adapter(root: Path, settings: Settings) -> Settings:
    """The settings with the adapter completion loads: ``model.adapter`` when set (relative
    to the workspace root unless absolute; ``"none"`` for no adapter), else the newest
    adapter ``tandem train`` wrote for this workspace on the same base model."""
    return _with_adapter(settings, _adapter_watch(root, settings))


def _adapter_watch(root: Path, settings: Settings) -> AdapterWatch | None:
    """Which adapter to load and whether it has changed (None: the backend loads none)."""
    ms = settings.model
    if ms.backend not in LOCAL_BACKENDS:
        return None
    from server.trainer.background import AdapterWatch

    return AdapterWatch(root, ms.adapter, base_model=ms.model)


def _with_adapter(settings: Settings, watch: AdapterWatch | None) -> Settings:
    if watch is None:
        return settings
    adapter = str(watch.folder) if watch.folder else None
    if adapter == settings.model.adapter:
        return settings
    return dataclasses.replace(settings, model=dataclasses.replace(settings.model, adapter=adapter))


def adapter_stamp(adapter: str | None) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and mtimes of an adapter folder's files: changes when it is retrained."""
    if not adapter:
        return ()
    folder = Path(adapter).expanduser()
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError:
        return ()
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def _shared_key(settings: Settings) -> tuple[Any, ...]:
    ms = settings.model
    engine = (ms.backend, ms.quantization, ms.prompt_quantization, ms.lora, ms.threads, ms.dtype)
    sizes = _context_sizes(settings) if ms.backend == "llamacpp" else None
    return (ms.model, ms.adapter, ms.device, ms.template, engine, sizes, adapter_stamp(ms.adapter))
