"""Figures the lectures draw more than once (matplotlib, with titles and labelled axes)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Arc, FancyArrowPatch, FancyBboxPatch, Rectangle

# The course palette, for every figure: the colours of Okabe and Ito, which colour-blind readers
# can tell apart, in the order of the emotions (sadness blue, joy orange, love purple, anger red,
# fear green, surprise sky blue). Lines differ by marker and dash pattern as well as by colour.
PALETTE = ("#0072B2", "#E69F00", "#CC79A7", "#D55E00", "#009E73", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 1)), (0, (5, 5)))
# One colour scale for shares (0 light yellow to 1 dark purple), readable with colour blindness.
SHARE_CMAP = "viridis_r"


def series_style(index: int) -> dict[str, object]:
    """Colour, marker and line style of the `index`-th line or class of a figure."""
    return {
        "color": PALETTE[index % len(PALETTE)],
        "marker": MARKERS[index % len(MARKERS)],
        "linestyle": LINE_STYLES[index % len(LINE_STYLES)],
    }


def plot_confusion_matrix(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    label_names: Sequence[str],
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """A confusion matrix normalized by true class, drawn by scikit-learn in the course's style."""
    from sklearn.metrics import ConfusionMatrixDisplay

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5.5))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=list(range(len(label_names))),
        display_labels=list(label_names),
        normalize="true",
        values_format=".2f",
        colorbar=False,
        ax=ax,
    )
    counts = np.bincount(np.asarray(y_true), minlength=len(label_names))
    return style_confusion_matrix(ax, title, row_counts=counts)


def style_confusion_matrix(
    ax: Axes, title: str | None = None, row_counts: Sequence[int] | None = None
) -> Axes:
    """The course's look for a row-normalized `ConfusionMatrixDisplay`: one colour scale with its
    colour bar, named axes, and each row's number of tweets when `row_counts` is given."""
    image = ax.images[0]
    image.set_cmap("Blues")
    image.set_clim(0, 1)  # the same colour scale for every matrix, so two can be compared
    for text, value in zip(ax.texts, np.asarray(image.get_array()).ravel()):
        text.set_color("white" if value > 0.5 else "black")  # readable on dark and light cells
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the row's tweets")
    if row_counts is not None:  # a share of 81 tweets is not a share of 700
        names = [label.get_text() for label in ax.get_yticklabels()]
        ax.set_yticks(ax.get_yticks(), [f"{n} ({c:,})" for n, c in zip(names, row_counts)])
    ax.set_xlabel("predicted emotion")
    ax.set_ylabel("true emotion (tweets)" if row_counts is not None else "true emotion")
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right", rotation_mode="anchor")
    ax.set_title(title or "Confusion matrix (each row sums to 1)")
    return ax


