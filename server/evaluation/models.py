"""RAG versus fine-tuning: four set-ups on the same cross-file completion points.

The set-ups are the base model alone, base + retrieval, the LoRA adapter alone and LoRA +
retrieval. Each point (``points.build_points``) is a cursor just before the first use of a
name imported from another file; its true continuation is the rest of that line. For each
set-up we measure the bits per token the model assigns to that continuation (teacher
forcing, lower is better), the exact match and edit similarity of the line it generates
greedily (the same prompt builder, decoding rules and post-processing as completion), and,
with retrieval, whether the defining line reached the prompt (hit@1, hit@k).

Points in files the adapter was trained on are dropped: the adapter must be judged on code
it has not seen, and ``tandem train --eval-points N`` keeps those files out of training.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.evaluation.points import Point, build_points
from server.evaluation.retrieval import prefix_at

SETUPS = ("base", "base + retrieval", "LoRA", "LoRA + retrieval")
LN2 = math.log(2)


def eval_point_files(root: Path, index: Any, limit: int | None, seed: int) -> list[str]:
    """The files of the points ``evaluate_models`` scores (to keep them out of training)."""
    return sorted({p.path for p in build_points(root, index, limit=limit, seed=seed)})


@dataclass
class SetupScores:
    bits_per_token: float | None = None  # token-weighted over all points
    exact_match: float = 0.0
    edit_similarity: float = 0.0
    hit_at_1: float | None = None  # None for set-ups without retrieval
    hit_at_k: float | None = None  # the defining line is in a snippet that reached the prompt
    prompt_tokens: float = 0.0  # mean
    seconds: float = 0.0


@dataclass
class ModelsReport:
    root: str
    model: str
    adapter: str
    points: int
    files: int
    dropped: int  # points in files the adapter was trained on
    k: int  # snippets asked of the context builder
    setups: dict[str, SetupScores] = field(default_factory=dict)
    target_tokens: int = 0
    adapter_summary: dict[str, Any] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    def to_markdown(self) -> str:
        def fmt(v: float | None, digits: int = 3) -> str:
            return "—" if v is None else f"{v:.{digits}f}"

        lines = [
            "| set-up | bits/token ↓ | exact match ↑ | edit similarity ↑ | hit@1 | "
            f"hit@{self.k} (in prompt) | prompt tokens |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, s in self.setups.items():
            lines.append(
                f"| {name} | {fmt(s.bits_per_token)} | {fmt(s.exact_match)} | "
                f"{fmt(s.edit_similarity)} | {fmt(s.hit_at_1)} | {fmt(s.hit_at_k)} | "
                f"{s.prompt_tokens:.0f} |"
            )
        lines.append("")
        lines.append(
            f"{self.points} cross-file points in {self.files} files not trained on "
            f"({self.dropped} points in training files dropped), {self.target_tokens} "
            f"continuation tokens; model {self.model}, adapter {self.adapter}."
        )
        return "\n".join(lines)

    def chart(self, path: Path) -> Path:
        """A PNG bar chart: one panel per measure, one bar per set-up."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = list(self.setups)
        panels: list[tuple[str, list[float | None]]] = [
            ("bits per token (lower is better)", [self.setups[n].bits_per_token for n in names]),
            ("exact match", [self.setups[n].exact_match for n in names]),
            ("edit similarity", [self.setups[n].edit_similarity for n in names]),
        ]
        colors = ["#9e9e9e", "#4e79a7", "#f28e2b", "#59a14f"][: len(names)]
        fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8))
        for ax, (title, values) in zip(axes, panels, strict=True):
            heights = [v if v is not None else 0.0 for v in values]
            bars = ax.bar(range(len(names)), heights, color=colors)
            ax.set_title(title, fontsize=10)
            ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
            for bar, v in zip(bars, values, strict=True):
                label = "n/a" if v is None else f"{v:.3f}"
                ax.annotate(
                    label,
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
        fig.suptitle(
            f"{Path(self.root).name}: {self.points} cross-file points, model {self.model}",
            fontsize=10,
        )
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return path


def edit_similarity(a: str, b: str) -> float:
    """1 - Levenshtein distance / longer length (1.0 for two empty strings)."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))


@dataclass
class _Case:
    """One point, prepared once: prompts with and without snippets, and the target."""

    point: Point
    prefix: str
    suffix: str
    target: str
    target_ids: list[int]
    language: str | None
    prompts: dict[bool, Any]  # retrieval on/off → Prompt
    hit_rank: int | None  # rank of the defining snippet among those retrieved
    in_prompt: bool  # the defining snippet made it into the prompt


def _prepare(
    root: Path, index: Any, points: Sequence[Point], lm: Any, template: Any, settings: Any
) -> list[_Case]:
    from indexer.languages import language_for_path
    from server.context import build_context
    from server.prompt import budgets_from_settings, build_prompt
    from server.prompt.tokens import encode

    cs = settings.completion
    budgets = budgets_from_settings(cs)
    tok = lm.tokenizer

    def count(text: str) -> int:
        return len(encode(tok, text))

    cases: list[_Case] = []
    texts: dict[str, str] = {}
    for p in points:
        if p.path not in texts:
            texts[p.path] = (root / p.path).read_text(encoding="utf-8")
        lines = texts[p.path].split("\n")
        target = lines[p.line][p.col :].rstrip()
        if not target:
            continue
        prefix = prefix_at(texts[p.path], p.line, p.col)
        suffix = "\n" + "\n".join(lines[p.line + 1 :])
        snippets = build_context(
            index,
            p.path,
            prefix,
            p.line,
            p.col,
            k=cs.snippets,
            budget_tokens=cs.snippet_tokens,
            count_tokens=count,
        ).snippets
        prompts = {
            on: build_prompt(
                tok, template, prefix, suffix, snippets if on else [], budgets, path=p.path
            )
            for on in (False, True)
        }
        rank = next(
            (i + 1 for i, s in enumerate(snippets) if s.contains_line(p.def_path, p.def_line)),
            None,
        )
        used = prompts[True].snippets_used
        cases.append(
            _Case(
                p,
                prefix,
                suffix,
                target,
                encode(tok, target),
                language_for_path(p.path),
                prompts,
                rank,
                rank is not None and rank <= used,
            )
        )
    return cases


class _Scorer:
    """Bits of the true continuation and the greedy line, from one prefill of the prompt.

    Both measures share the prompt's KV cache (the prompt dominates the cost), so this
    decodes itself rather than through ``TransformersBackend.generate``, with the same rules:
    greedy, stop at end-of-text or a stop token, at a stop string, at the first newline
    (single-line completion) or after ``max_tokens``."""

    def __init__(self, lm: Any, max_tokens: int) -> None:
        self.model = lm.model
        self.tokenizer = lm.tokenizer
        self.max_tokens = max_tokens
        eos = lm.tokenizer.eos_token_id
        self.eos = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])

    def _stop_ids(self, stop: tuple[str, ...]) -> set[int]:
        ids = set(self.eos)
        for s in stop:
            enc = self.tokenizer.encode(s, add_special_tokens=False)
            if len(enc) == 1:
                ids.add(enc[0])
        return ids

    def score(self, prompt: Any, target_ids: list[int]) -> tuple[float, str]:
        """(bits for ``target_ids`` after the prompt, the generated line)."""
        import torch
        from transformers import DynamicCache

        from server.backends.loader import forward_with_cache

        def forward(ids: list[int], cache: Any) -> Any:
            inp = torch.tensor([ids], dtype=torch.long)
            return forward_with_cache(self.model, inp, cache)

        with torch.inference_mode():
            cache = DynamicCache(config=self.model.config)
            first = forward(list(prompt.ids), cache)
            last = first.logits[0, -1].float()
            # Bits of the true continuation, teacher-forced after the prompt.
            rest = (
                forward(target_ids[:-1], cache).logits[0].float() if len(target_ids) > 1 else None
            )
            logits = last[None] if rest is None else torch.cat([last[None], rest])
            nll = torch.nn.functional.cross_entropy(
                logits, torch.tensor(target_ids), reduction="sum"
            )
            if len(target_ids) > 1:
                cache.crop(-(len(target_ids) - 1))  # back to the prompt alone
            # The greedy line, from the same prompt cache.
            stop_ids = self._stop_ids(tuple(prompt.stop))
            new: list[int] = []
            text = ""
            logits_next = last
            while len(new) < self.max_tokens:
                token = int(torch.argmax(logits_next))
                if token in stop_ids:
                    break
                new.append(token)
                text = self.tokenizer.decode(new, skip_special_tokens=False)
                hit = next((s for s in prompt.stop if s in text), None)
                if hit is not None:
                    text = text[: text.index(hit)]
                    break
                if "\n" in text:
                    text = text[: text.index("\n")]
                    break
                logits_next = forward([token], cache).logits[0, -1].float()
        return float(nll) / LN2, text


def evaluate_models(
    root: Path,
    index: Any,
    points: Sequence[Point],
    lm: Any,
    settings: Any,
    *,
    adapter: str,
    dropped: int = 0,
    template: str = "auto",
    progress: Callable[[str, int, int], None] | None = None,
) -> ModelsReport:
    """Score the four set-ups. ``lm`` is a ``LoadedLM`` whose model is a peft model with the
    adapter loaded unmerged (``load_causal_lm(model, adapter, merge=False)``), so the base
    set-ups run the same weights with the adapter switched off."""
    from server.postprocess import postprocess
    from server.prompt import detect_template, resolve_template

    name = detect_template(lm.tokenizer) if template == "auto" else template
    tpl = resolve_template(name, lm.tokenizer)
    cases = _prepare(root, index, points, lm, tpl, settings)
    scorer = _Scorer(lm, settings.completion.max_tokens)
    report = ModelsReport(
        root=str(root),
        model=lm.model_id,
        adapter=adapter,
        points=len(cases),
        files=len({c.point.path for c in cases}),
        dropped=dropped,
        k=settings.completion.snippets,
        target_tokens=sum(len(c.target_ids) for c in cases),
    )
    details = [{**c.point.to_json(), "target": c.target} for c in cases]
    total = len(cases) * len(SETUPS)
    done = 0
    for lora in (False, True):
        with _adapter(lm.model, enabled=lora):
            for retrieval in (False, True):
                setup = SETUPS[2 * lora + retrieval]
                started = time.perf_counter()
                bits = 0.0
                exact = sim = 0.0
                for case, detail in zip(cases, details, strict=True):
                    prompt = case.prompts[retrieval]
                    b, raw = scorer.score(prompt, case.target_ids)
                    line = postprocess(raw, case.prefix, case.suffix, case.language, False)
                    exact += float(line.strip() == case.target.strip())
                    sim += edit_similarity(line.strip(), case.target.strip())
                    bits += b
                    detail[setup] = {"completion": line, "bits": round(b, 3)}
                    done += 1
                    if progress is not None:
                        progress(setup, done, total)
                n = max(1, len(cases))
                report.setups[setup] = SetupScores(
                    bits_per_token=bits / report.target_tokens if report.target_tokens else None,
                    exact_match=round(exact / n, 4),
                    edit_similarity=round(sim / n, 4),
                    hit_at_1=_share([c.hit_rank == 1 for c in cases]) if retrieval else None,
                    hit_at_k=_share([c.in_prompt for c in cases]) if retrieval else None,
                    prompt_tokens=sum(c.prompts[retrieval].total_tokens for c in cases) / n,
                    seconds=round(time.perf_counter() - started, 1),
                )
    report.setups = {s: report.setups[s] for s in SETUPS}
    report.details = details
    return report


def _share(flags: list[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 0.0


@contextmanager
def _adapter(model: Any, enabled: bool) -> Iterator[None]:
    """Run with the peft adapter on, or with it switched off (the base model)."""
    if enabled:
        yield
    else:
        with model.disable_adapter():
            yield
