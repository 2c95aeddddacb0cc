"""The course model's tokenizer, with the context size the model really has."""

from __future__ import annotations


def context_size(tokenizer, config) -> int:
    """Most tokens the model reads: the tokenizer's limit, or the model's positions if it has none."""
    positions = getattr(config, "max_position_embeddings", None)
    limit = tokenizer.model_max_length
    # A tokenizer whose files do not state a limit reports a huge placeholder (int(1e30)).
    if positions and (not limit or limit > positions):
        return int(positions)
    return int(limit)


def load_tokenizer(model_name: str):
    """`AutoTokenizer.from_pretrained(model_name)` with `model_max_length` set to the real limit."""
    from transformers import AutoConfig, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_name)
    tokenizer.model_max_length = context_size(tokenizer, AutoConfig.from_pretrained(model_name))
    return tokenizer
