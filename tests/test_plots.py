"""Tests for utils.plots on small synthetic arrays (Agg backend, no display)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

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
    assert [t.get_text() for t in ax.get_yticklabels()] == list(NAMES)
    assert ax.get_title() == "logreg"


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


def test_umap_hexbins_has_one_titled_panel_per_class_on_shared_axes():
    fig = plots.plot_umap_hexbins(umap_frame(), NAMES, title="cls")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6
    assert [ax.get_title().split()[0] for ax in visible] == list(NAMES)
    assert all(len(ax.collections) == 2 for ax in visible)  # all points in grey, then the class
    cmaps = {ax.collections[-1].get_cmap().name for ax in visible}
    assert len(cmaps) == 6
    assert len({ax.get_xlim() for ax in visible}) == 1
    assert len({ax.get_ylim() for ax in visible}) == 1
    assert fig.get_suptitle() == "cls"


def test_umap_hexbins_counts_each_class_once_over_a_grey_background_of_all():
    frame = umap_frame(n_per_class=7)
    fig = plots.plot_umap_hexbins(frame, NAMES)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.collections[-1].get_array().sum() for ax in panels] == [7] * 6
    assert all(ax.collections[0].get_array().sum() == 42 for ax in panels)


def test_umap_hexbins_keeps_far_outliers_without_stretching_the_axes():
    frame = umap_frame(n_per_class=50)
    frame.loc[0, "x"] = 1e6
    fig = plots.plot_umap_hexbins(frame, NAMES)
    first = fig.axes[0]
    assert first.collections[-1].get_array().sum() == 50
    assert first.get_xlim()[1] < 100


def test_umap_hexbins_hides_unused_panels_and_honours_column_names():
    frame = umap_frame(n_classes=4).rename(columns={"x": "u", "y": "v", "label": "target"})
    fig = plots.plot_umap_hexbins(frame, NAMES[:4], x="u", y="v", label="target")
    assert sum(ax.get_visible() for ax in fig.axes) == 4
    assert len(fig.axes) == 6


def test_umap_scatter_has_one_legend_entry_per_class():
    ax = plots.plot_umap_scatter(umap_frame(), NAMES, title="mean")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(NAMES)
    assert len(ax.collections) == 6
    assert ax.get_title() == "mean" and ax.get_xlabel() and ax.get_ylabel()


def test_umap_scatter_view_ignores_far_outliers():
    frame = umap_frame(n_per_class=50)
    frame.loc[0, "y"] = -1e6
    ax = plots.plot_umap_scatter(frame, NAMES)
    assert ax.get_ylim()[0] > -100