def plot_learning_curve(
    points: pd.DataFrame,
    budgets: Sequence[int],
    floor: float | None,
    zero_shot: float | None = None,
    ax: Axes | None = None,
    metric: str = "accuracy",
    min_seeds: int = 3,
    references: pd.DataFrame | None = None,
    all_tweets: int | None = None,
) -> Axes:
    """A score against labelled tweets (log axis): per method the mean over seeds, min-max bars.

    `points` has one row per run: `method`, `tweets` (training-set size), `seed` and the `metric`
    column. A budget is drawn only where it has at least `min_seeds` runs, and a line joins two
    neighbouring `budgets` only when both are drawn: nothing unmeasured shows. `references`
    (`method`, `tweets`, `metric`) are single runs of earlier lectures, drawn as open markers. The
    budget equal to `all_tweets` is labelled "all"; `floor` (the dummy) and `zero_shot` are lines
    where given.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.8))
    budgets = sorted(budgets)
    references = references if references is not None else pd.DataFrame(columns=["method"])
    methods = list(dict.fromkeys([*points["method"], *references["method"]]))
    for index, method in enumerate(methods):
        style = series_style(index)
        # the methods' bars side by side at each budget, a few percent apart on the log axis
        shift = 1.0 + 0.035 * (index - (len(methods) - 1) / 2)
        runs = points.loc[points["method"] == method].groupby("tweets")[metric]
        spread = runs.agg(["mean", "min", "max", "count"])
        spread = spread[spread["count"] >= min_seeds].reindex(budgets)  # NaN: the line breaks
        mean, low, high = (spread[name].to_numpy(dtype=float) for name in ("mean", "min", "max"))
        if not np.isnan(mean).all():
            x = np.asarray(budgets, dtype=float) * shift
            bars = np.clip([mean - low, high - mean], 0, None)  # equal seeds: no rounding below 0
            ax.errorbar(x, mean, yerr=bars, capsize=3, label=method, **style)
        mine = references.loc[references["method"] == method]
        if len(mine):
            open_marker = {"marker": style["marker"], "markersize": 8, "markerfacecolor": "white"}
            x = mine["tweets"].to_numpy(dtype=float) * shift
            ax.plot(x, mine[metric], linestyle="none", color=style["color"], **open_marker)
            if np.isnan(mean).all():  # no curve of its own: the legend still names its colour
                ax.plot([], [], linestyle="none", color=style["color"], label=method, **open_marker)
    if len(references):
        ax.plot([], [], "o", color="0.3", markerfacecolor="white", label="one earlier run (open)")
    if zero_shot is not None:
        ax.axhline(zero_shot, color="black", linestyle="--", label="zero-shot (no labels)")
    if floor is not None:
        ax.axhline(floor, color="grey", linestyle=":", label="dummy (most frequent class)")
    ax.set_xscale("log")
    names = [f"{size:,}" + ("\n(all)" if size == all_tweets else "") for size in budgets]
    ax.set_xticks(budgets, names)
    ax.minorticks_off()
    ax.set_xlabel("labelled training tweets (log scale)")
    ax.set_ylabel(f"validation {metric.replace('_', ' ')}")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    rank = {method: index for index, method in enumerate(methods)}  # methods first, in order
    first = sorted(range(len(labels)), key=lambda i: rank.get(labels[i], len(methods)))
    ax.legend([handles[i] for i in first], [labels[i] for i in first], loc="upper left")
    ax.set_title(f"Mean of {min_seeds} or more seeds, bars from the worst to the best seed")
    return ax


def plot_model_comparison(comparison: pd.DataFrame, title: str | None = None) -> Figure:
    """Accuracy with its interval, training time and learned weights of each row of a comparison table.

    `comparison` is `utils.evaluation.comparison_table`'s frame; models that learn nothing (no
    learned weights, such as the dummy) are left out of the time and weight panels.
    """
    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    wrap = {name: textwrap.fill(name, 12) for name in comparison.index}  # ticks on short lines
    blue, orange, green = (PALETTE[k] for k in (0, 1, 4))
    accuracy = comparison["accuracy"]
    yerr = [accuracy - comparison["accuracy_low"], comparison["accuracy_high"] - accuracy]
    axes[0].bar(list(wrap.values()), accuracy, yerr=yerr, capsize=4, color=blue)
    axes[0].set(ylim=(0, 1), ylabel="accuracy", title="Validation accuracy (95% interval)")
    learners = comparison[comparison["learned_weights"] > 0]
    names = [wrap[name] for name in learners.index]
    features = learners["feature_seconds"].fillna(0)
    axes[1].bar(names, features, color=orange, hatch="//", label="feature extraction")
    bars = axes[1].bar(names, learners["fit_seconds"], bottom=features, color=green, label="fit")
    seconds = learners["train_seconds"]  # NaN where the features' extraction time is unknown
    axes[1].bar_label(bars, labels=[f"{s:,.0f} s" if s == s else "fit only" for s in seconds])
    axes[1].set(yscale="log", ylabel="seconds (log scale)", title="Training time")
    axes[1].legend()
    bars = axes[2].bar(names, learners["learned_weights"], color=green)
    axes[2].bar_label(bars, labels=[f"{w:,.0f}" for w in learners["learned_weights"]], fontsize=9)
    axes[2].set(yscale="log", ylabel="count (log scale)", title="Learned weights")
    for ax in axes:
        ax.tick_params(axis="x", labelsize=8)
        ax.margins(y=0.2)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_umap_hexbins(
    frame: pd.DataFrame,
    label_names: Sequence[str],
    x: str = "x",
    y: str = "y",
    label: str = "label",
    title: str | None = None,
    gridsize: int | None = None,
    min_tweets: int = 5,
) -> Figure:
    """One panel per class (2x3 for six) on shared axes: each hexagon coloured by the class's share
    of the tweets in it, on one colour scale with its colour bar; cells with fewer than `min_tweets`
    tweets stay grey."""
    if min_tweets < 1:
        raise ValueError(f"min_tweets is {min_tweets}: a share needs at least 1 tweet per cell.")
    n_cols = 3
    n_rows = max(1, math.ceil(len(label_names) / n_cols))
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(4 * n_cols + 1, 3.4 * n_rows),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    x0, x1, y0, y1 = _extent(frame[x], frame[y])
    # Far outliers would squeeze the bulk into a few cells: draw them on the border instead.
    xs, ys = frame[x].clip(x0, x1), frame[y].clip(y0, y1)
    if gridsize is None:  # about 16 tweets per hexagon on average, 5 to 30 hexagons across
        gridsize = int(np.clip(np.sqrt(len(frame) / 16), 5, 30))
    grid = {"gridsize": gridsize, "extent": (x0, x1, y0, y1), "linewidths": 0.1}
    everyone = ListedColormap(["0.88"], name="all")
    labels = frame[label].to_numpy()
    for i, (ax, name) in enumerate(zip(axes.flat, label_names)):
        ax.hexbin(xs, ys, cmap=everyone, mincnt=1, **grid)  # every tweet in grey, for orientation
        mine = (labels == i).astype(float)
        cells = ax.hexbin(
            xs, ys, C=mine, reduce_C_function=np.mean, mincnt=min_tweets, cmap=SHARE_CMAP, **grid
        )
        cells.set_clim(0, 1)  # one scale for every panel: the same colour is the same share
        ax.set_title(f"{name} ({int(mine.sum()):,} tweets, {mine.mean():.0%})")
    for ax in axes.flat[len(label_names) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(f"UMAP {x}")
    for ax in axes[:, 0]:
        ax.set_ylabel(f"UMAP {y}")
    bar = fig.colorbar(cells, ax=axes.ravel().tolist(), shrink=0.8)
    bar.set_label(f"the emotion's share of a hexagon's tweets\n(grey: fewer than {min_tweets})")
    fig.suptitle(title or "Where each emotion lies in the 2-D projection")
    return fig


def plot_umap_scatter(
    frame: pd.DataFrame,
    label_names: Sequence[str],
    ax: Axes | None = None,
    x: str = "x",
    y: str = "y",
    label: str = "label",
    title: str | None = None,
    sample: int | None = 2_000,
    seed: int = 0,
) -> Axes:
    """A 2-D scatter plot of a random sample of the rows (all if `sample` is None), one colour and
    marker per class, the smallest classes drawn on top, with a legend."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    shown = frame
    if sample is not None and len(frame) > sample:  # thousands of points would hide each other
        shown = frame.sample(n=sample, random_state=seed)
    sizes = np.bincount(shown[label], minlength=len(label_names))
    for i in sorted(range(len(label_names)), key=lambda i: -sizes[i]):
        points = shown[shown[label] == i]
        style = series_style(i)
        ax.scatter(
            points[x],
            points[y],
            s=16,
            alpha=0.7,
            color=style["color"],
            marker=style["marker"],
            label=label_names[i],
            linewidths=0,
        )
    x0, x1, y0, y1 = _extent(frame[x], frame[y])
    ax.set_xlim(x0, x1)  # a few far outliers would otherwise shrink the bulk into a corner
    ax.set_ylim(y0, y1)
    ax.set_xlabel(f"UMAP {x}")
    ax.set_ylabel(f"UMAP {y}")
    heading = title or "2-D projection of the features"
    if len(shown) < len(frame):
        heading += f"\n{len(shown):,} of {len(frame):,} tweets, drawn at random"
    ax.set_title(heading)
    handles, names = ax.get_legend_handles_labels()
    order = sorted(range(len(names)), key=lambda k: list(label_names).index(names[k]))
    ax.legend(
        [handles[k] for k in order],
        [names[k] for k in order],
        markerscale=2,
        fontsize="small",
        loc="best",
    )
    return ax


