"""Fine-tuning with the Trainer: lecture 6's code, and the same code as a command.

The functions under "Lecture 6" are copies of the notebook's cells marked `#| export utils.finetune`
(tests/test_exports.py fails when they differ); the rest runs them from a terminal:

python -m utils.finetune --epochs 2 --output build/models/emotion-classifier
python -m utils.finetune --data-dir my-reviews --labels neg,pos   # any folder of labelled texts
torchrun --nproc_per_node=4 -m utils.finetune --epochs 2
accelerate launch -m utils.finetune --epochs 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from transformers import (
    AutoModelForSequenceClassification,
    DataCollatorWithPadding,
    EvalPrediction,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from .config import offline_model_path
from .defaults import EMOTION_LABELS, SEED
from .models import load_tokenizer, mixed_precision

if TYPE_CHECKING:  # only names in annotations: the Trainer runs without `datasets` (GPU report)
    from datasets import Dataset, DatasetDict

METRICS_FILE = "all_results.json"  # Trainer.save_metrics: train_results.json + eval_results.json
# The small sentence-embedding model learns the task faster with a larger step than BERT-sized ones.
PACKAGED_MODEL_SETTINGS = {"batch_size": 32, "learning_rate": 1e-4}  # measured (README, Results)
USUAL_SETTINGS = {"batch_size": 64, "learning_rate": 2e-5}  # DistilBERT and other BERT-sized models


# Lecture 6 ------------------------------------------------------------------------------------


def load_classifier(model_name: str, label_names: Sequence[str]):
    """The pretrained encoder with a new classification head, one output per label name."""
    return AutoModelForSequenceClassification.from_pretrained(
        model_name,
        num_labels=len(label_names),
        id2label=dict(enumerate(label_names)),  # 0 -> "sadness", ...: predictions carry names
        label2id={name: i for i, name in enumerate(label_names)},
    )


def tokenize(dataset: Dataset | DatasetDict, tokenizer, max_length: int | None = None):
    """Token ids of every text, truncated to the model's limit but not padded."""

    def encode(batch: dict) -> dict:
        return tokenizer(batch["text"], truncation=True, max_length=max_length)

    return dataset.map(encode, batched=True, remove_columns=["text"])


def compute_metrics(prediction: EvalPrediction) -> dict[str, float]:
    """Accuracy and class-weighted F1 from the logits the Trainer collected."""
    predicted = np.argmax(prediction.predictions, axis=-1)
    labels = prediction.label_ids
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "f1": float(f1_score(labels, predicted, average="weighted")),
    }


def training_arguments(
    output_dir: str | os.PathLike,
    *,
    epochs: float,
    batch_size: int,
    learning_rate: float,
    seed: int = SEED,
    **overrides,
) -> TrainingArguments:
    """The course's Trainer settings; `overrides` replaces or adds any TrainingArguments field."""
    settings = {
        "output_dir": str(output_dir),  # checkpoints go here
        "num_train_epochs": epochs,
        "per_device_train_batch_size": batch_size,
        "per_device_eval_batch_size": 2 * batch_size,  # no gradients to keep: twice as many fit
        "learning_rate": learning_rate,
        "weight_decay": 0.01,
        "eval_strategy": "epoch",  # score on validation after every epoch
        "logging_strategy": "epoch",  # and log the training loss at the same moments
        "save_strategy": "epoch",  # a checkpoint per epoch, to resume an interrupted run
        "save_total_limit": 2,
        "train_sampling_strategy": "group_by_length",  # similar lengths per batch: less padding
        **mixed_precision(),  # bf16 or fp16 on a GPU; bf16 on a CPU with native bfloat16, else fp32
        "dataloader_pin_memory": torch.cuda.is_available(),  # only helps copies to a GPU
        "seed": seed,
        "report_to": "none",  # no experiment-tracking service
    }
    return TrainingArguments(**{**settings, **overrides})


def make_trainer(model, tokenizer, encoded: DatasetDict, args: TrainingArguments) -> Trainer:
    """A Trainer that learns from encoded["train"] and scores on encoded["validation"]."""
    return Trainer(
        model=model,
        args=args,
        train_dataset=encoded["train"],
        eval_dataset=encoded["validation"],
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),  # pads each batch to its longest tweet
        compute_metrics=compute_metrics,
    )


