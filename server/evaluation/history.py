"""``tandem eval --history``: completion on the workspace's own past commits.

For each commit (oldest first) a scratch clone is checked out at the commit's parent and
its index synced incrementally (``indexer.sync``), then every set-up completes at each point
through the real pipeline (``Completer``: context, prompt, backend, decoding,
post-processing) with the commit's version of the file as the unsaved buffer (the overlay),
as an editor would send it. Single-line completion: the truth is the rest of one line.

Scores per set-up: exact match (the inserted text, trailing whitespace aside, equals the
rest of the line: a leading space the line does not have is wrong), edit similarity on the
same strings, identifier match (the first name in the completion is the first name in the
truth, common keywords aside, over the points whose truth has one), the share of empty
completions (the truth is never empty), and latency p50/p95 of the whole request.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.evaluation.history_points import CommitPoints, HistoryPoint, buffer_at
from server.evaluation.models import edit_similarity
from server.gitsnapshot import Snapshot

DECODING_FLAGS = ("token_healing", "guided_identifiers")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_KEYWORDS = frozenset(
    re.findall(
        r"\S+",
        """and as assert async await break case catch class const continue def defer del elif
        else except export extends false False finally for from func function go if import in
        is interface let new nil None not null or package pass private public raise return self
        static struct switch this throw true True try type var while with yield""",
    )
)


@dataclass(frozen=True)
class Setup:
    """One way of completing: adapter on or off, retrieval on or off, decoding overrides."""

    name: str
    adapter: bool
    retrieval: bool
    decoding: tuple[tuple[str, bool], ...] = ()  # completion settings forced for this set-up


def decoding_flags_available() -> list[str]:
    """The decoding switches this build's ``CompletionSettings`` has."""
    from server.settings import CompletionSettings

    names = {f.name for f in dataclasses.fields(CompletionSettings)}
    return [flag for flag in DECODING_FLAGS if flag in names]


def plan_setups(adapter: bool, ablate: bool) -> list[Setup]:
    """The four set-ups (the LoRA ones with an adapter) and, with ``ablate``, the default
    pipeline (retrieval, plus the adapter when there is one) with each decoding switch
    off, then all of them off."""
    setups = [Setup("base", False, False), Setup("base + retrieval", False, True)]
    if adapter:
        setups += [Setup("LoRA", True, False), Setup("LoRA + retrieval", True, True)]
    if ablate:
        default = setups[-1]
        flags = decoding_flags_available()
        variants: list[tuple[str, tuple[tuple[str, bool], ...]]] = [
            (f"no {flag.replace('_', ' ')}", ((flag, False),)) for flag in flags
        ]
        if len(flags) > 1:
            variants.append(("none of them", tuple((flag, False) for flag in flags)))
        for label, off in variants:
            setups.append(Setup(f"{default.name}, {label}", default.adapter, True, off))
    return setups


@dataclass
class SetupScores:
    points: int = 0
    exact_match: float = 0.0
    edit_similarity: float = 0.0
    identifier_match: float | None = None  # None when no truth has an identifier
    identifier_points: int = 0
    empty: float = 0.0  # share of points with an empty completion
    errors: int = 0  # requests that fell back or failed (the error is in the details)
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    prompt_tokens: float = 0.0  # mean


