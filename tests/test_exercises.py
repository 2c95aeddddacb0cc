"""The exercise checkers: right answers pass, planted mistakes are caught with their reason,
untouched stubs say "not attempted", and nothing a student writes makes `check` raise."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from utils import editions, exercises


def said(capsys, exercise, *answer) -> str:
    """The one line `exercise.check(*answer)` prints."""
    exercise.check(*answer)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, f"check printed more than one line: {out!r}"
    return out.strip()


def assert_correct(capsys, exercise, *answer) -> str:
    line = said(capsys, exercise, *answer)
    assert f"{exercise.name} ({exercise.title}) correct:" in line, line
    return line


def assert_incorrect(capsys, exercise, *answer, because: str) -> str:
    line = said(capsys, exercise, *answer)
    assert f"{exercise.name} ({exercise.title}) incorrect:" in line, line
    assert because in line, line
    return line


def assert_not_attempted(capsys, exercise, *answer) -> str:
    line = said(capsys, exercise, *answer)
    assert f"{exercise.name} ({exercise.title}) not attempted:" in line, line
    return line


# The framework ------------------------------------------------------------------------------


def test_every_lecture_1_to_7_has_its_exercises():
    for number in range(1, 8):
        found = vars(exercises.lecture(number))
        assert 2 <= len(found) <= 4, (number, sorted(found))
        assert sorted(found) == [f"q{n}" for n in range(1, len(found) + 1)]
    with pytest.raises(ValueError, match="no exercises"):
        exercises.lecture(0)


def test_an_answer_that_raises_is_reported_not_raised(capsys):
    ex = exercises.lecture(1).q2
    df = pd.DataFrame({"text": ["a", "a"], "label_name": ["joy", "love"]})
    line = assert_incorrect(capsys, ex, 1, 1, 0, df, None, because="raised TypeError")
    assert "Traceback" not in line


def test_hint_and_solution_print_something(capsys):
    ex = exercises.lecture(1).q1
    ex.hint()
    assert capsys.readouterr().out.startswith("Hint for Exercise 1.1")
    ex.solution()
    shown = capsys.readouterr().out
    assert "Solution to Exercise 1.1" in shown and "# BEGIN SOLUTION" not in shown
    assert "ex.q1.check(" in shown


def test_every_checked_exercise_ships_its_solution():
    shipped = exercises.solutions()
    assert shipped == json.loads(editions.solutions_text(editions.course_notebooks()))
    registered = {f"{lec}.{n}" for lec in range(1, 8) for n in _numbers(lec)}
    assert set(shipped) == registered, "every exercise needs a solution cell calling ex.qN.check"


def _numbers(lecture: int) -> list[int]:
    return [int(name[1:]) for name in vars(exercises.lecture(lecture))]


# Lecture 1 ----------------------------------------------------------------------------------


def tweets() -> pd.DataFrame:
    """A tiny training frame: two emotions, a repeated text with two labels."""
    rows = [
        ("i feel happy and glad today", "joy"),
        ("so happy with my glad friends", "joy"),
        ("happy days are here", "joy"),
        ("i feel sad and alone", "sadness"),
        ("sad rainy day alone", "sadness"),
        ("i feel sad and alone", "joy"),
    ]
    return pd.DataFrame(rows, columns=["text", "label_name"])


def test_duplicates(capsys):
    ex = exercises.lecture(1).q2
    df = tweets()
    validation = {"text": ["sad rainy day alone", "brand new"]}
    assert_correct(capsys, ex, 1, 1, 1, df, validation)
    assert_incorrect(capsys, ex, 2, 1, 1, df, validation, because="`n_repeated`")
    assert_incorrect(capsys, ex, 1, 1, 0, df, validation, because="should be 1")
    assert_not_attempted(capsys, ex, ..., ..., ..., df, validation)


def test_frequent_and_distinctive_words(capsys):
    ex = exercises.lecture(1).q1
    words = [f"w{i}" for i in range(8)]
    rows = [(" ".join(words[: 8 - k]), "joy") for k in range(8)]  # w0 in 8 tweets, w7 in 1
    rows += [(" ".join(words[k:]), "sadness") for k in range(8)]  # w7 in 8 tweets, w0 in 1
    df = pd.DataFrame(rows * 40, columns=["text", "label_name"])
    stop = {"w3"}
    frequent = {
        "joy": ["w0", "w1", "w2", "w4", "w5", "w6"],
        "sadness": ["w7", "w6", "w5", "w4", "w2", "w1"],
    }
    distinctive = {"joy": words[:6], "sadness": words[::-1][:6]}
    assert_correct(capsys, ex, frequent, distinctive, df, stop)
    wrong = {**frequent, "joy": ["w0", "w1", "w2", "w3", "w4", "w5"]}
    assert_incorrect(capsys, ex, wrong, distinctive, df, stop, because="one of the stop words")
    wrong = {**frequent, "joy": ["w0", "w1", "w2", "w4", "w5", "w7"]}
    assert_incorrect(capsys, ex, wrong, distinctive, df, stop, because="'w6' is missing")
    assert_not_attempted(capsys, ex, {}, {}, df, stop)


def test_own_data_set(capsys):
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    ex = exercises.lecture(1).q3
    reviews = {"train": [("good, fun", "pos"), ("bad", "neg")], "validation": [("ok", "pos")]}
    features = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})

    def dataset(rows):
        return Dataset.from_dict(
            {"text": [t for t, _ in rows], "label": [["neg", "pos"].index(lab) for _, lab in rows]},
            features=features,
        )

    movies = DatasetDict({split: dataset(rows) for split, rows in reviews.items()})
    assert_correct(capsys, ex, movies, reviews)
    cut = {**reviews, "train": [("good", "pos"), ("bad", "neg")]}
    wrong = DatasetDict({split: dataset(rows) for split, rows in cut.items()})
    assert_incorrect(capsys, ex, wrong, reviews, because="expected the review ('good, fun', 'pos')")
    assert_not_attempted(capsys, ex, ..., reviews)


# Lecture 2 ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer():
    """The uncased BERT WordPiece tokenizer of the offline model (both course models use it)."""
    from utils.config import offline_model_path
    from utils.models import load_tokenizer

    return load_tokenizer(str(offline_model_path()))


def test_unknown_words(capsys, tokenizer):
    ex = exercises.lecture(2).q1
    texts = ["i feel 🙂 today", "i feel fine", "🙂🙂"]
    assert_correct(capsys, ex, 2, tokenizer, texts)
    assert_incorrect(capsys, ex, 3, tokenizer, texts, because="should be 2")
    assert_not_attempted(capsys, ex, ..., tokenizer, texts)


def test_shorter_limit(capsys):
    import numpy as np

    ex = exercises.lecture(2).q2
    lengths = np.array([10, 40, 32, 50])  # two cut, 8 + 18 of 132 tokens lost
    assert_correct(capsys, ex, 0.5, 26 / 132, lengths, 32)
    assert_incorrect(capsys, ex, 50.0, 26 / 132, lengths, 32, because="not a percent")
    assert_incorrect(capsys, ex, 0.5, 26 / 100, lengths, 32, because="`share_lost`")
    assert_not_attempted(capsys, ex, 0.5, ..., lengths, 32)


def test_collator(capsys, tokenizer):
    from transformers import DataCollatorWithPadding

    ex = exercises.lecture(2).q3
    texts = ["i feel great", "i am so very tired of waiting", "why"]
    batch = DataCollatorWithPadding(tokenizer)([tokenizer(t) for t in texts])
    assert_correct(capsys, ex, batch, tokenizer, texts, 87)
    padded = tokenizer(texts, padding="max_length", max_length=20, return_tensors="pt")
    assert_incorrect(capsys, ex, padded, tokenizer, texts, 87, because="padded to the longest")
    assert_not_attempted(capsys, ex, ..., tokenizer, texts, 87)


def test_wordpiece(capsys, tokenizer):
    ex = exercises.lecture(2).q4
    texts = ["i feel grumpy and sleepless", "so flabbergasted"]

    def right(word):
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            prefix = "##" if start else ""
            while end > start and prefix + word[start:end] not in tokenizer.vocab:
                end -= 1
            if end == start:
                return ["[UNK]"]
            pieces.append(prefix + word[start:end])
            start = end
        return pieces

    def hangs_on_unknown(word):  # the classic mistake: no exit when no piece fits
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            prefix = "##" if start else ""
            while end > start and prefix + word[start:end] not in tokenizer.vocab:
                end -= 1
            if end > start:
                pieces.append(prefix + word[start:end])
            start = end
        return pieces

    def stub(word): ...

    assert_correct(capsys, ex, right, tokenizer, texts)
    assert_incorrect(
        capsys, ex, hangs_on_unknown, tokenizer, texts, because="('🙂') still runs after"
    )
    assert_incorrect(
        capsys, ex, lambda word: [word], tokenizer, texts, because="the tokenizer gives ['gr'"
    )
    assert_not_attempted(capsys, ex, stub, tokenizer, texts)


def test_a_loop_that_never_ends_is_stopped(capsys, tokenizer):
    def forever(word):
        while True:
            pass

    ex = exercises.lecture(2).q4
    assert_incorrect(capsys, ex, forever, tokenizer, ["grumpy"], because="still runs after")


# Lecture 3 ----------------------------------------------------------------------------------


def test_mean_vectors(capsys, tokenizer):
    import torch
    from transformers import BertConfig, BertModel

    ex = exercises.lecture(3).q1
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
    )
    model = BertModel(config).eval()
    encoded = tokenizer(["i feel fine", "i feel a little lost tonight", "why"], padding=True)
    rows = {name: torch.tensor(values) for name, values in encoded.items()}

    class Rows:  # what sample_encoded[:k] returns: a dict of tensors
        def __getitem__(self, index):
            return rows

        def __len__(self):
            return 3

    def run(batch, pooled):
        with torch.inference_mode():
            states = model(**batch).last_hidden_state
        return {"mean_vector": pooled(states, batch["attention_mask"]).numpy()}

    def right(batch):
        return run(batch, lambda s, m: (s * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True))

    def plain_mean(batch):
        return run(batch, lambda s, m: s.mean(dim=1))

    def stub(batch): ...

    assert_correct(capsys, ex, right, Rows(), model)
    assert_incorrect(capsys, ex, plain_mean, Rows(), model, because="left out of the mean?")
    assert_not_attempted(capsys, ex, stub, Rows(), model)


def test_nearest(capsys):
    import numpy as np

    ex = exercises.lecture(3).q2
    train = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    valid = np.array([[5.0, 0.1], [0.2, 3.0], [2.0, 2.1]])
    assert_correct(capsys, ex, np.array([0, 1, 2]), train, valid)
    # the largest dot product is not the largest cosine: [2, 2.1] . [1, 1] wins either way, but
    # [5, 0.1] . [1, 1] = 5.1 beats [5, 0.1] . [1, 0] = 5
    assert_incorrect(capsys, ex, [2, 1, 2], train, valid, because="row 0 is more similar")
    assert_not_attempted(capsys, ex, ..., train, valid)


def test_truncation(capsys, tokenizer):
    ex = exercises.lecture(3).q3
    texts = ["i feel fine", " ".join(["word"] * 20), " ".join(["so"] * 30)]
    assert_correct(capsys, ex, 2, 2, texts, tokenizer)
    assert_incorrect(capsys, ex, 2, 3, texts, tokenizer, because="`too_long`")
    assert_incorrect(capsys, ex, 3, 2, texts, tokenizer, because="exactly the 2 tweets it cuts")
    assert_not_attempted(capsys, ex, ..., ..., texts, tokenizer)


# Lecture 4 ----------------------------------------------------------------------------------


def clusters(n: int = 60, width: int = 8, seed: int = 0):
    """Rows in three direction clusters with lengths that vary (cosine and Euclidean differ)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    centres = rng.normal(size=(3, width)) + 2.0  # a shared offset, as in the hidden states
    X = centres[labels] + rng.normal(scale=0.6, size=(n, width))
    return X * rng.uniform(0.5, 3.0, size=(n, 1)), labels