# The command ----------------------------------------------------------------------------------


def default_hyperparameters(model_name: str) -> dict[str, float]:
    """Batch size and learning rate for `model_name`: measured for the packaged model, usual otherwise."""
    try:
        packaged = Path(model_name).resolve() == offline_model_path().resolve()
    except RuntimeError:  # the offline model is not installed, so it is not this one
        packaged = False
    return dict(PACKAGED_MODEL_SETTINGS if packaged else USUAL_SETTINGS)


def distributed_without_gpu() -> bool:
    """Whether a launcher (torchrun, accelerate launch) started several processes on a CPU-only host."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available()


def command_overrides(
    max_steps: int | None = None, save_steps: int | None = None, progress: bool = True
) -> dict:
    """What the command adds to lecture 6's settings: a step limit, step checkpoints, launchers."""
    overrides = {
        "max_steps": max_steps or -1,
        "disable_tqdm": not progress,
        "ddp_find_unused_parameters": False,  # every weight takes part; skips a graph walk per step
        # transformers 5 takes these models for ones that average their loss over all processes and
        # multiplies their per-process mean by the number of processes; DDP already averages gradients.
        "average_tokens_across_devices": False,
    }
    if distributed_without_gpu():
        # Without this, accelerate treats each CPU process of a torchrun launch as a separate run.
        overrides["use_cpu"] = True  # (mixed_precision() sets it too when it picks bf16 on a CPU)
    if save_steps:  # evaluate, log and checkpoint together every `save_steps` steps
        for moment in ("eval", "logging", "save"):
            overrides[f"{moment}_strategy"] = "steps"
            overrides[f"{moment}_steps"] = save_steps
    return overrides


@dataclass
class FineTuneResult:
    """What one run of the command produced; `output_dir` holds the model, checkpoints and metrics."""

    output_dir: Path
    metrics: dict[str, float]  # validation metrics of the final model
    history: list[dict]  # one row per evaluation: epoch, step, losses, accuracy, F1
    train_seconds: float  # of this run (a resumed run counts only its own part)
    trainable_parameters: int
    world_size: int
    start_step: int  # 0, or the checkpoint step a resumed run continued from
    global_step: int
    trainer: Trainer = field(repr=False)


class StepRecorder(TrainerCallback):
    """Remembers the step a run started from: 0, or the step of the checkpoint it resumed."""

    start_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.start_step = state.global_step


def fine_tune(
    model_name: str,
    dataset: DatasetDict,
    output_dir: str | os.PathLike,
    *,
    epochs: float = 2,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    max_steps: int | None = None,
    save_steps: int | None = None,
    max_length: int | None = None,
    resume: bool = False,
    seed: int = SEED,
    progress: bool = True,
) -> FineTuneResult:
    """Lecture 6's fine-tuning, resumable and launchable: train, score, save model and metrics."""
    output_dir = Path(output_dir)
    defaults = default_hyperparameters(model_name)
    args = training_arguments(
        output_dir,  # checkpoint-N/ folders beside the final model, as in transformers' examples
        epochs=epochs,
        batch_size=batch_size or int(defaults["batch_size"]),
        learning_rate=learning_rate or defaults["learning_rate"],
        seed=seed,
        **command_overrides(max_steps, save_steps, progress),
    )
    set_seed(seed)  # the new classification head is drawn from the seeded generator
    model = load_classifier(model_name, dataset["train"].features["label"].names)
    tokenizer = load_tokenizer(model_name)
    # Under torchrun every process runs this; the main one fills any on-disk map cache first.
    with args.main_process_first(desc="tokenize"):
        encoded = tokenize(dataset, tokenizer, max_length)
    trainer = make_trainer(model, tokenizer, encoded, args)
    steps = StepRecorder()
    trainer.add_callback(steps)
    checkpoint = last_checkpoint(output_dir) if resume else None
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=checkpoint)
    train_seconds = time.perf_counter() - start
    history = epoch_history(trainer.state.log_history)
    result = FineTuneResult(
        output_dir=output_dir,
        metrics=final_metrics(trainer, history),
        history=history,
        train_seconds=train_seconds,
        trainable_parameters=model.num_parameters(only_trainable=True),
        world_size=args.world_size,
        start_step=steps.start_step,
        global_step=trainer.state.global_step,
        trainer=trainer,
    )
    # save_model writes only on the main process (and gathers shards first under FSDP or DeepSpeed).
    trainer.save_model(str(output_dir))
    save_metrics(result, model_name, len(dataset["train"]))
    return result


