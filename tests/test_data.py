"""Loading text-classification folders: formats, subsets and every bad input."""

import json
from collections import Counter

import pytest

from utils.data import (
    EMOTION_LABELS,
    label_names_of,
    label_order,
    load_emotion,
    load_text_folder,
    reorder_labels,
    save_text_folder,
    take_subset,
)

TWEETS = {
    "train": [
        "i feel so alone tonight;sadness",
        "i am thrilled about the trip;joy",
        "i adore you;love",
        "this makes me furious;anger",
        "i am scared of the dark;fear",
        "wow i did not expect that;surprise",
        "feeling down again;sadness",
        "what a lovely day;joy",
    ],
    "validation": ["i feel blue;sadness", "so happy;joy"],
    "test": ["i am afraid;fear", "that was a shock;surprise"],
}


def write_folder(folder, splits=TWEETS, suffix=".txt"):
    folder.mkdir(parents=True, exist_ok=True)
    for split, lines in splits.items():
        (folder / f"{split}{suffix}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def write_every_split(folder, suffix, *lines):
    """The same lines in the train, validation and test files of `folder`."""
    return write_folder(folder, {split: list(lines) for split in TWEETS}, suffix)


def test_emotion_folder_matches_the_hub_layout(tmp_path):
    ds = load_emotion(write_folder(tmp_path))
    assert list(ds) == ["train", "validation", "test"]
    assert ds["train"].column_names == ["text", "label"]
    assert ds["train"].features["label"].names == list(EMOTION_LABELS)
    assert ds["train"][2] == {"text": "i adore you", "label": 2}
    assert ds["test"]["label"] == [4, 5]


def test_semicolons_in_text_keep_everything_before_the_last(tmp_path):
    splits = {**TWEETS, "test": ["wait; what; really;surprise", "ok;joy"]}
    ds = load_emotion(write_folder(tmp_path, splits))
    assert ds["test"][0]["text"] == "wait; what; really"


def test_blank_lines_are_skipped(tmp_path):
    splits = {**TWEETS, "validation": ["", "i feel blue;sadness", "   ", "so happy;joy", ""]}
    assert load_emotion(write_folder(tmp_path, splits))["validation"].num_rows == 2


def test_label_names_default_to_sorted(tmp_path):
    splits = {s: ["great film;pos", "dull film;neg"] for s in ("train", "validation", "test")}
    ds = load_text_folder(write_folder(tmp_path, splits))
    assert ds["train"].features["label"].names == ["neg", "pos"]
    assert ds["train"]["label"] == [1, 0]


def test_csv_and_jsonl_folders(tmp_path):
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    jsonl_dir = tmp_path / "jsonl"
    jsonl_dir.mkdir()
    for split in ("train", "validation", "test"):
        (csv_dir / f"{split}.csv").write_text('text,label\n"good, really",pos\nbad,neg\n')
        rows = [{"text": "good", "label": "pos"}, {"text": "bad", "label": "neg"}]
        (jsonl_dir / f"{split}.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    from_csv = load_text_folder(csv_dir, label_names=["neg", "pos"])
    from_jsonl = load_text_folder(jsonl_dir, label_names=["neg", "pos"])
    assert from_csv["train"][0] == {"text": "good, really", "label": 1}
    assert from_jsonl["validation"]["label"] == [1, 0]


def test_save_and_load_round_trip(tmp_path):
    original = load_emotion(write_folder(tmp_path / "a"))
    copy = load_emotion(save_text_folder(original, tmp_path / "b"))
    for split in original:
        assert copy[split].to_dict() == original[split].to_dict()


def test_subset_is_stratified_seeded_and_proportional(tmp_path):
    lines = [f"tweet number {i};{EMOTION_LABELS[i % 3]}" for i in range(300)]
    splits = {"train": lines, "validation": lines[:60], "test": lines[:30]}
    full = load_emotion(write_folder(tmp_path, splits))
    small = take_subset(full, 30, seed=1)
    assert small["train"].num_rows == 30
    assert small["validation"].num_rows == 6 and small["test"].num_rows == 3
    assert Counter(small["train"]["label"]) == {0: 10, 1: 10, 2: 10}
    numbers = [int(text.split()[-1]) for text in small["train"]["text"]]
    assert numbers == sorted(numbers)  # the data set's order is kept
    assert small["train"]["text"] == take_subset(full, 30, seed=1)["train"]["text"]
    assert small["train"]["text"] != take_subset(full, 30, seed=2)["train"]["text"]
    assert take_subset(full, 10_000)["train"].num_rows == 300


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_text_folder(tmp_path / "nowhere")


def test_missing_split_file(tmp_path):
    write_folder(tmp_path, {"train": TWEETS["train"], "test": TWEETS["test"]})
    with pytest.raises(FileNotFoundError, match="Split 'validation' is missing"):
        load_emotion(tmp_path)


def test_empty_file(tmp_path):
    write_folder(tmp_path, {**TWEETS, "test": [""]})
    with pytest.raises(ValueError, match=r"test\.txt' holds no examples"):
        load_emotion(tmp_path)


def test_line_without_separator_names_file_and_line(tmp_path):
    write_folder(tmp_path, {**TWEETS, "validation": ["i feel blue;sadness", "no label here"]})
    with pytest.raises(ValueError, match=r"validation\.txt:2: expected 'text;label'"):
        load_emotion(tmp_path)


def test_unknown_label_names_file_line_and_choices(tmp_path):
    write_folder(tmp_path, {**TWEETS, "test": ["ok;joy", "hmm;boredom"]})
    with pytest.raises(ValueError, match=r"test\.txt:2: unknown label 'boredom'.*sadness, joy"):
        load_emotion(tmp_path)


def test_csv_without_label_column(tmp_path):
    write_every_split(tmp_path, ".csv", "sentence,label", "hello,pos")
    with pytest.raises(ValueError, match="missing column.*text"):
        load_text_folder(tmp_path)


def test_jsonl_without_text_column(tmp_path):
    write_every_split(tmp_path, ".jsonl", '{"label": "pos"}')
    with pytest.raises(ValueError, match=r"train\.jsonl: missing column.*text"):
        load_text_folder(tmp_path)


def test_jsonl_with_broken_line(tmp_path):
    write_every_split(tmp_path, ".jsonl", '{"text": "a", "label": "pos"}', '{"text": ')
    with pytest.raises(
        ValueError, match=r"train\.jsonl' could not be read as JSON Lines.*in row 1"
    ):
        load_text_folder(tmp_path)


def test_non_utf8_file(tmp_path):
    write_folder(tmp_path)
    (tmp_path / "train.txt").write_bytes(b"caf\xe9 time;joy\n")
    with pytest.raises(ValueError, match="not UTF-8"):
        load_emotion(tmp_path)


def test_loading_data_never_asks_the_network_again():
    # setup() decides online or offline once; data.py takes the folder (or None: the Hub) it is given.
    import ast
    import inspect

    from utils import data

    imported = {
        node.module
        for node in ast.walk(ast.parse(inspect.getsource(data)))
        if isinstance(node, ast.ImportFrom)
    }
    assert "config" not in imported and "hub_reachable" not in inspect.getsource(data)


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".jsonl"])
def test_files_saved_by_excel_or_notepad_load_clean(tmp_path, suffix):
    """UTF-8 with a byte-order mark and Windows line endings."""
    rows = [("i feel blue", "sadness"), ("so happy", "joy")]
    body = {
        ".txt": [f"{text};{label}" for text, label in rows],
        ".csv": ["text,label", *(f"{text},{label}" for text, label in rows)],
        ".jsonl": [json.dumps({"text": text, "label": label}) for text, label in rows],
    }[suffix]
    for split in ("train", "validation", "test"):
        data = ("\ufeff" + "\r\n".join(body) + "\r\n").encode("utf-8")
        (tmp_path / f"{split}{suffix}").write_bytes(data)
    ds = load_emotion(tmp_path)
    assert ds["train"]["text"] == ["i feel blue", "so happy"]
    assert ds["train"]["label"] == [0, 1]