def test_standing_apart_in_the_full_space(capsys):
    ex = exercises.lecture(4).q1
    names = ["sadness", "joy", "love"]
    labels = np.array([0, 0, 1, 1, 2, 2, 0, 1])
    rows = np.array([0, 2, 4, 5])  # probe tweets: one sadness, one joy, two love
    near = np.array([[6, 1, 2], [3, 7, 0], [5, 0, 1], [4, 2, 3]])
    right = {"sadness": 2 / 3, "joy": 2 / 3, "love": (1 / 3 + 1 / 3) / 2}
    assert_correct(capsys, ex, right, near, labels, rows, names)
    overall = float(np.mean([2 / 3, 2 / 3, 1 / 3, 1 / 3]))  # one average for all emotions
    wrong = dict.fromkeys(names, overall)
    assert_incorrect(capsys, ex, wrong, near, labels, rows, names, because="the 1 sadness tweet of")
    stub = dict.fromkeys(names, ...)
    assert_not_attempted(capsys, ex, stub, near, labels, rows, names)
    assert_not_attempted(capsys, ex, {}, near, labels, rows, names)
    assert_incorrect(capsys, ex, {"joy": 0.5}, near, labels, rows, names, because="keys")


def nearest(X, k=15, metric="cosine"):
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k, metric=metric).fit(X).kneighbors()[1]


