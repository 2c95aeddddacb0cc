"""Hidden-state extraction: length-sorted, dynamically padded, memory-bounded and cached."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .defaults import in_ci
from .models import context_size, load_tokenizer, native_cpu_bf16, native_cuda_bf16

POOLINGS = ("cls", "mean")
MODES = ("exact", "fast", "fast-bf16", "fast-int8")  # "fast" picks one of the last two
# Padded tokens per batch: enough to keep the matrix units busy, small enough to stay in cache
# (CPU) or in memory (GPU). On CPU, 1k-2k tokens measured fastest (8k: 20% slower).
TOKEN_BUDGET = {"cpu": 2048, "mps": 32768, "cuda": 131072}
MAX_BATCH = 512
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def extract_hidden_states(
    texts: Sequence[str],
    model: torch.nn.Module,
    tokenizer,
    *,
    pooling: str = "cls",
    batch_size: int | None = None,
    device: str | torch.device | None = None,
    max_length: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    mode: str = "exact",
) -> np.ndarray:
    """One pooled last-layer vector per text, float32, shape (len(texts), hidden_size), in order.

    `pooling`: "cls" (first token) or "mean" (over real tokens only). `mode="fast"` is for CPUs
    (on a GPU it is the exact mode, which already runs under mixed precision): a bfloat16 copy of
    the model where the CPU has native bf16 (AVX512-BF16 or AMX), else an int8 copy with a warning;
    "fast-bf16" or "fast-int8" ask for one of the two.
    What each mode costs in speed and accuracy is measured by `make bench` (README, Performance).
    """
    return _extract(
        texts, model, tokenizer, pooling, batch_size, device, max_length, cache_dir, progress, mode
    )[0]


def _extract(
    texts, model, tokenizer, pooling, batch_size, device, max_length, cache_dir, progress, mode
) -> tuple[np.ndarray, float | None]:
    """`extract_hidden_states`, and the seconds the model took (as cached; None if unknown)."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling='{pooling}' is not one of: {', '.join(POOLINGS)}.")
    if mode not in MODES:
        raise ValueError(f"mode='{mode}' is not one of: {', '.join(MODES)}.")
    texts = [str(text) for text in texts]
    hidden_size = model.config.hidden_size
    if not texts:
        return np.zeros((0, hidden_size), dtype=np.float32), 0.0
    device = torch.device(device) if device is not None else _model_device(model)
    recipe = resolve_mode(mode, device)
    max_length = max_length or _model_max_length(model, tokenizer)
    precision = numeric_precision(recipe, device)
    cache = FeatureCache(cache_dir, model, texts, max_length, precision) if cache_dir else None
    if cache is not None and (hit := cache.load(pooling, hidden_size)) is not None:
        return hit, cache.seconds()
    start = time.perf_counter()
    features = _compute(
        texts, model, tokenizer, device, recipe, max_length, batch_size, progress and not in_ci()
    )
    seconds = time.perf_counter() - start
    if cache is not None:
        for name, array in features.items():
            cache.save(name, array)
        cache.save_seconds(seconds)
    return features[pooling], seconds


