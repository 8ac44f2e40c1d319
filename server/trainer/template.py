"""The completion prompt template, seen from the trainer: examples are built with the very
``build_prompt`` that completion uses, so an adapter learns the layout it will be asked to
continue (file header, FIM tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.prompt import Budgets, Template, build_prompt, detect_template, resolve_template
from server.prompt.tokens import encode

_ALL = 1 << 30  # a budget that never cuts: examples are sized by the trainer


@dataclass(frozen=True)
class TemplateRenderer:
    tokenizer: Any
    template: Template

    @property
    def name(self) -> str:
        return self.template.name

    @property
    def fim(self) -> bool:
        return self.template.fim

    def tokenize(self, text: str) -> list[int]:
        return encode(self.tokenizer, text)

    def header_ids(self, path: str) -> list[int]:
        """What completion puts before a file's code when there are no snippets."""
        return build_prompt(
            self.tokenizer, self.template, "", "", [], Budgets(0, 0, 0), path=path
        ).ids

    def fim_ids(self, path: str, prefix: str, middle: str, suffix: str) -> list[int]:
        """The FIM prompt completion would build, then the middle and the end token."""
        prompt = build_prompt(
            self.tokenizer, self.template, prefix, suffix, [], Budgets(_ALL, _ALL, 0), path=path
        )
        end = self.template.stop[0] if self.template.stop else ""
        return prompt.ids + encode(self.tokenizer, middle) + encode(self.tokenizer, end)


def renderer_for(lm: Any, template: str = "auto") -> TemplateRenderer:
    """The template completion would pick for this model (``auto``: by its special tokens)."""
    name = detect_template(lm.tokenizer) if template == "auto" else template
    return TemplateRenderer(lm.tokenizer, resolve_template(name, lm.tokenizer))