def overlap(before, after):
    return float(np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(before, after)]))


def test_what_the_map_keeps(capsys):
    ex = exercises.lecture(4).q2
    X, _ = clusters()
    rng = np.random.default_rng(1)
    maps = {5: X[:, :2], 50: rng.normal(size=(len(X), 2))}  # stand-ins for two projections
    kept = {n: overlap(nearest(X), nearest(plane, metric="euclidean")) for n, plane in maps.items()}
    assert kept[5] > kept[50] + 0.1, "the test needs two maps that keep different shares"
    assert_correct(capsys, ex, kept, maps, X)
    swapped = {5: kept[50], 50: kept[5]}
    assert_incorrect(capsys, ex, swapped, maps, X, because="`kept_on_map[5]`")
    percent = {n: 50 * share for n, share in kept.items()}
    assert_incorrect(capsys, ex, percent, maps, X, because="not a percent")
    assert_incorrect(capsys, ex, {5: kept[5]}, maps, X, because="keys [5, 50]")
    assert_incorrect(capsys, ex, kept, {5: maps[5], 50: maps[50][:10]}, X, because="shape")
    assert_not_attempted(capsys, ex, {}, {}, X)
    stub = dict.fromkeys([5, 50], ...)
    assert_not_attempted(capsys, ex, stub, stub, X)


