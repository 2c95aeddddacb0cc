"""Scoring classifiers: lecture 5's models and metrics, bootstrap intervals, the comparison of lecture 6.

The functions under "Lecture 5" are copies of the notebook's cells marked
`#| export utils.evaluation` (tests/test_exports.py fails when they differ).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import bootstrap
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .defaults import BASELINES_FILE, FINE_TUNING_FILE, SEED
from .features import load_features

# Lecture 5 ------------------------------------------------------------------------------------


def scores(y_true, y_pred) -> dict[str, float]:
    """Accuracy, macro F1 (every emotion counts alike) and weighted F1 (by class size)."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "f1_macro": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "f1_weighted": float(f1_score(y_true, y_pred, average="weighted", zero_division=0)),
    }


def fit_and_score(model, X_train, y_train, X_valid, y_valid) -> tuple[dict[str, float], np.ndarray]:
    """Fit `model` on the training split, predict validation: its scores, fit time and predictions."""
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    predicted = model.predict(X_valid)
    return {**scores(y_valid, predicted), "fit_seconds": seconds}, predicted


def logistic_regression(seed: int = SEED, **options):
    """Standardize each feature, then a logistic regression with room to converge."""
    return make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=2_000, random_state=seed, **options)
    )


def tfidf_logistic_regression(C: float, seed: int = SEED):
    """Bag of words: TF-IDF of word unigrams and bigrams, then a logistic regression."""
    return make_pipeline(
        # words and word pairs seen in at least 2 tweets; 1 + log(count) tames repeated words
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(C=C, max_iter=2_000, random_state=seed),
    )


def tune_tfidf(
    texts_train, y_train, texts_valid, y_valid, grid=(10, 30, 100)
) -> tuple[float, dict[float, dict]]:
    """The C with the best validation accuracy, and the scores of every C tried."""
    tried = {}
    for C in grid:
        model = tfidf_logistic_regression(C)
        tried[C], _ = fit_and_score(model, texts_train, y_train, texts_valid, y_valid)
    return max(tried, key=lambda C: tried[C]["accuracy"]), tried


def accuracy_interval(y_true, y_pred, seed: int = SEED) -> tuple[float, float]:
    """A 95% bootstrap interval for the accuracy: resample the tweets, score again, 2,000 times."""
    correct = (np.asarray(y_true) == np.asarray(y_pred)).astype(float)
    result = bootstrap((correct,), np.mean, n_resamples=2_000, method="percentile", rng=seed)
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def difference_interval(y_true, pred_a, pred_b, seed: int = SEED) -> tuple[float, float]:
    """A 95% bootstrap interval for accuracy(a) - accuracy(b), both scored on the same resampled tweets."""
    y_true = np.asarray(y_true)
    gain = (np.asarray(pred_a) == y_true).astype(float) - (np.asarray(pred_b) == y_true)
    result = bootstrap((gain,), np.mean, n_resamples=2_000, method="percentile", rng=seed)
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


# Beyond lecture 5 -----------------------------------------------------------------------------