def _extent(xs: pd.Series, ys: pd.Series) -> tuple[float, float, float, float]:
    """A box around the bulk of the points (0.5%-99.5% quantiles, padded), shared by every panel."""
    (x0, x1), (y0, y1) = xs.quantile([0.005, 0.995]), ys.quantile([0.005, 0.995])
    pad_x, pad_y = 0.05 * (x1 - x0 or 1.0), 0.05 * (y1 - y0 or 1.0)
    return x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y


# Diagrams drawn by the course itself (no images from elsewhere), on one axes in inch units.

_BLUE, _ORANGE, _GREEN, _GREY, _RED = PALETTE[0], PALETTE[1], PALETTE[4], "#8c8c8c", PALETTE[3]
_LIGHT = {_BLUE: "#d6e6f2", _ORANGE: "#fbecc8", _GREEN: "#cdebe2", _GREY: "#e8e8e8"}
_EMOTIONS = ("sadness", "joy", "love", "anger", "fear", "surprise")
_EXAMPLE_PROBS = (0.04, 0.78, 0.09, 0.03, 0.02, 0.04)  # made up, for the picture only
_EXAMPLE_TOKENS = ("[CLS]", "i", "feel", "so", "happy", "today", "[SEP]")
_POOLING_TOKENS = ("[CLS]", "i", "feel", "great", "[SEP]", "[PAD]", "[PAD]")
_PADDING = frozenset({"[PAD]", "<pad>"})


