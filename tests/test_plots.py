"""Tests for utils.plots on small synthetic arrays (Agg backend, no display)."""

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from utils import plots

NAMES = ("sadness", "joy", "love", "anger", "fear", "surprise")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def umap_frame(n_per_class: int = 20, n_classes: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    return pd.DataFrame(
        {"x": rng.normal(labels, 0.3), "y": rng.normal(-labels, 0.3), "label": labels}
    )


def test_confusion_matrix_rows_sum_to_one_and_names_label_both_axes():
    y_true = [0, 0, 0, 1, 1, 2, 3, 4, 5, 5]
    y_pred = [0, 1, 1, 1, 1, 2, 4, 4, 5, 0]
    ax = plots.plot_confusion_matrix(y_true, y_pred, NAMES, title="logreg")
    matrix = np.asarray(ax.images[0].get_array())
    assert matrix.shape == (6, 6)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert matrix[0, 1] == pytest.approx(2 / 3)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(NAMES)
    counts = [3, 2, 1, 1, 1, 2]  # each row says how many tweets its shares are of
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        f"{name} ({n})" for name, n in zip(NAMES, counts)
    ]
    assert ax.get_title() == "logreg"
    assert len(ax.figure.axes) == 2, "a colour bar beside the matrix"


def test_confusion_matrix_shows_two_decimals_and_keeps_absent_classes():
    ax = plots.plot_confusion_matrix([0, 0, 0], [0, 0, 1], NAMES)
    values = [t.get_text() for t in ax.texts]
    assert len(values) == 36
    assert "0.67" in values and "0.33" in values
    matrix = np.asarray(ax.images[0].get_array())
    np.testing.assert_allclose(matrix[1:].sum(), 0.0)  # classes never seen stay empty, not NaN
    assert ax.get_title()


def test_confusion_matrix_draws_on_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    returned = plots.plot_confusion_matrix([0, 1], [1, 1], NAMES[:2], ax=right, title="b")
    assert returned is right
    assert not left.images and right.images


