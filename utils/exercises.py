"""Exercises that answer back: `check`, `hint` and `solution` for every exercise of lectures 1-7.

In a lecture notebook::

    ex = utils.exercises.lecture(2)
    ex.q4.check(wordpiece, tokenizer)  # one line: correct, incorrect (and why), or not attempted
    ex.q4.hint()                       # one nudge
    ex.q4.solution()                   # the worked solution of the teacher edition

A checker recomputes what the answer should be from the same inputs the student used (or tests
properties that must hold), so it is right in both profiles and on any subset. It never raises into
the notebook: a wrong answer, or one that fails while being checked, prints an "incorrect" line.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from types import SimpleNamespace

import numpy as np

SOLUTIONS_FILE = "solutions.json"  # written by `make student` from the teacher notebooks


class Incorrect(Exception):
    """The answer is wrong; the message says what is wrong, with an example where one helps."""


class NotAttempted(Exception):
    """The stub's placeholder (`...`) is still there."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: its checker, a hint, and the worked solution shipped with the package."""

    lecture: int
    number: int
    title: str
    checker: Callable[..., str]
    nudge: str

    @property
    def name(self) -> str:
        """'Exercise 2.4', as the lines it prints say."""
        return f"Exercise {self.lecture}.{self.number}"

    def check(self, *answer, **named) -> None:
        """Print one line: correct, incorrect (and why), or not attempted."""
        try:
            detail = self.checker(*answer, **named)
            status, text = "correct", detail or "well done."
        except NotAttempted as stop:
            status, text = "not attempted", str(stop)
        except Incorrect as wrong:
            status, text = "incorrect", str(wrong)
        except Exception as error:  # a half-written answer may fail anywhere: report, never raise
            message = str(error).strip().splitlines()[0] if str(error).strip() else ""
            status = "incorrect"
            text = f"checking your answer raised {type(error).__name__}: {message}".rstrip(": ")
        symbol = {"correct": "✔", "incorrect": "✘", "not attempted": "…"}[status]
        print(f"{symbol} {self.name} ({self.title}) {status}: {text}")

    def hint(self) -> None:
        """Print one nudge towards the answer."""
        print(f"Hint for {self.name} ({self.title}): {self.nudge}")

    def solution(self) -> None:
        """Show the worked solution of the teacher edition."""
        code = solutions().get(f"{self.lecture}.{self.number}")
        if code is None:
            print(f"No solution for {self.name} ships with this copy of the course.")
            return
        title = f"Solution to {self.name} ({self.title})"
        try:
            from IPython import get_ipython
            from IPython.display import Markdown, display
        except ImportError:
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:  # a notebook: show it as code
            display(Markdown(f"**{title}**\n\n```python\n{code}\n```"))
        else:
            print(f"{title}:\n{code}")


_EXERCISES: dict[tuple[int, int], Exercise] = {}


def exercise(lecture: int, number: int, title: str, hint: str):
    """Register the decorated function as the checker of exercise `lecture`.`number`."""

    def register(checker: Callable[..., str]) -> Callable[..., str]:
        _EXERCISES[lecture, number] = Exercise(lecture, number, title, checker, hint)
        return checker

    return register


def lecture(number: int) -> SimpleNamespace:
    """The exercises of one lecture as `q1`, `q2`, ...: `ex = lecture(2)`, then `ex.q4.check(...)`."""
    found = {f"q{n}": ex for (lec, n), ex in sorted(_EXERCISES.items()) if lec == number}
    if not found:
        raise ValueError(f"Lecture {number} has no exercises; lectures 1-7 have.")
    return SimpleNamespace(**found)


