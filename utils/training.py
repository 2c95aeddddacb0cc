"""Fine-tuning a sequence classifier with the Trainer (shared by lecture 6 and `python -m utils.finetune`)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset, DatasetDict
from sklearn.metrics import accuracy_score, f1_score
from torch.utils.data import SequentialSampler
from transformers import (
    AutoModelForSequenceClassification,
    DataCollatorWithPadding,
    EvalPrediction,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_pt_utils import LengthGroupedSampler

from .config import offline_model_path
from .models import load_tokenizer

METRICS_FILE = "metrics.json"
CHECKPOINT_DIR = "checkpoints"


@dataclass
class FineTuneResult:
    """What one fine-tuning run produced; `output_dir` holds the model, tokenizer and metrics.json."""

    output_dir: Path
    metrics: dict[str, float]  # validation metrics of the final model
    history: list[dict]  # one row per evaluation: epoch, step, losses, accuracy, F1
    train_seconds: float  # of this run (a resumed run counts only its own part)
    trainable_parameters: int
    world_size: int
    start_step: int  # 0, or the checkpoint step a resumed run continued from
    global_step: int
    trainer: Trainer = field(repr=False)


@dataclass
class Predictions:
    """Class probabilities, predicted ids and per-example loss for one split."""

    probabilities: np.ndarray  # (n, num_labels)
    labels: np.ndarray  # true label ids
    loss: np.ndarray  # cross-entropy of each example
    metrics: dict[str, float]

    @property
    def predicted(self) -> np.ndarray:
        """The most probable label id of each example."""
        return self.probabilities.argmax(axis=1)


def label_maps(label_names: Sequence[str]) -> tuple[dict[int, str], dict[str, int]]:
    """`id2label` and `label2id` for a model config, from the ClassLabel names."""
    return dict(enumerate(label_names)), {name: i for i, name in enumerate(label_names)}


def default_hyperparameters(model_name: str) -> dict[str, float]:
    """Batch size and learning rate for `model_name`: measured for the packaged model, usual otherwise."""
    try:
        packaged = Path(model_name).resolve() == offline_model_path().resolve()
    except RuntimeError:  # the offline model is not installed, so it is not this one
        packaged = False
    # The small sentence-embedding model learns the task faster with a larger step than BERT-sized ones.
    return (
        {"batch_size": 32, "learning_rate": 1e-4}
        if packaged
        else {"batch_size": 64, "learning_rate": 2e-5}
    )


def load_classifier(model_name: str, label_names: Sequence[str]):
    """A pretrained encoder with a fresh classification head for `label_names`, and its tokenizer."""
    id2label, label2id = label_maps(label_names)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_name, num_labels=len(label_names), id2label=id2label, label2id=label2id
    )
    return model, load_tokenizer(model_name)


def tokenize(dataset: Dataset | DatasetDict, tokenizer, max_length: int | None = None):
    """Token ids of every text, truncated but not padded (the collator pads each batch)."""
    max_length = max_length or tokenizer.model_max_length  # load_tokenizer sets the real limit

    def encode(batch: dict) -> dict:
        return tokenizer(batch["text"], truncation=True, max_length=max_length)

    return dataset.map(encode, batched=True, remove_columns=["text"])


def compute_metrics(prediction: EvalPrediction) -> dict[str, float]:
    """Accuracy and class-weighted F1 of the Trainer's logits."""
    predicted = np.argmax(prediction.predictions, axis=-1)
    labels = prediction.label_ids
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "f1": float(f1_score(labels, predicted, average="weighted")),
    }


def precision_flags() -> dict[str, bool]:
    """Mixed precision on CUDA (bf16 where supported, else fp16); fp32 elsewhere."""
    if not torch.cuda.is_available():
        return {"bf16": False, "fp16": False}
    bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
    return {"bf16": bf16, "fp16": not bf16}


