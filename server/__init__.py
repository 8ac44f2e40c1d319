"""The editor-facing half of Tandem.

A keystroke's path: ``lsp`` (pygls handlers) → ``context`` (cursor → ranked snippets from the
index) → ``prompt`` (the model's FIM template within a token budget) → ``backends`` (the
model) → ``postprocess`` (trim, balance) → inline completion. ``trainer`` and ``evaluation``
fine-tune and measure; ``cli`` is the ``tandem`` command.
"""