def last_checkpoint(folder: str | os.PathLike) -> str | None:
    """The newest complete checkpoint in `folder` (one whose trainer state was written), or None."""
    complete = [
        path
        for path in Path(folder).glob("checkpoint-*")
        if path.name.removeprefix("checkpoint-").isdigit()
        and (path / "trainer_state.json").is_file()
    ]
    if not complete:
        return None
    return str(max(complete, key=lambda path: int(path.name.removeprefix("checkpoint-"))))


def epoch_history(log_history: list[dict]) -> list[dict]:
    """One row per evaluation of the Trainer's log: epoch, step, train and validation loss, metrics."""
    train_loss = {row["step"]: row["loss"] for row in log_history if "loss" in row}
    return [
        {
            "epoch": row["epoch"],
            "step": row["step"],
            "train_loss": train_loss.get(row["step"]),
            "validation_loss": row["eval_loss"],
            "accuracy": row["eval_accuracy"],
            "f1": row["eval_f1"],
        }
        for row in log_history
        if "eval_accuracy" in row
    ]


def final_metrics(trainer: Trainer, history: list[dict]) -> dict[str, float]:
    """Validation loss, accuracy and F1 at the last step (reused when the last evaluation was there)."""
    if history and history[-1]["step"] == trainer.state.global_step:
        last = history[-1]
        return {"loss": last["validation_loss"], "accuracy": last["accuracy"], "f1": last["f1"]}
    scores = trainer.evaluate()
    return {name: scores[f"eval_{name}"] for name in ("loss", "accuracy", "f1")}


def save_metrics(result: FineTuneResult, model_name: str, train_examples: int) -> Path:
    """The run's settings and scores through the Trainer (main process only): `*_results.json`."""
    trainer, args = result.trainer, result.trainer.args
    settings = {
        "model": model_name,
        "train_examples": train_examples,
        "world_size": result.world_size,
        "precision": "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32",
        "epochs": args.num_train_epochs,
        "batch_size_per_device": args.per_device_train_batch_size,
        "learning_rate": args.learning_rate,
        "max_steps": args.max_steps,
        "start_step": result.start_step,
        "global_step": result.global_step,
        "train_seconds": round(result.train_seconds, 2),
        "trainable_parameters": result.trainable_parameters,
    }
    trainer.save_metrics("train", settings)
    trainer.save_metrics("eval", {f"eval_{name}": value for name, value in result.metrics.items()})
    trainer.save_state()  # trainer_state.json: the whole log, from which epoch_history reads rows
    return result.output_dir / METRICS_FILE


def load_data(
    data_dir: str | os.PathLike | None,
    label_names: Sequence[str] | None = None,
    subset: int | None = None,
    seed: int = SEED,
) -> DatasetDict:
    """The emotion tweets from the Hub (`data_dir` None) or any labelled folder, names as given."""
    # Imported here: the Trainer code above runs where `datasets` is not installed (GPU report).
    from .data import load_emotion, load_text_folder, reorder_labels, take_subset

    dataset = load_emotion(None) if data_dir is None else load_text_folder(data_dir)
    if label_names:
        dataset = reorder_labels(dataset, label_names)
    return take_subset(dataset, subset, seed=seed) if subset else dataset


def default_output(
    build_dir: Path, data_dir: str | os.PathLike | None, label_names: Sequence[str]
) -> Path:
    """models/emotion-classifier for the emotion tweets, models/FOLDER-classifier for other labels."""
    if data_dir is None or set(label_names) == set(EMOTION_LABELS):
        return build_dir / "models" / "emotion-classifier"
    return build_dir / "models" / f"{Path(data_dir).resolve().name}-classifier"


