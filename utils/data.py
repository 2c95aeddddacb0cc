"""Loading the emotion tweets (or any text-classification folder) as a DatasetDict."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from .defaults import EMOTION_LABELS, EMOTION_SPLITS, HUB_DATASET, SEED

FORMATS = (".txt", ".csv", ".jsonl")
STRING_FEATURES = Features({"text": Value("string"), "label": Value("string")})
# What a label that does not fit says: {where} is the file and line (or row).
UNKNOWN_LABEL = (
    "{where}: unknown label '{label}'. Expected one of: {names}. Fix the line or include the "
    "label in the label names (label_names=..., or --labels of python -m utils.finetune)."
)
NOT_IN_TRAIN = (
    "{where}: label '{label}' does not occur in {first}, so no model could learn it. Add "
    "examples of it to {first} or fix the line."
)
NOT_AN_EMOTION = (
    "{where}: unknown label '{label}'. The folder's other labels are emotions, so it is read as the "
    "emotion tweets, whose labels are: {names}. Fix the line, or load a data set of your own "
    "with utils.load_text_folder."
)


def load_emotion(
    data_dir: str | os.PathLike | None = None, subset: int | None = None, seed: int = SEED
) -> DatasetDict:
    """The emotion tweets, from the Hub (`data_dir` None) or a folder; other labels keep their names."""
    if data_dir is None:
        from datasets import load_dataset

        dataset = load_dataset(HUB_DATASET)
    else:
        raw = _read_folder(data_dir, EMOTION_SPLITS)
        dataset = _as_dataset_dict(raw, _lecture_label_names(raw))
    return take_subset(dataset, subset, seed=seed) if subset else dataset


def label_names_of(path: str | os.PathLike) -> list[str]:
    """The label names `load_emotion` gives the folder `path` (the six emotions, or its own)."""
    return _lecture_label_names(_read_folder(path, EMOTION_SPLITS))


def label_order(found: Iterable[str]) -> list[str]:
    """The six emotions in the course's order when `found` is exactly those, else the names sorted."""
    names = set(found)
    return list(EMOTION_LABELS) if names == set(EMOTION_LABELS) else sorted(names)


def load_text_folder(
    path: str | os.PathLike,
    label_names: Sequence[str] | None = None,
    splits: Sequence[str] = EMOTION_SPLITS,
) -> DatasetDict:
    """Read `{split}.txt|.csv|.jsonl` files of texts and labels from a folder into a DatasetDict.

    Without `label_names` the names are those of the first split (train), in `label_order`; a
    label that only a later split holds is an error, since no model could learn it.
    """
    raw = _read_folder(path, splits)
    if label_names is None:
        return _as_dataset_dict(raw, _own_label_names(raw))
    names = list(label_names)
    for ds, file in raw.values():
        _check_labels(ds, names, file, UNKNOWN_LABEL)
    return _as_dataset_dict(raw, names)


def reorder_labels(dataset: DatasetDict, label_names: Sequence[str]) -> DatasetDict:
    """The same examples with label ids in the order of `label_names`, which must name every label."""
    names = list(label_names)
    current = dataset["train"].features["label"].names
    if len(set(names)) != len(names) or set(names) != set(current):
        raise ValueError(
            f"The label names {', '.join(names)} must list each label of the data once, in any "
            f"order; the data has: {', '.join(current)}."
        )
    new_id = [names.index(name) for name in current]
    features = dataset["train"].features.copy()
    features["label"] = ClassLabel(names=names)
    return dataset.map(
        lambda labels: {"label": [new_id[label] for label in labels]},
        input_columns="label",
        batched=True,
        features=features,
    )


def take_subset(dataset: DatasetDict, n_train: int, seed: int = SEED) -> DatasetDict:
    """A stratified, seeded slice: `n_train` training tweets, the other splits cut in proportion."""
    n_full = len(dataset["train"])
    if n_train >= n_full:
        return dataset
    fraction = n_train / n_full
    return DatasetDict(
        {
            split: _stratified_sample(ds, max(1, round(len(ds) * fraction)), seed)
            for split, ds in dataset.items()
        }
    )


def save_text_folder(dataset: DatasetDict, path: str | os.PathLike) -> Path:
    """Write a DatasetDict as `{split}.txt` files of 'text;label_name' lines."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for split, ds in dataset.items():
        names = ds.features["label"].names
        lines = (f"{text};{names[label]}\n" for text, label in zip(ds["text"], ds["label"]))
        tmp = folder / f".{split}.txt.tmp"
        tmp.write_text("".join(lines), encoding="utf-8")
        tmp.replace(folder / f"{split}.txt")
    return folder


def _stratified_sample(ds: Dataset, n: int, seed: int) -> Dataset:
    """`n` rows whose label shares match the whole split's, kept in their original order."""
    if n >= len(ds):
        return ds
    classes = len(set(ds["label"]))
    if n < classes or len(ds) - n < classes:  # too few rows to give every class its share
        return ds.select(sorted(np.random.default_rng(seed).choice(len(ds), n, replace=False)))
    rows = ds.add_column("row", np.arange(len(ds)))
    kept = rows.train_test_split(train_size=n, stratify_by_column="label", seed=seed)["train"]
    return ds.select(sorted(kept["row"]))


def _split_file(folder: Path, split: str) -> Path:
    found = [path for path in (folder / f"{split}{suffix}" for suffix in FORMATS) if path.is_file()]
    if len(found) > 1:
        raise ValueError(
            f"Split '{split}' has {len(found)} files in '{folder}': "
            f"{', '.join(path.name for path in found)}. Keep one and move the others away."
        )
    if found:
        return found[0]
    raise FileNotFoundError(
        f"Split '{split}' is missing in '{folder}': expected one of "
        f"{', '.join(split + s for s in FORMATS)}."
    )


