"""Prompts: FIM templates per model family, a token budget, snippets first."""

from server.prompt.budget import Budgets, budgets_from_settings, keep_head, keep_tail
from server.prompt.render import Prompt, build_prompt, render_snippet
from server.prompt.templates import (
    TEMPLATES,
    Template,
    detect_template,
    resolve_template,
    template_for_name,
)
from server.prompt.tokens import ApproxTokenizer

__all__ = [
    "TEMPLATES",
    "ApproxTokenizer",
    "Budgets",
    "Prompt",
    "Template",
    "budgets_from_settings",
    "build_prompt",
    "detect_template",
    "keep_head",
    "keep_tail",
    "render_snippet",
    "resolve_template",
    "template_for_name",
]