def draw_classifier(
    model_label: str = "encoder", num_layers: int = 6, title: str | None = None
) -> Figure:
    """How an encoder with a classification head turns a tweet into six emotion probabilities."""
    fig, ax = _canvas(12, 4.8)
    title = title or f"Inside {model_label}: from tokens to emotion probabilities"
    _label(ax, 6, 4.55, title, fontsize=14, weight="bold")
    rows = [3.65 - 0.46 * i for i in range(len(_EXAMPLE_TOKENS))]
    middle = (rows[0] + rows[-1]) / 2
    for x, header in ((0.65, "tokens"), (2.1, "embeddings\n(token + position)")):
        _label(ax, x, 4.05, header, color="0.25")
    _label(ax, 5.9, 4.05, "hidden states\n(one per token)", color="0.25")
    rng = np.random.default_rng(1)
    for y, token in zip(rows, _EXAMPLE_TOKENS):
        cls = token == "[CLS]"
        _box(ax, 0.2, y - 0.17, 0.9, 0.34, token, _ORANGE if cls else _BLUE)
        _arrow(ax, (1.15, y), (1.55, y), lw=1.0)
        _vector(ax, 1.6, y - 0.1, rng.uniform(0.2, 1, 5), "Blues")
        hidden_cmap, hidden_edge = ("Oranges", _ORANGE) if cls else ("Blues", "white")
        _vector(ax, 5.4, y - 0.1, rng.uniform(0.2, 1, 5), hidden_cmap, edge=hidden_edge)
    # The encoder: a deck of layer boxes (at most eight drawn), the front one labelled.
    _arrow(ax, (2.7, middle), (3.1, middle), lw=2)
    shown, step = max(1, min(num_layers, 8)), 0.07
    bottom, top = rows[-1] - 0.1, rows[0] + 0.25
    width, height = 1.7 - (shown - 1) * step, top - bottom - (shown - 1) * step
    for k in reversed(range(shown)):
        fill = _LIGHT[_BLUE] if k == 0 else "white"
        _box(ax, 3.15 + k * step, bottom + k * step, width, height, "", _BLUE, fill=fill)
    centre = 3.15 + width / 2
    _label(ax, centre, middle + 0.55, "encoder layer", fontsize=11, weight="bold", color=_BLUE)
    _label(ax, centre, middle - 0.15, "self-attention\n+\nfeed-forward", linespacing=1.3)
    layers = f"× {num_layers} encoder layer" + ("s" if num_layers != 1 else "")
    _label(ax, 4.0, bottom - 0.3, layers, color=_BLUE)
    _arrow(ax, (4.95, middle), (5.35, middle), lw=2)
    # Only the [CLS] hidden state goes on to the head, then softmax gives the probabilities.
    _arrow(ax, (6.45, rows[0]), (7.25, 3.35), color=_ORANGE, lw=1.8)
    _label(ax, 6.85, 3.12, "[CLS]\nvector", color=_ORANGE)
    _box(ax, 7.3, 2.85, 1.4, 1.0, "classification\nhead\nlinear: hidden → 6", _GREEN)
    pooler = (
        "BERT puts a pooler\n(dense + tanh) and\nDistilBERT a\npre_classifier layer\n"
        "(dense + ReLU)\nbefore this linear layer"
    )
    frame = {"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.6", "ls": "--"}
    _label(ax, 8.0, 1.65, pooler, color="0.35", style="italic", linespacing=1.25, bbox=frame)
    _arrow(ax, (8.8, 3.35), (9.4, 3.35), lw=1.8)
    _label(ax, 9.1, 3.55, "softmax")
    bars = fig.add_axes((10.2 / 12, 1.0 / 4.8, 1.6 / 12, 2.85 / 4.8))
    _probability_bars(bars, _EMOTIONS, _EXAMPLE_PROBS)
    return fig


