"""The llama.cpp backend on the bundled SmolLM2 (and a converted model folder): it agrees
with transformers, reuses its KV cache, cancels between tokens, serves a converted LoRA
adapter the way peft does, and a missing or corrupt model file gives a clear message and
the retrieval fallback."""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from server.backends.base import BackendError, GenerationParams
from server.prompt import Budgets, build_prompt

PROMPTS = (
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return ",
    "import os\n\n\ndef read_lines(path):\n    with open(path) as f:\n        return ",
    "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = ",
    "numbers = [1, 2, 3, 4]\nsquares = [n * n for n in ",
)
TEXT = (
    "def merge_sorted(a, b):\n"
    '    """Merge two sorted lists into one sorted list."""\n'
    "    out = []\n"
    "    i = j = 0\n"
    "    while i < len(a) and j < len(b):\n"
    "        if a[i] <= b[j]:\n"
    "            out.append(a[i])\n"
    "            i += 1\n"
    "        else:\n"
    "            out.append(b[j])\n"
    "            j += 1\n"
    "    out.extend(a[i:])\n"
    "    out.extend(b[j:])\n"
    "    return out\n"
)


@pytest.fixture(scope="module")
def llama() -> Any:
    from server.backends.llamacpp_backend import load_llamacpp

    backend, _ = load_llamacpp("smollm2", "q8_0", None)
    return backend


@pytest.fixture(scope="module")
def hf() -> Any:
    from server.backends.loader import load_causal_lm
    from server.backends.transformers_backend import TransformersBackend

    return TransformersBackend(load_causal_lm("smollm2", device="cpu"))


def prompt(tokenizer: Any, prefix: str) -> Any:
    return build_prompt(tokenizer, "prefix", prefix, "", [], Budgets(), path="example.py")


def bits(rows: Any, ids: list[int]) -> float:
    """Bits per token of ``ids[1:]`` from the logits at the positions before each."""
    total = 0.0
    for z, token in zip(rows, ids[1:], strict=False):
        z = np.asarray(z, dtype=np.float64)
        log_z = z.max() + math.log(np.exp(z - z.max()).sum())
        total += (log_z - z[token]) / math.log(2)
    return total / (len(ids) - 1)


def bits_after(engine: Any, ids: list[int], follows: list[int]) -> float:
    """Bits per token of ``follows`` after ``engine`` read ``ids`` (from a cold cache)."""
    engine.reset()
    logits, _ = engine.prefill(ids)
    rows = [logits]
    for token in follows[:-1]:
        rows.append(engine.step(token))
    engine.reset()
    return bits(rows, [ids[-1], *follows])


def bits_per_token(engine: Any, ids: list[int]) -> float:
    """Through the TokenEngine protocol, one step at a time (llama.cpp keeps only the last
    position's logits)."""
    engine.reset()
    logits, _ = engine.prefill(ids[:1])
    rows = [logits]
    for token in ids[1:-1]:
        rows.append(engine.step(token))
    engine.reset()
    return bits(rows, ids)


def hf_bits_per_token(model: Any, ids: list[int]) -> float:
    """One forward pass over the whole text (transformers returns every position)."""
    import torch

    with torch.inference_mode():
        rows = model(torch.tensor([ids])).logits[0, :-1].float().numpy()
    return bits(rows, ids)


def test_the_gguf_vocabulary_is_the_tokenizers(llama: Any) -> None:
    tokenizer = llama.tokenizer
    assert llama.engine.n_vocab >= len(tokenizer)
    llama.engine.check_vocab(tokenizer, sample=4096)  # raises on any difference


def test_greedy_outputs_agree_with_transformers(llama: Any, hf: Any) -> None:
    params = GenerationParams(max_tokens=8, multiline=True)
    same = 0
    for text in PROMPTS:
        p = prompt(llama.tokenizer, text)
        a = llama.generate(p, params)
        b = hf.generate(p, params)
        assert a.error is None and b.error is None
        assert a.new_tokens > 0
        same += a.text == b.text
    assert same >= len(PROMPTS) - 1, "Q8_0 may change at most one near-tie"


def test_bits_per_token_within_two_percent_of_transformers(llama: Any, hf: Any) -> None:
    ids = llama.tokenizer.encode(TEXT, add_special_tokens=False)
    ours = bits_per_token(llama.engine, ids)
    theirs = hf_bits_per_token(hf.engine.model, ids)
    assert abs(ours - theirs) / theirs <= 0.02, (ours, theirs)


