"""The course model's tokenizer, with the context size the model really has, and its precision."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .defaults import CPU_BF16_FEATURES, PRECISIONS

CPUINFO = Path("/proc/cpuinfo")  # Linux's list of CPU flags, read when torch cannot say


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


def native_cpu_bf16() -> frozenset[str]:
    """The CPU's native bfloat16 instruction sets among CPU_BF16_FEATURES (empty if none)."""
    import torch

    capabilities = getattr(torch.cpu, "get_capabilities", None)  # absent from older torch
    if capabilities is not None:
        found = {name for name, present in capabilities().items() if present}
    else:  # older torch: the kernel's list of CPU flags (Linux only)
        try:
            flags = CPUINFO.read_text().split("\n\n")[0]  # the first core's entry
        except OSError:
            flags = ""
        found = set(re.findall(r"\w+", flags))
    return frozenset(found.intersection(CPU_BF16_FEATURES))


def native_cuda_bf16() -> bool:
    """Whether the GPU computes in bfloat16 natively (a T4 only emulates it)."""
    import torch

    return torch.cuda.is_bf16_supported(including_emulation=False)


def requested_precision() -> str | None:
    """COURSE_PRECISION ("fp32" or "bf16"), or None when unset ("auto"): the course then chooses."""
    value = os.environ.get("COURSE_PRECISION", "").strip().lower()
    if value in ("", "auto"):
        return None
    if value not in PRECISIONS:
        raise ValueError(
            f"COURSE_PRECISION='{value}' is not one of {', '.join(PRECISIONS)}: "
            "unset it to let the course choose the precision of fine-tuning."
        )
    return value


def mixed_precision() -> dict[str, bool]:
    """Trainer flags: bf16 where the GPU or CPU computes it natively, fp16 on older GPUs, else fp32.

    COURSE_PRECISION=fp32 forces full precision; COURSE_PRECISION=bf16 forces bf16 autocast where
    the hardware has native bfloat16 and fails where it has not.
    """
    import torch

    requested = requested_precision()
    fp32 = {"bf16": False, "fp16": False}
    if torch.cuda.is_available():
        bf16 = native_cuda_bf16()
        if requested == "bf16" and not bf16:
            raise ValueError(
                f"COURSE_PRECISION=bf16, but this GPU ({torch.cuda.get_device_name()}) has no native "
                "bfloat16: unset COURSE_PRECISION to train in fp16 here."
            )
        return fp32 if requested == "fp32" else {"bf16": bf16, "fp16": not bf16}
    if _other_accelerator():  # e.g. Apple's MPS: the Trainer trains there, in fp32
        if requested == "bf16":
            raise ValueError("COURSE_PRECISION=bf16 is supported on CUDA GPUs and CPUs only.")
        return fp32
    native = bool(native_cpu_bf16())  # there bf16 is faster than fp32 (README, Performance)
    if requested == "bf16" and not native:
        raise ValueError(
            "COURSE_PRECISION=bf16, but this CPU has no native bfloat16 "
            f"({' or '.join(CPU_BF16_FEATURES)}), where bf16 is slower than fp32: unset COURSE_PRECISION."
        )
    if native and requested != "fp32":
        # transformers accepts bf16 without a GPU only when it is told to train on the CPU.
        return {"bf16": True, "fp16": False, "use_cpu": True}
    return fp32


def _other_accelerator() -> bool:
    """Whether torch sees an accelerator other than CUDA (MPS, XPU, ...) that the Trainer would use."""
    import torch

    accelerator = getattr(torch, "accelerator", None)
    return bool(accelerator and accelerator.is_available())