def panels(fig):
    """The visible class panels of a hexbin figure (the colour bar has no hexbins)."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def test_umap_hexbins_one_panel_per_class_on_shared_axes_and_one_colour_scale_with_its_bar():
    fig = plots.plot_umap_hexbins(umap_frame(), NAMES, title="cls")
    shown = panels(fig)
    assert len(shown) == 6
    assert [ax.get_title().split()[0] for ax in shown] == list(NAMES)
    assert shown[0].get_title() == "sadness (20 tweets, 17%)"
    assert all(len(ax.collections) == 2 for ax in shown)  # all tweets in grey, then the shares
    shares = [ax.collections[-1] for ax in shown]
    assert {cells.get_clim() for cells in shares} == {(0, 1)}
    assert len({cells.get_cmap().name for cells in shares}) == 1
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1 and "share" in bars[0].get_ylabel()
    assert len({ax.get_xlim() for ax in shown}) == 1
    assert len({ax.get_ylim() for ax in shown}) == 1
    assert fig.get_suptitle() == "cls"


def test_umap_hexbins_colour_each_cell_by_the_share_of_its_tweets_in_the_class():
    # Three spots far apart: 6 tweets half sadness, half joy; 6 tweets of love; 2 tweets of anger.
    spots = [(0, 0)] * 6 + [(10, 0)] * 6 + [(0, 10)] * 2
    labels = [0, 0, 0, 1, 1, 1] + [2] * 6 + [3] * 2
    frame = pd.DataFrame({"x": [a for a, _ in spots], "y": [b for _, b in spots], "label": labels})
    fig = plots.plot_umap_hexbins(frame, NAMES[:4], gridsize=5, min_tweets=3)
    sadness, joy, love, anger = panels(fig)
    for ax in (sadness, joy, love, anger):
        assert ax.collections[0].get_array().sum() == 14  # the grey layer counts every tweet
    by_cell = {
        name: dict(
            zip(map(tuple, ax.collections[-1].get_offsets()), ax.collections[-1].get_array())
        )
        for name, ax in zip(NAMES, (sadness, joy, love, anger))
    }
    assert len(by_cell["sadness"]) == 2, "the spot of 2 tweets has too few for a share: grey only"
    assert sorted(by_cell["sadness"].values()) == [0.0, 0.5]
    assert sorted(by_cell["joy"].values()) == [0.0, 0.5]
    assert sorted(by_cell["love"].values()) == [0.0, 1.0]
    assert sorted(by_cell["anger"].values()) == [0.0, 0.0]
    for cell in by_cell["sadness"]:
        assert sum(shares[cell] for shares in by_cell.values()) == pytest.approx(1.0)


def test_umap_hexbins_refuse_a_share_of_no_tweets():
    with pytest.raises(ValueError, match="min_tweets"):
        plots.plot_umap_hexbins(umap_frame(), NAMES, min_tweets=0)


def test_umap_hexbins_keep_far_outliers_without_stretching_the_axes():
    frame = umap_frame(n_per_class=50)
    frame.loc[0, "x"] = 1e6
    fig = plots.plot_umap_hexbins(frame, NAMES)
    first = fig.axes[0]
    assert first.collections[0].get_array().sum() == 300
    assert first.get_xlim()[1] < 100


def test_umap_hexbins_hide_unused_panels_and_honour_column_names():
    frame = umap_frame(n_classes=4).rename(columns={"x": "u", "y": "v", "label": "target"})
    fig = plots.plot_umap_hexbins(frame, NAMES[:4], x="u", y="v", label="target")
    assert len(panels(fig)) == 4
    assert sum(not ax.get_visible() for ax in fig.axes) == 2


def scattered(ax) -> int:
    return sum(len(collection.get_offsets()) for collection in ax.collections)


def test_umap_scatter_has_one_legend_entry_per_class_in_the_palette_and_its_markers():
    ax = plots.plot_umap_scatter(umap_frame(), NAMES, title="mean")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(NAMES)
    assert len(ax.collections) == 6 and scattered(ax) == 120
    for index, collection in enumerate(
        sorted(ax.collections, key=lambda c: NAMES.index(c.get_label()))
    ):
        colour = matplotlib.colors.to_hex(collection.get_facecolor()[0])
        assert colour.lower() == plots.PALETTE[index].lower()
    assert ax.get_title() == "mean" and ax.get_xlabel() and ax.get_ylabel()


def test_umap_scatter_draws_a_seeded_sample_with_the_smallest_class_on_top():
    frame = umap_frame(n_per_class=500)
    frame = frame[(frame["label"] != 5) | (frame.index % 10 == 0)]  # surprise: 50 tweets
    ax = plots.plot_umap_scatter(frame, NAMES, sample=1_000, seed=3, title="mean")
    assert scattered(ax) == 1_000
    assert ax.get_title() == f"mean\n1,000 of {len(frame):,} tweets, drawn at random"
    assert ax.collections[-1].get_label() == "surprise"  # drawn last, so nothing hides it
    again = plots.plot_umap_scatter(frame, NAMES, sample=1_000, seed=3)
    assert np.array_equal(ax.collections[0].get_offsets(), again.collections[0].get_offsets())
    everything = plots.plot_umap_scatter(frame, NAMES, sample=None)
    assert scattered(everything) == len(frame)


def test_umap_scatter_view_ignores_far_outliers():
    frame = umap_frame(n_per_class=50)
    frame.loc[0, "y"] = -1e6
    ax = plots.plot_umap_scatter(frame, NAMES)
    assert ax.get_ylim()[0] > -100


def visible_texts(fig):
    """Every visible, non-empty Text artist of the figure (axes texts, titles, tick labels)."""
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def strings(fig):
    return [t.get_text() for t in visible_texts(fig)]


def panel_texts(fig, left: bool):
    """Texts on the diagram's main axes (inch units, 12 wide) in the left or the right half."""
    main = fig.axes[0]
    return [t.get_text() for t in main.texts if (t.get_position()[0] < 6) == left]


