"""Turn a model's raw continuation into what the editor shows."""

from __future__ import annotations

from server.postprocess.brackets import balance
from server.postprocess.repetition import cut_char_loops, cut_line_loops, cut_segment_loops
from server.postprocess.suffix import cut_at_suffix
from server.postprocess.whitespace import trim_leading_whitespace


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _cut_at_dedent(completion: str, prefix: str) -> str:
    """In multi-line mode, stop at the first line that leaves the cursor's block (less
    indented than the cursor's line) or after two blank lines."""
    current = prefix.rpartition("\n")[2]
    first_line, *rest = completion.split("\n")
    base = _indent(current + first_line) if (current + first_line).strip() else len(current)
    kept = [first_line]
    blanks = 0
    for line in rest:
        if not line.strip():
            blanks += 1
            if blanks >= 2:
                break
            kept.append(line)
            continue
        blanks = 0
        if _indent(line) < base:
            break
        kept.append(line)
    return "\n".join(kept)


def postprocess(
    completion: str, prefix: str, suffix: str, language: str | None, multiline: bool
) -> str:
    """No whitespace the cursor's position makes wrong; cut to one line (or to the
    cursor's block), where the suffix resumes, before loops and unbalanced closers;
    whitespace-only results become empty."""
    text = trim_leading_whitespace(completion.replace("\r\n", "\n"), prefix)
    text = text.split("\n", 1)[0] if not multiline else _cut_at_dedent(text, prefix)
    text = cut_at_suffix(text, prefix, suffix)
    text = cut_line_loops(text)
    text = cut_segment_loops(text)
    text = cut_char_loops(text)
    text = balance(text, prefix, suffix, language)
    text = "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")
    if not text.strip():
        return ""
    if not multiline and text.strip() == suffix.split("\n", 1)[0].strip():
        return ""
    return text
