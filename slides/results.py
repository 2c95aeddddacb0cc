"""The site's results page: the comparison of lectures 5 and 6 and the learning curve of lecture 7.

Read from the JSON files the lectures write to build/results/. Their layout may change as the lectures
do, so everything here is tolerant: what cannot be read is reported as not available, never a crash.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from utils.defaults import BASELINES_FILE, CURVE_FILE, FINE_TUNING_FILE

CURVE_IMAGE = "learning_curve.png"
ROW_NAMES = {
    "dummy": "dummy (most frequent class)",
    "logreg-cls": "logistic regression on `[CLS]` features",
    "logreg-mean": "logistic regression on mean-pooled features",
    "tfidf": "TF-IDF of words and word pairs + logistic regression",
}
MIN_SEEDS = 3  # lecture 7 draws a budget only where every seed was measured


@dataclass
class ResultsPage:
    """Markdown pieces of the results page ("" where nothing could be read)."""

    intro: str = ""
    comparison: str = ""
    curve: str = ""


def read_json(path: Path) -> dict:
    """A JSON object from `path`; {} if the file is missing or not a JSON object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _percent(value) -> str:
    number = _number(value)
    return "–" if number is None else f"{100 * number:.1f}%"


def _decimal(value) -> str:
    number = _number(value)
    return "–" if number is None else f"{number:.3f}"


def _seconds(value) -> str:
    number = _number(value)
    return "–" if number is None else (f"{number:.1f} s" if number < 100 else f"{number:.0f} s")


def comparison_table(logreg: dict, fine_tuning: dict) -> str:
    """A markdown table with one row per model: validation scores, test accuracy, fit time."""
    rows = []
    for key, row in logreg.items():
        if not isinstance(row, dict):
            continue
        accuracy = _percent(row.get("accuracy"))
        low, high = _number(row.get("accuracy_low")), _number(row.get("accuracy_high"))
        if low is not None and high is not None:
            accuracy += f" ({100 * low:.1f}–{100 * high:.1f})"
        name = ROW_NAMES.get(key, key)
        if key == "tfidf" and _number(row.get("C")) is not None:
            name += f" (C = {row['C']:g})"
        time = row.get("fit_seconds", row.get("train_seconds"))
        rows.append(
            [name, accuracy, _decimal(row.get("f1_macro")), _decimal(row.get("f1_weighted"))]
        )
        test = _dict(_dict(fine_tuning.get(key)).get("test")).get(
            "accuracy"
        )  # lecture 6 tests TF-IDF
        rows[-1] += [_percent(test), _seconds(time)]
    valid = fine_tuning.get("validation")
    if isinstance(valid, dict):
        test = fine_tuning.get("test") if isinstance(fine_tuning.get("test"), dict) else {}
        epochs = fine_tuning.get("epochs")
        name = "fine-tuned" + (f" ({epochs} epochs)" if isinstance(epochs, int) else "")
        rows.append(
            [
                name,
                _percent(valid.get("accuracy")),
                _decimal(valid.get("f1_macro")),
                _decimal(valid.get("f1", valid.get("f1_weighted"))),
                _percent(test.get("accuracy")),
                _seconds(fine_tuning.get("train_seconds")),
            ]
        )
    if not rows:
        return ""
    header = [
        "model",
        "validation accuracy (95% interval)",
        "macro F1",
        "weighted F1",
        "test accuracy",
        "fit time",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def curve_points(record: dict):
    """The points of learning_curve.json as a DataFrame (method, seed, tweets, scores), or None."""
    import pandas as pd

    points = record.get("points")
    if isinstance(points, dict):  # {"method | budget | seed": {"tweets": n, "accuracy": ...}}
        rows = []
        for key, point in points.items():
            parts = [part.strip() for part in str(key).split("|")]
            if isinstance(point, dict) and len(parts) >= 3:
                rows.append({"method": parts[0], "seed": parts[-1], **point})
    elif isinstance(points, list):  # already one row per point
        rows = [p for p in points if isinstance(p, dict)]
    else:
        return None
    frame = pd.DataFrame(rows)
    if frame.empty or not {"method", "tweets", "accuracy"} <= set(frame.columns):
        return None
    frame["tweets"] = pd.to_numeric(frame["tweets"], errors="coerce")
    frame["accuracy"] = pd.to_numeric(frame["accuracy"], errors="coerce")
    return frame.dropna(subset=["tweets", "accuracy"])


def draw_curve(points, floor: float | None, target: Path, all_tweets: int | None = None) -> None:
    """The learning curve as a PNG, drawn with the course's own plot_learning_curve."""
    from matplotlib.figure import Figure

    from utils.plots import plot_learning_curve

    figure = Figure(figsize=(9, 4.8))
    ax = figure.subplots()
    budgets = sorted(int(n) for n in points["tweets"].unique())
    plot_learning_curve(points, budgets, floor, ax=ax, all_tweets=all_tweets, min_seeds=MIN_SEEDS)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=100, bbox_inches="tight")


