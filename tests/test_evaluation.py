"""Lecture 5's scoring: metrics, fit-and-score, the bag-of-words baseline, bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier

from utils import evaluation


def clouds(n_per_class: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three far-apart clouds of 4-D points, one per class."""
    y = np.repeat(np.arange(3), n_per_class)
    X = np.random.default_rng(seed).normal(size=(len(y), 4)) + 10 * y[:, None]
    return X, y


def test_scores_are_accuracy_macro_and_weighted_f1():
    y_true, y_pred = [0, 0, 0, 1], [0, 0, 0, 0]
    result = evaluation.scores(y_true, y_pred)
    assert result["accuracy"] == 0.75
    assert result["f1_macro"] == pytest.approx((6 / 7 + 0) / 2)  # class 1 is never found
    assert result["f1_weighted"] == pytest.approx(0.75 * 6 / 7)


def test_fit_and_score_fits_predicts_and_scores():
    X, y = clouds()
    model = evaluation.logistic_regression(seed=0)
    result, predicted = evaluation.fit_and_score(model, X, y, X, y)
    assert result["accuracy"] == 1.0 and result["f1_macro"] == 1.0
    np.testing.assert_array_equal(predicted, y)
    assert evaluation.learned_parameters(model) == 3 * 4 + 3
    floor, _ = evaluation.fit_and_score(DummyClassifier(), X, y, X, y)
    assert floor["accuracy"] == pytest.approx(1 / 3)
    assert evaluation.learned_parameters(DummyClassifier().fit(X, y)) == 0


def test_bag_of_words_learns_keywords_and_tuning_picks_the_best_c():
    words = {0: "miserable", 1: "delighted", 2: "terrified"}
    texts = [f"i feel {words[i % 3]} today number {i}" for i in range(60)]
    y = np.arange(60) % 3
    best, tried = evaluation.tune_tfidf(texts[:45], y[:45], texts[45:], y[45:], grid=(0.01, 10))
    assert set(tried) == {0.01, 10}
    assert best == max(tried, key=lambda C: tried[C]["accuracy"])
    assert tried[10]["accuracy"] == 1.0
    model = evaluation.tfidf_logistic_regression(10).fit(texts, y)
    vocabulary = set(model[0].get_feature_names_out())
    assert {"miserable", "feel miserable"} <= vocabulary  # unigrams and bigrams
    assert "number 7" not in vocabulary  # seen in one tweet only: below min_df


def test_accuracy_interval_brackets_the_accuracy_and_narrows_with_more_tweets():
    rng = np.random.default_rng(1)
    narrow_truth = rng.integers(0, 6, 2_000)
    narrow_pred = np.where(rng.random(2_000) < 0.7, narrow_truth, (narrow_truth + 1) % 6)
    low, high = evaluation.accuracy_interval(narrow_truth, narrow_pred)
    accuracy = np.mean(narrow_truth == narrow_pred)
    assert low < accuracy < high and high - low < 0.05
    wide_low, wide_high = evaluation.accuracy_interval(narrow_truth[:100], narrow_pred[:100])
    assert wide_high - wide_low > 2 * (high - low)


def test_difference_interval_sees_a_real_gain_and_straddles_zero_for_none():
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 6, 2_000)
    good = np.where(rng.random(2_000) < 0.9, truth, (truth + 1) % 6)
    worse = np.where(rng.random(2_000) < 0.7, truth, (truth + 1) % 6)
    low, high = evaluation.difference_interval(truth, good, worse)
    assert 0.15 < low < high < 0.25
    low, high = evaluation.difference_interval(truth, good, good)
    assert low == high == 0.0


def test_where_errors_go_reads_each_row():
    y_true = [0, 0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 2, 1, 1, 1]
    rows = evaluation.where_errors_go(y_true, y_pred, ["a", "b", "c"])
    assert rows.loc["a"].tolist() == [4, 0.5, "b", 0.25]  # ties go to the first other label
    assert rows.loc["b", "recall"] == 1.0
    assert (rows.loc["c", "mistaken_for"], rows.loc["c", "share"]) == ("b", 1.0)