def label_list(text: str) -> list[str]:
    """`--labels neg,pos` as ["neg", "pos"]."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give the label names separated by commas, e.g. neg,pos")
    return names


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command's options; unset ones fall back to the course settings (COURSE_* variables)."""
    parser = argparse.ArgumentParser(
        prog="python -m utils.finetune",
        description="Fine-tune the course model on the emotion tweets or on any folder of "
        "labelled texts.",
    )
    parser.add_argument(
        "--model", help="Hub id or local folder (default: COURSE_MODEL or the course model)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="folder of train/validation/test files (.txt with 'text;label' lines, .csv or .jsonl "
        "with text and label columns), any labels (default: COURSE_DATA_DIR, else the emotion "
        "tweets from the Hub or a local copy)",
    )
    parser.add_argument(
        "--labels",
        type=label_list,
        metavar="NAMES",
        help="the data's label names, comma-separated, in the order of the model's ids, e.g. "
        "neg,pos (default: from the data: the six emotions in the course's order, other labels "
        "sorted)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="folder for the model, checkpoints and *_results.json (default: "
        "build/models/emotion-classifier, or build/models/FOLDER-classifier for other labels)",
    )
    parser.add_argument(
        "--epochs", type=float, default=2.0, help="passes over the training split (default: 2)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        help=f"per process (default: {PACKAGED_MODEL_SETTINGS['batch_size']} for the packaged "
        f"model, else {USUAL_SETTINGS['batch_size']})",
    )
    parser.add_argument(
        "--lr",
        type=float,
        help=f"learning rate (default: {PACKAGED_MODEL_SETTINGS['learning_rate']:g} for the "
        f"packaged model, else {USUAL_SETTINGS['learning_rate']:g})",
    )
    parser.add_argument(
        "--subset", type=int, help="number of training examples (default: COURSE_SUBSET or all)"
    )
    parser.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    parser.add_argument(
        "--save-steps", type=int, help="evaluate and checkpoint every N steps (default: each epoch)"
    )
    parser.add_argument("--max-length", type=int, help="truncate texts to this many tokens")
    parser.add_argument(
        "--resume", action="store_true", help="continue from the last checkpoint in --output"
    )
    parser.add_argument(
        "--seed", type=int, default=SEED, help="seed for the new head and the shuffling"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="log lines instead of a progress bar"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one fine-tuning; every process of a distributed launch calls this."""
    from .config import setup

    args = parse_args(argv)
    main_process = int(os.environ.get("RANK", "0")) == 0
    cfg = setup(seed=args.seed, verbose=main_process, data_dir=args.data_dir)
    model = args.model or cfg.model_name
    data_dir = cfg.data_dir  # --data-dir, else COURSE_DATA_DIR, else the Hub or the local copy
    try:
        dataset = load_data(data_dir, args.labels, args.subset or cfg.subset, args.seed)
    except (FileNotFoundError, ValueError) as error:  # a problem of the data: no traceback
        raise SystemExit(f"python -m utils.finetune: {error}") from None
    names = dataset["train"].features["label"].names
    if main_process:
        print(f"labels       : {', '.join(names)} ({len(dataset['train']):,} training examples)")
    result = fine_tune(
        model,
        dataset,
        args.output or default_output(cfg.build_dir, data_dir, names),
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        max_steps=args.max_steps,
        save_steps=args.save_steps,
        max_length=args.max_length,
        resume=args.resume,
        seed=args.seed,
        progress=not (args.no_progress or cfg.in_ci),
    )
    rank = result.trainer.args.process_index
    print(
        f"rank {rank} of {result.world_size}: steps {result.start_step} to {result.global_step} "
        f"in {result.train_seconds:.1f} s",
        flush=True,
    )
    if result.trainer.is_world_process_zero():
        print(
            f"validation accuracy {result.metrics['accuracy']:.4f}, weighted F1 {result.metrics['f1']:.4f}; "
            f"model and {METRICS_FILE} written to {result.output_dir}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
