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


def mixed_precision() -> dict[str, bool]:
    """Trainer flags: bf16 on a GPU that has it natively, fp16 on older GPUs, fp32 on a CPU."""
    import torch

    if not torch.cuda.is_available():
        return {"bf16": False, "fp16": False}
    bf16 = torch.cuda.is_bf16_supported(including_emulation=False)  # a T4 only emulates bf16
    return {"bf16": bf16, "fp16": not bf16}