def draw_training_modes() -> Figure:
    """Feature extraction (frozen encoder, a classifier learns) next to fine-tuning (all learns)."""
    fig, ax = _canvas(12, 5)
    ax.plot([6, 6], [0.2, 4.8], color="0.8", lw=1)
    for x0, tuned in ((0.0, False), (6.0, True)):
        title = "Fine-tuning (lecture 6)" if tuned else "Feature extraction (lecture 5)"
        _label(ax, x0 + 3, 4.6, title, fontsize=13, weight="bold")
        left, mid = x0 + 0.6, x0 + 1.9
        _box(ax, left, 0.75, 2.6, 0.4, "tweet tokens", _BLUE)
        _arrow(ax, (mid, 1.2), (mid, 1.4))
        layer_colour = _ORANGE if tuned else _GREY
        for y, layer in ((1.45, "1"), (1.83, "2"), (2.59, "N")):
            _box(ax, left, y, 2.6, 0.3, f"encoder layer {layer}", layer_colour)
        _label(ax, mid, 2.36, "⋮", fontsize=12)
        _arrow(ax, (mid, 2.9), (mid, 3.15))
        states = "[CLS] hidden state" if tuned else "hidden states, cached once"
        _box(ax, left, 3.2, 2.6, 0.35, states, _BLUE, fill="white")
        _arrow(ax, (mid, 3.6), (mid, 3.8))
        head = "new linear head" if tuned else "logistic regression"
        _box(ax, left, 3.85, 2.6, 0.4, head, _ORANGE, weight="bold")
        _note(ax, x0 + 3.4, 4.05, "learns", _ORANGE)
        if tuned:
            _note(ax, x0 + 3.4, 2.1, "learns too\n(small steps,\nlow learning rate)", _ORANGE)
            _arrow(ax, (x0 + 0.35, 4.05), (x0 + 0.35, 1.45), color=_RED, lw=2.2)
            _label(ax, x0 + 0.2, 2.75, "gradients", rotation=90, color=_RED)
            size = "all weights learn (millions: 22.7 M\nin all-MiniLM-L6-v2, 67 M in DistilBERT)"
        else:
            _note(ax, x0 + 3.4, 2.1, "frozen\nno gradients,\nweights never change", _GREY)
            _lock(ax, x0 + 4.15, 2.12)
            _label(ax, x0 + 3.4, 3.375, "computed in one pass", ha="left", color="0.35")
            size = "a few thousand weights learn\n(width × 6 + 6: 2,310 at 384, 4,614 at 768)"
        colour = _ORANGE if tuned else "0.25"
        _label(ax, x0 + 3, 0.35, size, color=colour, linespacing=1.3)
    return fig


