"""Fine-tune the course model from the command line, alone or under torchrun / accelerate launch.

python -m utils.finetune --epochs 2 --output build/models/emotion-classifier
torchrun --nproc_per_node=4 -m utils.finetune --epochs 2
accelerate launch -m utils.finetune --epochs 2
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command's options; unset ones fall back to the course settings (COURSE_* variables)."""
    parser = argparse.ArgumentParser(
        prog="python -m utils.finetune", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--model", help="Hub id or local folder (default: COURSE_MODEL or the course model)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="folder of train/validation/test files (default: COURSE_DATA_DIR, the Hub or a local copy)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="folder for model, metrics.json and checkpoints (default: build/models/emotion-classifier)",
    )
    parser.add_argument(
        "--epochs", type=float, default=2.0, help="passes over the training split (default: 2)"
    )
    parser.add_argument(
        "--batch-size", type=int, help="per process (default: 32 for the packaged model, else 64)"
    )
    parser.add_argument(
        "--lr", type=float, help="learning rate (default: 1e-4 for the packaged model, else 2e-5)"
    )
    parser.add_argument(
        "--subset", type=int, help="number of training tweets (default: COURSE_SUBSET or all)"
    )
    parser.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    parser.add_argument(
        "--save-steps", type=int, help="evaluate and checkpoint every N steps (default: each epoch)"
    )
    parser.add_argument("--max-length", type=int, help="truncate tweets to this many tokens")
    parser.add_argument(
        "--resume", action="store_true", help="continue from the last checkpoint in --output"
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="seed for the new head and the shuffling"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="log lines instead of a progress bar"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one fine-tuning; every process of a distributed launch calls this."""
    import utils
    from utils.training import fine_tune

    args = parse_args(argv)
    main_process = int(os.environ.get("RANK", "0")) == 0
    cfg = utils.setup(seed=args.seed, verbose=main_process)
    model = args.model or cfg.model_name
    data_dir = args.data_dir or cfg.data_dir
    dataset = utils.load_emotion(data_dir, subset=args.subset or cfg.subset, seed=args.seed)
    result = fine_tune(
        model,
        dataset,
        args.output or cfg.build_dir / "models" / "emotion-classifier",
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
            f"model and metrics.json written to {result.output_dir}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