def _read_split(file: Path) -> tuple[Dataset, Path]:
    """One split file as a Dataset of string texts and labels, with the file it came from."""
    if file.suffix == ".txt":
        rows = list(_read_txt(file))
        ds = Dataset.from_dict(
            {"text": [text for text, _ in rows], "label": [label for _, label in rows]},
            features=STRING_FEATURES,
        )
    else:
        ds = _load_table(file)
    if len(ds) == 0:
        raise ValueError(f"'{file}' holds no examples. Fill it or remove the split.")
    return ds, file


def _read_txt(file: Path) -> Iterable[tuple[str, str]]:
    # Not the csv loader: tweets contain ';', so the label is whatever follows the last one.
    try:
        # utf-8-sig drops the byte-order mark that Excel and Notepad put at the start of a file
        lines = file.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise ValueError(
            f"'{file}' is not UTF-8 text ({error.reason}). Save it as UTF-8."
        ) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        text, sep, label = line.rpartition(";")
        if not sep or not text.strip() or not label.strip():
            raise ValueError(
                f"{file}:{number}: expected 'text;label' but got {line[:60]!r}. "
                "Every line needs a text, a ';' and a label name."
            )
        yield text, label.strip()


def _load_table(file: Path) -> Dataset:
    """A .csv or .jsonl file through the datasets library's loaders, as string columns."""
    from datasets import load_dataset
    from datasets.exceptions import DatasetGenerationError

    kind = {".csv": "csv", ".jsonl": "json"}[file.suffix]
    # keep_default_na: an empty cell stays an empty text, not a missing value
    options = {"keep_default_na": False} if kind == "csv" else {}
    try:
        ds = load_dataset(
            kind, data_files=str(file), split="train", encoding="utf-8-sig", **options
        )
    except DatasetGenerationError as error:
        reason = error.__cause__ or error
        if isinstance(reason, UnicodeDecodeError):
            raise ValueError(f"'{file}' is not UTF-8 text. Save it as UTF-8.") from None
        raise ValueError(
            f"'{file}' could not be read as {'CSV' if kind == 'csv' else 'JSON Lines'}: {reason}. "
            "Rows are counted from 0."
        ) from None
    missing = {"text", "label"} - set(ds.column_names)
    if missing:
        raise ValueError(
            f"{file}: missing column(s) {', '.join(sorted(missing))}. The file needs a 'text' and "
            f"a 'label' column (found: {', '.join(ds.column_names) or 'none'})."
        )
    ds = ds.select_columns(["text", "label"]).cast(STRING_FEATURES)
    return ds.filter(lambda text: bool(text and text.strip()), input_columns="text")


def _read_folder(path: str | os.PathLike, splits: Sequence[str]) -> dict[str, tuple[Dataset, Path]]:
    """Every split file of the folder as string texts and labels, with the file it came from."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Data folder '{folder}' does not exist. Point to a folder holding "
            f"{', '.join(splits)} files (.txt with 'text;label' lines, .csv or .jsonl)."
        )
    return {split: _read_split(_split_file(folder, split)) for split in splits}


def _as_dataset_dict(raw: dict[str, tuple[Dataset, Path]], names: Sequence[str]) -> DatasetDict:
    features = Features({"text": Value("string"), "label": ClassLabel(names=list(names))})
    ids = {name: i for i, name in enumerate(names)}
    return DatasetDict(
        {
            split: Dataset.from_dict(
                {"text": list(ds["text"]), "label": [ids[label] for label in ds["label"]]},
                features=features,
            )
            for split, (ds, _) in raw.items()
        }
    )


def _own_label_names(raw: dict[str, tuple[Dataset, Path]]) -> list[str]:
    """The first split's labels in `label_order`; every other split may only use those."""
    (first, first_file), *others = raw.values()
    names = label_order(first["label"])
    for ds, file in others:
        _check_labels(ds, names, file, NOT_IN_TRAIN, first=first_file.name)
    return names


def _lecture_label_names(raw: dict[str, tuple[Dataset, Path]]) -> list[str]:
    """The six emotions (ids as on the Hub) when every label is one, else the folder's own names.

    A folder that mixes emotions with other labels is taken for the emotion tweets with a typo.
    """
    found = {label for ds, _ in raw.values() for label in ds["label"]}
    if found <= set(EMOTION_LABELS):
        return list(EMOTION_LABELS)
    if found & set(EMOTION_LABELS):
        for ds, file in raw.values():
            _check_labels(ds, EMOTION_LABELS, file, NOT_AN_EMOTION)
    return _own_label_names(raw)


def _check_labels(
    ds: Dataset, names: Sequence[str], file: Path, message: str, **context: str
) -> None:
    """Raise `message` (filled with where, label, names and `context`) at the first unknown label."""
    known = set(names)
    for row, label in enumerate(ds["label"]):
        if label not in known:
            where = (
                f"{file}:{_line_of(file, row)}" if file.suffix == ".txt" else f"{file}, row {row}"
            )
            names_text = ", ".join(names)
            raise ValueError(message.format(where=where, label=label, names=names_text, **context))


def _line_of(file: Path, row: int) -> int:
    """The line number of the `row`-th example of a .txt file (blank lines are skipped)."""
    lines = file.read_text(encoding="utf-8-sig").splitlines()
    filled = [number for number, line in enumerate(lines, start=1) if line.strip()]
    return filled[row]


def download_emotion(path: str | os.PathLike = "data/emotion") -> Path:
    """Download the emotion tweets from the Hub once and save them as text files for offline use."""
    return save_text_folder(load_emotion(None), path)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "data/emotion"
    print(f"Saved the emotion tweets to {download_emotion(target)}")