def draw_pooling(tokens: Sequence[str] | None = None) -> Figure:
    """[CLS] pooling (first hidden state) next to mean pooling over the attention mask."""
    tokens = list(_POOLING_TOKENS if tokens is None else tokens)
    mask = np.array([0 if t in _PADDING else 1 for t in tokens])
    states = np.random.default_rng(3).uniform(0.15, 1.0, size=(len(tokens), 4))
    pitch = min(0.55, 3.85 / max(1, len(tokens)))
    cell = min(0.3, 0.75 * pitch)
    fig, ax = _canvas(12, 4.6)
    ax.plot([6, 6], [0.2, 4.4], color="0.8", lw=1)
    for x0, mean in ((0.0, False), (6.0, True)):
        title = "Mean pooling over the mask" if mean else f"{tokens[0]} pooling"
        _label(ax, x0 + 3, 4.2, title, fontsize=13, weight="bold")
        for y, row in ((2.4, "hidden\nstates"), (1.45, "token"), (1.0, "attention\nmask")):
            _label(ax, x0 + 0.8, y, row, ha="right")
        first = x0 + 0.9
        for i, (token, m) in enumerate(zip(tokens, mask)):
            cx = first + pitch * (i + 0.5)
            picked = bool(m) if mean else i == 0
            cmap = ("Oranges" if picked else "Blues") if m else "Greys"
            edge = _ORANGE if picked else "white"
            _vector(ax, cx - cell / 2, 1.8, states[i], cmap, cell, True, edge, not picked)
            upright = len(token) * 0.08 < pitch - 0.05  # else too wide: written upwards
            colour = "black" if m else "0.55"
            _label(ax, cx, 1.45, token, color=colour, rotation=0 if upright else 90)
            _label(ax, cx, 1.0, str(m), fontsize=11, weight="bold", color=_BLUE if m else _GREY)
            if mean and not m:  # padding: crossed out, left out of the mean
                half = 0.6 * cell
                ax.plot([cx - half, cx + half], [1.75, 3.05], color=_RED, lw=1.5)
                ax.plot([cx - half, cx + half], [3.05, 1.75], color=_RED, lw=1.5)
        if mean:
            pooled = (states * mask[:, None]).sum(axis=0) / max(1, mask.sum())
            kept = np.flatnonzero(mask)
            centre = x0 + 3.0
            if kept.size:  # a line over the kept columns, from the first to the last of them
                start, stop = first + pitch * kept[0], first + pitch * (kept[-1] + 1)
                ax.plot([start + 0.05, stop - 0.05], [3.25, 3.25], color=_ORANGE, lw=1.5)
                centre = float(np.clip((start + stop) / 2, x0 + 1.6, x0 + 4.4))
            note = f"average of the {mask.sum()} columns with mask 1"
            _label(ax, centre, 3.45, note, color=_ORANGE)
            formula = "mean = sum(mask * h) / sum(mask)   (padding excluded)"
            _label(ax, x0 + 3, 0.45, formula, fontsize=11, family="monospace")
        else:
            pooled = states[0]
            _label(ax, first, 3.3, "only the first column is used", ha="left", color=_ORANGE)
            note = f"keep the first column: the hidden state of {tokens[0]}"
            _label(ax, x0 + 3, 0.45, note, fontsize=11)
        out_x = x0 + 5.35
        _arrow(ax, (first + pitch * len(tokens) + 0.05, 2.4), (out_x - 0.1, 2.4), _ORANGE, 2)
        _vector(ax, out_x, 1.8, pooled, "Oranges", 0.3, True, _ORANGE)
        _label(ax, out_x + 0.15, 1.45, "pooled", color=_ORANGE)
    return fig