DIAGRAMS = {
    "classifier": lambda: plots.draw_classifier(),
    "classifier, 12 layers": lambda: plots.draw_classifier("bert-base-uncased", num_layers=12),
    "training modes": lambda: plots.draw_training_modes(),
    "pooling": lambda: plots.draw_pooling(),
    "pooling, long": lambda: plots.draw_pooling(
        ["<s>", "i", "am", "so", "very", "tired", "today", "</s>", "<pad>", "<pad>"]
    ),
}


@pytest.mark.parametrize("draw", DIAGRAMS.values(), ids=DIAGRAMS.keys())
def test_diagrams_are_wide_and_keep_every_text_inside_the_figure_without_overlaps(draw):
    fig = draw()
    assert isinstance(fig, Figure)
    width, height = fig.get_size_inches()
    assert 11 <= width <= 12.5 and 4 <= height <= 5.2
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = visible_texts(fig)
    boxes = [t.get_window_extent(renderer) for t in texts]
    for text, box in zip(texts, boxes):
        assert text.get_fontsize() >= 10, text.get_text()
        assert box.x0 >= fig.bbox.x0 - 1 and box.x1 <= fig.bbox.x1 + 1, text.get_text()
        assert box.y0 >= fig.bbox.y0 - 1 and box.y1 <= fig.bbox.y1 + 1, text.get_text()
    for (a, box_a), (b, box_b) in itertools.combinations(zip(texts, boxes), 2):
        assert not box_a.overlaps(box_b), (a.get_text(), b.get_text())


def test_classifier_goes_from_cls_token_to_six_illustrative_emotion_probabilities():
    fig = plots.draw_classifier("distilbert-base-uncased")
    texts = strings(fig)
    assert "[CLS]" in texts and "[SEP]" in texts
    assert all(name in texts for name in NAMES)
    assert any("distilbert-base-uncased" in t for t in texts)
    assert any("illustrative" in t for t in texts)
    assert any("pooler" in t and "pre_classifier" in t for t in texts)
    assert any("self-attention" in t for t in texts) and any("× 6" in t for t in texts)
    bars = fig.axes[1]
    widths = [patch.get_width() for patch in bars.patches]
    assert len(widths) == 6 and sum(widths) == pytest.approx(1.0)
    ranked = [t.get_text() for t in bars.get_yticklabels()]
    assert ranked[int(np.argmax(widths))] == "joy"


def test_classifier_names_the_model_and_the_number_of_layers_it_is_given():
    texts = strings(plots.draw_classifier("my-tiny-model", num_layers=12))
    assert any("my-tiny-model" in t for t in texts)
    assert any("× 12 encoder layers" in t for t in texts)
    assert not any("× 6" in t for t in texts)


def test_training_modes_freeze_the_encoder_only_in_feature_extraction():
    fig = plots.draw_training_modes()
    left, right = panel_texts(fig, left=True), panel_texts(fig, left=False)
    assert any("Feature extraction" in t for t in left)
    assert any("Fine-tuning" in t for t in right)
    assert any("frozen" in t for t in left) and not any("frozen" in t for t in right)
    assert any("no gradients" in t for t in left)
    assert any("learns" in t for t in left) and sum("learns" in t for t in right) >= 2
    assert "gradients" in right
    assert any("logistic regression" in t for t in left)
    assert any("a few thousand weights" in t for t in left)
    assert any("all weights learn (millions" in t for t in right)


def test_pooling_shows_every_token_and_its_mask_value_in_both_panels():
    fig = plots.draw_pooling()
    for left in (True, False):
        texts = panel_texts(fig, left)
        for token in ("[CLS]", "i", "feel", "great", "[SEP]"):
            assert texts.count(token) == 1, token
        assert texts.count("[PAD]") == 2
        assert texts.count("1") == 5 and texts.count("0") == 2
    assert any("first column" in t for t in panel_texts(fig, left=True))
    right = panel_texts(fig, left=False)
    assert any("sum(mask * h) / sum(mask)" in t for t in right)
    assert any("average of the 5 columns" in t for t in right)


