"""The tokenizer loader: the context size the model really has, whatever the tokenizer files say."""

import json
import shutil

from utils.config import offline_model_path
from utils.models import context_size, load_tokenizer


def test_a_tokenizer_without_a_limit_gets_the_models_positions(tmp_path):
    # Like DistilBERT's files on the Hub: tokenizer_config.json states no model_max_length.
    folder = tmp_path / "model"
    shutil.copytree(offline_model_path(), folder)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    del config["model_max_length"]
    (folder / "tokenizer_config.json").write_text(json.dumps(config))

    tokenizer = load_tokenizer(str(folder))
    assert tokenizer.model_max_length == 512
    ids = tokenizer(" ".join(["word"] * 700), truncation=True)["input_ids"]
    assert len(ids) == 512


def test_a_stated_limit_below_the_positions_is_kept():
    class Tokenizer:
        model_max_length = 128

    class Config:
        max_position_embeddings = 512

    assert context_size(Tokenizer(), Config()) == 128
    Tokenizer.model_max_length = int(1e30)
    assert context_size(Tokenizer(), Config()) == 512


def test_mixed_precision_is_fp32_on_cpu_and_bf16_or_fp16_on_cuda(monkeypatch):
    import torch

    from utils.models import mixed_precision

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert mixed_precision() == {"bf16": False, "fp16": False}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda **kwargs: False)
    assert mixed_precision() == {"bf16": False, "fp16": True}  # a T4
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda **kwargs: True)
    assert mixed_precision() == {"bf16": True, "fp16": False}
