"""The course's GPU numbers in one command (`make gpu-report`; `make gpu-kit` packs it for a GPU node).

On all tweets of the emotion data (or `--tweets N` of them) it measures, with randomly initialised
models of the two course models' shapes, built on the spot (their speed is the real models' speed,
and nothing has to be downloaded):

- hidden-state extraction with `utils.extract_hidden_states`, in fp32 and as the course runs it on a
  GPU (under autocast), against the textbook method (the whole split padded to its longest tweet,
  batches of 1,000, fp32) on the same model: tweets per second, peak memory, speed-up;
- fine-tuning throughput with lecture 6's Trainer code (`training_arguments`, `make_trainer`) for the
  DistilBERT-shaped model, at lecture 6's batch (64) and lecture 7's (16), plus evaluation speed;
- a projection of the course's GPU work from those rates (stated as a projection, with its parts).

It writes report.json and report.md to `--out`, after every section, so a run cut short still leaves
what it measured. It needs torch, transformers>=5, accelerate, scikit-learn and numpy, and neither
`datasets` nor the offline model package: the tweets are read from their text files here, and the
tokenizer is built from the uncased BERT vocabulary (a vocab.txt) that both course models use.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from unittest import mock

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # the course checkout, or the unpacked kit: both hold utils/ and benchmarks/
sys.path[:0] = [str(ROOT), str(HERE)]  # utils, and extraction.py beside this file
from extraction import TEXTBOOK_BATCH, measure, padding_ratio  # noqa: E402

import utils  # noqa: E402
from utils import features  # noqa: E402
from utils.defaults import EMOTION_LABELS, EMOTION_SPLITS, SEED  # noqa: E402
from utils.finetune import USUAL_SETTINGS, make_trainer, training_arguments  # noqa: E402
from utils.models import mixed_precision  # noqa: E402

REPORT_JSON, REPORT_MD = "report.json", "report.md"
KIT_VOCAB = "vocab.txt"  # where the kit puts the vocabulary, beside utils/
MIN_TRANSFORMERS = 5  # TrainingArguments(train_sampling_strategy=...) in lecture 6's code
FINETUNE_WARMUP_STEPS = 10  # first steps (CUDA kernels, allocator) are left out of the rate
# The two course models' shapes; DistilBertConfig()'s defaults are distilbert-base-uncased's.
SHAPES = {
    "distilbert": "DistilBERT-shaped (distilbert-base-uncased: 768 wide, 6 layers, 12 heads)",
    "minilm": "MiniLM-shaped (all-MiniLM-L6-v2: 384 wide, 6 layers, 12 heads)",
}
MINILM_SHAPE = {
    "hidden_size": 384,
    "num_hidden_layers": 6,
    "num_attention_heads": 12,
    "intermediate_size": 1536,
    "vocab_size": 30522,
}
# What the notebooks run on a GPU (online profile: DistilBERT, batch 64), for the projection.
LECTURE6_EPOCHS = 2  # notebooks/06_fine_tuning.ipynb, EPOCHS
LECTURE6_LR_CHECK = (4, 1000)  # 06: two learning rates x two seeds, one epoch on 1,000 tweets
# 07: random budgets of training tweets (the last: all of them), 3 seeds; fine-tuning learns on four
# fifths of a budget for two epochs of batches of 16 (at least 100 steps, a multiple of 8) and scores
# the held-out fifth 8 times, then validation (notebooks/07_how_many_labels.ipynb, fine_tune_steps).
LECTURE7_BUDGETS, LECTURE7_SEEDS, LECTURE7_BATCH = (48, 192, 768, 3_072), 3, 16
LECTURE7_NLI = 200 * len(EMOTION_LABELS)  # 07, online: 200 tweets x 6 candidate labels
LECTURE3_SAMPLE = 3 * 200  # 03: the 200-tweet sample through map, extraction, truncation


def lecture7_curve(train: int, valid: int) -> tuple[int, int, int]:
    """Lecture 7's fine-tuning runs on a GPU: (runs, training steps, tweets scored), all seeds."""
    budgets = [b for b in LECTURE7_BUDGETS if b < train] + [train]
    steps = scored = 0
    for budget in budgets:
        held_out = math.ceil(0.2 * budget)
        steps += 8 * math.ceil(max(100, 2 * (budget - held_out) / LECTURE7_BATCH) / 8)
        scored += valid + 8 * held_out
    return len(budgets) * LECTURE7_SEEDS, LECTURE7_SEEDS * steps, LECTURE7_SEEDS * scored