def test_mean_pooling_crosses_out_only_the_padding_of_a_custom_sequence():
    fig = plots.draw_pooling(["[CLS]", "bonjour", "[SEP]", "[PAD]"])
    right = panel_texts(fig, left=False)
    assert "bonjour" in right and right.count("[PAD]") == 1
    assert right.count("1") == 3 and right.count("0") == 1
    assert any("average of the 3 columns" in t for t in right)
    crosses = [line for line in fig.axes[0].lines if line.get_color() == plots.PALETTE[3]]
    assert len(crosses) == 2  # one cross, two strokes, over the single [PAD] column
    assert all(min(line.get_xdata()) > 6 for line in crosses)  # only in the mean-pooling panel


def test_style_confusion_matrix_fixes_the_scale_and_names_the_axes():
    from sklearn.metrics import ConfusionMatrixDisplay

    display = ConfusionMatrixDisplay.from_predictions(
        [0, 0, 1, 1], [0, 0, 0, 1], normalize="true", colorbar=False
    )
    ax = plots.style_confusion_matrix(display.ax_, title="mine")
    assert ax.images[0].get_clim() == (0, 1)
    assert ax.images[0].get_cmap().name == "Blues"
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "predicted emotion",
        "true emotion",
        "mine",
    )
    colours = [text.get_color() for text in ax.texts]  # cells 1.0, 0.0, 0.5, 0.5
    assert colours == ["white", "black", "black", "black"]
    plt.close(ax.figure)


BUDGETS = [48, 192, 768, 3_072, 16_000]


def curve_points() -> pd.DataFrame:
    """Three seeds of tf-idf at 48, 192 and all; fine-tuning: 3 seeds at 48, one at 192."""
    rows = [
        ("tf-idf", tweets, seed, 0.3 + 0.1 * i + 0.01 * seed)
        for i, tweets in enumerate((48, 192, 16_000))
        for seed in range(3)
    ]
    rows += [("fine-tuning", 48, seed, 0.4 + 0.02 * seed) for seed in range(3)]
    rows += [("fine-tuning", 192, 0, 0.6)]
    return pd.DataFrame(rows, columns=["method", "tweets", "seed", "accuracy"])


def drawn(ax, label: str):
    """The data line and the vertical bars of the error-bar series called `label`."""
    container = next(c for c in ax.containers if c.get_label() == label)
    return container.lines[0], container.lines[2][0]


def test_learning_curve_draws_the_mean_and_worst_to_best_seed_of_each_budget():
    ax = plots.plot_learning_curve(curve_points(), BUDGETS, floor=0.35, zero_shot=0.4)
    line, bars = drawn(ax, "tf-idf")
    means = line.get_ydata()
    np.testing.assert_allclose(means, [0.31, 0.41, np.nan, np.nan, 0.51])  # mean of the seeds
    ratios = np.asarray(line.get_xdata()) / BUDGETS
    assert np.allclose(ratios, ratios[0]) and abs(ratios[0] - 1) < 0.05, "at its budget, nudged"
    segments = [np.asarray(seg) for seg in bars.get_segments() if len(seg)]
    spans = sorted((s[:, 1].min(), s[:, 1].max()) for s in segments if np.isfinite(s).all())
    np.testing.assert_allclose(spans, [(0.30, 0.32), (0.40, 0.42), (0.50, 0.52)])
    assert ax.get_xscale() == "log"
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert lines["zero-shot (no labels)"].get_ydata()[0] == 0.4
    assert lines["dummy (most frequent class)"].get_ydata()[0] == 0.35


def test_learning_curve_breaks_lines_and_leaves_out_budgets_with_too_few_seeds():
    ax = plots.plot_learning_curve(curve_points(), BUDGETS, floor=0.35, all_tweets=16_000)
    tfidf, _ = drawn(ax, "tf-idf")
    assert np.isnan(tfidf.get_ydata()[2:4]).all(), "no line through the budgets never measured"
    tuned, _ = drawn(ax, "fine-tuning")
    np.testing.assert_allclose(tuned.get_ydata(), [0.42, np.nan, np.nan, np.nan, np.nan])
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "48",
        "192",
        "768",
        "3,072",
        "16,000\n(all)",
    ]
    same = pd.DataFrame(
        [("all", 16_000, seed, 0.7) for seed in range(3)], columns=curve_points().columns
    )
    plots.plot_learning_curve(same, BUDGETS, floor=0.35)  # equal seeds: bars of length 0, no error
    fewer = plots.plot_learning_curve(curve_points(), BUDGETS, floor=0.35, min_seeds=1)
    np.testing.assert_allclose(drawn(fewer, "fine-tuning")[0].get_ydata()[:2], [0.42, 0.6])


