"""Fine-tuning: metrics and helpers, the command on any labelled folder, under torchrun and resumed."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value
from transformers import AutoTokenizer, EvalPrediction

from utils import finetune
from utils.config import offline_model_path
from utils.data import EMOTION_LABELS
from utils.models import mixed_precision

ROOT = Path(__file__).resolve().parents[1]
WORDS = {
    "sadness": ["lonely", "miserable", "heartbroken", "gloomy"],
    "joy": ["happy", "delighted", "cheerful", "glad"],
    "love": ["affectionate", "romantic", "tender", "caring"],
    "anger": ["furious", "annoyed", "irritated", "resentful"],
    "fear": ["scared", "anxious", "terrified", "nervous"],
    "surprise": ["amazed", "astonished", "shocked", "stunned"],
}
TEMPLATES = ["i feel {} today", "i am feeling so {} about work", "honestly i feel {} right now"]
N_TRAIN, BATCH_PER_PROCESS, PROCESSES = 64, 4, 2
STEPS_PER_EPOCH = N_TRAIN // (BATCH_PER_PROCESS * PROCESSES)  # 8: each process sees half the batch


def fake_tweets(n: int, offset: int = 0) -> list[str]:
    """`n` 'text;label' lines cycling through the six emotions."""
    lines = []
    for i in range(offset, offset + n):
        label = EMOTION_LABELS[i % 6]
        word = WORDS[label][(i // 6) % 4]
        lines.append(f"{TEMPLATES[(i // 24) % 3].format(word)};{label}\n")
    return lines


# Movie reviews as an instructor's own data: two labels, commas and quotes inside the texts.
REVIEW_LABELS = ["neg", "pos"]  # the order the command infers: sorted
REVIEWS = {
    "pos": ['a warm, funny film with a "brilliant" cast', "i laughed, cried, and laughed again"],
    "neg": ['two hours, "epic" only in length', "the plot drags, and the ending makes no sense"],
}


def fake_reviews(n: int, offset: int = 0) -> list[tuple[str, str]]:
    """`n` (text, label) pairs alternating between pos and neg."""
    rows = []
    for i in range(offset, offset + n):
        label = REVIEW_LABELS[i % 2]
        rows.append((f"{REVIEWS[label][(i // 2) % 2]} (review {i})", label))
    return rows


def write_reviews(folder: Path, test_rows: list[tuple[str, str]] | None = None) -> Path:
    """train/validation/test.csv with a text,label header, quoted as spreadsheets write them."""
    splits = {"train": fake_reviews(N_TRAIN), "validation": fake_reviews(8, 100)}
    for split, rows in {**splits, "test": test_rows or fake_reviews(8, 200)}.items():
        with open(folder / f"{split}.csv", "w", newline="", encoding="utf-8") as file:
            csv.writer(file).writerows([("text", "label"), *rows])
    return folder


@pytest.fixture(scope="module")
def reviews_dir(tmp_path_factory) -> Path:
    return write_reviews(tmp_path_factory.mktemp("reviews"))


@pytest.fixture
def offline_command(monkeypatch):
    """The environment of an in-process run of the command: offline, no COURSE_* settings."""
    for name in [name for name in os.environ if name.startswith("COURSE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def tweets_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tweets")
    for split, n, offset in [("train", N_TRAIN, 0), ("validation", 12, 100), ("test", 12, 200)]:
        (folder / f"{split}.txt").write_text("".join(fake_tweets(n, offset)), encoding="utf-8")
    return folder


def finetune_command(data_dir: Path, output: Path, *extra: str) -> list[str]:
    """`torchrun --standalone --nproc_per_node=2 -m utils.finetune ...` (torchrun is torch.distributed.run)."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",  # a free port of its own, so parallel runs on one host do not collide
        f"--nproc_per_node={PROCESSES}",
        "-m",
        "utils.finetune",
        "--model",
        str(offline_model_path()),
        "--data-dir",
        str(data_dir),
        "--output",
        str(output),
        "--batch-size",
        str(BATCH_PER_PROCESS),
        "--max-length",
        "16",
        *extra,
    ]