def curve_table(points, min_seeds: int = MIN_SEEDS) -> str:
    """Mean validation accuracy (worst to best seed) by method and labelled tweets, as a markdown
    table; a budget with fewer than `min_seeds` seeds is not drawn, so it shows '–'."""
    spread = points.groupby(["tweets", "method"], sort=False)["accuracy"].agg(
        ["mean", "min", "max", "count"]
    )
    methods = list(dict.fromkeys(points["method"]))  # in the order they were measured
    header = ["labelled tweets", *methods]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for tweets in sorted(points["tweets"].unique()):
        cells = []
        for method in methods:
            row = spread.loc[(tweets, method)] if (tweets, method) in spread.index else None
            if row is None or row["count"] < min_seeds:
                cells.append("–")
            else:
                cells.append(f"{_percent(row['mean'])} ({row['min']:.1%}–{row['max']:.1%})")
        lines.append("| " + " | ".join([f"{int(tweets):,}", *cells]) + " |")
    return "\n".join(lines)


def describe(logreg: dict, fine_tuning: dict, curve: dict) -> str:
    """Which run the numbers come from, as far as the files say."""
    tweets = fine_tuning.get("train_tweets") or curve.get("train_tweets")
    rows = [row for row in logreg.values() if isinstance(row, dict)]
    tweets = tweets or next((row.get("train_tweets") for row in rows if row), None)
    model = fine_tuning.get("model") or Path(str(curve.get("model", ""))).name
    parts = []
    if fine_tuning.get("profile"):
        parts.append(f"the {fine_tuning['profile']} profile")
    if model:
        parts.append(f"model {model}")
    if isinstance(tweets, int):
        parts.append(f"{tweets:,} training tweets")
    scored = (
        "Scores are on the validation split unless the column says test. Fit time is the fitting "
        "alone: the two frozen-feature models also need lecture 3's feature extraction, and "
        "fine-tuning's time includes its evaluation after each epoch."
    )
    if not parts:
        return scored
    return f"From the run that produced these pages' results: {', '.join(parts)}. {scored}"


def results_page(results_dir: Path | None, image_dir: Path) -> ResultsPage:
    """The results page's pieces from `results_dir` (lecture outputs); the figure goes to `image_dir`."""
    logreg, fine_tuning, curve = (
        read_json(Path(results_dir) / name) if results_dir is not None else {}
        for name in (BASELINES_FILE, FINE_TUNING_FILE, CURVE_FILE)
    )
    page = ResultsPage(intro=describe(logreg, fine_tuning, curve))
    page.comparison = comparison_table(logreg, fine_tuning)
    points = curve_points(curve) if curve else None
    if points is not None and not points.empty:
        dummy = logreg.get("dummy") if isinstance(logreg.get("dummy"), dict) else {}
        floor = _number(dummy.get("accuracy"))
        all_tweets = (
            curve.get("train_tweets") if isinstance(curve.get("train_tweets"), int) else None
        )
        draw_curve(points, floor, image_dir / CURVE_IMAGE, all_tweets)
        note = "the dotted line is the dummy's accuracy" if floor is not None else ""
        page.curve = (
            f"![Validation accuracy against labelled tweets]({image_dir.name}/{CURVE_IMAGE})\n\n"
            f"Mean validation accuracy of {MIN_SEEDS} seeds, the worst and the best seed in brackets "
            f"(the bars of the figure{'; ' + note if note else ''}); '–': not measured with every "
            "seed in this run (for all training tweets, the comparison above gives one run of "
            f"each method):\n\n{curve_table(points)}"
        )
    return page
