"""Loading the emotion tweets (or any text-classification folder) as a DatasetDict."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from .defaults import EMOTION_LABELS, EMOTION_SPLITS, HUB_DATASET, SEED

FORMATS = (".txt", ".csv", ".jsonl")


def load_emotion(
    data_dir: str | os.PathLike | None = None, subset: int | None = None, seed: int = SEED
) -> DatasetDict:
    """The emotion tweets: from the folder `data_dir`, or from the Hugging Face Hub when it is None."""
    if data_dir is None:
        from datasets import load_dataset

        dataset = load_dataset(HUB_DATASET)
    else:
        dataset = load_text_folder(data_dir, label_names=EMOTION_LABELS)
    return take_subset(dataset, subset, seed=seed) if subset else dataset


def load_text_folder(
    path: str | os.PathLike,
    label_names: Sequence[str] | None = None,
    splits: Sequence[str] = EMOTION_SPLITS,
) -> DatasetDict:
    """Read `{split}.txt|.csv|.jsonl` files of texts and labels from a folder into a DatasetDict."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Data folder '{folder}' does not exist. Point to a folder holding "
            f"{', '.join(splits)} files (.txt with 'text;label' lines, .csv or .jsonl)."
        )
    rows = {split: _read_split(_split_file(folder, split)) for split in splits}
    names = list(label_names) if label_names is not None else sorted(_label_set(rows.values()))
    features = Features({"text": Value("string"), "label": ClassLabel(names=names)})
    return DatasetDict(
        {
            split: Dataset.from_dict(
                {
                    "text": [text for text, _, _ in split_rows],
                    "label": [_label_id(label, names, where) for _, label, where in split_rows],
                },
                features=features,
            )
            for split, split_rows in rows.items()
        }
    )


def take_subset(dataset: DatasetDict, n_train: int, seed: int = SEED) -> DatasetDict:
    """A stratified, seeded slice: `n_train` training tweets, the other splits cut in proportion."""
    n_full = len(dataset["train"])
    if n_train >= n_full:
        return dataset
    fraction = n_train / n_full
    return DatasetDict(
        {
            split: ds.select(
                _stratified_indices(ds["label"], max(1, round(len(ds) * fraction)), seed)
            )
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


def _stratified_indices(labels: Sequence[int], n: int, seed: int) -> list[int]:
    """`n` indices whose label shares match the whole column's, in their original order."""
    labels = np.asarray(labels)
    if n >= len(labels):
        return list(range(len(labels)))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * n / len(labels)
    take = np.floor(quota).astype(int)
    # Hand the remaining places to the classes with the largest fractional parts.
    for i in np.argsort(-(quota - take), kind="stable")[: n - take.sum()]:
        take[i] += 1
    chosen = [
        rng.choice(np.flatnonzero(labels == label), size=k, replace=False)
        for label, k in zip(classes, take)
    ]
    return sorted(int(i) for i in np.concatenate(chosen))


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


def _read_split(file: Path) -> list[tuple[str, str, str]]:
    """Rows of (text, label, 'file:line') from one split file."""
    reader = {".txt": _read_txt, ".csv": _read_csv, ".jsonl": _read_jsonl}[file.suffix]
    rows = list(reader(file))
    if not rows:
        raise ValueError(f"'{file}' holds no examples. Fill it or remove the split.")
    return rows


def _read_txt(file: Path) -> Iterable[tuple[str, str, str]]:
    for number, line in enumerate(_lines(file), start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        text, sep, label = line.rpartition(";")
        if not sep or not text.strip() or not label.strip():
            raise ValueError(
                f"{file}:{number}: expected 'text;label' but got {line[:60]!r}. "
                "Every line needs a text, a ';' and a label name."
            )
        yield text, label.strip(), f"{file}:{number}"


def _read_csv(file: Path) -> Iterable[tuple[str, str, str]]:
    reader = csv.DictReader(_lines(file))
    _check_columns(file, reader.fieldnames or [])
    for number, row in enumerate(reader, start=2):
        if not (row["text"] or "").strip():
            continue
        yield row["text"], str(row["label"]).strip(), f"{file}:{number}"


def _read_jsonl(file: Path) -> Iterable[tuple[str, str, str]]:
    for number, line in enumerate(_lines(file), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{file}:{number}: not valid JSON ({error.msg}).") from None
        if not isinstance(record, dict):
            raise ValueError(f"{file}:{number}: expected a JSON object with 'text' and 'label'.")
        _check_columns(file, record.keys(), number)
        yield str(record["text"]), str(record["label"]).strip(), f"{file}:{number}"


def _lines(file: Path) -> list[str]:
    try:
        # utf-8-sig drops the byte-order mark that Excel and Notepad put at the start of a file
        return file.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    except UnicodeDecodeError as error:
        raise ValueError(
            f"'{file}' is not UTF-8 text ({error.reason}). Save it as UTF-8."
        ) from None


def _check_columns(file: Path, columns: Iterable[str], number: int | None = None) -> None:
    missing = {"text", "label"} - set(columns)
    if missing:
        where = f"{file}:{number}" if number else str(file)
        raise ValueError(
            f"{where}: missing column(s) {', '.join(sorted(missing))}. "
            f"The file needs a 'text' and a 'label' column (found: {', '.join(columns) or 'none'})."
        )


def _label_set(splits: Iterable[list[tuple[str, str, str]]]) -> set[str]:
    return {label for rows in splits for _, label, _ in rows}


def _label_id(label: str, names: Sequence[str], where: str) -> int:
    if label in names:
        return names.index(label)
    raise ValueError(
        f"{where}: unknown label '{label}'. Expected one of: {', '.join(names)}. "
        "Fix the line or pass label_names that include it."
    )


def download_emotion(path: str | os.PathLike = "data/emotion") -> Path:
    """Download the emotion tweets from the Hub once and save them as text files for offline use."""
    return save_text_folder(load_emotion(None), path)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "data/emotion"
    print(f"Saved the emotion tweets to {download_emotion(target)}")