def main(argv: Sequence[str] | None = None) -> dict:
    """Run the report; returns what it wrote to report.json."""
    check_transformers()
    args = parse_args(argv)
    device = pick_device(args.device)
    if device.type == "cpu" and not (args.tweets and args.layers):
        print(
            "No GPU: on a CPU the full report takes hours. A quick check of the code: "
            "--device cpu --tweets 300 --steps 3 --layers 1",
            flush=True,
        )
    splits = read_tweets(args.data)
    sizes = {split: len(texts) for split, (texts, _) in splits.items()}
    splits = take_share(splits, args.tweets)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    report = {
        "complete": False,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command_line(sys.argv[1:] if argv is None else argv),
        "machine": machine_info(device),
        "data": {
            "folder": str(args.data),
            "split_sizes": sizes,
            "tweets_used": {split: len(texts) for split, (texts, _) in splits.items()},
        },
        "settings": {
            "repeat": args.repeat,
            "steps": args.steps,
            "batch_sizes": [args.batch_size, args.small_batch_size],
            "textbook_batch": TEXTBOOK_BATCH,
            "layers": args.layers,  # None: the real shapes' 6 layers
        },
        "extraction": {},
    }
    texts = [text for split in EMOTION_SPLITS for text in splits[split][0]]
    for shape in args.models:
        say(start, f"extraction, {SHAPES[shape]}, {len(texts):,} tweets")
        report["extraction"][shape] = extraction_report(
            shape, texts, args.vocab, device, args.repeat, args.layers
        )
        write_report(report, out)
    say(start, f"fine-tuning, {SHAPES['distilbert']}, {args.steps} steps per batch size")
    report["fine_tuning"] = fine_tuning_report(splits, args, device)
    report["projection"] = projection(report, sizes)
    report["seconds"] = round(time.perf_counter() - start, 1)
    report["complete"] = True
    write_report(report, out)
    say(start, f"written to {out / REPORT_JSON} and {out / REPORT_MD}")
    return report


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options; the defaults run the whole report on all tweets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=default_data_dir(),
        help="folder of train/validation/test.txt (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "build" / "gpu-report",
        help="folder for report.json and report.md (default: %(default)s)",
    )
    parser.add_argument(
        "--vocab", type=Path, default=None, help="uncased BERT vocab.txt (default: kit or package)"
    )
    parser.add_argument("--device", help="cuda or cpu (default: cuda when there is one)")
    parser.add_argument("--tweets", type=int, help="use this many tweets, shared out by split")
    parser.add_argument(
        "--steps",
        type=int,
        default=200,
        help="fine-tuning steps per batch size (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=USUAL_SETTINGS["batch_size"],
        help="lecture 6's batch for DistilBERT (default: %(default)s)",
    )
    parser.add_argument(
        "--small-batch-size",
        type=int,
        default=LECTURE7_BATCH,
        help="lecture 7's batch (default: %(default)s)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="runs per extraction; the fastest counts (default: %(default)s)",
    )
    parser.add_argument(
        "--layers",
        type=int,
        help="fewer layers than the real shapes: a quick check of the code, not the course's speed",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=list(SHAPES),
        default=list(SHAPES),
        help="shapes for extraction (default: both)",
    )
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error("--steps must be at least 2: the rate is timed after the first step.")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1.")
    if args.batch_size == args.small_batch_size:
        parser.error("--batch-size and --small-batch-size must differ: each is timed on its own.")
    if args.tweets is not None and args.tweets < 3 * max(args.batch_size, args.small_batch_size):
        parser.error("--tweets must leave each split a few tweets and a full training batch.")
    args.vocab = args.vocab or default_vocab()
    if not args.vocab.is_file():
        parser.error(f"no vocabulary at {args.vocab}: pass --vocab PATH/vocab.txt.")
    return args


def default_data_dir() -> Path:
    """COURSE_DATA_DIR, else data/emotion (the kit's place), else ../shared/data/emotion."""
    candidates = [ROOT / "data" / "emotion", ROOT.parent / "shared" / "data" / "emotion"]
    if os.environ.get("COURSE_DATA_DIR"):
        candidates.insert(0, Path(os.environ["COURSE_DATA_DIR"]))
    return next((path for path in candidates if path.is_dir()), candidates[0])