def where_errors_go(y_true, y_pred, label_names: Sequence[str]) -> pd.DataFrame:
    """Per true emotion: its tweets, the share recognised, and where most of the rest go."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    rows = {}
    for k, name in enumerate(label_names):
        mine = y_pred[y_true == k]
        shares = np.bincount(mine, minlength=len(label_names)) / max(1, len(mine))
        other = int(np.argmax(np.where(np.arange(len(label_names)) == k, -1, shares)))
        rows[name] = {
            "tweets": len(mine),
            "recall": float(shares[k]),
            "mistaken_for": label_names[other],
            "share": float(shares[other]),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def save_baselines(
    results: dict[str, dict],
    predictions: dict[str, np.ndarray],
    y_valid,
    results_dir: str | os.PathLike,
    *,
    model_name: str,
    train_tweets: int,
    seed: int = SEED,
) -> Path:
    """Write lecture 5's table, with a 95% interval per model, to `results_dir`/logreg.json (+ .csv).

    Each row records the model and the number of training tweets, so that later lectures reuse it
    only for the same features and data.
    """
    table = pd.DataFrame.from_dict(results, orient="index")
    intervals = [accuracy_interval(y_valid, predictions[name], seed) for name in table.index]
    table["accuracy_low"], table["accuracy_high"] = zip(*intervals)
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    rows = table.assign(model=model_name, train_tweets=train_tweets)
    file = folder / BASELINES_FILE
    file.write_text(json.dumps(rows.to_dict(orient="index"), indent=2))
    table.to_csv(file.with_suffix(".csv"), index_label="model")
    return file


@dataclass
class Baseline:
    """A fitted model of the comparison: its validation scores, predictions and costs."""

    scores: dict[str, float]  # accuracy, f1_macro, f1_weighted, fit_seconds
    predicted: np.ndarray  # validation predictions, in the data set's order
    parameters: int  # the numbers it learned
    feature_seconds: float | None = 0.0  # the model's time to extract its features (None: unknown)
    model: object = None  # the fitted estimator, to predict other splits


def lecture5_baselines(
    dataset,
    model_name: str,
    *,
    device: str = "cpu",
    cache_dir: str | os.PathLike | None = None,
    results_dir: str | os.PathLike | None = None,
    seed: int = SEED,
) -> dict[str, Baseline]:
    """Lecture 5's four models for this model and data, fitted again (seconds to a minute on a CPU).

    The dummy, logistic regression on `[CLS]` and on mean features (read from lecture 3's cache, or
    extracted now), and TF-IDF with lecture 5's C when `results_dir` holds lecture 5's table for the
    same model and training tweets, else tuned now on validation as lecture 5 does.
    """
    from sklearn.dummy import DummyClassifier

    y_train = np.asarray(dataset["train"]["label"])
    y_valid = np.asarray(dataset["validation"]["label"])
    texts = {split: list(dataset[split]["text"]) for split in ("train", "validation")}
    saved = _saved_baselines(results_dir, model_name, len(y_train))
    if "tfidf" in saved:
        best_C = saved["tfidf"]["C"]
    else:
        best_C, _ = tune_tfidf(texts["train"], y_train, texts["validation"], y_valid)
    where = {"device": device, "cache_dir": cache_dir}
    cls = load_features(dataset, model_name, pooling="cls", **where)
    mean = load_features(dataset, model_name, pooling="mean", **where)
    candidates = {  # the model, its inputs, their cost (with a cache, one encoder pass serves both)
        "dummy": (DummyClassifier(strategy="most_frequent"), cls, 0.0),
        "logreg-cls": (logistic_regression(seed), cls, cls.seconds),
        "logreg-mean": (logistic_regression(seed), mean, mean.seconds),
        "tfidf": (tfidf_logistic_regression(best_C, seed), texts, 0.0),
    }
    fitted = {}
    for name, (model, inputs, seconds) in candidates.items():
        scores_, predicted = fit_and_score(
            model, inputs["train"], y_train, inputs["validation"], y_valid
        )
        fitted[name] = Baseline(scores_, predicted, learned_parameters(model), seconds, model)
    fitted["tfidf"].scores["C"] = best_C
    return fitted


# How a reader knows the models of the comparison.
MODEL_NAMES = {
    "dummy": "most frequent class",
    "logreg-cls": "[CLS] + logistic regression",
    "logreg-mean": "mean + logistic regression",
    "tfidf": "TF-IDF + logistic regression",
    "fine-tuned": "fine-tuned transformer",
}


def comparison_table(models: dict[str, Baseline], y_valid, seed: int = SEED) -> pd.DataFrame:
    """One row per model: validation accuracy with its 95% interval, macro and weighted F1,
    training seconds (feature extraction included, NaN when it was not recorded), learned weights."""
    rows = {}
    for name, model in models.items():
        low, high = accuracy_interval(y_valid, model.predicted, seed)
        features = np.nan if model.feature_seconds is None else model.feature_seconds
        rows[MODEL_NAMES.get(name, name)] = {
            "accuracy": model.scores["accuracy"],
            "accuracy_low": low,
            "accuracy_high": high,
            "f1_macro": model.scores["f1_macro"],
            "f1_weighted": model.scores["f1_weighted"],
            "feature_seconds": features,
            "fit_seconds": model.scores["fit_seconds"],
            "train_seconds": features + model.scores["fit_seconds"],
            "learned_weights": model.parameters,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def save_fine_tuning(results_dir: str | os.PathLike, **run) -> Path:
    """Write lecture 6's run (model, data, settings, time, scores) to results_dir/fine_tuning.json."""
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / FINE_TUNING_FILE
    file.write_text(json.dumps(run, indent=2, default=float))
    return file


