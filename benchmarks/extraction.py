"""Benchmark hidden-state extraction against the textbook method (run by `make bench`).

In one process, with one model, on the same validation tweets, it times (a) the textbook method
(the split padded to its longest tweet, `Dataset.map` over batches of 1,000 under `no_grad`),
(b) `utils.extract_hidden_states` in exact mode, (c) its fast CPU mode and (d) a cache hit.
Each method runs `--repeat` times, interleaved, and keeps its fastest run, because other programs
sharing the CPU only ever add time. Peak memory is measured in the same process: before each run
the kernel's peak-RSS counter is reset (Linux /proc/self/clear_refs) and freed memory is handed
back to the system (malloc_trim), so each run's peak counts only what that run allocated.
`--accuracy` also trains a logistic regression on the training split's features of (b) and (c).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import utils  # noqa: E402
from utils import features  # noqa: E402

TEXTBOOK_BATCH = 1000
MODES = {"exact": "b", "fast": "c"}  # the rows of the table that each mode fills


def main() -> None:
    args = parse_args()
    cfg = utils.setup(verbose=False)
    if args.threads:
        torch.set_num_threads(args.threads)
    import datasets
    from transformers import AutoModel

    datasets.disable_progress_bars()
    device = torch.device(args.device or cfg.device)
    emotions = utils.load_emotion(cfg.data_dir)
    tweets = emotions["validation"].select(range(min(args.n, len(emotions["validation"]))))
    tokenizer = utils.load_tokenizer(cfg.model_name)
    model = AutoModel.from_pretrained(cfg.model_name).to(device).eval()
    fast = args.fast_recipe or "fast"  # e.g. measure the int8 fallback on a CPU that has bf16
    recipe = features.resolve_mode(fast, device)

    def ours(mode: str, texts=None, cache_dir=None) -> np.ndarray:
        texts = tweets["text"] if texts is None else texts
        return utils.extract_hidden_states(
            texts, model, tokenizer, device=device, mode=mode, cache_dir=cache_dir, progress=False
        )

    cache_dir = cfg.build_root / "bench" / "cache"  # in build/, so `make clean` removes it
    methods = {
        "(a) textbook map, padded to longest": lambda texts=None: textbook(
            tweets if texts is None else tweets.select(range(len(texts))), model, tokenizer, device
        ),
        "(b) extract_hidden_states exact": lambda texts=None: ours("exact", texts),
        f"(c) extract_hidden_states fast [{recipe}]": lambda texts=None: ours(fast, texts),
        "(d) cache hit": lambda texts=None: ours("exact", texts, cache_dir),
    }
    if recipe == "exact":  # on a GPU the fast mode is the exact mode
        methods.pop(next(name for name in methods if name.startswith("(c)")))
    for run in methods.values():  # warm-up: first-call costs (thread pools, kernels) are not timed
        run(tweets["text"][:64])
    ours("exact", cache_dir=cache_dir)  # fills the cache for (d)

    results = {name: {"seconds": float("inf")} for name in methods}
    outputs = {}
    for _ in range(args.repeat):
        for name, run in methods.items():
            seconds, cpu_seconds, peak, outputs[name] = measure(run, device)
            if seconds < results[name]["seconds"]:
                results[name].update(seconds=seconds, cpu_seconds=cpu_seconds, peak_mib=peak)
    reference = outputs[next(iter(methods))]
    baseline = results[next(iter(methods))]["seconds"]
    for name, row in results.items():
        row["tweets_per_s"] = len(tweets) / row["seconds"]
        row["speedup"] = baseline / row["seconds"]
        row["max_abs_diff"] = float(np.abs(outputs[name] - reference).max())

    report = {
        "machine": machine_info(device, recipe, cfg),
        "tweets": len(tweets),
        "pooling": "cls",
        "repeat": args.repeat,
        "padding_ratio": padding_ratio(tweets["text"], tokenizer),
        "methods": results,
    }
    if args.accuracy and recipe != "exact":
        report["accuracy"] = accuracy(
            cfg, emotions, model, tokenizer, device, outputs, methods, fast
        )
    print_report(report)
    output = args.output or cfg.build_dir / "bench" / f"extraction-{device.type}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {output}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", help="cpu, cuda or mps (default: what utils.setup picks)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--n", type=int, default=2000, help="validation tweets to embed")
    parser.add_argument("--repeat", type=int, default=2, help="runs per method; the fastest counts")
    parser.add_argument(
        "--accuracy", action="store_true", help="also compare logistic-regression accuracy"
    )
    parser.add_argument(
        "--fast-recipe", choices=["fast-bf16", "fast-int8"], help="force the fast CPU variant"
    )
    parser.add_argument("--output", type=Path, help="JSON file (default build/bench/...)")
    return parser.parse_args()


def textbook(tweets, model, tokenizer, device) -> np.ndarray:
    """The usual course code: pad the whole split to its longest tweet, then map over 1,000s."""
    encoded = tweets.map(
        lambda batch: tokenizer(batch["text"], padding=True, truncation=True),
        batched=True,
        batch_size=None,
    )
    names = [name for name in tokenizer.model_input_names if name in encoded.column_names]
    encoded.set_format("torch", columns=names)

    def last_cls(batch):
        with torch.no_grad():
            hidden = model(**{k: batch[k].to(device) for k in names}).last_hidden_state
        return {"hidden_state": hidden[:, 0].cpu().numpy()}

    mapped = encoded.map(last_cls, batched=True, batch_size=TEXTBOOK_BATCH)
    return np.asarray(mapped.with_format("numpy")["hidden_state"], dtype=np.float32)


def measure(run, device: torch.device) -> tuple[float, float, float | None, np.ndarray]:
    """Wall seconds, CPU seconds, peak MiB (device memory on CUDA, else resident) and the output."""
    reset_peak_memory(device)
    start_rss = resident_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    output = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak = peak_resident_mib()
        peak = None if peak is None or start_rss is None else peak - start_rss
    return wall, cpu, peak, output


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def resident_mib(field: str = "VmRSS") -> float | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return None


def peak_resident_mib() -> float | None:
    return resident_mib("VmHWM")


def padding_ratio(texts, tokenizer) -> float:
    """Padded tokens / real tokens when the split is padded to its longest tweet, as in (a)."""
    lengths = [len(ids) for ids in tokenizer(list(texts), truncation=True)["input_ids"]]
    return max(lengths) * len(lengths) / sum(lengths)


def accuracy(cfg, emotions, model, tokenizer, device, outputs, methods, fast: str) -> dict:
    """Validation accuracy of a logistic regression trained on exact vs fast training features."""
    from sklearn.linear_model import LogisticRegression

    names = {
        mode: next(n for n in methods if n.startswith(f"({key})")) for mode, key in MODES.items()
    }
    if len(outputs[names["exact"]]) != len(emotions["validation"]):
        raise SystemExit("--accuracy needs the whole validation split (leave --n at its default).")
    result = {}
    for mode, name in names.items():
        train = utils.extract_hidden_states(
            emotions["train"]["text"],
            model,
            tokenizer,
            device=device,
            mode=fast if mode == "fast" else mode,
            cache_dir=cfg.cache_dir,
            progress=not cfg.in_ci,
        )
        classifier = LogisticRegression(max_iter=3000).fit(train, emotions["train"]["label"])
        result[mode] = classifier.score(outputs[name], emotions["validation"]["label"])
    result["difference_points"] = 100 * (result["fast"] - result["exact"])
    result["train_tweets"] = len(emotions["train"])
    return result


def machine_info(device: torch.device, recipe: str, cfg) -> dict:
    import transformers

    capabilities = getattr(torch.cpu, "get_capabilities", dict)()
    info = {
        "device": str(device),
        "cpu": capabilities.get("cpu_name") or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "model": cfg.model_label,
        "fast_recipe": recipe,
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def print_report(report: dict) -> None:
    machine = report["machine"]
    print(
        f"{report['tweets']} validation tweets, {report['pooling']} pooling, {machine['model']}\n"
        f"{machine.get('gpu', machine['cpu'])}, {machine['cores']} cores, torch {machine['torch']}, "
        f"device {machine['device']}, load average {machine['load_average_1min']}, "
        f"best of {report['repeat']}\n"
        f"padding ratio of (a): {report['padding_ratio']:.2f} padded tokens per real token\n"
    )
    memory = "peak GPU MiB" if machine["device"].startswith("cuda") else "peak RSS +MiB"
    header = f"{'method':46s} {'seconds':>8s} {'cpu s':>7s} {'tweets/s':>9s} {'speed-up':>9s} {'max |diff|':>11s} {memory:>13s}"
    print(header)
    print("-" * len(header))
    for name, row in report["methods"].items():
        peak = "n/a" if row["peak_mib"] is None else f"{row['peak_mib']:.0f}"
        print(
            f"{name:46s} {row['seconds']:8.2f} {row['cpu_seconds']:7.2f} {row['tweets_per_s']:9.0f} "
            f"{row['speedup']:8.1f}x {row['max_abs_diff']:11.1e} {peak:>13s}"
        )
    if "accuracy" in report:
        acc = report["accuracy"]
        print(
            f"\nlogistic regression on {acc['train_tweets']} training tweets, validation accuracy: "
            f"exact {100 * acc['exact']:.2f}%, fast {100 * acc['fast']:.2f}% "
            f"({acc['difference_points']:+.2f} points)"
        )


if __name__ == "__main__":
    main()