def default_vocab() -> Path:
    """The kit's vocab.txt, else the one in the installed offline model package."""
    if (ROOT / KIT_VOCAB).is_file():
        return ROOT / KIT_VOCAB
    try:
        from utils.config import offline_model_path

        return offline_model_path() / "vocab.txt"
    except RuntimeError:
        return ROOT / KIT_VOCAB


def command_line(argv: Sequence[str]) -> str:
    """The command that reproduces this run, as it is typed in the course or kit folder."""
    return shlex.join(["python", "benchmarks/gpu_report.py", *argv])


def say(start: float, message: str) -> None:
    print(f"[{time.perf_counter() - start:6.1f} s] {message}", flush=True)


# Inputs ---------------------------------------------------------------------------------------


def check_transformers() -> None:
    """Stop at once, with what to do, when the installed transformers predates the course's."""
    import transformers

    major = int(transformers.__version__.split(".")[0])
    if major < MIN_TRANSFORMERS:
        raise SystemExit(
            f"transformers {transformers.__version__} is installed; the course's Trainer code needs "
            f"transformers>={MIN_TRANSFORMERS}. Install it (pip install 'transformers>=5', or from "
            "wheels brought along: pip install --no-index --find-links WHEELS transformers)."
        )


def pick_device(requested: str | None) -> torch.device:
    """`requested`, or cuda when torch sees a GPU, else cpu."""
    if requested is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {requested}: torch sees no GPU here. Use --device cpu.")
    if device.type not in ("cuda", "cpu"):
        raise SystemExit(f"--device {requested}: the report runs on cuda or cpu.")
    return device


def read_tweets(folder: Path) -> dict[str, tuple[list[str], list[int]]]:
    """Texts and label ids of the three `text;label` files in `folder`, without `datasets`."""
    missing = [s for s in EMOTION_SPLITS if not (Path(folder) / f"{s}.txt").is_file()]
    if missing:
        raise SystemExit(
            f"No {', '.join(f'{s}.txt' for s in missing)} in {folder}: pass --data with a folder "
            "of train.txt, validation.txt and test.txt (text;label lines), e.g. ../shared/data/emotion."
        )
    splits = {}
    for split in EMOTION_SPLITS:
        path = Path(folder) / f"{split}.txt"
        texts, labels = [], []
        for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
            if not line.strip():
                continue
            text, _, label = line.rpartition(";")  # tweets may hold ';': the label follows the last
            if not text.strip() or label.strip() not in EMOTION_LABELS:
                raise SystemExit(
                    f"{path}:{number}: expected 'text;label' with a label among "
                    f"{', '.join(EMOTION_LABELS)}, got {line[:60]!r}. Fix or remove the line."
                )
            texts.append(text)
            labels.append(EMOTION_LABELS.index(label.strip()))
        if not texts:
            raise SystemExit(f"{path} holds no tweets.")
        splits[split] = (texts, labels)
    return splits


def take_share(splits: dict, n: int | None) -> dict:
    """The first tweets of each split, `n` in all, shared out in proportion to the split sizes."""
    total = sum(len(texts) for texts, _ in splits.values())
    if n is None or n >= total:
        return splits
    shares = {split: max(1, round(n * len(texts) / total)) for split, (texts, _) in splits.items()}
    return {
        split: (texts[: shares[split]], labels[: shares[split]])
        for split, (texts, labels) in splits.items()
    }


def build_tokenizer(vocab: Path, shape: str):
    """The uncased BERT WordPiece tokenizer of both course models, from its vocab.txt."""
    from transformers import BertTokenizerFast

    # DistilBERT's own tokenizer returns no token_type_ids (its model takes none); BERT's does.
    names = ["input_ids", "attention_mask"]
    if shape != "distilbert":
        names.append("token_type_ids")
    return BertTokenizerFast(
        vocab_file=str(vocab), do_lower_case=True, model_max_length=512, model_input_names=names
    )


def model_config(shape: str, layers: int | None = None, **fields):
    """The configuration of a course model's shape (random weights are drawn from it)."""
    from transformers import BertConfig, DistilBertConfig

    if shape == "distilbert":
        return DistilBertConfig(**fields, **({"n_layers": layers} if layers else {}))
    return BertConfig(
        **{**MINILM_SHAPE, **fields, **({"num_hidden_layers": layers} if layers else {})}
    )