def test_learning_curve_draws_earlier_single_runs_as_open_markers_in_the_method_colour():
    references = pd.DataFrame(
        [("fine-tuning", 16_000, 0.93), ("frozen", 16_000, 0.7)],
        columns=["method", "tweets", "accuracy"],
    )
    ax = plots.plot_learning_curve(curve_points(), BUDGETS, 0.35, references=references)
    markers = [
        line
        for line in ax.get_lines()
        if line.get_linestyle() == "None" and line.get_markerfacecolor() == "white"
    ]
    found = {line.get_color(): line.get_ydata()[0] for line in markers if len(line.get_ydata())}
    assert found == {
        plots.PALETTE[1]: 0.93,
        plots.PALETTE[2]: 0.7,
    }  # fine-tuning is 2nd, frozen 3rd
    assert all(
        abs(line.get_xdata()[0] / 16_000 - 1) < 0.05 for line in markers if len(line.get_xdata())
    )
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend.count("one earlier run (open)") == 1
    assert "frozen" in legend, "a method with only an earlier run still names its colour"


def test_learning_curve_uses_the_course_palette_and_names_the_metric():
    ax = plots.plot_learning_curve(curve_points(), BUDGETS, floor=0.1, metric="accuracy")
    for index, label in enumerate(["tf-idf", "fine-tuning"]):
        line, _ = drawn(ax, label)
        style = plots.series_style(index)
        assert (line.get_color(), line.get_marker()) == (style["color"], style["marker"])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["tf-idf", "fine-tuning"], "the methods first, in the order of the points"
    assert ax.get_ylabel() == "validation accuracy"
    assert ax.get_xlabel().startswith("labelled training tweets")


def test_learning_curve_without_a_dummy_draws_no_floor_line():
    ax = plots.plot_learning_curve(curve_points(), BUDGETS, floor=None)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert not any(label.startswith("dummy") for label in legend), legend
    assert legend[:2] == ["tf-idf", "fine-tuning"], "the methods first, in the order of the points"


def test_series_styles_differ_in_colour_marker_and_dash():
    styles = [plots.series_style(i) for i in range(6)]
    for key in ("color", "marker", "linestyle"):
        assert len({str(style[key]) for style in styles}) == 6, key


def test_model_comparison_leaves_models_that_learn_nothing_out_of_the_cost_panels():
    comparison = pd.DataFrame(
        {
            "accuracy": [0.35, 0.70, 0.93],
            "accuracy_low": [0.33, 0.68, 0.92],
            "accuracy_high": [0.37, 0.72, 0.94],
            "feature_seconds": [0.0, 60.0, 0.0],
            "fit_seconds": [0.01, 3.0, 300.0],
            "train_seconds": [0.01, np.nan, 300.0],
            "learned_weights": [0, 2310, 22_715_526],
        },
        index=["most frequent class", "mean + logistic regression", "fine-tuned transformer"],
    )
    fig = plots.plot_model_comparison(comparison, title="Three models")
    accuracy, seconds, weights = fig.axes
    assert len(accuracy.patches) == 3 and len(weights.patches) == 2
    assert len(seconds.patches) == 4  # extraction and fit stacked, for the two models that learn
    ticks = [t.get_text() for t in accuracy.get_xticklabels()]
    assert all(len(line) <= 12 for tick in ticks for line in tick.split("\n")), ticks
    assert [t.get_text() for t in seconds.texts] == ["fit only", "300 s"]
    assert fig._suptitle.get_text() == "Three models"
