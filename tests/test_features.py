"""Hidden-state extraction: order, pooling, padding, cache and the fast CPU mode, on the offline model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from datasets import Dataset
from transformers import AutoModel, AutoTokenizer

from utils import features
from utils.config import offline_model_path
from utils.features import FeatureCache, extract_hidden_states, hidden_states_map_fn

TEXTS = [
    "i feel wonderful today",
    "ok",
    "i am so angry about the train being late again, the third time this week, and nobody cares",
    "my heart is broken",
    "what a surprise to see you here after all these years",
    "scared",
]
LONG = " ".join(["i keep thinking about how strange and long this day has been"] * 8)


@pytest.fixture(scope="module")
def bert():
    path = str(offline_model_path())
    return AutoModel.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)


def one_by_one(texts, model, tokenizer) -> dict[str, np.ndarray]:
    """The plain computation: each text alone, no padding, no sorting."""
    rows = {"cls": [], "mean": []}
    for text in texts:
        with torch.no_grad():
            hidden = model(**tokenizer(text, return_tensors="pt")).last_hidden_state[0]
        rows["cls"].append(hidden[0].numpy())
        rows["mean"].append(hidden.mean(dim=0).numpy())
    return {k: np.stack(v) for k, v in rows.items()}


def extract(texts, bert, **kwargs) -> np.ndarray:
    model, tokenizer = bert
    return extract_hidden_states(texts, model, tokenizer, progress=False, **kwargs)


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_matches_unbatched_computation_in_input_order(bert, pooling):
    # A token budget of 40 forces several batches of different widths.
    features.TOKEN_BUDGET["cpu"], budget = 40, features.TOKEN_BUDGET["cpu"]
    try:
        batched = extract(TEXTS, bert, pooling=pooling)
    finally:
        features.TOKEN_BUDGET["cpu"] = budget
    expected = one_by_one(TEXTS, *bert)[pooling]
    assert batched.dtype == np.float32 and batched.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(batched, expected, atol=1e-5)


def test_order_is_restored(bert):
    forward = extract(TEXTS, bert, batch_size=2)
    backward = extract(TEXTS[::-1], bert, batch_size=2)
    np.testing.assert_allclose(forward, backward[::-1], atol=1e-5)


def test_padding_never_leaks_into_the_mean(bert):
    alone = extract(["i feel fine"], bert, pooling="mean")
    padded = extract(["i feel fine", LONG], bert, pooling="mean", batch_size=2)
    np.testing.assert_allclose(padded[0], alone[0], atol=1e-5)


def test_empty_input_gives_an_empty_matrix(bert):
    assert extract([], bert).shape == (0, 384)


def test_bad_arguments_say_what_is_allowed(bert):
    with pytest.raises(ValueError, match="pooling='max' is not one of: cls, mean"):
        extract(TEXTS, bert, pooling="max")
    with pytest.raises(ValueError, match="mode='turbo' is not one of: exact, fast"):
        extract(TEXTS, bert, mode="turbo")


def test_cache_hit_returns_the_array_without_running_the_model(bert, tmp_path, monkeypatch):
    first = extract(TEXTS, bert, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("hidden-*.npy"))) == 2  # both poolings from one pass
    model, _ = bert

    def refuse(*args, **kwargs):
        raise AssertionError("the model ran on a cache hit")

    monkeypatch.setattr(model, "forward", refuse)
    np.testing.assert_array_equal(extract(TEXTS, bert, cache_dir=tmp_path), first)
    assert extract(TEXTS, bert, cache_dir=tmp_path, pooling="mean").shape == first.shape


def test_cache_key_follows_texts_settings_and_weights(bert, tmp_path):
    model, _ = bert
    key = FeatureCache(tmp_path, model, TEXTS, 512, "cpu-fp32").path("cls")
    assert FeatureCache(tmp_path, model, TEXTS, 512, "cpu-fp32").path("cls") == key
    changed = [*TEXTS[:-1], "terrified"]
    assert FeatureCache(tmp_path, model, changed, 512, "cpu-fp32").path("cls") != key
    assert FeatureCache(tmp_path, model, ["a;b", "c"], 512, "cpu-fp32").path("cls") != (
        FeatureCache(tmp_path, model, ["a", "b;c"], 512, "cpu-fp32").path("cls")
    )
    assert FeatureCache(tmp_path, model, TEXTS, 64, "cpu-fp32").path("cls") != key
    assert FeatureCache(tmp_path, model, TEXTS, 512, "cpu-bf16").path("cls") != key
    assert FeatureCache(tmp_path, model, TEXTS, 512, "cuda-fp16-autocast").path("cls") != key
    assert FeatureCache(tmp_path, model, TEXTS, 512, "cpu-fp32").path("mean") != key
    tweaked = AutoModel.from_pretrained(str(offline_model_path()))
    with torch.no_grad():
        tweaked.encoder.layer[0].output.dense.weight.add_(1e-3)
    assert FeatureCache(tmp_path, tweaked, TEXTS, 512, "cpu-fp32").path("cls") != key


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong_shape"])
def test_damaged_cache_file_is_recomputed(bert, tmp_path, damage):
    expected = extract(TEXTS, bert, cache_dir=tmp_path)
    path = FeatureCache(tmp_path, bert[0], TEXTS, 512, "cpu-fp32").path("cls")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "garbage":
        path.write_bytes(b"not a numpy file at all")
    else:
        np.save(path, np.zeros((2, 384), np.float32))
    with pytest.warns(UserWarning, match="damaged cache file"):
        again = extract(TEXTS, bert, cache_dir=tmp_path)
    np.testing.assert_array_equal(again, expected)
    assert np.load(path).shape == expected.shape  # the file was rewritten
    assert not list(tmp_path.glob(".tmp-*"))


def test_out_of_memory_halves_the_batch_and_goes_on(bert, monkeypatch):
    expected = extract(TEXTS, bert)
    real_forward, sizes = features._forward, []

    def small_memory(run_model, tokenizer, texts, device, max_length):
        sizes.append(len(texts))
        if len(texts) > 2:
            raise torch.cuda.OutOfMemoryError("pretend the GPU is full")
        return real_forward(run_model, tokenizer, texts, device, max_length)

    monkeypatch.setattr(features, "_forward", small_memory)
    np.testing.assert_allclose(extract(TEXTS, bert), expected, atol=1e-5)
    assert sizes[:3] == [6, 3, 1] and max(sizes[3:]) <= 1


@pytest.mark.parametrize("recipe", ["fast-bf16", "fast-int8"])
def test_fast_mode_stays_close_to_exact(bert, recipe):
    exact = one_by_one(TEXTS, *bert)["mean"]
    fast = extract(TEXTS, bert, pooling="mean", mode=recipe)
    assert fast.shape == exact.shape and fast.dtype == np.float32
    cosine = (fast * exact).sum(1) / np.linalg.norm(fast, axis=1) / np.linalg.norm(exact, axis=1)
    # Measured on these texts: bf16 >= 0.9998, int8 >= 0.92 (on "ok"; 0.97-0.99 on longer texts).
    assert cosine.min() > (0.999 if recipe == "fast-bf16" else 0.9)
    assert next(bert[0].parameters()).dtype == torch.float32  # the caller's model is untouched


def test_fast_mode_is_the_exact_mode_off_the_cpu():
    assert features.resolve_mode("fast", torch.device("cuda")) == "exact"
    assert features.resolve_mode("fast-int8", torch.device("cuda")) == "exact"
    assert features.resolve_mode("exact", torch.device("cpu")) == "exact"
    assert features.resolve_mode("fast-int8", torch.device("cpu")) == "fast-int8"


def test_map_fn_works_with_dataset_map(bert):
    model, tokenizer = bert
    dataset = Dataset.from_dict({"text": TEXTS})
    encoded = dataset.map(lambda b: tokenizer(b["text"], padding=True), batched=True)
    encoded.set_format("torch", columns=["input_ids", "attention_mask", "token_type_ids"])
    mapped = encoded.map(hidden_states_map_fn(model, pooling="mean"), batched=True, batch_size=4)
    np.testing.assert_allclose(
        np.asarray(mapped["hidden_state"]), one_by_one(TEXTS, model, tokenizer)["mean"], atol=1e-5
    )


def test_load_features_reads_what_extraction_cached(bert, tmp_path):
    dataset = {
        "train": Dataset.from_dict({"text": TEXTS[:4]}),
        "test": Dataset.from_dict({"text": TEXTS[4:]}),
    }
    path = str(offline_model_path())
    cached = extract(TEXTS[:4], bert, pooling="mean", cache_dir=tmp_path)
    loaded = features.load_features(
        dataset, path, pooling="mean", splits=("train", "test"), cache_dir=tmp_path
    )
    assert sorted(loaded) == ["test", "train"] and loaded["test"].shape == (2, cached.shape[1])
    np.testing.assert_array_equal(loaded["train"], cached)
    assert len(list(tmp_path.rglob("*.npy"))) >= 2  # the test split was computed and cached too