def build_encoder(shape: str, device: torch.device, layers: int | None = None) -> torch.nn.Module:
    """A randomly initialised encoder of `shape`, seeded, in eval mode on `device`."""
    from transformers import AutoModel

    torch.manual_seed(SEED)
    return AutoModel.from_config(model_config(shape, layers)).to(device).eval()


# Extraction -----------------------------------------------------------------------------------


def textbook(texts: list[str], model, tokenizer, device: torch.device) -> np.ndarray:
    """The textbook method: all texts padded to the longest, batches of 1,000, fp32, [CLS]."""
    encoded = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    vectors = []
    with torch.no_grad():
        for start in range(0, len(texts), TEXTBOOK_BATCH):
            batch = {k: v[start : start + TEXTBOOK_BATCH].to(device) for k, v in encoded.items()}
            vectors.append(model(**batch).last_hidden_state[:, 0].float().cpu().numpy())
    return np.concatenate(vectors)


@contextlib.contextmanager
def without_autocast():
    """`extract_hidden_states` in fp32 on a GPU too, where the course runs it under autocast."""
    with mock.patch.object(features, "_autocast", lambda device: contextlib.nullcontext()):
        yield


def extraction_report(
    shape: str,
    texts: list[str],
    vocab: Path,
    device: torch.device,
    repeat: int,
    layers: int | None = None,
) -> dict:
    """Seconds, tweets/s, speed-up, peak memory and max |difference| of three methods, best of `repeat`."""
    tokenizer = build_tokenizer(vocab, shape)
    model = build_encoder(shape, device, layers)

    def ours(batch: list[str]) -> np.ndarray:
        return utils.extract_hidden_states(batch, model, tokenizer, device=device, progress=False)

    def ours_fp32(batch: list[str]) -> np.ndarray:
        with without_autocast():
            return ours(batch)

    methods: dict[str, tuple[str, Callable]] = {
        "textbook": (
            f"{device.type}-fp32",
            lambda batch: textbook(batch, model, tokenizer, device),
        ),
        "fp32": (f"{device.type}-fp32", ours_fp32),
        "autocast": (features.numeric_precision("exact", device), ours),
    }
    for _, run in methods.values():  # warm-up: kernels, cuBLAS handles, thread pools
        run(texts[:64])
    rows = {
        name: {"precision": precision, "seconds": math.inf}
        for name, (precision, _) in methods.items()
    }
    outputs = {}
    for _ in range(repeat):
        for name, (_, run) in methods.items():
            seconds, _, peak, outputs[name] = measure(lambda run=run: run(texts), device)
            if seconds < rows[name]["seconds"]:
                rows[name].update(seconds=seconds, peak_mib=peak)
    for name, row in rows.items():
        row["tweets_per_s"] = len(texts) / row["seconds"]
        row["speedup"] = rows["textbook"]["seconds"] / row["seconds"]
        row["max_abs_diff"] = float(np.abs(outputs[name] - outputs["textbook"]).max())
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return {
        "model": SHAPES[shape],
        "parameters": sum(p.numel() for p in model.parameters()),
        "weights_mib": weights / 2**20,
        "tweets": len(texts),
        "pooling": "cls",
        "padding_ratio": padding_ratio(texts, tokenizer),
        "peak_memory": memory_kind(str(device)),
        "methods": rows,
    }


def memory_kind(device: str) -> str:
    """What the peak memory of an extraction counts on `device` (see extraction.measure)."""
    return "allocated on the GPU, weights included" if device.startswith("cuda") else "RSS increase"


# Fine-tuning ----------------------------------------------------------------------------------


def encode(texts: list[str], labels: list[int], tokenizer) -> list[dict]:
    """Tokenized tweets as dicts, what lecture 6's `tokenize` gives, without a `datasets.Dataset`."""
    ids = tokenizer(texts, truncation=True)
    return [{**{k: ids[k][i] for k in ids}, "label": label} for i, label in enumerate(labels)]


