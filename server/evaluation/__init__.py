"""Measuring Tandem on a workspace: cross-file completion points (``points``), retrieval
hit@k against BM25 and Jaccard baselines (``retrieval``, ``baselines``), and the model
set-ups (``models``)."""
