"""Hidden-state extraction: length-sorted, dynamically padded, memory-bounded and cached."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

POOLINGS = ("cls", "mean")
MODES = ("exact", "fast")
# Padded tokens per batch: enough to keep the matrix units busy, small enough to stay in memory.
TOKEN_BUDGET = {"cpu": 8192, "mps": 32768, "cuda": 131072}
MAX_BATCH = 512


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
    """One pooled last-layer vector per text, float32, shape (len(texts), hidden_size), in order."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling='{pooling}' is not one of {', '.join(POOLINGS)}.")
    if mode not in MODES:
        raise ValueError(f"mode='{mode}' is not one of {', '.join(MODES)}.")
    texts = [str(text) for text in texts]
    hidden_size = model.config.hidden_size
    if not texts:
        return np.zeros((0, hidden_size), dtype=np.float32)
    max_length = max_length or _model_max_length(model, tokenizer)
    cache = FeatureCache(cache_dir, model, texts, max_length, mode) if cache_dir else None
    if cache is not None and (hit := cache.load(pooling, hidden_size)) is not None:
        return hit
    features = _compute(
        texts, model, tokenizer, batch_size, device, max_length, progress and not _in_ci(), mode
    )
    if cache is not None:
        for name, array in features.items():
            cache.save(name, array)
    return features[pooling]


def hidden_states_map_fn(
    model: torch.nn.Module, device: str | torch.device | None = None, pooling: str = "cls"
) -> Callable[[dict], dict]:
    """A function for `Dataset.map(batched=True)` that adds a `hidden_state` column."""
    device = torch.device(device) if device is not None else _model_device(model)
    input_names = [name for name in ("input_ids", "attention_mask", "token_type_ids")]

    def add_hidden_state(batch: dict) -> dict:
        inputs = {k: torch.as_tensor(batch[k]).to(device) for k in input_names if k in batch}
        with torch.inference_mode():
            hidden = model(**inputs).last_hidden_state
        pooled = _pool(hidden, inputs["attention_mask"])[pooling]
        return {"hidden_state": pooled.float().cpu().numpy()}

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


class FeatureCache:
    """`.npy` files named by a hash of model, texts and settings, written atomically."""

    def __init__(self, folder, model, texts: Sequence[str], max_length: int, mode: str) -> None:
        self.folder = Path(folder)
        texts_hash = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()
        self.identity = {
            "model": model_fingerprint(model),
            "max_length": max_length,
            "mode": mode,
            "texts": texts_hash,
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
        ):
            warnings.warn(f"Ignoring damaged cache file {path}; recomputing.", stacklevel=3)
            return None
        return array

    def save(self, pooling: str, array: np.ndarray) -> None:
        """Write the array to a temporary file, then rename it into place."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(pooling)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".npy")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, array.astype(np.float32, copy=False), allow_pickle=False)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _compute(texts, model, tokenizer, batch_size, device, max_length, progress, mode):
    device = torch.device(device) if device is not None else _model_device(model)
    run_model = _prepare_model(model, device, mode)
    encoded = tokenizer(texts, truncation=True, max_length=max_length)
    lengths = np.array([len(ids) for ids in encoded["input_ids"]])
    order = np.argsort(-lengths, kind="stable")  # longest first: any out-of-memory shows up at once
    hidden_size = model.config.hidden_size
    out = {name: np.empty((len(texts), hidden_size), dtype=np.float32) for name in POOLINGS}
    max_batch = batch_size or MAX_BATCH
    budget = TOKEN_BUDGET.get(device.type, TOKEN_BUDGET["cpu"])
    was_training = model.training
    model.eval()
    try:
        with tqdm(
            total=len(texts), unit="tweet", disable=not progress, desc="hidden states"
        ) as bar:
            for rows in _batches(order, lengths, max_batch, budget):
                pooled = _run_batch(run_model, tokenizer, encoded, rows, device)
                for name in POOLINGS:
                    out[name][rows] = pooled[name]
                bar.update(len(rows))
    finally:
        model.train(was_training)
    return out


def _batches(
    order: np.ndarray, lengths: np.ndarray, max_batch: int, budget: int
) -> Iterator[np.ndarray]:
    """Consecutive runs of `order` whose padded size stays under the token budget."""
    start = 0
    while start < len(order):
        longest = lengths[order[start]]  # sorted longest first, so the first row sets the width
        size = max(1, min(max_batch, budget // max(1, longest)))
        yield order[start : start + size]
        start += size


def _run_batch(run_model, tokenizer, encoded, rows, device) -> dict[str, np.ndarray]:
    features = [{k: encoded[k][i] for k in encoded.keys()} for i in rows]
    try:
        return _forward(run_model, tokenizer, features, device)
    except torch.cuda.OutOfMemoryError:
        if len(rows) == 1:
            raise
        torch.cuda.empty_cache()
        half = len(rows) // 2
        first = _run_batch(run_model, tokenizer, encoded, rows[:half], device)
        second = _run_batch(run_model, tokenizer, encoded, rows[half:], device)
        return {k: np.concatenate([first[k], second[k]]) for k in first}


def _forward(run_model, tokenizer, features, device) -> dict[str, np.ndarray]:
    batch = tokenizer.pad(features, return_tensors="pt")
    on_cuda = device.type == "cuda"
    inputs = {
        k: (v.pin_memory() if on_cuda else v).to(device, non_blocking=on_cuda)
        for k, v in batch.items()
        if k in ("input_ids", "attention_mask", "token_type_ids")
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
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast(device_type="cuda", dtype=dtype)


def _prepare_model(model: torch.nn.Module, device: torch.device, mode: str) -> torch.nn.Module:
    if _model_device(model) != device:
        model.to(device)
    if mode == "exact":
        return model
    if device.type != "cpu":
        raise ValueError(
            "mode='fast' is a CPU mode; on a GPU the exact mode already runs in half precision."
        )
    return _fast_cpu_model(model)


def _fast_cpu_model(model: torch.nn.Module) -> torch.nn.Module:
    """An int8 copy of the model's linear layers for faster CPU inference."""
    import copy

    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


def _model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _model_max_length(model, tokenizer) -> int:
    limit = getattr(model.config, "max_position_embeddings", 512)
    return min(limit, tokenizer.model_max_length or limit)


def _in_ci() -> bool:
    return bool(os.environ.get("CI"))


def load_features(
    cfg, dataset, pooling: str = "cls", splits: Sequence[str] = ("train", "validation")
) -> dict[str, np.ndarray]:
    """Feature matrices of the course model for `splits`, from the cache when lecture 3 made them."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(cfg.model_name)
    model = AutoModel.from_pretrained(cfg.model_name).to(cfg.device)
    return {
        split: extract_hidden_states(
            dataset[split]["text"],
            model,
            tokenizer,
            pooling=pooling,
            device=cfg.device,
            cache_dir=cfg.cache_dir,
        )
        for split in splits
    }