def solutions() -> dict[str, str]:
    """The worked solutions by 'lecture.number', as `make student` wrote them into the package."""
    try:
        text = resources.files(__package__).joinpath(SOLUTIONS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return json.loads(text)


# What every checker uses --------------------------------------------------------------------


def attempted(name: str, value: object) -> None:
    """Stop with "not attempted" while `value` is still the stub's placeholder `...` (or None)."""
    if value is Ellipsis or value is None:
        raise NotAttempted(f"`{name}` is still `...`. Fill it in, then run the cell again.")


def attempted_function(name: str, function: object, *example) -> object:
    """Call `function(*example)`; "not attempted" while its body is still `...` (it returns None).

    A call that runs longer than a few seconds stops with "incorrect" (a loop that never ends).
    """
    attempted(name, function)
    if not callable(function):
        raise Incorrect(f"`{name}` should be a function, not a {type(function).__name__}.")
    result = call_within(function, *example)
    if result is None or result is Ellipsis:
        raise NotAttempted(
            f"`{name}` returns nothing yet. Write its body, then run the cell again."
        )
    return result


def call_within(function: Callable, *args, seconds: float = 10.0) -> object:
    """`function(*args)`, stopped with Incorrect after `seconds` (a loop that never ends).

    The alarm needs the main thread of a Unix process, as in a Jupyter kernel; elsewhere the call
    runs without a limit.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        return function(*args)

    def stop(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(*args)
    except TimeoutError:
        shown = ", ".join(repr(a) if isinstance(a, str) else type(a).__name__ for a in args)
        name = getattr(function, "__name__", "your function")
        raise Incorrect(
            f"{name}({shown}) still runs after {seconds:g} s: does every loop in it end?"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def same_number(name: str, value: object, expected: float, tolerance: float = 1e-6) -> None:
    """`value` is a number within `tolerance` of `expected`, or Incorrect saying both."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise Incorrect(f"`{name}` should be a number, not a {type(value).__name__}.")
    if not np.isfinite(value) or abs(float(value) - float(expected)) > tolerance:
        raise Incorrect(f"`{name}` is {_show(value)}, but it should be {_show(expected)}.")


def share(name: str, value: object) -> float:
    """`value` as a share between 0 and 1, or Incorrect (a percentage such as 12.5 is a common slip)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise Incorrect(
            f"`{name}` should be a number between 0 and 1, not a {type(value).__name__}."
        )
    if not 0 <= float(value) <= 1:
        raise Incorrect(
            f"`{name}` is {_show(value)}: a share lies between 0 and 1 (not a percent)."
        )
    return float(value)


def _show(value: object) -> str:
    """A number as the lines print it: up to four significant digits."""
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return repr(value)


def _list(value: object) -> list:
    """A list from a list, tuple, array, Series or Column."""
    return list(value.tolist() if hasattr(value, "tolist") else value)


# Lecture 1 ----------------------------------------------------------------------------------


def _tweet_counts(texts) -> Counter:
    """In how many of `texts` each word appears (a word counts once per tweet)."""
    return Counter(word for text in texts for word in set(str(text).split()))


def _ranked(name: str, given: object, score: dict, outside: str, scored: str) -> None:
    """`given` lists the six best-scoring words of `score`, in any order among equal scores."""
    words = [given] if isinstance(given, str) else _list(given)
    if len(words) != 6 or len(set(words)) != 6:
        raise Incorrect(f"{name} should list 6 different words, not {words!r}.")
    if unknown := [word for word in words if word not in score]:
        raise Incorrect(f"{name} holds {unknown[0]!r}, {outside}.")
    ranking = sorted(score, key=score.get, reverse=True)
    if sorted(map(score.get, words)) != sorted(map(score.get, ranking[:6])):
        weakest = min(words, key=score.get)
        better = next(word for word in ranking if word not in words)
        raise Incorrect(
            f"{name} holds {weakest!r} ({_show(score[weakest])} {scored}), but {better!r} is "
            f"missing ({_show(score[better])})."
        )


@exercise(
    1,
    1,
    "frequent and distinctive words",
    hint="collections.Counter(word for text in texts for word in set(text.split())) counts each "
    "word once per tweet; most_common() sorts it. For the share, divide a word's count among the "
    "emotion's tweets by its count among all tweets (tweets_with).",
)
def _frequent_and_distinctive(frequent, distinctive, df, stop_words) -> str:
    if not frequent:
        raise NotAttempted("`frequent` is still empty. Fill it in, then run the cell again.")
    tweets_with = _tweet_counts(df["text"])
    enough = len(df) / 500
    for emotion in sorted(set(df["label_name"])):
        texts = df.loc[df["label_name"] == emotion, "text"]
        in_class = _tweet_counts(texts)
        if emotion not in frequent:
            raise Incorrect(f"`frequent` has no entry for {emotion!r}: one list per emotion.")
        stopped = [w for w in _list(frequent[emotion]) if w in stop_words]
        if stopped:
            raise Incorrect(f"frequent[{emotion!r}] holds {stopped[0]!r}, one of the stop words.")
        kept = {w: n for w, n in in_class.items() if w not in stop_words}
        _ranked(
            f"frequent[{emotion!r}]", frequent[emotion], kept, f"in no {emotion} tweet", "tweets"
        )
    if not distinctive:
        raise NotAttempted("`frequent` is right; `distinctive` is still empty.")
    for emotion in sorted(set(df["label_name"])):
        in_class = _tweet_counts(df.loc[df["label_name"] == emotion, "text"])
        shares = {w: n / tweets_with[w] for w, n in in_class.items() if tweets_with[w] >= enough}
        if emotion not in distinctive:
            raise Incorrect(f"`distinctive` has no entry for {emotion!r}: one list per emotion.")
        _ranked(
            f"distinctive[{emotion!r}]",
            distinctive[emotion],
            shares,
            f"which is in no {emotion} tweet or in fewer than 1 tweet in 500",
            f"of its tweets are {emotion}",
        )
    return "both lists match for every emotion."


@exercise(
    1,
    2,
    "duplicates",
    hint="df['text'].value_counts() counts each text; for the labels, group the repeated rows by "
    "text and count the distinct label names with nunique(); Series.isin(...) tests membership.",
)
def _duplicates(n_repeated, n_conflicting, n_in_validation, df, validation) -> str:
    for name, value in [
        ("n_repeated", n_repeated),
        ("n_conflicting", n_conflicting),
        ("n_in_validation", n_in_validation),
    ]:
        attempted(name, value)
    counts = df["text"].value_counts()
    repeated = counts[counts > 1].index
    labels = df[df["text"].isin(repeated)].groupby("text")["label_name"].nunique()
    train_texts = set(df["text"])
    expected = {
        "n_repeated": (n_repeated, len(repeated), "texts that appear more than once in train"),
        "n_conflicting": (n_conflicting, int((labels > 1).sum()), "of those, with two labels"),
        "n_in_validation": (
            n_in_validation,
            sum(text in train_texts for text in validation["text"]),
            "validation tweets whose text is also in train",
        ),
    }
    for name, (got, want, meaning) in expected.items():
        if got != want:
            raise Incorrect(
                f"`{name}` ({meaning}) is {_show(got)}, but it should be {_show(want)}."
            )
    return (
        f"{n_repeated} texts repeat, {n_conflicting} of them with more than one label; "
        f"{n_in_validation} validation tweets are also in train."
    )


@exercise(
    1,
    3,
    "your own data set",
    hint="pd.DataFrame(rows, columns=['text', 'label']).to_csv(folder / f'{split}.csv', index=False) "
    "writes one split; pandas quotes the commas inside a text for you. Then "
    "utils.load_text_folder(folder).",
)
def _own_data_set(movies, reviews) -> str:
    attempted("movies", movies)
    splits = list(getattr(movies, "keys", lambda: [])())
    if sorted(splits) != sorted(reviews):
        raise Incorrect(
            f"`movies` should be a DatasetDict with splits {sorted(reviews)}, not {splits}."
        )
    names = movies["train"].features["label"].names
    if names != sorted({label for rows in reviews.values() for _, label in rows}):
        raise Incorrect(f"the label names are {names}; load_text_folder sorts the names it finds.")
    for split, rows in reviews.items():
        got = [
            (text, names[label])
            for text, label in zip(movies[split]["text"], movies[split]["label"])
        ]
        if got != [tuple(row) for row in rows]:
            wrong = next(
                (g, tuple(r)) for g, r in zip(got + [None] * len(rows), rows) if g != tuple(r)
            )
            raise Incorrect(f"{split}: expected the review {wrong[1]!r}, found {wrong[0]!r}.")
    return f"{len(splits)} splits, labels {names}, every review and label in place."


# Lecture 2 ----------------------------------------------------------------------------------


@exercise(
    2,
    1,
    "words the tokenizer has never seen",
    hint="tokenizer(texts)['input_ids'] gives the ids of every tweet; a tweet counts when "
    "tokenizer.unk_token_id is among its ids.",
)
def _unknown_words(n_with_unknown, tokenizer, texts) -> str:
    attempted("n_with_unknown", n_with_unknown)
    ids = tokenizer(list(texts))["input_ids"]
    expected = sum(tokenizer.unk_token_id in row for row in ids)
    same_number("n_with_unknown", n_with_unknown, expected, tolerance=0)
    return f"{expected:,} of {len(ids):,} training tweets hold an [UNK] token."


@exercise(
    2,
    2,
    "what a shorter limit would cost",
    hint="lengths > limit marks the tweets that would be cut; each loses lengths - limit tokens "
    "(np.clip(..., 0, None) keeps the others at 0). Divide by the number of tweets and of tokens.",
)
def _shorter_limit(share_cut, share_lost, lengths, limit) -> str:
    attempted("share_cut", share_cut)
    attempted("share_lost", share_lost)
    lengths = np.asarray(lengths)
    cut = float((lengths > limit).mean())
    lost = float(np.clip(lengths - limit, 0, None).sum() / lengths.sum())
    for name, value, expected in [("share_cut", share_cut, cut), ("share_lost", share_lost, lost)]:
        same_number(name, share(name, value), expected)
    return f"{cut:.1%} of the tweets would be cut, losing {lost:.1%} of the real tokens."


@exercise(
    2,
    3,
    "dynamic padding with a data collator",
    hint="examples = [tokenizer(tweet) for tweet in first_eight] (no padding), then "
    "DataCollatorWithPadding(tokenizer)(examples).",
)
def _collator(batch, tokenizer, texts, padded_length) -> str:
    attempted("batch", batch)
    if "input_ids" not in batch or "attention_mask" not in batch:
        raise Incorrect("`batch` should hold 'input_ids' and 'attention_mask' tensors.")
    rows = tokenizer(list(texts))["input_ids"]
    width = max(map(len, rows))
    shape = tuple(batch["input_ids"].shape)
    if shape != (len(rows), width):
        raise Incorrect(
            f"batch['input_ids'] has shape {shape}; {len(rows)} tweets padded to the longest of them "
            f"give ({len(rows)}, {width})."
        )
    for i, ids in enumerate(rows):
        got = batch["input_ids"][i].tolist()
        if got[: len(ids)] != ids or any(t != tokenizer.pad_token_id for t in got[len(ids) :]):
            raise Incorrect(f"row {i} of the batch is not tweet {i}'s ids followed by [PAD].")
        if batch["attention_mask"][i].tolist() != [1] * len(ids) + [0] * (width - len(ids)):
            raise Incorrect(
                f"row {i} of the attention mask does not mark its {len(ids)} real tokens."
            )
    return (
        f"the batch is {width} tokens wide, against {padded_length} for the split padded at once."
    )


@exercise(
    2,
    4,
    "your own WordPiece",
    hint="Two loops: the outer one moves `start` along the word, the inner one shortens "
    "word[start:end] (with '##' in front after the first piece) until it is in tokenizer.vocab. "
    "If `end` comes down to `start`, no piece fits: return [tokenizer.unk_token].",
)
def _wordpiece(wordpiece, tokenizer, texts) -> str:
    attempted_function("wordpiece", wordpiece, "grumpy")
    words = {word for text in texts for word in str(text).split() if word.isascii()}
    words = sorted(w for w in words if w.isalpha() and w.islower())
    for word in ["grumpy", "sleepless", "flabbergasted", "🙂", *words]:
        expected = tokenizer.tokenize(word)
        got = call_within(wordpiece, word, seconds=5.0)
        if got is None or _list(got) != expected:
            raise Incorrect(
                f"wordpiece({word!r}) returned {got!r}; the tokenizer gives {expected!r}."
            )
    return f"all {len(words) + 4:,} words split exactly as the tokenizer splits them."


# Lecture 3 ----------------------------------------------------------------------------------


@exercise(
    3,
    1,
    "mean pooling the classic way",
    hint="Start from add_cls_vectors. Turn the attention mask into a [batch, tokens, 1] float tensor "
    "(unsqueeze(-1)), multiply the states by it, sum over the tokens (dim=1) and divide by the sum "
    "of the mask.",
)
def _mean_vectors(add_mean_vectors, sample_encoded, model) -> str:
    import torch

    rows = sample_encoded[: min(8, len(sample_encoded))]
    answer = attempted_function("add_mean_vectors", add_mean_vectors, rows)
    if not isinstance(answer, dict) or "mean_vector" not in answer:
        raise Incorrect("add_mean_vectors should return a dictionary {'mean_vector': array}.")
    got = np.asarray(
        answer["mean_vector"].cpu()
        if hasattr(answer["mean_vector"], "cpu")
        else answer["mean_vector"],
        dtype=np.float32,
    )
    device = next(model.parameters()).device
    names = [name for name in rows if name in ("input_ids", "attention_mask", "token_type_ids")]
    with torch.inference_mode():
        states = model(**{name: rows[name].to(device) for name in names}).last_hidden_state
    mask = rows["attention_mask"].to(device).unsqueeze(-1).to(states.dtype)
    expected = ((states * mask).sum(dim=1) / mask.sum(dim=1)).float().cpu().numpy()
    if got.shape != expected.shape:
        raise Incorrect(
            f"mean_vector has shape {got.shape}; {len(expected)} tweets give {expected.shape}."
        )
    for i in range(len(expected)):
        if not np.allclose(got[i], expected[i], rtol=1e-3, atol=1e-3):
            padded = bool((rows["attention_mask"][i] == 0).any())
            why = " It has padding: is it left out of the mean?" if padded else ""
            raise Incorrect(f"row {i} differs from the mean over its real tokens.{why}")
    return "every row is the mean over its real tokens."


@exercise(
    3,
    2,
    "nearest neighbours",
    hint="Divide every vector by its length (np.linalg.norm(..., axis=1, keepdims=True)); then the "
    "matrix product valid @ train.T holds all cosine similarities, and argmax(axis=1) picks the best.",
)
def _nearest(nearest, train_vectors, valid_vectors) -> str:
    attempted("nearest", nearest)
    train = np.asarray(train_vectors, dtype=np.float64)
    valid = np.asarray(valid_vectors, dtype=np.float64)
    cosines = (valid / np.linalg.norm(valid, axis=1, keepdims=True)) @ (
        train / np.linalg.norm(train, axis=1, keepdims=True)
    ).T
    picked = _list(nearest)
    if len(picked) != len(valid):
        raise Incorrect(
            f"`nearest` holds {len(picked)} row numbers, one per validation tweet: {len(valid)}."
        )
    for i, j in enumerate(picked):
        best = int(cosines[i].argmax())
        if not 0 <= int(j) < len(train) or cosines[i, int(j)] < cosines[i, best] - 1e-6:
            raise Incorrect(
                f"for validation tweet {i} you picked training row {j}; row {best} is more similar "
                f"(cosine {cosines[i, best]:.3f})."
            )
    return f"the nearest training rows are {[int(j) for j in picked]}."


@exercise(
    3,
    3,
    "what truncation changes",
    hint="np.abs(short - fast).max(axis=1) > 1e-4 marks the changed rows; sample_mask.sum(dim=1) "
    "holds every tweet's number of tokens.",
)
def _truncation(changed, too_long, texts, tokenizer) -> str:
    attempted("changed", changed)
    attempted("too_long", too_long)
    lengths = [len(ids) for ids in tokenizer(list(texts), truncation=True)["input_ids"]]
    expected = sum(n > 16 for n in lengths)
    same_number("too_long", too_long, expected, tolerance=0)
    if changed != expected:
        raise Incorrect(
            f"`changed` is {_show(changed)}, but truncation changes exactly the {expected} tweets it "
            "cuts: compare each row of `short` with the same row of `fast`, with a tolerance of 1e-4."
        )
    return f"{expected} tweets are longer than 16 tokens, and exactly those changed."


# Lecture 4 ----------------------------------------------------------------------------------


def _cosine_knn(X, k: int, metric: str = "cosine") -> np.ndarray:
    """Row indices of the k nearest neighbours of every row of X, the row itself left out."""
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=k, metric=metric).fit(np.asarray(X))
    return index.kneighbors(return_distance=False)


def _overlap(before: np.ndarray, after: np.ndarray) -> float:
    """Average share of each row's neighbours in `before` that are also in `after`."""
    return float(np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(before, after)]))