def _canvas(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure with one axes over all of it, axes off, whose data units are inches."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return fig, ax


def _label(ax: Axes, x: float, y: float, text: str, **style: object) -> None:
    """Text centred on (x, y) at font size 10 unless the style says otherwise."""
    options: dict[str, object] = {"ha": "center", "va": "center", "fontsize": 10}
    ax.text(x, y, text, **(options | style))


def _box(
    ax: Axes,
    x: float,
    y: float,
    width: float,
    height: float,
    text: str,
    colour: str,
    fill: str | None = None,
    weight: str = "normal",
) -> None:
    """A rounded box with a coloured edge, a light fill of the same colour and centred text."""
    style = "round,pad=0,rounding_size=0.06"
    face = fill or _LIGHT.get(colour, "white")
    ax.add_patch(FancyBboxPatch((x, y), width, height, boxstyle=style, fc=face, ec=colour, lw=1.5))
    if text:
        _label(ax, x + width / 2, y + height / 2, text, weight=weight, linespacing=1.25)


def _arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    color: str = "0.3",
    lw: float = 1.5,
) -> None:
    """A straight arrow from start to end."""
    arrow = FancyArrowPatch(
        start, end, arrowstyle="-|>", mutation_scale=12 + 3 * lw, color=color, lw=lw
    )
    ax.add_patch(arrow)


def _vector(
    ax: Axes,
    x: float,
    y: float,
    values: Sequence[float] | np.ndarray,
    cmap: str,
    cell: float = 0.2,
    vertical: bool = False,
    edge: str = "white",
    faded: bool = False,
) -> None:
    """A hidden-state vector as a strip of shaded cells (left to right, or top to bottom)."""
    colours = plt.get_cmap(cmap)(0.25 + 0.6 * np.asarray(values, dtype=float))
    n = len(colours)
    for i, colour in enumerate(colours):
        corner = (x, y + cell * (n - 1 - i)) if vertical else (x + cell * i, y)
        alpha = 0.45 if faded else 1.0
        ax.add_patch(Rectangle(corner, cell, cell, fc=colour, ec="white", lw=0.8, alpha=alpha))
    size = (cell, cell * n) if vertical else (cell * n, cell)
    ax.add_patch(Rectangle((x, y), *size, fill=False, ec=edge, lw=1.8))


def _note(ax: Axes, x: float, y: float, text: str, colour: str) -> None:
    """A short note left-aligned at (x, y): its first line in bold colour, the rest below."""
    first, *rest = text.split("\n")
    _label(ax, x, y, first, ha="left", fontsize=11, weight="bold", color=colour)
    if rest:
        _label(ax, x, y - 0.2, "\n".join(rest), ha="left", va="top", color="0.3", linespacing=1.25)


def _lock(ax: Axes, x: float, y: float) -> None:
    """A small padlock centred at (x, y), the symbol for frozen weights."""
    body = FancyBboxPatch(
        (x - 0.1, y - 0.12), 0.2, 0.15, boxstyle="round,pad=0,rounding_size=0.02", color=_GREY
    )
    ax.add_patch(body)
    ax.add_patch(Arc((x, y + 0.03), 0.13, 0.2, theta1=0, theta2=180, color=_GREY, lw=2.2))


def _probability_bars(ax: Axes, names: Sequence[str], probs: Sequence[float]) -> None:
    """A horizontal bar chart of class probabilities with their values, the largest in orange."""
    top = int(np.argmax(probs))
    positions = np.arange(len(names))[::-1]
    colours = [_ORANGE if i == top else _BLUE for i in range(len(names))]
    ax.barh(positions, probs, color=colours, height=0.65)
    for y, p in zip(positions, probs):
        ax.text(p + 0.03, y, f"{p:.2f}", va="center", fontsize=10)
    ax.set_yticks(positions, list(names), fontsize=10)
    ax.set_xticks([])
    ax.set_xlim(0, 1.25)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title("probabilities\n(illustrative values)", fontsize=10)