def test_typing_forward_reads_only_the_new_tokens(llama: Any) -> None:
    params = GenerationParams(max_tokens=4)
    body = "".join(f"def step_{i}(x):\n    return x + {i}\n\n" for i in range(20))
    llama.reset_cache()
    first = llama.generate(prompt(llama.tokenizer, body + "def step_"), params)
    assert first.reused_tokens == 0
    fed = llama.tokens_fed
    second_prompt = prompt(llama.tokenizer, body + "def step_20(x):\n    return")
    second = llama.generate(second_prompt, params)
    assert second.reused_tokens >= first.prompt_tokens - 3
    assert llama.tokens_fed - fed < second.prompt_tokens - second.reused_tokens + 8
    llama.reset_cache()
    cold = llama.generate(second_prompt, params)
    assert cold.text == second.text and cold.reused_tokens == 0


class SetAfterChecks(threading.Event):
    """A cancel Event that reports itself set from its ``n``-th check on: stands in for
    the editor cancelling while tokens are being generated."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.checks = 0

    def is_set(self) -> bool:
        self.checks += 1
        return self.checks >= self.n or super().is_set()


def test_cancel_stops_between_tokens(llama: Any) -> None:
    p = prompt(llama.tokenizer, PROMPTS[0])
    params = GenerationParams(max_tokens=40, multiline=True)
    llama.reset_cache()
    before = llama.tokens_fed
    early = threading.Event()
    early.set()
    g = llama.generate(p, params, early)
    assert g.finish_reason == "cancelled" and g.new_tokens == 0
    assert llama.tokens_fed == before  # never reached the model
    g = llama.generate(p, params, SetAfterChecks(4))
    assert g.finish_reason == "cancelled" and 1 <= g.new_tokens <= 4


def test_background_prefill_gives_way_and_is_reused(llama: Any) -> None:
    body = "".join(f"def step_{i}(x):\n    return x + {i}\n\n" for i in range(30))
    ids = prompt(llama.tokenizer, body).ids
    llama.reset_cache()
    stop = threading.Event()
    stop.set()
    assert llama.prefill_stable(ids, stop) == 0  # asked to give way: reads nothing
    held = llama.prefill_stable(ids, threading.Event())
    assert held == len(ids)
    g = llama.generate(prompt(llama.tokenizer, body + "def step_30"), GenerationParams(4))
    assert g.reused_tokens >= len(ids) - 3


def peft_adapter(folder: Path, hf: Any) -> tuple[list[int], np.ndarray]:
    """A small random peft LoRA adapter saved in ``folder``; returns the test text's ids and
    how the adapter changes the last position's logits in transformers."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    config = LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", init_lora_weights=False)
    peft_model = get_peft_model(hf.engine.model, config)
    with torch.no_grad():  # a small, real change: lora_B scaled down from its random init
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.mul_(0.25)
    peft_model.save_pretrained(str(folder))
    ids = hf.tokenizer.encode(TEXT, add_special_tokens=False)
    with torch.inference_mode():
        tuned = peft_model(torch.tensor([ids])).logits[0, -1].float().numpy()
        with peft_model.disable_adapter():
            base = peft_model(torch.tensor([ids])).logits[0, -1].float().numpy()
    peft_model.unload()  # the shared model back as it was
    delta = tuned - base
    assert np.abs(delta).max() > 1.0  # the adapter changes the output
    return ids, delta


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_a_peft_adapter_changes_llamacpp_as_it_changes_transformers(
    tmp_path: Path, hf: Any
) -> None:
    """On BF16 weights, so that the comparison sees the conversion and not Q8_0's
    rounding of the activations (which moves a small adapter's effect by tens of %)."""
    ids, delta = peft_adapter(tmp_path / "adapter", hf)

    from server.backends.llamacpp_backend import load_llamacpp
    from server.backends.lora_gguf import lora_gguf

    llama, _ = load_llamacpp("smollm2", "bf16", None)
    engine = llama.engine
    try:
        base_cpp, _ = engine.prefill(ids)
        engine.set_lora(lora_gguf(tmp_path / "adapter", engine.path))
        tuned_cpp, _ = engine.prefill(ids)
        engine.set_lora(None)
        after, _ = engine.prefill(ids)
    finally:
        engine.close()
    assert cosine(delta, tuned_cpp - base_cpp) > 0.97  # llama.cpp changes it the same way
    assert np.allclose(after, base_cpp, atol=1e-3)  # and it is gone once removed