def _same_share(
    name: str, value: object, expected: float, meaning: str, tolerance: float = 0.01
) -> None:
    """`value` is a share near `expected` (one point by default: ties among neighbours differ)."""
    if abs(share(name, value) - expected) > tolerance:
        raise Incorrect(f"`{name}` is {_show(value)}, but {meaning} is {_show(expected)}.")


def _filled(**given: object) -> None:
    """Stop with "not attempted" while every dict in `given` is empty or holds only `...`."""
    if all(
        not value or all(v is Ellipsis for v in dict(value).values()) for value in given.values()
    ):
        names = " and ".join(f"`{name}`" for name in given)
        verb, them = ("holds", "it") if len(given) == 1 else ("hold", "them")
        raise NotAttempted(f"{names} still {verb} only `...`. Fill {them} in, then run again.")


def _keys(name: str, given: dict, wanted: list) -> None:
    """`given` is a dict with exactly the keys `wanted`."""
    if not isinstance(given, dict) or sorted(given, key=str) != sorted(wanted, key=str):
        found = sorted(given, key=str) if isinstance(given, dict) else type(given).__name__
        raise Incorrect(f"`{name}` should be a dict with the keys {wanted}, not {found}.")


@exercise(
    4,
    1,
    "standing apart in the full space",
    hint="same_label(near, y, probe) gives each probe tweet's share of same-emotion neighbours; "
    "average it over the probe tweets of one emotion at a time (y[probe] == i).",
)
def _apart_in_space(in_space, near, labels, rows, names) -> str:
    _filled(in_space=in_space)
    near, labels, rows = np.asarray(near), np.asarray(labels), np.asarray(rows)
    own = labels[rows]
    same = (labels[near] == own[:, None]).mean(axis=1)
    present = [name for i, name in enumerate(names) if (own == i).any()]
    _keys("in_space", dict(in_space), present)
    for i, name in enumerate(names):
        if name not in present:
            continue
        mine = own == i
        _same_share(
            f"in_space[{name!r}]",
            in_space[name],
            float(same[mine].mean()),
            f"the average share of same-emotion neighbours over the {mine.sum():,} {name} "
            f"tweet{'s' if mine.sum() != 1 else ''} of `probe`",
            tolerance=1e-4,
        )
    ranked = sorted(present, key=lambda name: -in_space[name])
    return f"in the full space, {ranked[0]} stands apart most, {ranked[-1]} least."