def hidden_states_map_fn(
    model: torch.nn.Module, device: str | torch.device | None = None, pooling: str = "cls"
) -> Callable[[dict], dict]:
    """A function for `Dataset.map(batched=True)` on tokenized columns that adds `hidden_state`."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling='{pooling}' is not one of: {', '.join(POOLINGS)}.")
    device = torch.device(device) if device is not None else _model_device(model)

    def add_hidden_state(batch: dict) -> dict:
        inputs = {k: torch.as_tensor(batch[k]).to(device) for k in MODEL_INPUTS if k in batch}
        with torch.inference_mode():
            hidden = model(**inputs).last_hidden_state
            pooled = _pool(hidden.float(), inputs["attention_mask"])[pooling]
        return {"hidden_state": pooled.cpu().numpy()}

    return add_hidden_state


def model_fingerprint(model: torch.nn.Module) -> str:
    """A short hash of a model's name, shapes and a sample of its weights."""
    digest = hashlib.sha256(str(getattr(model, "name_or_path", type(model).__name__)).encode())
    with torch.no_grad():
        for name, param in model.state_dict().items():
            flat = param.detach().reshape(-1)
            # A strided sample of every tensor tells fine-tuned weights from the originals cheaply.
            sample = flat[:: max(1, flat.numel() // 4096)].float().cpu().numpy()
            digest.update(f"{name}{tuple(param.shape)}".encode())
            digest.update(sample.tobytes())
    return digest.hexdigest()[:16]


def numeric_precision(recipe: str, device: torch.device) -> str:
    """Device type and number format of a run, e.g. "cpu-fp32" or "cuda-bf16-autocast"."""
    if device.type == "cuda":
        half = "bf16" if _cuda_half_dtype() == torch.bfloat16 else "fp16"
        return f"cuda-{half}-autocast"
    formats = {"exact": "fp32", "fast-bf16": "bf16", "fast-int8": "int8"}
    return f"{device.type}-{formats[recipe]}"


class FeatureCache:
    """`.npy` files named by a hash of model, texts and settings, written atomically."""

    def __init__(
        self, folder, model, texts: Sequence[str], max_length: int, precision: str
    ) -> None:
        self.folder = Path(folder)
        texts_hash = hashlib.sha256()
        for text in texts:  # length-prefixed, so no separator inside a text can fake a boundary
            encoded = text.encode()
            texts_hash.update(len(encoded).to_bytes(8, "little") + encoded)
        self.identity = {
            "model": model_fingerprint(model),
            "max_length": max_length,
            "precision": precision,  # features from a GPU or a fast mode differ slightly
            "texts": texts_hash.hexdigest(),
            "n": len(texts),
        }

    def path(self, pooling: str) -> Path:
        """The file that holds the features for `pooling`."""
        key = json.dumps({**self.identity, "pooling": pooling}, sort_keys=True)
        return self.folder / f"hidden-{pooling}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.npy"

    def load(self, pooling: str, hidden_size: int) -> np.ndarray | None:
        """The cached array, or None when it is missing or damaged."""
        path = self.path(pooling)
        if not path.is_file():
            return None
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError):
            array = None
        if (
            array is None
            or array.shape != (self.identity["n"], hidden_size)
            or array.dtype != np.float32
            or not np.isfinite(array).all()
        ):
            warnings.warn(f"Ignoring damaged cache file {path}; recomputing.", stacklevel=3)
            return None
        return array

    def seconds(self) -> float | None:
        """How long the model took for these texts (both poolings), when that was recorded."""
        try:
            return float(json.loads(self._timing_path().read_text())["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save_seconds(self, seconds: float) -> None:
        """Record how long the model took, beside the features (lecture 6 counts it as cost)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._timing_path().write_text(json.dumps({"seconds": seconds}))

    def _timing_path(self) -> Path:
        key = json.dumps(self.identity, sort_keys=True)
        return self.folder / f"hidden-seconds-{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"

    def save(self, pooling: str, array: np.ndarray) -> None:
        """Write the array to a temporary file, then rename it into place."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".npy")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, array.astype(np.float32, copy=False), allow_pickle=False)
            os.replace(tmp, self.path(pooling))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _compute(texts, model, tokenizer, device, recipe, max_length, batch_size, progress):
    """Both poolings for all texts, from one pass over length-sorted, token-budgeted batches."""
    lengths = _token_lengths(texts, tokenizer, max_length)
    order = np.argsort(-lengths, kind="stable")  # longest first: any out-of-memory shows up at once
    out = {name: np.empty((len(texts), model.config.hidden_size), np.float32) for name in POOLINGS}
    budget = TOKEN_BUDGET.get(device.type, TOKEN_BUDGET["cpu"])
    max_batch = batch_size or MAX_BATCH
    was_training = model.training
    run_model = _prepare_model(model.eval(), device, recipe)
    start = 0
    try:
        with tqdm(
            total=len(texts), unit="tweet", disable=not progress, desc="hidden states"
        ) as bar:
            while start < len(order):
                size = max(1, min(max_batch, budget // int(lengths[order[start]])))
                rows = order[start : start + size]
                size = len(rows)
                try:
                    pooled = _forward(
                        run_model, tokenizer, [texts[i] for i in rows], device, max_length
                    )
                except torch.cuda.OutOfMemoryError:
                    if size == 1:
                        raise
                    torch.cuda.empty_cache()
                    budget, max_batch = budget // 2, max(1, size // 2)  # for the rest of the run
                    continue
                for name in POOLINGS:
                    out[name][rows] = pooled[name]
                start += size
                bar.update(size)
    finally:
        model.train(was_training)
    return out


def _token_lengths(texts: list[str], tokenizer, max_length: int, chunk: int = 4096) -> np.ndarray:
    """Token count of every text, tokenized in chunks so that no id list outlives its chunk."""
    lengths = np.empty(len(texts), dtype=np.int64)
    for start in range(0, len(texts), chunk):
        ids = tokenizer(texts[start : start + chunk], truncation=True, max_length=max_length)
        lengths[start : start + chunk] = [len(row) for row in ids["input_ids"]]
    return lengths


def _forward(run_model, tokenizer, texts, device, max_length) -> dict[str, np.ndarray]:
    """Pooled vectors of one batch, padded to its own longest text; only they leave the device."""
    batch = tokenizer(
        texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    )
    on_cuda = device.type == "cuda"
    inputs = {
        k: (batch[k].pin_memory() if on_cuda else batch[k]).to(device, non_blocking=on_cuda)
        for k in MODEL_INPUTS
        if k in batch
    }
    with torch.inference_mode(), _autocast(device):
        hidden = run_model(**inputs).last_hidden_state
        pooled = _pool(hidden.float(), inputs["attention_mask"])
    return {k: v.cpu().numpy() for k, v in pooled.items()}


def _pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """[CLS] vector and the mean over real (unmasked) tokens."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
    return {"cls": hidden[:, 0], "mean": mean}


def _autocast(device: torch.device):
    if device.type != "cuda":
        return torch.autocast(device_type="cpu", enabled=False)
    return torch.autocast(device_type="cuda", dtype=_cuda_half_dtype())


def _cuda_half_dtype() -> torch.dtype:
    """The half-precision type of autocast on this GPU: the one the Trainer uses by default too."""
    return torch.bfloat16 if native_cuda_bf16() else torch.float16


def resolve_mode(mode: str, device: torch.device) -> str:
    """What `mode` means on `device`: "exact", or the fast CPU variant ("fast-bf16", "fast-int8")."""
    if mode == "exact" or device.type != "cpu":
        return "exact"  # GPUs already run the exact mode in half precision
    if mode != "fast":
        return mode
    if native_cpu_bf16():
        return "fast-bf16"
    warnings.warn(
        "This CPU has no native bfloat16, so mode='fast' runs int8 layers, which cost about "
        "1 point of logistic-regression accuracy on the emotion tweets. Use mode='exact' to avoid it.",
        stacklevel=3,
    )
    return "fast-int8"


def _prepare_model(model: torch.nn.Module, device: torch.device, recipe: str) -> torch.nn.Module:
    if _model_device(model) != device:
        model.to(device)
    if recipe == "fast-bf16":
        return copy.deepcopy(model).to(torch.bfloat16)
    if recipe == "fast-int8":
        return _int8_model(model)
    return model


def _int8_model(model: torch.nn.Module) -> torch.nn.Module:
    """A copy whose attention and FFN up-projection layers run in int8 (weights per channel)."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    # FFN down-projections (the only layers that narrow) read GELU outputs whose outliers
    # per-tensor int8 activations clip badly: they stay in fp32.
    names = [
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and module.in_features <= module.out_features
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
        return quantize_dynamic(
            copy.deepcopy(model), dict.fromkeys(names, per_channel_dynamic_qconfig), torch.qint8
        )


def _model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _model_max_length(model, tokenizer) -> int:
    return context_size(tokenizer, model.config)


class FeatureMatrices(dict):
    """Feature matrices by split, with the seconds the model took to compute them all.

    `seconds` is None when the features came from a cache that did not record it.
    """

    seconds: float | None = None


def load_features(
    dataset,
    model_name: str,
    *,
    pooling: str = "cls",
    splits: Sequence[str] = ("train", "validation"),
    device: str | torch.device = "cpu",
    cache_dir: str | os.PathLike | None = None,
) -> FeatureMatrices:
    """Feature matrices of `model_name` for `splits`, from `cache_dir` when lecture 3 put them there."""
    from transformers import AutoModel

    tokenizer = load_tokenizer(model_name)
    model = AutoModel.from_pretrained(model_name).to(device)
    matrices, times = FeatureMatrices(), []
    for split in splits:
        matrices[split], seconds = _extract(
            dataset[split]["text"],
            model,
            tokenizer,
            pooling,
            None,
            device,
            None,
            cache_dir,
            True,
            "exact",
        )
        times.append(seconds)
    matrices.seconds = None if None in times else float(sum(times))
    return matrices
