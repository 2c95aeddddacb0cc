"""Figures the lectures draw more than once (matplotlib, with titles and labelled axes)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, ListedColormap
from matplotlib.figure import Figure

# Colour maps for the UMAP panels, one per class, in the order of the label names.
CLASS_CMAPS = ("Blues", "Oranges", "RdPu", "Reds", "Purples", "Greens", "Greys", "YlOrBr")


def plot_confusion_matrix(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    label_names: Sequence[str],
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """A confusion matrix normalized by true class, with class names and two-decimal values."""
    from sklearn.metrics import ConfusionMatrixDisplay

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5.5))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=list(range(len(label_names))),
        display_labels=list(label_names),
        normalize="true",
        values_format=".2f",
        cmap="Blues",
        colorbar=False,
        ax=ax,
    )
    ax.images[0].set_clim(0, 1)  # the same colour scale for every matrix, so two can be compared
    ax.set_xlabel("predicted emotion")
    ax.set_ylabel("true emotion")
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right", rotation_mode="anchor")
    ax.set_title(title or "Confusion matrix (each row sums to 1)")
    return ax


def plot_umap_hexbins(
    frame: pd.DataFrame,
    label_names: Sequence[str],
    x: str = "x",
    y: str = "y",
    label: str = "label",
    title: str | None = None,
) -> Figure:
    """One hexbin density panel per class (2x3 for six) on shared axes, each with its own colours."""
    n_cols = 3
    n_rows = max(1, math.ceil(len(label_names) / n_cols))
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(4 * n_cols, 3.4 * n_rows),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    x0, x1, y0, y1 = _extent(frame[x], frame[y])
    # Far outliers would squeeze the bulk into a few cells: draw them on the border instead.
    xs, ys = frame[x].clip(x0, x1), frame[y].clip(y0, y1)
    grid = {"gridsize": 30, "extent": (x0, x1, y0, y1), "mincnt": 1, "linewidths": 0.1}
    everyone = ListedColormap(["0.9"], name="all")
    for i, (ax, name) in enumerate(zip(axes.flat, label_names)):
        ax.hexbin(xs, ys, cmap=everyone, **grid)  # all classes in light grey, for orientation
        mine = (frame[label] == i).to_numpy()
        cmap = _light_to_dark(CLASS_CMAPS[i % len(CLASS_CMAPS)])
        cells = ax.hexbin(xs[mine], ys[mine], cmap=cmap, **grid)
        counts = np.asarray(cells.get_array())
        if counts.size:  # a few very dense cells would wash out the rest: saturate the top 2%
            cells.set_clim(1, max(2.0, float(np.quantile(counts, 0.98))))
        ax.set_title(f"{name} ({mine.sum()})")
    for ax in axes.flat[len(label_names) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(f"UMAP {x}")
    for ax in axes[:, 0]:
        ax.set_ylabel(f"UMAP {y}")
    fig.suptitle(title or "Where each emotion lies in the 2-D projection")
    fig.tight_layout()
    return fig


def plot_umap_scatter(
    frame: pd.DataFrame,
    label_names: Sequence[str],
    ax: Axes | None = None,
    x: str = "x",
    y: str = "y",
    label: str = "label",
    title: str | None = None,
) -> Axes:
    """All classes in one 2-D scatter plot, one colour per class, with a legend."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    colours = plt.get_cmap("tab10").colors
    for i, name in enumerate(label_names):
        points = frame[frame[label] == i]
        ax.scatter(points[x], points[y], s=3, alpha=0.5, color=colours[i % 10], label=name)
    x0, x1, y0, y1 = _extent(frame[x], frame[y])
    ax.set_xlim(x0, x1)  # a few far outliers would otherwise shrink the bulk into a corner
    ax.set_ylim(y0, y1)
    ax.set_xlabel(f"UMAP {x}")
    ax.set_ylabel(f"UMAP {y}")
    ax.set_title(title or "2-D projection of the features")
    ax.legend(markerscale=4, fontsize="small", loc="best")
    return ax


def _light_to_dark(name: str) -> Colormap:
    """A colour map without its near-white start, so that cells holding one point stay visible."""
    colours = plt.get_cmap(name)(np.linspace(0.3, 1.0, 256))
    return ListedColormap(colours, name=name)


def _extent(xs: pd.Series, ys: pd.Series) -> tuple[float, float, float, float]:
    """A box around the bulk of the points (0.5%-99.5% quantiles, padded), shared by every panel."""
    (x0, x1), (y0, y1) = xs.quantile([0.005, 0.995]), ys.quantile([0.005, 0.995])
    pad_x, pad_y = 0.05 * (x1 - x0 or 1.0), 0.05 * (y1 - y0 or 1.0)
    return x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y