def test_standardising(capsys):
    from sklearn.preprocessing import StandardScaler

    ex = exercises.lecture(4).q3
    X, labels = clusters()
    X[:, 0] *= 50  # one wide column: standardising and centring part ways
    kept, same = {}, {}
    for name, scaler in [
        ("centring", StandardScaler(with_std=False)),
        ("standardising", StandardScaler()),
    ]:
        near = nearest(scaler.fit_transform(X))
        kept[name] = overlap(nearest(X), near)
        same[name] = float((labels[near] == labels[:, None]).mean())
    assert abs(kept["centring"] - kept["standardising"]) > 0.02, "the scalings must differ here"
    assert_correct(capsys, ex, kept, same, X, labels)
    swapped = {"centring": kept["standardising"], "standardising": kept["centring"]}
    assert_incorrect(capsys, ex, swapped, same, X, labels, because="kept_share['centring']")
    unscaled = float((labels[nearest(X)] == labels[:, None]).mean())  # labels before scaling
    assert abs(unscaled - same["standardising"]) > 0.02
    wrong = {**same, "standardising": unscaled}
    assert_incorrect(capsys, ex, kept, wrong, X, labels, because="same['standardising']")
    assert_incorrect(capsys, ex, {"min-max": 0.4}, same, X, labels, because="keys")
    assert_not_attempted(capsys, ex, {}, {}, X, labels)
    stub = dict.fromkeys(["centring", "standardising"], ...)
    assert_not_attempted(capsys, ex, stub, stub, X, labels)