class StepClock:
    """A Trainer callback: seconds from the end of a warm-up step to the end of the last step."""

    def __init__(self, warmup: int, device: torch.device) -> None:
        from transformers import TrainerCallback

        clock = self

        class Callback(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                if state.global_step in (clock.warmup, args.max_steps):
                    if device.type == "cuda":
                        torch.cuda.synchronize(device)
                    clock.marks[state.global_step] = time.perf_counter()

        self.warmup, self.marks, self.callback = warmup, {}, Callback()

    def steps_per_s(self, steps: int) -> float:
        return (steps - self.warmup) / (self.marks[steps] - self.marks[self.warmup])


def fine_tuning_report(splits: dict, args: argparse.Namespace, device: torch.device) -> dict:
    """Steps/s of lecture 6's Trainer at both batch sizes, and its evaluation speed."""
    from transformers import AutoModelForSequenceClassification, set_seed

    tokenizer = build_tokenizer(args.vocab, "distilbert")
    encoded = {
        "train": encode(*splits["train"], tokenizer),
        "validation": encode(*splits["validation"], tokenizer),
    }
    on_cpu = device.type == "cpu"
    precision = {"bf16": False, "fp16": False} if on_cpu else mixed_precision()
    labels = dict(enumerate(EMOTION_LABELS))
    config = model_config(
        "distilbert", args.layers, id2label=labels, label2id={name: i for i, name in labels.items()}
    )
    warmup = min(FINETUNE_WARMUP_STEPS, args.steps // 2)
    result = {
        "model": SHAPES["distilbert"],
        "precision": "bf16" if precision["bf16"] else "fp16" if precision["fp16"] else "fp32",
        "learning_rate": USUAL_SETTINGS["learning_rate"],
        "steps": args.steps,
        "warmup_steps": warmup,
        "batches": {},
    }
    with tempfile.TemporaryDirectory(prefix="gpu-report-") as scratch:
        for batch_size in (args.batch_size, args.small_batch_size):
            set_seed(SEED)
            model = AutoModelForSequenceClassification.from_config(config)
            trainer_args = training_arguments(
                scratch,
                epochs=1,  # max_steps takes precedence
                batch_size=batch_size,
                learning_rate=USUAL_SETTINGS["learning_rate"],
                max_steps=args.steps,
                eval_strategy="no",
                save_strategy="no",
                logging_strategy="no",
                disable_tqdm=True,
                use_cpu=on_cpu,
                **precision,
            )
            trainer = make_trainer(model, tokenizer, encoded, trainer_args)
            clock = StepClock(warmup, device)
            trainer.add_callback(clock.callback)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            output = trainer.train()
            steps_per_s = clock.steps_per_s(args.steps)
            row = {
                "steps_per_s": steps_per_s,
                "tweets_per_s": steps_per_s * batch_size,
                "train_runtime_s": output.metrics["train_runtime"],
                "peak_mib": torch.cuda.max_memory_allocated(device) / 2**20
                if device.type == "cuda"
                else None,
            }
            if batch_size == args.batch_size:  # lecture 6 evaluates with this Trainer
                start = time.perf_counter()
                trainer.evaluate()
                row["eval_tweets_per_s"] = len(encoded["validation"]) / (
                    time.perf_counter() - start
                )
            result["batches"][str(batch_size)] = row
            del trainer, model
            if device.type == "cuda":
                torch.cuda.empty_cache()
    return result


# Projection -----------------------------------------------------------------------------------


def projection(report: dict, sizes: dict[str, int]) -> dict:
    """The course's GPU work in the online profile (DistilBERT, full data), from the measured rates."""
    tuning = report["fine_tuning"]
    batch = int(report["settings"]["batch_sizes"][0])
    big, small = (
        tuning["batches"][str(batch)],
        tuning["batches"][str(report["settings"]["batch_sizes"][1])],
    )
    shape = (
        "distilbert" if "distilbert" in report["extraction"] else next(iter(report["extraction"]))
    )
    extract = report["extraction"][shape]
    extract_rate = extract["methods"]["autocast"]["tweets_per_s"]
    textbook_rate = extract["methods"]["textbook"]["tweets_per_s"]
    eval_rate = big["eval_tweets_per_s"]
    train, valid, test = (sizes[split] for split in EMOTION_SPLITS)
    epoch_steps = math.ceil(train / batch)
    check_runs, check_tweets = LECTURE6_LR_CHECK
    check_steps = check_runs * math.ceil(min(check_tweets, train) / batch)
    lecture6_train = LECTURE6_EPOCHS * epoch_steps / big["steps_per_s"]
    curve_runs, curve_steps, curve_scored = lecture7_curve(train, valid)
    parts = [
        (
            "3",
            f"hidden states of train + validation ({train + valid:,} tweets, both poolings in one pass)",
            f"extraction, autocast, {shape}",
            (train + valid) / extract_rate,
        ),
        (
            "3",
            f"the 200-tweet sample: textbook map, extraction, truncation ({LECTURE3_SAMPLE} tweets)",
            f"extraction, textbook and autocast, {shape}",
            LECTURE3_SAMPLE / 3 / textbook_rate + LECTURE3_SAMPLE * 2 / 3 / extract_rate,
        ),
        ("4, 5", "features read from lecture 3's cache", "no GPU work", 0.0),
        (
            "6",
            f"{LECTURE6_EPOCHS} epochs, {LECTURE6_EPOCHS * epoch_steps:,} steps of batch {batch}",
            f"fine-tuning, batch {batch}",
            lecture6_train,
        ),
        (
            "6",
            f"scoring: validation after each epoch, predict, the published model (online), "
            f"test ({4 * valid + test:,} tweets)",
            "evaluation",
            (4 * valid + test) / eval_rate,
        ),
        (
            "6",
            f"learning-rate check: {check_runs} runs, {check_steps} steps + {check_runs * valid:,} tweets scored",
            f"fine-tuning, batch {batch}; evaluation",
            check_steps / big["steps_per_s"] + check_runs * valid / eval_rate,
        ),
        (
            "7",
            f"learning curve: {curve_runs} fine-tuning runs ({curve_runs // LECTURE7_SEEDS} budgets "
            f"x {LECTURE7_SEEDS} seeds), {curve_steps:,} steps of batch {LECTURE7_BATCH} + "
            f"{curve_scored:,} tweets scored",
            f"fine-tuning, batch {report['settings']['batch_sizes'][1]}; evaluation",
            curve_steps / small["steps_per_s"] + curve_scored / eval_rate,
        ),
        (
            "7",
            f"zero-shot NLI pipeline, online ({LECTURE7_NLI:,} tweet-label pairs)",
            "evaluation",
            LECTURE7_NLI / eval_rate,
        ),
    ]
    total = sum(seconds for *_, seconds in parts)
    return {
        "what": "a projection, not a measurement: the course's GPU work (online profile, "
        "DistilBERT, full data) at this run's measured rates",
        "not_included": "CPU work (tokenizing with Dataset.map, UMAP, logistic regressions, "
        "TF-IDF, k-NN, plots), loading models and data, Python and CUDA start-up",
        "lecture6_two_epochs_s": lecture6_train + LECTURE6_EPOCHS * valid / eval_rate,
        "parts": [
            {"lecture": lecture, "work": work, "rate": rate, "seconds": seconds}
            for lecture, work, rate, seconds in parts
        ],
        "total_s": total,
    }


# Machine and output ---------------------------------------------------------------------------


def machine_info(device: torch.device) -> dict:
    """GPU, driver and library versions: what the numbers were measured on."""
    import accelerate
    import transformers

    info = {
        "device": str(device),
        "gpu": None,
        "driver": None,
        "cuda": torch.version.cuda,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "accelerate": accelerate.__version__,
        "python": platform.python_version(),
        "cpu": getattr(torch.cpu, "get_capabilities", dict)().get("cpu_name")
        or platform.processor()
        or platform.machine(),
        "cores": os.cpu_count(),
        "fp32_matmul_precision": torch.get_float32_matmul_precision(),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(
            gpu=torch.cuda.get_device_name(device),
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            compute_capability=f"{props.major}.{props.minor}",
            driver=nvidia_driver(),
        )
    return info


def nvidia_driver() -> str | None:
    """The NVIDIA driver version from nvidia-smi, else the CUDA driver API version torch reports."""
    smi = shutil.which("nvidia-smi")
    if smi:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            answer = subprocess.run(
                [smi, "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            )
            if answer.stdout.strip():
                return answer.stdout.strip().splitlines()[0]
    api = getattr(torch._C, "_cuda_getDriverVersion", None)
    with contextlib.suppress(RuntimeError, TypeError):
        if api and api():
            return f"CUDA driver API {api() // 1000}.{api() % 1000 // 10} (no nvidia-smi)"
    return None


def write_report(report: dict, out: Path) -> None:
    """report.json and report.md in `out`, replacing the previous ones."""
    (out / REPORT_JSON).write_text(json.dumps(report, indent=2) + "\n")
    (out / REPORT_MD).write_text(markdown(report))


def markdown(report: dict) -> str:
    """The report as Markdown tables: machine, extraction, fine-tuning, projection."""
    machine = report["machine"]
    where = machine["gpu"] or f"CPU ({machine['cpu']}, {machine['cores']} cores), no GPU"
    used = report["data"]["tweets_used"]
    lines = [
        f"# GPU report: {where}",
        "",
        "| | |",
        "|---|---|",
        f"| GPU | {machine['gpu'] or 'none'} |",
        f"| driver | {machine['driver'] or 'n/a'} (CUDA {machine['cuda'] or 'n/a'}) |",
        f"| torch | {machine['torch']} (transformers {machine['transformers']}) |",
        f"| date | {report['date']} |",
        f"| command | `{report['command']}` |",
        f"| tweets | {sum(used.values()):,} ({', '.join(f'{s} {n:,}' for s, n in used.items())}) |",
    ]
    if report["settings"]["layers"]:
        lines.append(
            f"| layers | {report['settings']['layers']} instead of 6: a check of the code, "
            "not the course's speed |"
        )
    if report.get("complete"):
        lines.append(f"| run time | {report['seconds']:.0f} s |")
    else:
        lines.append("| run time | incomplete: the run stopped before the end |")
    memory = memory_kind(machine["device"])
    lines += [
        "",
        f"## Hidden-state extraction, [CLS], best of {report['settings']['repeat']}",
        "",
        f"| model | method | precision | seconds | tweets/s | speed-up | peak memory (MiB, {memory}) "
        "| max abs. difference |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = {
        "textbook": f"textbook (padded to longest, batches of {TEXTBOOK_BATCH:,})",
        "fp32": "`extract_hidden_states`, fp32",
        "autocast": "`extract_hidden_states`, as the course runs it",
    }
    for result in report["extraction"].values():
        for name, row in result["methods"].items():
            peak = "n/a" if row["peak_mib"] is None else f"{row['peak_mib']:,.0f}"
            lines.append(
                f"| {result['model'].split(' (')[0]} | {names[name]} | {row['precision']} | "
                f"{row['seconds']:.2f} | {row['tweets_per_s']:,.0f} | {row['speedup']:.1f}x | "
                f"{peak} | {row['max_abs_diff']:.1e} |"
            )
    if "fine_tuning" in report:
        tuning = report["fine_tuning"]
        lines += [
            "",
            f"## Fine-tuning with lecture 6's Trainer, {tuning['model'].split(' (')[0]}, "
            f"{tuning['precision']}, {tuning['steps']} steps (first {tuning['warmup_steps']} untimed)",
            "",
            "| batch | steps/s | tweets/s | peak GPU memory (MiB) | evaluation tweets/s |",
            "|---|---|---|---|---|",
        ]
        for batch, row in tuning["batches"].items():
            peak = "n/a" if row["peak_mib"] is None else f"{row['peak_mib']:,.0f}"
            scored = f"{row['eval_tweets_per_s']:,.0f}" if "eval_tweets_per_s" in row else ""
            lines.append(
                f"| {batch} | {row['steps_per_s']:.2f} | {row['tweets_per_s']:,.0f} | {peak} | {scored} |"
            )
    if "projection" in report:
        plan = report["projection"]
        lines += [
            "",
            "## Projected GPU time of the course",
            "",
            f"{plan['what'][0].upper()}{plan['what'][1:]}. Not included: {plan['not_included']}. "
            f"Lecture 6's two epochs with their evaluations: {plan['lecture6_two_epochs_s']:.0f} s.",
            "",
            "| lecture | work | measured rate used | seconds |",
            "|---|---|---|---|",
        ]
        for part in plan["parts"]:
            lines.append(
                f"| {part['lecture']} | {part['work']} | {part['rate']} | {part['seconds']:.1f} |"
            )
        lines.append(f"| all | | | **{plan['total_s']:.0f} s ({plan['total_s'] / 60:.1f} min)** |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