def test_a_merged_adapter_changes_llamacpp_as_peft_does(
    tmp_path: Path, hf: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The adapter merged into a BF16 copy of the weights (``model.lora = merge``)."""
    ids, delta = peft_adapter(tmp_path / "adapter", hf)

    from server.backends.llamacpp_backend import load_llamacpp

    base, _ = load_llamacpp("smollm2", "bf16", None)
    try:
        base_cpp, _ = base.engine.prefill(ids)
    finally:
        base.engine.close()
    import server.backends.lora_merge as lora_merge

    monkeypatch.setattr(lora_merge, "cache_root", lambda: tmp_path)  # merged here, not reused
    merged, _ = load_llamacpp("smollm2", "bf16", str(tmp_path / "adapter"), lora="merge")
    try:
        assert merged.engine.lora_path is None  # nothing hot-loaded: it is in the weights
        assert "merged" in merged.engine.path.parts
        tuned_cpp, _ = merged.engine.prefill(ids)
    finally:
        merged.engine.close()
    assert cosine(delta, tuned_cpp - base_cpp) > 0.97


def test_a_hugging_face_folder_is_converted_and_agrees_with_transformers(
    tiny_model_dir: Path,
) -> None:
    """A local model folder becomes a GGUF through llama.cpp's own converter (installed by
    ``make setup`` from the same release's source) and then decodes as transformers does."""
    from server.backends.gguf_models import converter_script
    from server.backends.llamacpp_backend import load_llamacpp
    from server.backends.loader import load_causal_lm
    from server.backends.transformers_backend import TransformersBackend

    assert converter_script() is not None, "make setup installs llama.cpp's converter"
    llama, _ = load_llamacpp(str(tiny_model_dir), "f32", None)
    hf = TransformersBackend(load_causal_lm(str(tiny_model_dir), device="cpu"))
    try:
        for prefix in PROMPTS[:2]:
            want = hf.generate(prompt(hf.tokenizer, prefix), GenerationParams(max_tokens=8))
            got = llama.generate(prompt(llama.tokenizer, prefix), GenerationParams(max_tokens=8))
            assert got.error is None and got.text and got.text == want.text
    finally:
        llama.engine.close()


def test_a_corrupt_or_missing_gguf_gives_a_clear_error(tmp_path: Path) -> None:
    from server.backends.llamacpp_backend import load_llamacpp

    missing = tmp_path / "missing.gguf"
    with pytest.raises(BackendError, match="does not exist"):
        load_llamacpp(str(missing), "source", None)
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"not a model at all" * 100)
    with pytest.raises(BackendError, match="not a GGUF file"):
        load_llamacpp(str(garbage), "source", None)


def test_a_missing_model_falls_back_to_retrieval_with_the_reason(
    indexed_workspace: Path,
) -> None:
    from test_completer import request_in_report

    from server.completion import Completer
    from server.settings import Settings

    settings = Settings()
    settings.model.backend = "llamacpp"
    settings.model.model = str(indexed_workspace / "models" / "gone.gguf")
    completer = Completer(indexed_workspace, None, settings)
    assert not completer.wait_until_loaded(60)
    reason = completer.status()["fallback_reason"]
    assert "gone.gguf does not exist" in reason
    r = completer.complete(request_in_report(indexed_workspace))
    assert r.backend == "retrieval" and r.error is not None and "gone.gguf" in r.error


def test_transformers_in_bf16_keeps_bits_per_token_within_one_percent(hf: Any) -> None:
    from server.backends.loader import load_causal_lm

    bf16 = load_causal_lm("smollm2", device="cpu", dtype="bfloat16")
    assert next(bf16.model.parameters()).dtype.is_floating_point
    assert str(next(bf16.model.parameters()).dtype) == "torch.bfloat16"
    ids = hf.tokenizer.encode(TEXT, add_special_tokens=False)
    fp32_bits = hf_bits_per_token(hf.engine.model, ids)
    bf16_bits = hf_bits_per_token(bf16.model, ids)
    assert abs(bf16_bits - fp32_bits) / fp32_bits <= 0.01, (bf16_bits, fp32_bits)