def test_saved_baselines_are_reused_only_for_the_same_model_and_data(tmp_path):
    import json

    results = {"dummy": {"accuracy": 0.5}, "tfidf": {"accuracy": 0.75, "C": 30}}
    predictions = {"dummy": [0, 0, 0, 0], "tfidf": [0, 1, 1, 1]}
    file = evaluation.save_baselines(
        results, predictions, [0, 1, 1, 0], tmp_path, model_name="m", train_tweets=8
    )
    rows = json.loads(file.read_text())
    assert rows["tfidf"]["C"] == 30 and rows["tfidf"]["train_tweets"] == 8
    assert rows["dummy"]["accuracy_low"] <= 0.5 <= rows["dummy"]["accuracy_high"]
    assert file.with_suffix(".csv").is_file()
    assert evaluation._saved_baselines(tmp_path, "m", 8)["tfidf"]["C"] == 30
    assert evaluation._saved_baselines(tmp_path, "other model", 8) == {}
    assert evaluation._saved_baselines(tmp_path, "m", 9) == {}


# Lecture 7 ------------------------------------------------------------------------------------


def test_saved_points_measure_once_write_at_once_and_belong_to_one_model_and_split(tmp_path):
    file = tmp_path / "results" / "curve.json"
    calls = []

    def run(rows, seed):
        calls.append((rows, seed))
        return {"accuracy": 0.5 + seed / 100}

    points = evaluation.saved_points(file, "model-a", 300)
    point = points.measure("tfidf | 48 | 1", run, 48, 1, work=48, method="tfidf", tweets=48)
    assert point["accuracy"] == 0.51 and point["method"] == "tfidf" and point["work"] == 48
    assert point["seconds"] >= 0
    assert file.is_file(), "written as soon as the point is measured"
    points.measure("tfidf | 48 | 1", run, 48, 1, work=48)
    assert calls == [(48, 1)], "a stored point is not measured again"
    again = evaluation.saved_points(file, "model-a", 300)
    assert again == points
    assert evaluation.saved_points(file, "model-b", 300) == {}
    assert evaluation.saved_points(file, "model-a", 16_000) == {}
    assert evaluation.saved_points(tmp_path / "none.json", "model-a", 300) == {}


def test_expected_seconds_scale_the_closest_point_of_the_same_method(tmp_path):
    points = evaluation.saved_points(tmp_path / "curve.json", "m", 100)
    assert points.expected_seconds("fine-tuning", 100) == 0.0, "nothing measured: no estimate"
    assert points.expected_seconds("fine-tuning", 100, rate=0.5) == 50.0, "or the rate given"
    points.update(
        {
            "a": {"method": "fine-tuning", "seconds": 10.0, "work": 100.0},
            "b": {"method": "fine-tuning", "seconds": 50.0, "work": 400.0},
            "c": {"method": "tfidf", "seconds": 1.0, "work": 48.0},
        }
    )
    assert points.expected_seconds("fine-tuning", 200) == pytest.approx(25.0)  # from b, closest
    assert points.expected_seconds("fine-tuning", 120) == pytest.approx(12.0)  # from a
    assert points.expected_seconds("fine-tuning", 1_600) == pytest.approx(200.0)
    assert points.expected_seconds("tfidf", 96, rate=100.0) == pytest.approx(2.0)  # measured wins


def test_saved_full_split_scores_read_lectures_5_and_6_for_this_model_and_split(tmp_path):
    import json

    row = {"accuracy": 0.9, "f1_macro": 0.8, "f1_weighted": 0.85, "C": 30.0}
    logreg = {
        "tfidf": {**row, "model": "/path/model", "train_tweets": 100},
        "logreg-mean": {**row, "accuracy": 0.7, "model": "/path/model", "train_tweets": 100},
        "logreg-cls": {**row, "model": "/path/model", "train_tweets": 99},  # another split
    }
    (tmp_path / "logreg.json").write_text(json.dumps(logreg))
    scores = {"accuracy": 0.93, "f1": 0.9, "f1_macro": 0.88}
    lecture6 = {"model": "MiniLM", "train_tweets": 100, "epochs": 2, "train_seconds": 50.0}
    lecture6["validation"] = scores
    (tmp_path / "fine_tuning.json").write_text(json.dumps(lecture6))
    found = evaluation.saved_full_split_scores(tmp_path, "/path/model", "MiniLM", 100)
    assert found == {
        "tfidf": {"accuracy": 0.9, "f1_macro": 0.8},
        "logreg-mean": {"accuracy": 0.7, "f1_macro": 0.8},
        "fine-tuned": {"accuracy": 0.93, "f1_macro": 0.88, "seconds_per_tweet": 0.25},
    }
    assert evaluation.saved_full_split_scores(tmp_path, "/other", "other", 100) == {}
    assert (
        evaluation.saved_full_split_scores(tmp_path / "missing", "/path/model", "MiniLM", 100) == {}
    )