@exercise(
    4,
    2,
    "what the map keeps",
    hint="maps[n] = project(X_small, n_neighbors=n); then kept(neighbours(X_small), "
    "neighbours(maps[n], metric='euclidean')): cosine in the full space, straight-line distance "
    "on the plane.",
)
def _what_the_map_keeps(kept_on_map, maps, X, k: int = 15) -> str:
    _filled(maps=maps, kept_on_map=kept_on_map)
    _keys("maps", maps, [5, 50])
    _keys("kept_on_map", kept_on_map, [5, 50])
    k = min(k, len(X) - 1)
    full = _cosine_knn(X, k)
    for n in (5, 50):
        plane = np.asarray(maps[n], dtype=np.float64)
        if plane.shape != (len(X), 2) or not np.isfinite(plane).all():
            raise Incorrect(
                f"`maps[{n}]` should hold 2 finite coordinates per tweet, shape {(len(X), 2)}, "
                f"not {plane.shape}."
            )
        expected = _overlap(full, _cosine_knn(plane, k, metric="euclidean"))
        meaning = f"the share of the {k} nearest neighbours (cosine) that maps[{n}] keeps"
        _same_share(f"kept_on_map[{n}]", kept_on_map[n], expected, meaning)
    return (
        f"n_neighbors=5 keeps {kept_on_map[5]:.0%} of the {k} nearest neighbours, "
        f"n_neighbors=50 keeps {kept_on_map[50]:.0%}."
    )


