"""A tiny causal LM with SmolLM2's real tokenizer: real transformers code paths, in seconds.

``build_tiny_model(dir)`` writes a 2-layer Llama (hidden size 64) with randomly initialised
weights (seeded, so every build is identical) and SmolLM2's tokenizer, with
``save_pretrained``, so that ``load_causal_lm(str(dir))`` loads it like any model folder.

Its output head never prefers newlines, end-of-text or closing brackets, so a completion
with it is never empty: tests of the pipeline can assert on a non-empty result.
"""

from __future__ import annotations

from pathlib import Path

_AVOID = set("\n\r)]}>") | {"<", "|"}


def build_tiny_model(dir: Path) -> Path:
    """Write the tiny model into ``dir`` (created if missing) and return ``dir``."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from server.backends.loader import smollm2_tokenizer_dir

    dir = Path(dir)
    dir.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(str(smollm2_tokenizer_dir()))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        # Zero logits for tokens a test must not see first; about half of the others score
        # above zero, so greedy decoding always picks a plain word piece.
        special = set(tokenizer.all_special_ids)
        for token_id in range(len(tokenizer)):
            piece = str(tokenizer.decode([token_id]))
            if token_id in special or not piece.strip() or _AVOID & set(piece):
                model.lm_head.weight[token_id].zero_()
    model.save_pretrained(str(dir))
    tokenizer.save_pretrained(str(dir))
    return dir
