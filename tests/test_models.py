"""The tokenizer loader (the context size the model really has) and the choice of precision."""

import json
import shutil

import numpy as np
import pytest

from utils import models
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


@pytest.fixture
def cpu_only(monkeypatch):
    """No GPU or other accelerator, no COURSE_PRECISION: the Trainer would train on the CPU."""
    import torch

    monkeypatch.delenv("COURSE_PRECISION", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(models, "_other_accelerator", lambda: False)
    return monkeypatch


def with_cpu_features(monkeypatch, *features):
    monkeypatch.setattr(models, "native_cpu_bf16", lambda: frozenset(features))


BF16_ON_CPU = {"bf16": True, "fp16": False, "use_cpu": True}  # transformers wants use_cpu for it
FP32 = {"bf16": False, "fp16": False}


def test_mixed_precision_on_a_cpu_picks_bf16_where_it_is_native(cpu_only):
    with_cpu_features(cpu_only)
    assert models.mixed_precision() == FP32
    with_cpu_features(cpu_only, "avx512_bf16")  # AMD Zen 4 and later
    assert models.mixed_precision() == BF16_ON_CPU
    with_cpu_features(cpu_only, "avx512_bf16", "amx_bf16")  # Intel Sapphire Rapids and later
    assert models.mixed_precision() == BF16_ON_CPU


def test_course_precision_forces_fp32_or_bf16_and_refuses_what_the_cpu_lacks(cpu_only):
    with_cpu_features(cpu_only, "avx512_bf16", "amx_bf16")
    cpu_only.setenv("COURSE_PRECISION", "fp32")
    assert models.mixed_precision() == FP32
    cpu_only.setenv("COURSE_PRECISION", " BF16 ")
    assert models.mixed_precision() == BF16_ON_CPU
    with_cpu_features(cpu_only)
    with pytest.raises(ValueError, match="no native bfloat16.*unset COURSE_PRECISION"):
        models.mixed_precision()
    cpu_only.setenv("COURSE_PRECISION", "fp8")
    with pytest.raises(ValueError, match="'fp8' is not one of fp32, bf16"):
        models.mixed_precision()
    cpu_only.setenv("COURSE_PRECISION", "auto")
    assert models.mixed_precision() == FP32


def test_mixed_precision_on_cuda_is_bf16_or_fp16_unless_fp32_is_asked(monkeypatch):
    import torch

    monkeypatch.delenv("COURSE_PRECISION", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *args: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda **kwargs: False)
    assert models.mixed_precision() == {"bf16": False, "fp16": True}  # a T4
    monkeypatch.setenv("COURSE_PRECISION", "bf16")
    with pytest.raises(ValueError, match="Tesla T4.*no native"):
        models.mixed_precision()
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda **kwargs: True)
    assert models.mixed_precision() == {"bf16": True, "fp16": False}
    monkeypatch.setenv("COURSE_PRECISION", "fp32")
    assert models.mixed_precision() == FP32


def test_native_cpu_bf16_reads_torch_or_else_the_kernels_cpu_flags(monkeypatch, tmp_path):
    import torch

    capabilities = {"avx2": True, "avx512_bf16": True, "amx_bf16": False, "amx_tile": False}
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: capabilities)
    assert models.native_cpu_bf16() == {"avx512_bf16"}
    monkeypatch.delattr(torch.cpu, "get_capabilities")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_bf16 amx_tile avx512_bf16\n\n"
        "processor\t: 1\nflags\t\t: fpu\n"
    )
    monkeypatch.setattr(models, "CPUINFO", cpuinfo)
    assert models.native_cpu_bf16() == {"avx512_bf16", "amx_bf16"}
    monkeypatch.setattr(models, "CPUINFO", tmp_path / "missing")  # not Linux
    assert models.native_cpu_bf16() == frozenset()


def test_the_trainer_runs_a_bf16_step_on_the_cpu(cpu_only, tmp_path):
    """With the flags mixed_precision() gives on an AMX CPU, the Trainer trains under bf16 autocast."""
    import torch
    from datasets import Dataset
    from transformers import BertConfig, BertForSequenceClassification, Trainer

    from utils.finetune import training_arguments

    with_cpu_features(cpu_only, "amx_bf16")  # autocast runs on any CPU; natively only on some
    config = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=3,
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    dtypes = set()
    model.bert.encoder.layer[0].intermediate.dense.register_forward_hook(
        lambda module, inputs, output: dtypes.add(output.dtype)
    )
    rows = {"input_ids": [[2, 5 + i % 7, 9, 3] for i in range(8)], "labels": [0, 1, 2, 0] * 2}
    args = training_arguments(
        tmp_path,
        epochs=1,
        batch_size=4,
        learning_rate=1e-3,
        max_steps=2,
        **dict.fromkeys(["eval_strategy", "logging_strategy", "save_strategy"], "no"),
    )
    assert (args.bf16, args.fp16, args.use_cpu) == (True, False, True)
    trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_dict(rows))
    result = trainer.train()
    assert trainer.state.global_step == 2
    assert dtypes == {torch.bfloat16}  # the forward pass ran in bf16
    assert np.isfinite(result.training_loss)
    assert next(model.parameters()).dtype == torch.float32  # the weights stay fp32