def _saved_baselines(results_dir, model_name: str, train_tweets: int) -> dict[str, dict]:
    """Rows of lecture 5's saved table fitted with `model_name` on as many training tweets."""
    file = Path(results_dir) / BASELINES_FILE if results_dir is not None else None
    if file is None or not file.is_file():
        return {}
    rows = json.loads(file.read_text())
    return {
        name: row
        for name, row in rows.items()
        if (row.get("model"), row.get("train_tweets")) == (model_name, train_tweets)
    }


def learned_parameters(model) -> int:
    """How many numbers a fitted scikit-learn model learned: its final step's weights and biases."""
    final = model[-1] if hasattr(model, "steps") else model
    weights = [getattr(final, name, None) for name in ("coef_", "intercept_")]
    return sum(int(w.size) for w in weights if w is not None)


# Lecture 7 ------------------------------------------------------------------------------------


class SavedPoints(dict):
    """Measured points of an experiment by key, kept in a JSON file that is rewritten after each one.

    A point holds what its run returned, plus `seconds` (how long it took) and `work` (its size, in
    whatever unit predicts its time: tweets, training steps), so a later run can tell what it can
    afford. The file belongs to one model and training split; points of another are not read.
    """

    def __init__(self, file: str | Path, model: str, train_tweets: int) -> None:
        self.file = Path(file)
        self.identity = {"model": str(model), "train_tweets": int(train_tweets)}
        stored = json.loads(self.file.read_text()) if self.file.is_file() else {}
        same = {name: stored.get(name) for name in self.identity} == self.identity
        super().__init__(stored.get("points", {}) if same else {})

    def measure(
        self, key: str, run: Callable[..., dict], *args, work: float = 1.0, **labels
    ) -> dict:
        """The point `key`: from the file, else `labels` and what `run(*args)` returns, timed,
        stored and written to the file at once."""
        if key not in self:
            start = time.perf_counter()
            result = run(*args)
            seconds = time.perf_counter() - start
            self[key] = {**labels, **result, "seconds": seconds, "work": float(work)}
            self.file.parent.mkdir(parents=True, exist_ok=True)
            self.file.write_text(json.dumps({**self.identity, "points": self}, indent=1))
        return self[key]

    def expected_seconds(self, method: str, work: float, rate: float = 0.0) -> float:
        """How long a new point of `method` should take: scaled from its measured point whose work
        is closest, or `rate` seconds per unit of work before the first one."""
        done = [p for p in self.values() if p.get("method") == method and p.get("work")]
        if not done:
            return rate * work
        closest = min(done, key=lambda p: (abs(np.log(p["work"] / work)), -p["work"]))
        return closest["seconds"] * work / closest["work"]


def saved_points(file: str | Path, model: str, train_tweets: int) -> SavedPoints:
    """The points already measured for this model and training split (none yet: an empty file)."""
    return SavedPoints(file, model, train_tweets)


def saved_full_split_scores(
    results_dir: str | Path, model: str, model_label: str, train_tweets: int
) -> dict[str, dict[str, float]]:
    """Validation accuracy and macro F1 that lectures 5 ('tfidf', 'logreg-mean', 'logreg-cls') and 6
    ('fine-tuned', with its training seconds per tweet) saved for this model and training split."""
    found = {
        name: {key: row[key] for key in ("accuracy", "f1_macro")}
        for name, row in _saved_baselines(results_dir, model, train_tweets).items()
        if name != "dummy"
    }
    file = Path(results_dir) / FINE_TUNING_FILE
    lecture6 = json.loads(file.read_text()) if file.is_file() else {}
    if (
        lecture6.get("model") in (model, model_label)
        and lecture6.get("train_tweets") == train_tweets
    ):
        found["fine-tuned"] = {key: lecture6["validation"][key] for key in ("accuracy", "f1_macro")}
        examples = lecture6.get("epochs", 0) * train_tweets  # how many tweets it trained on
        if lecture6.get("train_seconds") and examples:
            found["fine-tuned"]["seconds_per_tweet"] = lecture6["train_seconds"] / examples
    return found