def command_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    return {**env, "HF_HUB_OFFLINE": "1", "CI": "1", "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def torchrun_run(reviews_dir, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    output = tmp_path_factory.mktemp("run") / "model"
    done = subprocess.run(
        finetune_command(reviews_dir, output, "--epochs", "1"),
        cwd=ROOT,
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, output


# --- fast unit tests ---------------------------------------------------------------------------


def test_compute_metrics_accuracy_and_weighted_f1():
    logits = np.eye(6)[[0, 1, 1, 2]]  # predicts 0, 1, 1, 2
    scores = finetune.compute_metrics(EvalPrediction(predictions=logits, label_ids=[0, 0, 1, 2]))
    # F1 per class: 2/3 (support 2), 2/3 (support 1), 1 (support 1); weighted: (4/3 + 2/3 + 1) / 4.
    assert scores == pytest.approx({"accuracy": 0.75, "f1": 0.75})


def test_distributed_without_gpu_reads_the_launcher_world_size(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not finetune.distributed_without_gpu()
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert finetune.distributed_without_gpu()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert not finetune.distributed_without_gpu()


def test_last_checkpoint_skips_incomplete_ones(tmp_path):
    assert finetune.last_checkpoint(tmp_path) is None
    for step, complete in [(5, True), (40, True), (120, False)]:
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        if complete:
            (folder / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-old").mkdir()
    assert finetune.last_checkpoint(tmp_path) == str(tmp_path / "checkpoint-40")


def test_epoch_history_pairs_train_and_validation_rows():
    log = [
        {"loss": 1.2, "epoch": 1.0, "step": 10},
        {"eval_loss": 0.9, "eval_accuracy": 0.6, "eval_f1": 0.5, "epoch": 1.0, "step": 10},
        {"loss": 0.7, "epoch": 2.0, "step": 20},
        {"eval_loss": 0.6, "eval_accuracy": 0.8, "eval_f1": 0.79, "epoch": 2.0, "step": 20},
        {"train_runtime": 3.0, "epoch": 2.0, "step": 20},
    ]
    history = finetune.epoch_history(log)
    assert [row["step"] for row in history] == [10, 20]
    assert history[1] == {
        "epoch": 2.0,
        "step": 20,
        "train_loss": 0.7,
        "validation_loss": 0.6,
        "accuracy": 0.8,
        "f1": 0.79,
    }


def test_default_hyperparameters_depend_on_the_model():
    packaged = finetune.default_hyperparameters(str(offline_model_path()))
    assert packaged == {"batch_size": 32, "learning_rate": 1e-4}
    assert finetune.default_hyperparameters("distilbert-base-uncased") == {
        "batch_size": 64,
        "learning_rate": 2e-5,
    }


def test_tokenize_truncates_without_padding():
    features = Features({"text": Value("string"), "label": ClassLabel(names=list(EMOTION_LABELS))})
    data = DatasetDict(
        {
            "train": Dataset.from_dict(
                {"text": ["i feel fine", "word " * 50], "label": [1, 0]}, features
            )
        }
    )
    tokenizer = AutoTokenizer.from_pretrained(offline_model_path())
    encoded = finetune.tokenize(data, tokenizer, max_length=8)["train"]
    assert "text" not in encoded.column_names and encoded["label"] == [1, 0]
    assert [len(ids) for ids in encoded["input_ids"]] == [5, 8]  # [CLS] i feel fine [SEP]; cut at 8


def test_training_arguments_follow_the_course_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    args = finetune.training_arguments(tmp_path, epochs=3, batch_size=16, learning_rate=3e-5)
    assert (args.eval_strategy, args.save_strategy) == ("epoch", "epoch")
    assert args.train_sampling_strategy == "group_by_length"
    assert args.per_device_train_batch_size == 16 and args.learning_rate == 3e-5
    assert args.per_device_eval_batch_size == 32 and args.num_train_epochs == 3
    assert args.report_to in ("none", [], ["none"])
    assert Path(args.output_dir) == tmp_path
    changed = finetune.training_arguments(
        tmp_path, epochs=1, batch_size=8, learning_rate=1e-4, save_strategy="no", max_steps=3
    )
    assert (changed.save_strategy, changed.max_steps, changed.eval_strategy) == ("no", 3, "epoch")


def test_command_overrides_checkpoint_every_n_steps(tmp_path, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setenv("COURSE_PRECISION", "fp32")  # bf16 on a CPU would set use_cpu itself
    overrides = finetune.command_overrides(max_steps=7, save_steps=5, progress=False)
    args = finetune.training_arguments(
        tmp_path, epochs=1, batch_size=8, learning_rate=1e-4, **overrides
    )
    assert (args.save_strategy, args.save_steps, args.eval_steps) == ("steps", 5, 5)
    assert (args.eval_strategy, args.logging_steps, args.max_steps) == ("steps", 5, 7)
    assert args.disable_tqdm and not args.use_cpu
    plain = finetune.training_arguments(
        tmp_path, epochs=1, batch_size=8, learning_rate=1e-4, **finetune.command_overrides()
    )
    assert (plain.save_strategy, plain.max_steps) == ("epoch", -1)


def test_load_classifier_names_the_labels_and_adds_a_new_head():
    model = finetune.load_classifier(str(offline_model_path()), EMOTION_LABELS)
    assert model.config.id2label == dict(enumerate(EMOTION_LABELS))
    assert model.config.label2id["surprise"] == 5
    assert model.classifier.out_features == len(EMOTION_LABELS)


def test_make_trainer_pads_each_batch_and_scores_with_accuracy_and_f1(tmp_path):
    from transformers import DataCollatorWithPadding

    features = Features({"text": Value("string"), "label": ClassLabel(names=list(EMOTION_LABELS))})
    split = Dataset.from_dict({"text": ["i feel fine", "i am scared"], "label": [1, 4]}, features)
    tokenizer = AutoTokenizer.from_pretrained(offline_model_path())
    encoded = finetune.tokenize(DatasetDict(train=split, validation=split), tokenizer)
    args = finetune.training_arguments(tmp_path, epochs=1, batch_size=2, learning_rate=1e-4)
    model = finetune.load_classifier(str(offline_model_path()), EMOTION_LABELS)
    trainer = finetune.make_trainer(model, tokenizer, encoded, args)
    assert isinstance(trainer.data_collator, DataCollatorWithPadding)
    assert (
        trainer.train_dataset is encoded["train"] and trainer.eval_dataset is encoded["validation"]
    )
    scores = trainer.evaluate()
    assert {"eval_accuracy", "eval_f1", "eval_loss"} <= set(scores)


# --- the command under torchrun ----------------------------------------------------------------


@pytest.mark.slow
def test_torchrun_two_processes_both_train(torchrun_run, monkeypatch):
    done, output = torchrun_run
    assert done.returncode == 0, done.stderr[-3000:]
    for rank in range(PROCESSES):
        assert f"rank {rank} of {PROCESSES}: steps 0 to {STEPS_PER_EPOCH}" in done.stdout
    metrics = json.loads((output / finetune.METRICS_FILE).read_text())
    assert metrics["world_size"] == PROCESSES
    # One process alone would need twice as many steps for the same epoch.
    assert metrics["global_step"] == STEPS_PER_EPOCH and metrics["start_step"] == 0
    # DDP on CPUs trains in bf16 too where the CPU has native bfloat16 (mixed_precision()).
    monkeypatch.delenv("COURSE_PRECISION", raising=False)  # as command_env() leaves it
    precision = "bf16" if mixed_precision()["bf16"] else "fp32"
    assert metrics["precision"] == precision and metrics["train_examples"] == N_TRAIN
    state = json.loads((output / "trainer_state.json").read_text())
    history = finetune.epoch_history(state["log_history"])
    assert [row["step"] for row in history] == [STEPS_PER_EPOCH]  # one evaluation
    assert set(metrics) >= {"eval_accuracy", "eval_f1", "eval_loss", "train_seconds"}


@pytest.mark.slow
def test_torchrun_writes_metrics_and_model_once(torchrun_run):
    done, output = torchrun_run
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count(f"model and {finetune.METRICS_FILE} written") == 1
    results = ["all_results.json", "eval_results.json", "train_results.json"]
    assert sorted(p.name for p in output.glob("*results.json*")) == results
    assert (output / "model.safetensors").is_file() and (output / "tokenizer.json").is_file()


@pytest.mark.slow
def test_saved_model_loads_in_a_pipeline(torchrun_run):
    from transformers import pipeline

    done, output = torchrun_run
    assert done.returncode == 0, done.stderr[-3000:]
    classifier = pipeline("text-classification", model=str(output), top_k=None, device="cpu")
    scores = classifier(["a funny film, and a warm one"])[0]
    assert sorted(s["label"] for s in scores) == REVIEW_LABELS
    assert sum(s["score"] for s in scores) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.slow
def test_killed_run_resumes_from_its_checkpoint(tweets_dir, tmp_path):
    output = tmp_path / "model"
    checkpoints = output
    total = 6
    command = finetune_command(tweets_dir, output, "--max-steps", str(total), "--save-steps", "2")
    run = subprocess.Popen(
        command,
        cwd=ROOT,
        env=command_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    try:
        while finetune.last_checkpoint(checkpoints) is None:
            assert run.poll() is None, "the run ended before writing a checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 4 minutes"
            time.sleep(0.05)
    finally:
        # As a scheduler ends a job: torchrun passes SIGTERM on to its workers, then waits for them.
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
    resumed_from = int(Path(finetune.last_checkpoint(checkpoints)).name.split("-")[1])
    assert 0 < resumed_from < total
    assert not (output / finetune.METRICS_FILE).exists()  # killed before the end

    done = subprocess.run(
        [*command, "--resume"],
        cwd=ROOT,
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((output / finetune.METRICS_FILE).read_text())
    assert metrics["start_step"] == resumed_from and metrics["global_step"] == total
    for rank in range(PROCESSES):
        assert f"rank {rank} of {PROCESSES}: steps {resumed_from} to {total}" in done.stdout


def test_command_options_default_to_the_course_settings():
    from utils.finetune import parse_args

    args = parse_args([])
    assert (args.model, args.data_dir, args.output, args.batch_size, args.lr) == (None,) * 5
    assert args.labels is None and parse_args(["--labels", "pos, neg"]).labels == ["pos", "neg"]
    assert (args.epochs, args.resume, args.max_steps) == (2.0, False, None)
    args = parse_args(["--epochs", "1", "--batch-size", "8", "--lr", "3e-5", "--resume"])
    assert (args.epochs, args.batch_size, args.lr, args.resume) == (1.0, 8, 3e-5, True)


# --- the command on a folder of one's own -------------------------------------------------------


def test_the_command_takes_label_names_from_the_data_or_from_labels(reviews_dir, tmp_path):
    reviews = finetune.load_data(reviews_dir)
    assert reviews["train"].features["label"].names == REVIEW_LABELS
    first_text, first_label = fake_reviews(1)[0]
    assert reviews["train"][0] == {"text": first_text, "label": REVIEW_LABELS.index(first_label)}
    assert '"brilliant" cast' in first_text or '"epic"' in first_text  # quotes survive the CSV
    reordered = finetune.load_data(reviews_dir, ["pos", "neg"])
    assert reordered["train"].features["label"].names == ["pos", "neg"]
    assert reordered["train"][0]["label"] == ["pos", "neg"].index(first_label)
    # A folder of other labels gets its own default output, so the emotion model stays.
    output = finetune.default_output(tmp_path, reviews_dir, REVIEW_LABELS)
    assert output == tmp_path / "models" / f"{reviews_dir.name}-classifier"
    emotions = finetune.default_output(tmp_path, reviews_dir, list(reversed(EMOTION_LABELS)))
    assert (
        emotions
        == finetune.default_output(tmp_path, None, [])
        == (tmp_path / "models" / "emotion-classifier")
    )


def test_the_command_stops_at_labels_it_cannot_learn(tmp_path, reviews_dir, offline_command):
    output = ["--output", str(tmp_path / "model")]
    folder = tmp_path / "only-in-test"
    folder.mkdir()
    write_reviews(folder, test_rows=[("fine, i guess", "pos"), ('"meh"', "meh")])
    with pytest.raises(SystemExit, match=r"test\.csv, row 1: label 'meh' does not occur in train"):
        finetune.main(["--data-dir", str(folder), *output])
    with pytest.raises(SystemExit, match="each label of the data once.*data has: neg, pos"):
        finetune.main(["--data-dir", str(reviews_dir), "--labels", "pos,good", *output])
    assert not (tmp_path / "model").exists()


@pytest.mark.slow
def test_the_command_fine_tunes_on_a_csv_folder_and_predicts_its_label_names(
    reviews_dir, tmp_path, offline_command, monkeypatch
):
    from transformers import AutoConfig, pipeline

    monkeypatch.chdir(tmp_path)  # away from the course and its emotion data: --data-dir is enough
    output = tmp_path / "model"
    options = ["--max-steps", "2", "--batch-size", "4", "--max-length", "16", "--no-progress"]
    model = ["--model", str(offline_model_path()), "--output", str(output)]
    assert (
        finetune.main([*model, "--data-dir", str(reviews_dir), "--labels", "pos,neg", *options])
        == 0
    )
    config = AutoConfig.from_pretrained(output)
    assert config.id2label == {0: "pos", 1: "neg"} and config.label2id == {"pos": 0, "neg": 1}
    classifier = pipeline("text-classification", model=str(output), device="cpu")
    answers = classifier(["a warm, funny film", 'a "dull" plot, and no ending'])
    assert {answer["label"] for answer in answers} <= {"pos", "neg"}
    scores = classifier("a warm, funny film", top_k=None)
    assert sorted(score["label"] for score in scores) == REVIEW_LABELS
    metrics = json.loads((output / finetune.METRICS_FILE).read_text())
    assert metrics["train_examples"] == N_TRAIN and metrics["global_step"] == 2


def test_the_readme_documents_every_option_of_the_command(capsys):
    with pytest.raises(SystemExit):
        finetune.parse_args(["--help"])
    options = set(re.findall(r"(--[a-z][a-z-]+)", capsys.readouterr().out)) - {"--help"}
    assert {"--data-dir", "--labels", "--output"} <= options
    table = (ROOT / "README.md").read_text()
    assert [option for option in sorted(options) if f"| `{option}` |" not in table] == []