# Lecture 5 ----------------------------------------------------------------------------------


def blobs(seed: int = 0, n: int = 40):
    """Three classes of 4-dimensional points, the third one rare."""
    import numpy as np

    rng = np.random.default_rng(seed)
    y = np.array([0] * n + [1] * n + [2] * (n // 8))
    X = rng.normal(size=(len(y), 4)) + np.eye(4)[y] * 2.5
    return X, y


def test_class_weights(capsys):
    from sklearn.metrics import recall_score

    from utils.evaluation import logistic_regression

    ex = exercises.lecture(5).q1
    X, y = blobs()
    names = ["a", "b", "c"]
    unweighted = logistic_regression(0).fit(X, y).predict(X)
    balanced = logistic_regression(0, class_weight="balanced").fit(X, y)
    recall = recall_score(y, balanced.predict(X), average=None)
    assert_correct(capsys, ex, balanced, recall, X, y, unweighted, names)
    plain = logistic_regression(0).fit(X, y)
    assert_incorrect(
        capsys, ex, plain, recall, X, y, unweighted, names, because="without class_weight"
    )
    assert_incorrect(
        capsys, ex, balanced, recall[:2], X, y, unweighted, names, because="one per emotion"
    )
    assert_not_attempted(capsys, ex, ..., ..., X, y, unweighted, names)
    unfitted = logistic_regression(0, class_weight="balanced")
    assert_incorrect(capsys, ex, unfitted, recall, X, y, unweighted, names, because="not a fitted")


def test_knn(capsys):
    from sklearn.metrics import accuracy_score
    from sklearn.neighbors import KNeighborsClassifier

    ex = exercises.lecture(5).q2
    X, y = blobs()
    knn = KNeighborsClassifier(n_neighbors=15, metric="cosine").fit(X, y)
    accuracy = accuracy_score(y, knn.predict(X))
    assert_correct(capsys, ex, knn, accuracy, X, y)
    euclidean = KNeighborsClassifier(n_neighbors=15).fit(X, y)
    assert_incorrect(capsys, ex, euclidean, accuracy, X, y, because="'metric': 'minkowski'")
    assert_incorrect(capsys, ex, knn, 100 * accuracy, X, y, because="not a percent")
    assert_not_attempted(capsys, ex, knn, ..., X, y)


def test_data_needed(capsys):
    ex = exercises.lecture(5).q3
    sizes = [500, 2_000, 8_000, 16_000]
    assert_correct(capsys, ex, sizes, [0.5, 0.55, 0.65, 0.7], 16_000, 0.7)
    assert_incorrect(capsys, ex, sizes, [0.5, 0.55, 0.65, 0.69], 16_000, 0.7, because="same seed")
    assert_incorrect(capsys, ex, [500, 16_000], [0.5, 0.7], 16_000, 0.7, because="the task asks")
    assert_correct(capsys, ex, [300], [0.4], 300, 0.4)  # a CI-sized run: one size, all tweets
    assert_not_attempted(capsys, ex, sizes, [], 16_000, 0.7)


# Lecture 6 ----------------------------------------------------------------------------------


def test_gain(capsys):
    import numpy as np
    from sklearn.metrics import f1_score

    ex = exercises.lecture(6).q1
    names = ["a", "b", "c"]
    y = np.array([0, 0, 1, 1, 2, 2])
    frozen = np.array([0, 1, 1, 1, 0, 0])
    tuned = np.array([0, 0, 1, 1, 2, 0])
    f1 = {
        k: f1_score(y, p, average=None, labels=range(3)) for k, p in [("f", frozen), ("t", tuned)]
    }
    gain = f1["t"] - f1["f"]
    assert_correct(capsys, ex, gain, y, frozen, tuned, names)
    assert_incorrect(capsys, ex, -gain, y, frozen, tuned, names, because="wrong sign")
    assert_incorrect(capsys, ex, gain[:2], y, frozen, tuned, names, because="one per emotion")
    assert_not_attempted(capsys, ex, ..., y, frozen, tuned, names)


def test_learning_rates(capsys):
    ex = exercises.lecture(6).q2
    validation = list(range(2000))
    line = assert_correct(capsys, ex, {2e-5: [0.35, 0.4], 1e-4: [0.6, 0.62]}, validation)
    assert "+23.5 points" in line and "up to 5.0 points" in line and "2,000 tweets" in line
    assert_incorrect(
        capsys, ex, {2e-5: [0.35], 1e-4: [0.6, 0.62]}, validation, because="one per seed"
    )
    assert_incorrect(capsys, ex, {3e-5: [0.3, 0.3], 1e-4: [0.6, 0.6]}, validation, because="rates")
    assert_incorrect(
        capsys, ex, {2e-5: [35, 40], 1e-4: [60, 62]}, validation, because="not a percent"
    )
    assert_not_attempted(capsys, ex, {2e-5: [], 1e-4: []}, validation)


def test_confidence(capsys):
    import numpy as np

    ex = exercises.lecture(6).q3
    probabilities = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]])
    scored = {
        "probabilities": probabilities,
        "predicted": np.array([0, 1, 1]),
        "label": np.array([0, 0, 1]),
    }
    right = np.array([True, False, True])
    line = assert_correct(capsys, ex, probabilities.max(axis=1), right, scored)
    assert "0.85 when right, 0.60 when wrong" in line
    assert_incorrect(capsys, ex, probabilities[:, 0], right, scored, because="highest probability")
    assert_incorrect(capsys, ex, probabilities.max(axis=1), ~right, scored, because="`correct`")
    assert_not_attempted(capsys, ex, ..., ..., scored)