def test_the_completer_prefills_the_stable_prompt_for_the_next_request(
    indexed_workspace: Path,
) -> None:
    """What the language server does when an edit settles: the lines above the cursor
    go into the KV cache, and the request typed next reads only the last tokens."""
    from test_completer import request_in_report

    from indexer.search import open_index
    from server.completion import Completer, CompletionRequest
    from server.settings import Settings

    settings = Settings()
    settings.model.backend = "llamacpp"
    completer = Completer(indexed_workspace, open_index(indexed_workspace), settings)
    assert completer.wait_until_loaded(120)
    backend: Any = completer.loaded_backend()
    backend.reset_cache()
    req = request_in_report(indexed_workspace)
    held = completer.prefill(req, None, threading.Event())
    assert held > 50
    fed_before = backend.tokens_fed
    typed = req.text.split("\n")
    typed[req.line] += "a"
    r = completer.complete(
        CompletionRequest(req.path, "\n".join(typed), req.line, req.col + 1, multiline=False)
    )
    assert r.backend == "llamacpp" and r.error is None
    assert r.timings["reused_tokens"] >= held - 2
    assert backend.tokens_fed - fed_before < r.timings["prompt_tokens"] - held + 64


def test_a_damaged_cached_gguf_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.backends.gguf_models import served_gguf
    from server.backends.llamacpp_backend import load_llamacpp

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cached = served_gguf("smollm2", "q4_0")
    size = cached.stat().st_size
    with cached.open("r+b") as f:  # a write that was cut short
        f.truncate(size // 3)
    backend, _ = load_llamacpp("smollm2", "q4_0", None)
    try:
        assert backend.engine.path == cached and cached.stat().st_size == size
    finally:
        backend.engine.close()


def test_a_bf16_prompt_reader_hands_its_cache_to_the_q8_0_decoder(llama: Any) -> None:
    """The BF16 copy reads a long prompt, its KV cache is copied into the Q8_0 engine, and
    decoding continues from it: the text that follows costs the same bits per token (within
    2 %) as after Q8_0 read the prompt itself — greedy texts may part at a near-tie, as
    quantizations do — and typing forward reuses the copied cache."""
    from server.backends.llamacpp_backend import load_llamacpp
    from server.backends.llamacpp_engine import READER_MIN_TOKENS

    body = "".join(f"def step_{i}(x):\n    return x + {i}\n\n" for i in range(20)) + TEXT
    params = GenerationParams(max_tokens=12, multiline=True)
    reading, _ = load_llamacpp("smollm2", "q8_0", None, reader="bf16")
    try:
        reader = reading.engine.reader
        assert reader is not None and reader.path.name.endswith("-bf16.gguf")
        p = prompt(reading.tokenizer, body + "def step_20(x):\n    return ")
        assert len(p.ids) > READER_MIN_TOKENS
        follows = reading.tokenizer.encode("x + 20\n\n" + TEXT, add_special_tokens=False)[:48]
        fed = reader.tokens_fed
        after_read = bits_after(reading.engine, p.ids, follows)
        assert reader.tokens_fed - fed >= len(p.ids) - 1  # the reader read the prompt ...
        after_alone = bits_after(llama.engine, p.ids, follows)
        # ... and the Q8_0 engine decoded on from its cache as if it had read it (a lost or
        # misplaced cache costs several bits per token)
        assert abs(after_read - after_alone) <= 0.02 * after_alone, (after_read, after_alone)
        read = reading.generate(p, params)
        assert read.error is None and read.new_tokens > 0 and read.text.strip()
        fed = reading.tokens_fed
        typed = reading.generate(
            prompt(reading.tokenizer, body + "def step_20(x):\n    ret"), params
        )
        assert typed.error is None and typed.reused_tokens >= len(p.ids) - 4
        assert reading.tokens_fed - fed < READER_MIN_TOKENS  # a few new tokens, read by Q8_0
    finally:
        reading.engine.close()


def test_a_prompt_longer_than_the_readers_context_is_read_by_the_decoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reader keeps a smaller KV cache than the engine (it never holds an answer): a
    prompt that fits it is read by it, a longer one by the Q8_0 engine itself, and both
    give an answer."""
    from server.backends import llamacpp_engine
    from server.backends.llamacpp_backend import load_llamacpp

    monkeypatch.setattr(llamacpp_engine, "READER_CONTEXT", 256)
    reading, _ = load_llamacpp("smollm2", "q8_0", None, reader="bf16", n_ctx=1024)
    try:
        reader = reading.engine.reader
        assert reader is not None and reader.max_context == 256
        assert reading.engine.max_context == 1024
        params = GenerationParams(max_tokens=6)
        short = prompt(reading.tokenizer, "".join(f"x{i} = {i}\n" for i in range(30)) + "x30 =")
        long = prompt(reading.tokenizer, "".join(f"y{i} = {i}\n" for i in range(90)) + "y90 =")
        assert llamacpp_engine.READER_MIN_TOKENS <= len(short.ids) <= 256 < len(long.ids)
        for p, by_reader in ((short, True), (long, False)):
            reading.reset_cache()
            fed = reader.tokens_fed
            out = reading.generate(p, params)
            assert out.error is None and out.new_tokens > 0
            assert (reader.tokens_fed - fed >= len(p.ids) - 1) == by_reader
    finally:
        reading.engine.close()


def test_the_weights_are_on_huge_pages_where_the_kernel_allows(llama: Any) -> None:
    """Decoding reads every weight per token: on 2 MB pages it spends ~20 % less CPU."""
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if not thp.is_file() or "[never]" in thp.read_text():
        pytest.skip("this kernel has no transparent huge pages")
    from server.backends.hugepages import process_huge_bytes

    assert llama.engine.huge_pages.error == ""
    assert process_huge_bytes() >= llama.engine.path.stat().st_size


def test_a_loop_inside_the_line_stops_the_generation_with_the_same_answer(
    llama: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a segment is written three times, post-processing drops it and all that follows:
    the decoding loop stops there instead of spending every allowed token, and the answer
    the user sees is the one the full generation gives."""
    from server.decoding import loop
    from server.postprocess import postprocess

    text = "result = self.get(self.get("
    p = prompt(llama.tokenizer, text)
    params = GenerationParams(max_tokens=48, multiline=False)
    stopped = llama.generate(p, params)
    monkeypatch.setattr(loop, "LOOP_CHECK_EVERY", 10**9)
    full = llama.generate(p, params)
    assert full.finish_reason == "length" and full.new_tokens == 48
    assert stopped.finish_reason == "loop" and stopped.new_tokens <= 24
    answer = postprocess(stopped.text, text, "", "python", multiline=False)
    assert answer == postprocess(full.text, text, "", "python", multiline=False)


def test_the_engines_contexts_follow_the_prompt_budgets(tmp_path: Path) -> None:
    """Each KV position is resident memory: the served engine holds the budgets' prompt
    plus the answer, the reader only the prompt (the default budgets' 864 tokens + slack:
    1,280 positions each, not 4,096 and 2,048 as before); larger budgets set while the
    server runs load engines that hold them."""
    import dataclasses

    from server.backends.llamacpp_backend import LlamaCppBackend, prompt_reader_quantization
    from server.backends.llamacpp_engine import contexts
    from server.completion import Completer
    from server.settings import Settings

    assert contexts(864, 48) == (1280, 1280)
    assert contexts(4000, 200) == (4608, 2048)  # the reader capped: a longer prompt is read
    settings = Settings()
    has_reader = prompt_reader_quantization(settings.model.prompt_quantization, "q8_0")
    completer = Completer(tmp_path, None, settings)
    try:
        for snippet_tokens, engine_ctx, reader_ctx in ((384, 1280, 1280), (1000, 1792, 1792)):
            completion = dataclasses.replace(settings.completion, snippet_tokens=snippet_tokens)
            completer.reload(dataclasses.replace(settings, completion=completion))
            assert completer.wait_until_loaded(120)
            backend = completer.loaded_backend()
            assert isinstance(backend, LlamaCppBackend)
            engine = backend.engine
            assert engine.max_context == engine_ctx
            if has_reader is not None:
                assert engine.reader is not None and engine.reader.max_context == reader_ctx
    finally:
        backend = completer.loaded_backend()
        if isinstance(backend, LlamaCppBackend):
            backend.engine.close()
