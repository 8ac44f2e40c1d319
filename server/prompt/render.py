"""Assemble a prompt: snippets first (the stable part), then prefix, then suffix.

Snippets are chosen best first within their budget and written best last, nearest the
code they are meant to inform.

Token ids are the concatenation of each piece's own ids, so a piece that did not change
keeps its ids, and the backend can reuse the KV cache up to the first piece that did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from indexer.secrets import redact
from server.prompt.budget import Budgets, keep_head, keep_tail
from server.prompt.healing import NO_CUT, heal_cut
from server.prompt.templates import Template, resolve_template
from server.prompt.tokens import encode, encode_cached

if TYPE_CHECKING:
    from server.decoding.guide import NameSets

_MIN_SNIPPET_TOKENS = 24  # a snippet cut shorter than this is not worth its header
# Redaction runs on this many characters nearest the cursor (bounded cost per keystroke);
# far more than any budget keeps, so a secret cut at the window's edge is never kept.
_REDACT_WINDOW = 65536


class SnippetLike(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def start_line(self) -> int: ...
    @property
    def end_line(self) -> int: ...
    @property
    def text(self) -> str: ...


@dataclass(slots=True)
class Prompt:
    text: str
    ids: list[int]
    template: str
    prefix: str  # the part of the prefix that was kept
    suffix: str  # the part of the suffix that was kept
    snippets_used: int
    counts: dict[str, int] = field(default_factory=dict)  # snippets, prefix, suffix, special
    stop: tuple[str, ...] = ()
    # Token healing: text cut from the end of the prompt that the answer must re-type
    # first (it is not shown); with ``heal_then_nonspace`` the byte after it must not be
    # whitespace (the cut ended in whitespace the user typed).
    heal: str = ""
    heal_then_nonspace: bool = False
    names: NameSets | None = None  # identifiers that exist here (guided decoding)

    @property
    def total_tokens(self) -> int:
        return len(self.ids)


def _comment(language: str | None) -> tuple[str, str]:
    try:
        from indexer.languages import comment_prefix, comment_suffix
    except ImportError:
        return "# ", ""
    return comment_prefix(language), comment_suffix(language)


def _language(path: str) -> str | None:
    try:
        from indexer.languages import language_for_path
    except ImportError:
        return None
    return language_for_path(path)


def render_snippet(template: Template, snippet: SnippetLike, text: str | None = None) -> str:
    """One snippet as another file (repo-level tokens) or under a comment naming its path."""
    body = (snippet.text if text is None else text).rstrip("\n") + "\n"
    if template.file_sep:
        return f"{template.file_sep}{snippet.path}\n{body}"
    if template.filename:
        return f"{template.filename}{snippet.path}\n{body}"
    opener, closer = _comment(_language(snippet.path))
    where = f"{snippet.path}:{snippet.start_line}-{snippet.end_line}"
    return f"{opener}{where}{closer}\n{body}\n"


class _Pieces:
    """Text pieces with their token ids, counted per part of the prompt."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.texts: list[str] = []
        self.ids: list[int] = []
        self.counts = {"snippets": 0, "prefix": 0, "suffix": 0, "special": 0}

    def add(self, text: str, part: str, ids: list[int] | None = None) -> None:
        if not text:
            return
        ids = encode(self.tokenizer, text) if ids is None else ids
        self.texts.append(text)
        self.ids.extend(ids)
        self.counts[part] += len(ids)


def _fit_snippets(
    tokenizer: Any, template: Template, snippets: Sequence[SnippetLike], budget: int
) -> list[tuple[str, list[int]]]:
    """Rendered snippets, best first, within ``budget`` tokens; the last may be cut."""
    out: list[tuple[str, list[int]]] = []
    left = budget
    for snip in snippets:
        text = redact(snip.text)  # whatever the snippet's source (index, overlay, buffer)
        rendered = render_snippet(template, snip, text)
        ids = encode_cached(tokenizer, rendered)
        if len(ids) > left:
            header = len(encode_cached(tokenizer, render_snippet(template, snip, "")))
            room = left - header
            if room < _MIN_SNIPPET_TOKENS:
                break
            body = keep_head(tokenizer, text, room)
            rendered = render_snippet(template, snip, body)
            ids = encode(tokenizer, rendered)
            if len(ids) > left:
                break
        out.append((rendered, ids))
        left -= len(ids)
    return out


def build_prompt(
    tokenizer: Any,
    template: str | Template,
    prefix: str,
    suffix: str,
    snippets: Sequence[SnippetLike],
    budgets: Budgets,
    *,
    path: str | None = None,
    repo: str | None = None,
    heal: bool = False,
    names: NameSets | None = None,
) -> Prompt:
    """The prompt for a cursor, within the budgets, in the model's own tokens.

    Secret-looking tokens in the buffer and the snippets are redacted here, the one place
    every prompt passes through, whatever the backend (a remote one included).

    With ``heal``, the prompt ends at a token boundary before the cursor and
    ``Prompt.heal`` holds the text cut off (see ``server.prompt.healing``)."""
    tpl = template if isinstance(template, Template) else resolve_template(template, tokenizer)
    window = max(_REDACT_WINDOW, 64 * max(budgets.prefix_tokens, budgets.suffix_tokens))
    prefix, suffix = redact(prefix[-window:]), redact(suffix[:window])
    kept_prefix = keep_tail(tokenizer, prefix, budgets.prefix_tokens)
    kept_suffix = keep_head(tokenizer, suffix, budgets.suffix_tokens) if tpl.fim else ""
    fitted = _fit_snippets(tokenizer, tpl, snippets, budgets.snippet_tokens)

    p = _Pieces(tokenizer)
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is not None and getattr(tokenizer, "add_bos_token", False):
        p.add(tokenizer.bos_token, "special", [bos])
    if tpl.file_sep:
        # Repo-level form: snippets are other files; the cursor's file comes last.
        if tpl.repo_name and repo:
            p.add(tpl.repo_name, "special")
            p.add(repo + "\n" if tpl.name == "qwen" else repo, "snippets")
        for rendered, ids in reversed(fitted):  # the best snippet nearest the cursor
            p.add(rendered, "snippets", ids)
        p.add(tpl.file_sep, "special")
        p.add(f"{path or 'untitled'}\n", "snippets")
        if tpl.fim:
            p.add(tpl.fim_prefix, "special")
    else:
        if tpl.fim:
            p.add(tpl.fim_prefix + (" " if tpl.codellama_spacing else ""), "special")
        for rendered, ids in reversed(fitted):  # the best snippet nearest the cursor
            p.add(rendered, "snippets", ids)
    prefix_ids = encode(tokenizer, kept_prefix)
    cut = heal_cut(tokenizer, kept_prefix, prefix_ids) if heal else NO_CUT
    if cut.tokens:
        p.add(kept_prefix[: len(kept_prefix) - len(cut.text)], "prefix", prefix_ids[: -cut.tokens])
    else:
        p.add(kept_prefix, "prefix", prefix_ids)
    if tpl.fim:
        p.add((" " if tpl.codellama_spacing else "") + tpl.fim_suffix, "special")
        p.add(kept_suffix, "suffix")
        p.add((" " if tpl.codellama_spacing else "") + tpl.fim_middle, "special")
    return Prompt(
        text="".join(p.texts),
        ids=p.ids,
        template=tpl.name,
        prefix=kept_prefix,
        suffix=kept_suffix,
        snippets_used=len(fitted),
        counts=dict(p.counts),
        stop=tpl.stop,
        heal=cut.text,
        heal_then_nonspace=cut.then_nonspace,
        names=names or None,
    )