# Lecture 7 ----------------------------------------------------------------------------------

EMOTIONS = ["sadness", "joy", "love"]


def word_vectors(texts) -> np.ndarray:
    """A stand-in for the encoder: a text's vector is its last word's, plus a nudge per template."""
    rng = np.random.default_rng(0)
    table = {word: rng.normal(size=4) for word in ("sadness", "joy", "love", "sad", "glad", "fond")}
    nudge = {"i": np.array([0.5, 0, 0, 0]), "a": np.array([0, 0.5, 0, 0])}
    return np.stack([table[t.split()[-1]] + nudge.get(t.split()[0], 0) for t in texts])


def nearest_label(tweets, labels) -> np.ndarray:
    """The label vector of highest cosine similarity, for each tweet."""
    tweets = tweets / np.linalg.norm(tweets, axis=1, keepdims=True)
    labels = labels / np.linalg.norm(labels, axis=1, keepdims=True)
    return (tweets @ labels.T).argmax(axis=1)


def test_words_matter(capsys):
    ex = exercises.lecture(7).q1
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, size=60)
    tweets = word_vectors(EMOTIONS)[y] + rng.normal(scale=0.8, size=(60, 4))
    templates = ["a tweet expressing {}", "{}", "i feel {}"]
    synonyms = {"sadness": ["sad", "sadness"], "joy": ["glad", "joy"], "love": ["fond", "love"]}
    accuracy = {
        t: float(np.mean(nearest_label(tweets, word_vectors([t.format(n) for n in EMOTIONS])) == y))
        for t in templates
    }
    averaged = np.stack(
        [word_vectors([f"i feel {w}" for w in synonyms[n]]).mean(axis=0) for n in EMOTIONS]
    )
    accuracy["i feel + synonyms"] = float(np.mean(nearest_label(tweets, averaged) == y))
    inputs = (templates, synonyms, word_vectors, EMOTIONS, tweets, y)
    assert_correct(capsys, ex, accuracy, averaged, *inputs)
    swapped = {**accuracy, "{}": accuracy["{}"] + 0.1}
    assert_incorrect(capsys, ex, swapped, averaged, *inputs, because="wording_accuracy['{}']")
    assert_incorrect(capsys, ex, accuracy, averaged[::-1], *inputs, because="row 0 of")
    percent = {**accuracy, "i feel {}": 100 * accuracy["i feel {}"]}
    assert_incorrect(capsys, ex, percent, averaged, *inputs, because="not a percent")
    stub = {t: ... for t in templates} | {"i feel + synonyms": ...}
    assert_not_attempted(capsys, ex, stub, ..., *inputs)
    assert_not_attempted(capsys, ex, ..., ..., *inputs)