@exercise(
    4,
    3,
    "standardising",
    hint="StandardScaler(with_std=False) centres, StandardScaler() standardises. Compare "
    "neighbours(scaled) with neighbours(X_small_raw) using kept(...), and average "
    "same_label(neighbours(scaled), y_small) for the labels.",
)
def _standardising(kept_share, same, X, labels, k: int = 15) -> str:
    from sklearn.preprocessing import StandardScaler

    _filled(kept_share=kept_share, same=same)
    names = ["centring", "standardising"]
    _keys("kept_share", kept_share, names)
    _keys("same", same, names)
    X, labels = np.asarray(X, dtype=np.float64), np.asarray(labels)
    k = min(k, len(X) - 1)
    raw = _cosine_knn(X, k)
    for name in names:
        scaled = StandardScaler(with_std=name == "standardising").fit_transform(X)
        near = _cosine_knn(scaled, k)
        _same_share(
            f"kept_share[{name!r}]",
            kept_share[name],
            _overlap(raw, near),
            f"the share of the {k} cosine neighbours that {name} keeps",
        )
        _same_share(
            f"same[{name!r}]",
            same[name],
            float((labels[near] == labels[:, None]).mean()),
            f"the share of the neighbours after {name} that carry the tweet's label",
        )
    return (
        f"centring keeps {kept_share['centring']:.0%} of the neighbours, standardising "
        f"{kept_share['standardising']:.0%}."
    )


# Lecture 5 ----------------------------------------------------------------------------------


def _final_step(model: object) -> object:
    """The last step of a scikit-learn pipeline, or the model itself."""
    return model[-1] if hasattr(model, "steps") else model


