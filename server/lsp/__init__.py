"""Tandem's language server (pygls 2): one module per feature, thin handlers over plain
functions. ``server.create_server()`` builds it; ``tandem serve`` runs it."""
