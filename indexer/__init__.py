"""Turns a workspace into a searchable, current LanceDB index, and queries it.

Data flow: ``walk`` (which files, and why others are skipped) → ``chunker`` (tree-sitter
chunks, definitions, imports) → ``store`` (LanceDB tables) ← ``sync`` (what to compute,
delete or keep, from stat and content hashes) → ``embedder`` (vectors, cached by content
hash) → ``search`` (symbol, full-text, vector, fused). No LSP and no language model here.
"""