def test_nearest_centroid(capsys):
    ex = exercises.lecture(7).q2
    rng = np.random.default_rng(2)
    centres = np.eye(3, 4) * 5
    y_train, y_valid = rng.integers(0, 3, size=40), rng.integers(0, 3, size=30)
    y_train[y_train == 2] = 0  # class 2 never drawn: its fallback stands in
    train = centres[y_train] + rng.normal(size=(40, 4))
    valid = centres[y_valid] + rng.normal(size=(30, 4))
    fallback = centres + 0.1
    draws = {1: np.arange(0, 20), 2: np.arange(20, 40)}

    def right(vectors, labels, fallback):
        rows = [
            vectors[labels == k].mean(0) if (labels == k).any() else fallback[k] for k in range(3)
        ]
        return np.stack(rows)

    accuracy = {
        seed: float(
            np.mean(nearest_label(valid, right(train[rows], y_train[rows], fallback)) == y_valid)
        )
        for seed, rows in draws.items()
    }
    inputs = (draws, train, y_train, valid, y_valid, fallback)
    assert_correct(capsys, ex, right, accuracy, *inputs)

    def without_fallback(vectors, labels, fallback):  # a zero row for a class never drawn
        rows = [vectors[labels == k].sum(0) / max(1, (labels == k).sum()) for k in range(3)]
        return np.stack(rows)

    assert_incorrect(capsys, ex, without_fallback, accuracy, *inputs, because="its fallback row")
    wrong = {**accuracy, 1: accuracy[1] - 0.2}
    assert_incorrect(capsys, ex, right, wrong, *inputs, because="`centroid_accuracy[1]`")
    assert_incorrect(capsys, ex, right, {1: accuracy[1]}, *inputs, because="one accuracy per seed")

    def stub(vectors, labels, fallback):
        """Row k: ..."""

    assert_not_attempted(capsys, ex, stub, {1: ..., 2: ...}, *inputs)
    assert_not_attempted(capsys, ex, right, {1: ..., 2: ...}, *inputs)


def test_every_emotion_counts_alike(capsys):
    from sklearn.metrics import f1_score

    ex = exercises.lecture(7).q3
    rows = [("bag", 48, seed, 0.20 + seed / 100, 0.30) for seed in range(3)] + [
        ("tuned", 48, seed, 0.40, 0.25) for seed in range(3)
    ]
    rows += [("bag", 192, seed, 0.50, 0.45) for seed in range(3)]
    rows += [("tuned", 192, seed, 0.60, 0.55) for seed in range(3)]
    table = pd.DataFrame(rows, columns=["method", "tweets", "seed", "accuracy", "f1_macro"])
    y_valid = np.array([0, 0, 0, 1, 2, 2])
    floor = f1_score(y_valid, np.zeros_like(y_valid), average="macro")
    means = table.pivot_table(index="tweets", columns="method", values="f1_macro")
    assert_correct(capsys, ex, floor, means, [48], table, y_valid)
    assert_incorrect(capsys, ex, floor, means, [], table, y_valid, because="changes at [48]")
    weighted = f1_score(y_valid, np.zeros_like(y_valid), average="weighted")
    assert_incorrect(capsys, ex, weighted, means, [48], table, y_valid, because="`macro_floor`")
    accuracy = table.pivot_table(index="tweets", columns="method", values="accuracy")
    assert_incorrect(capsys, ex, floor, accuracy, [48], table, y_valid, because="mean macro F1")
    assert_not_attempted(capsys, ex, ..., ..., ..., table, y_valid)
