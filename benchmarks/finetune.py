"""Benchmark fine-tuning steps in fp32 and under bf16 autocast on the same batches (`make bench`).

In one process it draws fixed batches of training tweets (seeded, each padded to its own longest
tweet, as the Trainer's collator does), then trains two copies of the same classifier (same seed,
same new head) with the Trainer's optimizer settings: one in fp32, one with the forward pass under
`torch.autocast(dtype=torch.bfloat16)`, which is what the Trainer runs with `bf16=True`. After
`--warmup` untimed steps each, every batch trains both copies back to back (the order alternates),
so that other programs sharing the CPU slow both alike. The ratio bf16/fp32 of steps per second is
what `utils.models.mixed_precision` relies on to choose bf16 on a CPU (see README, Performance).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import utils  # noqa: E402
from utils import models  # noqa: E402
from utils.defaults import PRECISIONS  # noqa: E402


def main() -> None:
    args = parse_args()
    cfg = utils.setup(seed=args.seed, verbose=False)
    if args.threads:
        torch.set_num_threads(args.threads)
    import datasets
    import transformers
    from transformers import DataCollatorWithPadding

    from utils.finetune import default_hyperparameters, load_classifier

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()  # "newly initialized" head weights: expected here
    model_name = args.model or cfg.model_name
    settings = default_hyperparameters(model_name)
    batch_size = args.batch_size or int(settings["batch_size"])
    learning_rate = settings["learning_rate"]
    tokenizer = models.load_tokenizer(model_name)
    train = utils.load_emotion(cfg.data_dir)["train"]
    steps_in_all = args.warmup + args.steps
    generator = torch.Generator().manual_seed(args.seed)
    rows = torch.randperm(len(train), generator=generator)[: steps_in_all * batch_size].tolist()
    if len(rows) < steps_in_all * batch_size:
        raise SystemExit(
            f"{steps_in_all} batches of {batch_size} need {steps_in_all * batch_size} training "
            f"tweets, the data has {len(train)}: lower --steps or --batch-size."
        )
    tweets = train.select(rows)
    encoded = tokenizer(list(tweets["text"]), truncation=True)
    collate = DataCollatorWithPadding(tokenizer)
    batches = []
    for start in range(0, len(rows), batch_size):
        features = [
            {name: encoded[name][i] for name in encoded} | {"labels": tweets[i]["label"]}
            for i in range(start, start + batch_size)
        ]
        batches.append(collate(features))

    runs = {}
    for precision in PRECISIONS:
        torch.manual_seed(args.seed)  # the same new head for both copies
        model = load_classifier(model_name, train.features["label"].names).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
        runs[precision] = (model, optimizer)
        for batch in batches[: args.warmup]:  # first-call costs (thread pools, kernels) untimed
            train_step(model, optimizer, batch, precision)

    # Each batch trains the fp32 copy and the bf16 copy back to back, in alternating order, so that
    # load from other programs falls on both alike.
    seconds = {precision: [] for precision in PRECISIONS}
    cpu_seconds = dict.fromkeys(PRECISIONS, 0.0)
    losses = {precision: [] for precision in PRECISIONS}
    for step, batch in enumerate(batches[args.warmup :]):
        for precision in PRECISIONS if step % 2 == 0 else PRECISIONS[::-1]:
            wall, cpu = time.perf_counter(), time.process_time()
            losses[precision].append(train_step(*runs[precision], batch, precision))
            seconds[precision].append(time.perf_counter() - wall)
            cpu_seconds[precision] += time.process_time() - cpu
    results = {
        precision: {
            "seconds": sum(seconds[precision]),
            "cpu_seconds": cpu_seconds[precision],
            "steps_per_s": args.steps / sum(seconds[precision]),
            "tweets_per_s": args.steps * batch_size / sum(seconds[precision]),
            "median_step_seconds": statistics.median(seconds[precision]),
            "mean_loss_last_10": statistics.mean(losses[precision][-10:]),
        }
        for precision in PRECISIONS
    }
    step_ratios = [fp32 / bf16 for fp32, bf16 in zip(seconds["fp32"], seconds["bf16"])]

    report = {
        "machine": machine_info(cfg),
        "model": cfg.model_label if model_name == cfg.model_name else model_name,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "warmup_steps": args.warmup,
        "timed_steps": args.steps,
        "mean_tokens_per_batch": sum(b["input_ids"].numel() for b in batches) / len(batches),
        "precisions": results,
        "bf16_speedup": results["bf16"]["steps_per_s"] / results["fp32"]["steps_per_s"],
        "bf16_speedup_median_step": statistics.median(step_ratios),
        "bf16_speedup_cpu_time": cpu_seconds["fp32"] / cpu_seconds["bf16"],
        "course_choice": "bf16" if models.mixed_precision()["bf16"] else "fp32",
    }
    print_report(report)
    output = args.output or cfg.build_dir / "bench" / "finetune-cpu.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {output}")


def train_step(model, optimizer, batch: dict, precision: str) -> float:
    """One optimizer step; under bf16 the forward pass (and the loss) runs in autocast."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        loss = model(**batch).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach())


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="Hub id or local folder (default: the course model)")
    parser.add_argument("--batch-size", type=int, help="default: the course's for the model (32)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per precision")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per precision first")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=utils.defaults.SEED)
    parser.add_argument("--output", type=Path, help="JSON file (default build/bench/...)")
    return parser.parse_args()


def machine_info(cfg) -> dict:
    import transformers

    return {
        "cpu": cpu_name(),
        "native_bf16": sorted(models.native_cpu_bf16()),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def cpu_name() -> str:
    """The CPU's model name, family and model numbers from /proc/cpuinfo (Linux), else platform's."""
    import platform

    try:
        first_core = models.CPUINFO.read_text().split("\n\n")[0]
    except OSError:
        return platform.processor() or platform.machine()
    fields = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in first_core.splitlines())
    )
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields:  # a virtual machine may hide the name ("AMD EPYC"), not these
        name += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    return name


def print_report(report: dict) -> None:
    machine = report["machine"]
    native = ", ".join(machine["native_bf16"]) or "none"
    print(
        f"{report['model']}, batch {report['batch_size']} "
        f"({report['mean_tokens_per_batch']:.0f} tokens per batch on average), "
        f"{report['timed_steps']} timed steps after {report['warmup_steps']} warm-up\n"
        f"{machine['cpu']}, {machine['cores']} cores, native bf16: {native}, "
        f"torch {machine['torch']}, {machine['torch_threads']} threads, "
        f"load average {machine['load_average_1min']}\n"
    )
    header = (
        f"{'precision':10s} {'seconds':>8s} {'cpu s':>7s} {'steps/s':>8s} {'tweets/s':>9s} "
        f"{'median step s':>14s} {'loss (last 10)':>15s}"
    )
    print(header)
    print("-" * len(header))
    for precision, row in report["precisions"].items():
        print(
            f"{precision:10s} {row['seconds']:8.2f} {row['cpu_seconds']:7.1f} {row['steps_per_s']:8.3f} "
            f"{row['tweets_per_s']:9.1f} {row['median_step_seconds']:14.3f} "
            f"{row['mean_loss_last_10']:15.4f}"
        )
    print(
        f"\nbf16 / fp32 steps per second: {report['bf16_speedup']:.2f}x "
        f"(median of the per-batch ratios {report['bf16_speedup_median_step']:.2f}x, "
        f"CPU time {report['bf16_speedup_cpu_time']:.2f}x); "
        f"utils.models.mixed_precision() picks {report['course_choice']} here"
    )


if __name__ == "__main__":
    main()