def distributed_without_gpu() -> bool:
    """Whether a launcher (torchrun, accelerate launch) started several processes on a CPU-only host."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available()


def training_arguments(
    output_dir: str | os.PathLike,
    *,
    epochs: float = 2,
    batch_size: int = 32,
    learning_rate: float = 1e-4,
    weight_decay: float = 0.01,
    max_steps: int | None = None,
    save_steps: int | None = None,
    seed: int = 42,
    progress: bool = True,
) -> TrainingArguments:
    """The Trainer settings of the course: evaluate each epoch, checkpoint, length-grouped batches."""
    # Evaluate, log and checkpoint together: each epoch, or every `save_steps` steps.
    every = {"eval_steps": save_steps, "save_steps": save_steps, "logging_steps": save_steps}
    strategy = "steps" if save_steps else "epoch"
    return TrainingArguments(
        output_dir=str(Path(output_dir) / CHECKPOINT_DIR),
        num_train_epochs=epochs,
        max_steps=max_steps or -1,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=2 * batch_size,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        eval_strategy=strategy,
        save_strategy=strategy,
        logging_strategy=strategy,
        save_total_limit=2,  # the newest checkpoint is enough to resume; one more in case it is cut
        train_sampling_strategy="group_by_length",  # similar lengths per batch: less padding
        # Without this, accelerate treats each CPU process of a torchrun launch as a separate run.
        use_cpu=distributed_without_gpu(),
        ddp_find_unused_parameters=False,  # every weight takes part; skips a graph walk per step
        # transformers 5 takes these models for ones that average their loss over all processes and
        # multiplies their per-process mean by the number of processes; DDP already averages gradients.
        average_tokens_across_devices=False,
        dataloader_pin_memory=torch.cuda.is_available(),
        seed=seed,
        disable_tqdm=not progress,
        report_to="none",
        **precision_flags(),
        **(every if save_steps else {}),
    )


class CourseTrainer(Trainer):
    """A Trainer that evaluates and predicts in the data set's order."""

    def _get_eval_sampler(self, eval_dataset):
        # transformers 5 groups evaluation batches by length too when training does, so predict()
        # would return its rows shuffled; lecture 6 pairs predictions with texts and labels by row.
        sampler = super()._get_eval_sampler(eval_dataset)
        if isinstance(sampler, LengthGroupedSampler):
            return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None
        return sampler


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
    seed: int = 42,
    progress: bool = True,
) -> FineTuneResult:
    """Fine-tune `model_name` on the train split, evaluating on validation; save model and metrics."""
    output_dir = Path(output_dir)
    defaults = default_hyperparameters(model_name)
    args = training_arguments(
        output_dir,
        epochs=epochs,
        batch_size=batch_size or int(defaults["batch_size"]),
        learning_rate=learning_rate or defaults["learning_rate"],
        max_steps=max_steps,
        save_steps=save_steps,
        seed=seed,
        progress=progress,
    )
    set_seed(seed)  # the new classification head is drawn from the seeded generator
    model, tokenizer = load_classifier(model_name, dataset["train"].features["label"].names)
    # Under torchrun every process runs this; the main one fills any on-disk map cache first.
    with args.main_process_first(desc="tokenize"):
        encoded = tokenize(dataset, tokenizer, max_length)
    steps = StepRecorder()
    trainer = CourseTrainer(
        model=model,
        args=args,
        train_dataset=encoded["train"],
        eval_dataset=encoded["validation"],
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics,
        callbacks=[steps],
    )
    checkpoint = last_checkpoint(args.output_dir) if resume else None
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=checkpoint)
    train_seconds = time.perf_counter() - start
    history = epoch_history(trainer.state.log_history)
    result = FineTuneResult(
        output_dir=output_dir,
        metrics=final_metrics(trainer, history),
        history=history,
        train_seconds=train_seconds,
        trainable_parameters=count_trainable_parameters(model),
        world_size=args.world_size,
        start_step=steps.start_step,
        global_step=trainer.state.global_step,
        trainer=trainer,
    )
    # save_model writes only on the main process (and gathers shards first under FSDP or DeepSpeed).
    trainer.save_model(str(output_dir))
    if trainer.is_world_process_zero():
        write_metrics(result, model_name, len(dataset["train"]), args)
    return result


class StepRecorder(TrainerCallback):
    """Remembers the step a run started from: 0, or the step of the checkpoint it resumed."""

    start_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.start_step = state.global_step


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


def write_metrics(
    result: FineTuneResult, model_name: str, train_examples: int, args: TrainingArguments
) -> Path:
    """Write the run's settings and metrics to `output_dir/metrics.json` (atomically)."""
    record = {
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
        "validation": result.metrics,
        "history": result.history,
    }
    path = result.output_dir / METRICS_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def count_trainable_parameters(model: torch.nn.Module) -> int:
    """Number of parameters the optimizer updates."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def predict(trainer: Trainer, dataset: Dataset, max_length: int | None = None) -> Predictions:
    """Probabilities, per-example loss and metrics, row by row, of a `CourseTrainer`'s model."""
    output = trainer.predict(tokenize(dataset, trainer.processing_class, max_length))
    logits = torch.as_tensor(output.predictions).float()
    labels = torch.as_tensor(output.label_ids)
    loss = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    return Predictions(
        probabilities=logits.softmax(dim=-1).numpy(),
        labels=labels.numpy(),
        loss=loss.numpy(),
        metrics={
            "loss": float(loss.mean()),
            **compute_metrics(EvalPrediction(logits.numpy(), labels.numpy())),
        },
    )


def fit_and_score(
    classifier, X_train: np.ndarray, y_train, X_valid: np.ndarray, y_valid
) -> tuple[dict[str, float], np.ndarray]:
    """Fit a scikit-learn classifier on frozen features; its validation scores and predictions."""
    start = time.perf_counter()
    classifier.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    predicted = classifier.predict(X_valid)
    final = classifier[-1] if hasattr(classifier, "steps") else classifier
    weights = [getattr(final, name, None) for name in ("coef_", "intercept_")]
    scores = {
        "accuracy": float(accuracy_score(y_valid, predicted)),
        "f1_weighted": float(f1_score(y_valid, predicted, average="weighted", zero_division=0)),
        "f1_macro": float(f1_score(y_valid, predicted, average="macro", zero_division=0)),
        "fit_seconds": seconds,
        "trainable_parameters": sum(int(w.size) for w in weights if w is not None),
    }
    return scores, predicted
