"""Merging overlapping candidates and fitting the budget, on plain data."""

from __future__ import annotations

from server.context.rank import Candidate, fit, merge_overlapping


def _cand(start: int, end: int, score: float, path: str = "a.py", tag: str = "x") -> Candidate:
    text = "\n".join(f"{tag}{n}" for n in range(start, end + 1))
    return Candidate(path, start, end, text, score, "similar", f"why {tag}")


def test_overlapping_candidates_merge_into_one_region() -> None:
    merged = merge_overlapping([_cand(1, 5, 1.0, tag="a"), _cand(4, 8, 2.0, tag="b")])
    assert len(merged) == 1
    m = merged[0]
    assert (m.start_line, m.end_line) == (1, 8)
    assert m.text.split("\n") == ["a1", "a2", "a3", "a4", "a5", "b6", "b7", "b8"]
    assert m.score == 2.0 + 0.25 * 1.0
    assert "why a" in m.reason and "why b" in m.reason


def test_disjoint_or_other_file_candidates_stay_apart() -> None:
    merged = merge_overlapping([_cand(1, 5, 1.0), _cand(6, 8, 1.0), _cand(1, 5, 1.0, "b.py")])
    assert len(merged) == 3


def test_merge_bonus_counts_only_the_two_best() -> None:
    """A class overlapping many small candidates does not climb without bound."""
    parts = [_cand(1, 40, 1.0)] + [_cand(n, n + 1, 1.0) for n in range(2, 38, 3)]
    (m,) = merge_overlapping(parts)
    assert m.score == 1.25


def test_summary_text_is_never_spliced() -> None:
    summary = Candidate("a.py", 1, 30, "class A:\n    def f(self): ...", 2.0, "definition", "s")
    merged = merge_overlapping([summary, _cand(10, 12, 1.0)])
    assert merged[0].text == summary.text and (merged[0].start_line, merged[0].end_line) == (1, 30)


def test_fit_cuts_the_last_snippet_to_the_budget_and_keeps_order() -> None:
    cands = [_cand(1, 10, 3.0, tag="a"), _cand(1, 10, 2.0, "b.py", "b")]
    out = fit(cands, k=5, budget_tokens=45, count_tokens=len, min_tokens=5)
    assert [s.path for s in out] == ["a.py", "b.py"]
    assert sum(len(s.text) for s in out) <= 45
    assert out[1].text.split("\n") == ["b1", "b2", "b3", "b4", "b5"]
    assert (out[1].start_line, out[1].end_line) == (1, 5)


def test_fit_skips_a_snippet_when_too_little_budget_remains() -> None:
    cands = [_cand(1, 10, 3.0, tag="a"), _cand(1, 10, 2.0, "b.py", "b")]
    out = fit(cands, k=5, budget_tokens=45, count_tokens=len, min_tokens=24)
    assert [s.path for s in out] == ["a.py"]


def _sparse(lines: dict[int, str], score: float, path: str = "a.h") -> Candidate:
    start, end = min(lines), max(lines)
    text = "\n".join(lines.get(n, "") for n in range(start, end + 1))
    return Candidate(path, start, end, text, score, "definition", "digest", sparse=True)


def test_a_sparse_candidate_is_fitted_without_the_lines_it_leaves_out() -> None:
    """A header's digest: only its shown lines cost tokens, and the snippet says which."""
    digest = _sparse({3: "int a(void);", 40: "int b(void);", 90: "int c(void);"}, 2.0)
    (s,) = fit([digest], 5, 1000, lambda t: len(t))
    assert s.text == "int a(void);\nint b(void);\nint c(void);"
    assert (s.start_line, s.end_line, s.shown) == (3, 90, (3, 40, 90))
    # Cut to the budget: the lines kept, and the span ends at the last of them.
    (cut,) = fit([digest], 5, 30, lambda t: len(t), min_tokens=1)
    assert cut.text == "int a(void);\nint b(void);" and cut.shown == (3, 40)
    assert cut.end_line == 40


def test_a_sparse_candidate_merged_with_a_window_shows_both() -> None:
    digest = _sparse({3: "int a(void);", 9: "int b(void);"}, 2.0)
    window = Candidate("a.h", 5, 7, "/* c */\nint c(void);\n", 1.0, "similar", "w")
    (m,) = merge_overlapping([digest, window])
    assert m.sparse and (m.start_line, m.end_line) == (3, 9)
    (s,) = fit([m], 5, 1000, lambda t: len(t))
    assert s.text == "int a(void);\n/* c */\nint c(void);\nint b(void);"
    assert s.shown == (3, 5, 6, 9)


def test_a_digest_cut_to_the_budget_keeps_its_best_rows_not_its_first_lines() -> None:
    """A header's digest lists its declarations in file order; when the prompt's budget
    cuts it, the names ranked best stay, wherever they are in the header."""
    lines = {3: "int a(void);", 40: "int b(void);", 90: "int c(void);"}
    start, end = min(lines), max(lines)
    text = "\n".join(lines.get(n, "") for n in range(start, end + 1))
    digest = Candidate(
        "a.h", start, end, text, 2.0, "definition", "digest", sparse=True, rows=((90,), (3,), (40,))
    )
    (cut,) = fit([digest], 5, 30, lambda t: len(t), min_tokens=1)
    assert cut.shown == (3, 90) and cut.text == "int a(void);\nint c(void);"
    assert (cut.start_line, cut.end_line) == (3, 90)