def _fitted(name: str, model: object) -> None:
    """Incorrect unless `model` is a fitted scikit-learn estimator."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    attempted(name, model)
    try:
        check_is_fitted(_final_step(model))
    except (NotFittedError, TypeError):
        raise Incorrect(
            f"`{name}` is not a fitted scikit-learn model: call .fit(...) on it."
        ) from None


@exercise(
    5,
    1,
    "class weights",
    hint="logistic_regression(cfg.seed, class_weight='balanced') passes the option to "
    "LogisticRegression; fit it on X['mean'][0], predict X['mean'][1], then "
    "recall_score(y_valid, predicted, average=None, labels=range(len(label_names))).",
)
def _class_weights(balanced, recall_balanced, X_valid, y_valid, unweighted, label_names) -> str:
    from sklearn.metrics import recall_score

    _fitted("balanced", balanced)
    attempted("recall_balanced", recall_balanced)
    if getattr(_final_step(balanced), "class_weight", None) != "balanced":
        raise Incorrect("`balanced` was fitted without class_weight='balanced'.")
    labels = range(len(label_names))
    predicted = balanced.predict(X_valid)
    expected = recall_score(y_valid, predicted, average=None, labels=labels, zero_division=0)
    got = np.asarray(_list(recall_balanced), dtype=float)
    if got.shape != expected.shape:
        raise Incorrect(
            f"`recall_balanced` holds {got.size} values; one per emotion gives {expected.size} "
            "(pass labels=range(len(label_names)) so that a missing emotion still gets its place)."
        )
    if not np.allclose(got, expected):
        k = int(np.argmax(np.abs(got - expected)))
        raise Incorrect(
            f"the recall of {label_names[k]} is {got[k]:.3f} in your answer, {expected[k]:.3f} for "
            "`balanced` on validation."
        )
    before = recall_score(y_valid, unweighted, average=None, labels=labels, zero_division=0)
    change = {name: 100 * (a - b) for name, a, b in zip(label_names, expected, before)}
    moves = sorted(change.items(), key=lambda item: -item[1])
    shown = ", ".join(f"{name} {points:+.0f}" for name, points in moves)
    return f"recall with balanced weights, in points against the unweighted model: {shown}."


@exercise(
    5,
    2,
    "another classifier",
    hint="KNeighborsClassifier(n_neighbors=15, metric='cosine').fit(X['mean'][0], y_train), then "
    "accuracy_score(y_valid, knn.predict(X['mean'][1])).",
)
def _knn(knn, knn_accuracy, X_valid, y_valid) -> str:
    from sklearn.metrics import accuracy_score

    _fitted("knn", knn)
    attempted("knn_accuracy", knn_accuracy)
    settings = {"n_neighbors": 15, "metric": "cosine"}
    wrong = {k: getattr(knn, k, None) for k, v in settings.items() if getattr(knn, k, None) != v}
    if wrong:
        raise Incorrect(f"`knn` has {wrong}; the task asks for {settings}.")
    expected = accuracy_score(y_valid, knn.predict(X_valid))
    same_number("knn_accuracy", share("knn_accuracy", knn_accuracy), expected)
    return f"k-nearest neighbours reach {expected:.1%} on validation."


@exercise(
    5,
    3,
    "how much data the linear model needs",
    hint="For each n below len(y_train), train_test_split(np.arange(len(y_train)), train_size=n, "
    "stratify=y_train, random_state=cfg.seed) picks the rows; fit logistic_regression(cfg.seed) on "
    "them and append the validation accuracy.",
)
def _data_needed(sizes, accuracies, n_train, full_accuracy) -> str:
    if not _list(accuracies):
        raise NotAttempted("`accuracies` is still empty. Fill it in, then run the cell again.")
    sizes, accuracies = _list(sizes), [float(a) for a in _list(accuracies)]
    expected_sizes = sorted({min(n, n_train) for n in (500, 2_000, 8_000, n_train)})
    if sizes != expected_sizes:
        raise Incorrect(f"`sizes` is {sizes}; the task asks for {expected_sizes}.")
    if len(accuracies) != len(sizes):
        raise Incorrect(f"{len(accuracies)} accuracies for {len(sizes)} sizes: one per size.")
    for a in accuracies:
        share("an accuracy", a)
    if not np.isclose(accuracies[-1], full_accuracy, atol=1e-9):
        raise Incorrect(
            f"with all {n_train:,} tweets the accuracy is {accuracies[-1]:.4f}, but lecture 5's "
            f"model fitted on them scores {full_accuracy:.4f}: same seed, same data, same model."
        )
    return "from " + ", ".join(f"{n:,}: {a:.1%}" for n, a in zip(sizes, accuracies)) + "."


# Lecture 6 ----------------------------------------------------------------------------------


@exercise(
    6,
    1,
    "who gained most",
    hint="f1_score(y_valid, predicted, average=None, labels=range(len(label_names))) gives one F1 "
    "per emotion; do it for both models and subtract.",
)
def _gain(gain, y_valid, frozen, tuned, label_names) -> str:
    from sklearn.metrics import f1_score

    attempted("gain", gain)
    labels = range(len(label_names))
    expected = f1_score(y_valid, tuned, average=None, labels=labels, zero_division=0) - f1_score(
        y_valid, frozen, average=None, labels=labels, zero_division=0
    )
    got = np.asarray(_list(gain), dtype=float)
    if got.shape != expected.shape:
        raise Incorrect(f"`gain` holds {got.size} values; one per emotion gives {expected.size}.")
    if np.allclose(got, -expected):
        raise Incorrect("`gain` has the wrong sign: fine-tuned minus frozen.")
    if not np.allclose(got, expected, atol=1e-6):
        k = int(np.argmax(np.abs(got - expected)))
        raise Incorrect(
            f"the gain of {label_names[k]} is {got[k]:.3f}, but it is {expected[k]:.3f}."
        )
    order = np.argsort(-expected)
    best = ", ".join(f"{label_names[k]} {expected[k]:+.2f}" for k in order[:2])
    return f"the largest gains in F1 are {best}."


@exercise(
    6,
    2,
    "the learning rate, measured",
    hint="Inside the loop: set_seed(seed); run_args = training_arguments(..., epochs=1, "
    "learning_rate=rate, seed=seed, eval_strategy='no', save_strategy='no'); run = make_trainer("
    "load_classifier(cfg.model_name, label_names), tokenizer, runs, run_args); run.train(); then "
    "run.evaluate()['eval_accuracy'].",
)
def _learning_rates(accuracies, validation) -> str:
    if not any(_list(runs) for runs in dict(accuracies).values()):
        raise NotAttempted(
            "`accuracies` holds no accuracy yet. Fill it in, then run the cell again."
        )
    if sorted(accuracies) != [2e-5, 1e-4]:
        raise Incorrect(
            f"`accuracies` has the rates {sorted(accuracies)}; the task asks for 2e-5, 1e-4."
        )
    for rate, runs in accuracies.items():
        runs = _list(runs)
        if len(runs) != 2:
            raise Incorrect(f"accuracies[{rate:g}] holds {len(runs)} accuracies, one per seed: 2.")
        for value in runs:
            share(f"an accuracy at {rate:g}", value)
    means = {rate: float(np.mean(runs)) for rate, runs in accuracies.items()}
    spread = max(abs(runs[0] - runs[1]) for runs in accuracies.values())
    gap = means[1e-4] - means[2e-5]
    n = len(validation)
    wobble = 1.96 * np.sqrt(0.25 / n)  # the widest 95% interval of one accuracy on n tweets
    return (
        f"1e-4 minus 2e-5: {100 * gap:+.1f} points; the seeds differ by up to {100 * spread:.1f} "
        f"points; one accuracy on {n:,} tweets wobbles by up to about ±{100 * wobble:.1f} points."
    )


@exercise(
    6,
    3,
    "is the model sure when it is right",
    hint="scored['probabilities'] has one row per tweet: its max(axis=1) is the confidence; compare "
    "scored['predicted'] with scored['label'].",
)
def _confidence(confidence, correct, scored) -> str:
    attempted("confidence", confidence)
    attempted("correct", correct)
    expected = np.asarray(scored["probabilities"]).max(axis=1)
    right = np.asarray(scored["predicted"]) == np.asarray(scored["label"])
    got = np.asarray(confidence, dtype=float)
    if got.shape != expected.shape or not np.allclose(got, expected, atol=1e-6):
        raise Incorrect("`confidence` should be the highest probability of each tweet, in order.")
    if np.asarray(correct).shape != right.shape or (np.asarray(correct) != right).any():
        raise Incorrect("`correct` should say, tweet by tweet, whether the answer is the label.")
    median = {
        name: float(np.median(expected[group])) if group.any() else float("nan")
        for name, group in (("right", right), ("wrong", ~right))
    }
    return f"median confidence {median['right']:.2f} when right, {median['wrong']:.2f} when wrong."


# Lecture 7 ----------------------------------------------------------------------------------


def _nearest_label(vectors, label_vectors) -> np.ndarray:
    """For each vector, the row of `label_vectors` with the highest cosine similarity."""
    vectors = np.asarray(vectors, dtype=float)
    labels = np.asarray(label_vectors, dtype=float)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = labels / np.linalg.norm(labels, axis=1, keepdims=True)
    return (vectors @ labels.T).argmax(axis=1)


def _accuracy_close(name: str, value: object, expected: float, n: int, how: str) -> None:
    """`value` is the accuracy `expected` (up to one tweet of `n`, for rounding), else Incorrect."""
    share(name, value)
    if abs(float(value) - expected) > 1.5 / n:
        raise Incorrect(f"`{name}` is {_show(value)}, but {how} gives {_show(expected)}.")


@exercise(
    7,
    1,
    "words matter",
    hint="embed([template.format(name) for name in label_names]) gives the six label vectors of one "
    "wording; zero_shot(mean['validation'], those vectors) predicts, accuracy_score scores. For the "
    "synonyms, np.stack one averaged vector per emotion (embed(...).mean(axis=0)), in label order.",
)
def _wordings(
    wording_accuracy, synonym_vectors, templates, synonyms, embed, label_names, tweets, y_true
) -> str:
    attempted("wording_accuracy", wording_accuracy)
    _filled(wording_accuracy=wording_accuracy)
    y_true = np.asarray(y_true)
    expected_keys = [*templates, "i feel + synonyms"]
    if not isinstance(wording_accuracy, dict) or set(wording_accuracy) != set(expected_keys):
        keys = sorted(wording_accuracy) if isinstance(wording_accuracy, dict) else None
        raise Incorrect(
            f"`wording_accuracy` should be a dict with the keys {expected_keys}, not {keys}."
        )
    for template in templates:
        texts = [template.format(name) for name in label_names]
        expected = float((_nearest_label(tweets, embed(texts)) == y_true).mean())
        how = f"zero-shot with the descriptions {texts[:2]} ..."
        _accuracy_close(
            f"wording_accuracy[{template!r}]",
            wording_accuracy[template],
            expected,
            len(y_true),
            how,
        )
    attempted("synonym_vectors", synonym_vectors)
    averaged = np.stack(
        [
            np.asarray(embed([f"i feel {word}" for word in synonyms[name]])).mean(axis=0)
            for name in label_names
        ]
    )
    given = np.asarray(synonym_vectors, dtype=float)
    if given.shape != averaged.shape:
        raise Incorrect(
            f"`synonym_vectors` has shape {given.shape}: one averaged vector per emotion gives {averaged.shape}."
        )
    for row, name in enumerate(label_names):
        if not np.allclose(given[row], averaged[row], atol=1e-4):
            words = [f"i feel {word}" for word in synonyms[name]]
            raise Incorrect(
                f"row {row} of `synonym_vectors` should be the mean of the vectors of {words}."
            )
    expected = float((_nearest_label(tweets, averaged) == y_true).mean())
    key = "wording_accuracy['i feel + synonyms']"
    _accuracy_close(
        key, wording_accuracy["i feel + synonyms"], expected, len(y_true), "`synonym_vectors`"
    )
    best = max(wording_accuracy, key=wording_accuracy.get)
    return f"the best wording here is {best!r} ({wording_accuracy[best]:.1%})."


def _centroids(vectors, labels, fallback) -> np.ndarray:
    """Row k: the mean of the vectors labelled k, or fallback[k] when none is."""
    vectors, labels = np.asarray(vectors, dtype=float), np.asarray(labels)
    rows = [
        vectors[labels == k].mean(axis=0) if (labels == k).any() else np.asarray(fallback[k], float)
        for k in range(len(fallback))
    ]
    return np.stack(rows)


@exercise(
    7,
    2,
    "nearest centroid",
    hint="vectors[labels == k].mean(axis=0) is the centroid of class k; (labels == k).any() tells "
    "whether the draw has any tweet of class k. Then zero_shot(mean['validation'], centroids) predicts.",
)
def _nearest_centroid(
    class_centroids,
    centroid_accuracy,
    draws,
    train_vectors,
    y_train,
    valid_vectors,
    y_valid,
    fallback,
) -> str:
    example = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    example_labels, example_fallback = (
        np.array([0, 0, 1]),
        np.array([[9.0, 9.0], [8.0, 8.0], [7.0, 7.0]]),
    )
    got = attempted_function(
        "class_centroids", class_centroids, example, example_labels, example_fallback
    )
    want = _centroids(example, example_labels, example_fallback)
    if np.shape(got) != want.shape or not np.allclose(got, want):
        raise Incorrect(
            f"class_centroids({example.tolist()}, labels {example_labels.tolist()}, fallback "
            f"{example_fallback.tolist()}) returned {np.asarray(got).tolist()}, expected {want.tolist()} "
            "(class 2 has no vector: its fallback row)."
        )
    attempted("centroid_accuracy", centroid_accuracy)
    _filled(centroid_accuracy=centroid_accuracy)
    if not isinstance(centroid_accuracy, dict) or set(centroid_accuracy) != set(draws):
        raise Incorrect(
            f"`centroid_accuracy` should be a dict with one accuracy per seed {sorted(draws)}."
        )
    train_vectors, y_train, y_valid = (
        np.asarray(train_vectors),
        np.asarray(y_train),
        np.asarray(y_valid),
    )
    for seed, rows in draws.items():
        centroids = _centroids(train_vectors[rows], y_train[rows], fallback)
        expected = float((_nearest_label(valid_vectors, centroids) == y_valid).mean())
        how = f"the nearest centroid of draw {seed}"
        _accuracy_close(
            f"centroid_accuracy[{seed}]", centroid_accuracy[seed], expected, len(y_valid), how
        )
    values = [f"{value:.1%}" for value in centroid_accuracy.values()]
    return f"nearest centroid with 48 labels: {', '.join(values)}."


@exercise(
    7,
    3,
    "every emotion counts alike",
    hint="f1_score(..., average='macro') of a constant prediction is the floor; "
    "table.pivot_table(index='tweets', columns='method', values='f1_macro') averages the seeds. "
    "At each budget, compare the methods' order by mean accuracy with their order by mean macro F1.",
)
def _macro_f1(macro_floor, macro_means, order_changes, table, y_valid) -> str:
    from sklearn.metrics import f1_score

    attempted("macro_floor", macro_floor)
    y_valid = np.asarray(y_valid)
    constant = np.full_like(y_valid, np.bincount(y_valid).argmax())
    same_number("macro_floor", macro_floor, f1_score(y_valid, constant, average="macro"))
    attempted("macro_means", macro_means)
    expected = table.pivot_table(index="tweets", columns="method", values="f1_macro")
    if not hasattr(macro_means, "columns"):
        raise Incorrect(
            "`macro_means` should be a DataFrame: one row per budget, one column per method."
        )
    aligned = macro_means.reindex(index=expected.index, columns=expected.columns)
    if not np.allclose(aligned.to_numpy(float), expected.to_numpy(float), equal_nan=True):
        raise Incorrect(
            "`macro_means` should hold the mean macro F1 over the seeds, rows = tweets, columns = "
            f"methods; for {expected.columns[0]!r} it should read {expected.iloc[:, 0].round(3).tolist()}."
        )
    attempted("order_changes", order_changes)
    means = table.groupby(["tweets", "method"])[["accuracy", "f1_macro"]].mean()
    changed = sorted(
        int(tweets)
        for tweets, group in means.groupby(level="tweets")
        if list(group["accuracy"].sort_values().index)
        != list(group["f1_macro"].sort_values().index)
    )
    if sorted(int(n) for n in _list(order_changes)) != changed:
        raise Incorrect(
            f"`order_changes` is {sorted(_list(order_changes))}, but the order changes at {changed}."
        )
    if not changed:
        return "both metrics rank the methods alike at every budget."
    return f"the order of the methods changes at {', '.join(f'{n:,}' for n in changed)} tweets."