def test_two_files_for_one_split_is_an_error_naming_both(tmp_path):
    write_folder(tmp_path)
    (tmp_path / "train.csv").write_text("text,label\nhi,joy\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"train\.txt, train\.csv|train\.csv, train\.txt"):
        load_emotion(tmp_path)


def test_unknown_label_in_csv_names_file_and_row(tmp_path):
    write_every_split(tmp_path, ".csv", "text,label", "hello,joy", "meh,boredom")
    with pytest.raises(ValueError, match=r"train\.csv, row 1: unknown label 'boredom'"):
        load_emotion(tmp_path)


def test_numeric_labels_in_jsonl_become_label_names(tmp_path):
    write_every_split(
        tmp_path, ".jsonl", '{"text": "404", "label": 1}', '{"text": "ok", "label": 0}'
    )
    ds = load_text_folder(tmp_path)
    assert ds["train"].features["label"].names == ["0", "1"]
    assert ds["train"]["text"] == ["404", "ok"] and ds["train"]["label"] == [1, 0]


def test_subset_smaller_than_the_number_of_classes(tmp_path):
    write_folder(tmp_path)
    small = take_subset(load_emotion(tmp_path), 2, seed=1)
    assert len(small["train"]) == 2 and len(small["test"]) >= 1


def test_label_order_is_the_courses_for_the_six_emotions_else_sorted():
    assert label_order(reversed(EMOTION_LABELS)) == list(EMOTION_LABELS)
    assert label_order(["surprise", "joy", "joy"]) == ["joy", "surprise"]
    assert label_order(["pos", "neg"]) == ["neg", "pos"]


def test_a_label_only_in_test_is_an_error_naming_the_label_and_the_file(tmp_path):
    write_every_split(tmp_path, ".csv", "text,label", '"fine, really",pos', "bad,neg")
    (tmp_path / "test.csv").write_text("text,label\nok,pos\nhmm,meh\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"test\.csv, row 1: label 'meh' does not occur in train"):
        load_text_folder(tmp_path)
    write_folder(tmp_path / "txt", {**TWEETS, "validation": ["so happy;joy", "so bored;boredom"]})
    with pytest.raises(ValueError, match=r"validation\.txt:2: label 'boredom' .*train\.txt"):
        load_text_folder(tmp_path / "txt")


def test_load_emotion_keeps_the_labels_of_a_folder_of_other_labels(tmp_path):
    splits = {s: ["great film;pos", "dull film;neg"] for s in TWEETS}
    reviews = load_emotion(write_folder(tmp_path / "reviews", splits))
    assert reviews["test"].features["label"].names == ["neg", "pos"]
    assert reviews["test"]["label"] == [1, 0]
    assert label_names_of(tmp_path / "reviews") == ["neg", "pos"]
    some_emotions = {s: ["i feel blue;sadness", "so happy;joy"] for s in TWEETS}
    assert label_names_of(write_folder(tmp_path / "two", some_emotions)) == list(EMOTION_LABELS)


def test_reorder_labels_moves_the_ids_with_the_names(tmp_path):
    splits = {s: ["great film;pos", "dull film;neg"] for s in TWEETS}
    reviews = load_text_folder(write_folder(tmp_path, splits))
    reordered = reorder_labels(reviews, ["pos", "neg"])
    assert reordered["test"].features["label"].names == ["pos", "neg"]
    assert reordered["test"]["label"] == [0, 1] and reviews["test"]["label"] == [1, 0]
    assert reordered["train"]["text"] == reviews["train"]["text"]
    for wrong in (["pos"], ["pos", "neg", "meh"], ["pos", "pos", "neg"]):
        with pytest.raises(ValueError, match="each label of the data once.*neg, pos"):
            reorder_labels(reviews, wrong)