@dataclass
class HistoryReport:
    root: str
    rev: str
    model: str
    adapter: str | None
    adapter_until: str | None  # the commit the adapter was trained on (train --until)
    embedder: str
    seed: int
    decoding_defaults: dict[str, bool]
    commits: list[dict[str, Any]] = field(default_factory=list)
    points: int = 0
    setups: dict[str, SetupScores] = field(default_factory=dict)
    answer_in_file: int = 0  # points whose truth is also a line elsewhere in the buffer
    answer_in_snippets: dict[str, int] = field(default_factory=dict)  # per set-up
    loadavg: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    details: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_markdown(self) -> str:
        def pct(v: float | None) -> str:
            return "—" if v is None else f"{v:.3f}"

        lines = [
            "| set-up | exact match ↑ | edit similarity ↑ | identifier match ↑ | empty ↓ | "
            "p50 ms | p95 ms | prompt tokens | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, s in self.setups.items():
            lines.append(
                f"| {name} | {pct(s.exact_match)} | {pct(s.edit_similarity)} | "
                f"{pct(s.identifier_match)} | {pct(s.empty)} | {s.latency_p50_ms:.0f} | "
                f"{s.latency_p95_ms:.0f} | {s.prompt_tokens:.0f} | {s.errors} |"
            )
        until = f", trained --until {self.adapter_until[:12]}" if self.adapter_until else ""
        lines += [
            "",
            f"{self.points} points from {len(self.commits)} commits of {Path(self.root).name} "
            f"(up to {self.rev[:12]}), seed {self.seed}; model {self.model}, adapter "
            f"{self.adapter or 'none'}{until}; embedder {self.embedder}; decoding defaults "
            f"{self.decoding_defaults or 'n/a (no decoding switches in this build)'}; "
            f"load average {self.loadavg.get('start', '?')} → {self.loadavg.get('end', '?')}; "
            f"{self.seconds:.0f} s.",
        ]
        return "\n".join(lines)


def first_identifier(text: str) -> str | None:
    """The first name in ``text`` that is not a common keyword."""
    return next((m for m in _NAME.findall(text) if m not in _KEYWORDS), None)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def score(
    truths: Sequence[str], completions: Sequence[str], latencies: Sequence[float]
) -> SetupScores:
    """The measures of one set-up over its points (see the module docstring)."""
    n = len(truths)
    s = SetupScores(points=n)
    if not n:
        return s
    exact = sim = 0.0
    named = hits = 0
    empty = 0
    for truth, completion in zip(truths, completions, strict=True):
        shown = completion.rstrip()
        exact += float(shown == truth)
        sim += edit_similarity(shown, truth)
        empty += int(not completion.strip())
        want = first_identifier(truth)
        if want is not None:
            named += 1
            hits += int(first_identifier(shown) == want)
    s.exact_match = round(exact / n, 4)
    s.edit_similarity = round(sim / n, 4)
    s.identifier_points = named
    s.identifier_match = round(hits / named, 4) if named else None
    s.empty = round(empty / n, 4)
    s.latency_p50_ms = round(percentile(latencies, 50), 1)
    s.latency_p95_ms = round(percentile(latencies, 95), 1)
    return s


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


Progress = Callable[[str], None]


def run_history(
    repo: Path,
    work: Sequence[CommitPoints],
    settings: Any,
    setups: Sequence[Setup],
    snapshot: Snapshot,
    *,
    rev: str,
    seed: int,
    adapter: str | None,
    adapter_until: str | None,
    progress: Progress | None = None,
) -> HistoryReport:
    """Complete at every point with every set-up; ``settings`` is the base ``Settings``
    (model, completion, and ``index`` for the snapshot's index)."""
    from indexer.search import open_index
    from indexer.sync import sync

    say = progress or (lambda _m: None)
    started = time.perf_counter()
    flags = decoding_flags_available()
    report = HistoryReport(
        root=str(repo),
        rev=rev,
        model=settings.model.model,
        adapter=adapter,
        adapter_until=adapter_until,
        embedder=settings.index.embedder,
        seed=seed,
        decoding_defaults={f: bool(getattr(settings.completion, f)) for f in flags},
        loadavg={"start": loadavg()},
    )
    index_settings = dataclasses.replace(settings.index, db=snapshot.index_db)
    current: dict[str, Any] = {}
    completers = _Completers(snapshot.tree, lambda: current.get("index"), settings, adapter)
    outputs: dict[str, tuple[list[str], list[float], list[float]]] = {
        s.name: ([], [], []) for s in setups
    }
    truths: list[str] = []
    in_snippets = dict.fromkeys((s.name for s in setups), 0)
    for number, cp in enumerate(work, 1):
        say(f"commit {number}/{len(work)} {cp.commit.commit[:10]}: syncing the parent's tree")
        snapshot.checkout(cp.commit.parent)
        sync(snapshot.tree, index_settings)
        current["index"] = open_index(snapshot.tree, snapshot.index_db)
        report.commits.append(
            {
                "commit": cp.commit.commit,
                "parent": cp.commit.parent,
                "subject": cp.commit.subject,
                "path": cp.path,
                "points": len(cp.points),
            }
        )
        for point in cp.points:
            buffer = buffer_at(cp.text, point)
            overlay = _overlay(point.path, buffer)
            truths.append(point.truth)
            detail: dict[str, Any] = {**point.to_json(), "parent": point.parent}
            detail["answer_in_file"] = _elsewhere(buffer, point)
            report.answer_in_file += int(detail["answer_in_file"])
            for setup in setups:
                result = completers.get(setup).complete(
                    _request(point, buffer), overlay=overlay if setup.retrieval else None
                )
                texts, latencies, prompt_tokens = outputs[setup.name]
                texts.append(result.text)
                latencies.append(result.timings.get("total_ms", 0.0))
                prompt_tokens.append(result.timings.get("prompt_tokens", 0.0))
                seen = any(point.truth in s.text for s in result.snippets)
                in_snippets[setup.name] += int(seen)
                detail[setup.name] = {
                    "completion": result.text,
                    "ms": result.timings.get("total_ms"),
                    "backend": result.backend,
                    "snippets": [f"{s.path}:{s.start_line}-{s.end_line}" for s in result.snippets],
                    **({"error": result.error} if result.error else {}),
                }
            report.details.append(detail)
            say(f"  {point.path}:{point.line + 1}  {len(report.details)} points done")
    for setup in setups:
        texts, latencies, prompt_tokens = outputs[setup.name]
        scores = score(truths, texts, latencies)
        scores.errors = sum(1 for d in report.details if "error" in d[setup.name])
        scores.prompt_tokens = round(sum(prompt_tokens) / max(1, len(prompt_tokens)), 1)
        report.setups[setup.name] = scores
    report.points = len(truths)
    report.answer_in_snippets = in_snippets
    report.loadavg["end"] = loadavg()
    report.seconds = round(time.perf_counter() - started, 1)
    return report


def _request(point: HistoryPoint, buffer: str) -> Any:
    from server.completion import CompletionRequest

    return CompletionRequest(point.path, buffer, point.line, point.col, multiline=False)


def _overlay(path: str, buffer: str) -> dict[str, Any]:
    """The buffer as the language server holds an unsaved file (parsed, secrets redacted)."""
    from indexer.chunker import parse_file
    from indexer.secrets import redact

    return {path: parse_file(path, redact(buffer))}


def _elsewhere(buffer: str, point: HistoryPoint) -> bool:
    """The truth is also a whole line elsewhere in the file (a repeated line, not a leak)."""
    return any(
        i != point.line and line.strip() == point.truth for i, line in enumerate(buffer.split("\n"))
    )


class _Completers:
    """One ``Completer`` per set-up over the snapshot; they share the loaded weights."""

    def __init__(
        self, root: Path, index: Callable[[], Any], settings: Any, adapter: str | None
    ) -> None:
        self._root, self._index, self._settings, self._adapter = root, index, settings, adapter
        self._made: dict[str, Any] = {}

    def get(self, setup: Setup) -> Any:
        if setup.name in self._made:
            return self._made[setup.name]
        from server.cli.common import UserError
        from server.completion import Completer

        s = self._settings
        model = dataclasses.replace(s.model, adapter=self._adapter if setup.adapter else "none")
        completion = dataclasses.replace(
            s.completion,
            snippets=s.completion.snippets if setup.retrieval else 0,
            **dict(setup.decoding),
        )
        settings = dataclasses.replace(s, model=model, completion=completion)
        completer = Completer(self._root, self._index, settings)
        if settings.model.backend != "retrieval" and not completer.wait_until_loaded():
            reason = completer.status()["fallback_reason"]
            raise UserError(f"the model for {setup.name!r} did not load: {reason}")
        self._made[setup.name] = completer
        return completer
