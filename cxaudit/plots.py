"""Seaborn/matplotlib figures in one house style. Deterministic: no bootstrapped error bars.

Figures are vector graphics: :func:`set_style` (called by ``cxaudit.start`` in every notebook) makes the
notebook's inline backend emit SVG (``image/svg+xml``) with text kept as text (``svg.fonttype = "none"``,
DejaVu Sans, which renders Cyrillic and Polish) and without a creation date or random ids
(``svg.hashsalt``), so the same data gives the same bytes. The report embeds each SVG as an
``<img src="data:image/svg+xml;base64,...">`` (an image cannot run script or fetch anything) with its
title as alt text. One palette (:data:`PALETTE`, :data:`SERIES`) for every figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .i18n import fmt_num, t

__all__ = ["set_style", "takeaway_title", "nps_distribution", "ci_dotplot", "svg_bytes", "figure_svg", "step_points",
           "MAX_STEPS", "PALETTE", "SERIES", "RC"]

PALETTE = {"detractor": "#c0392b", "passive": "#b0b7bf", "promoter": "#2e8b57", "main": "#1f3b5c"}
#: Colour cycle of every figure (brand primary first, then muted, colour-blind-distinguishable hues).
SERIES = ["#1f3b5c", "#d9822b", "#2e8b57", "#7f8c8d", "#8e5ea2", "#c0392b", "#3f88c5", "#b8a13a"]
#: Matplotlib settings of the house style (also used by :func:`svg_bytes`).
RC = {
    "figure.dpi": 110, "savefig.dpi": 110, "axes.spines.top": False, "axes.spines.right": False,
    "axes.titleweight": "bold", "axes.titlesize": 11, "figure.figsize": (7.5, 3.6),
    "svg.fonttype": "none", "svg.hashsalt": "cxaudit", "font.family": "DejaVu Sans",
    "axes.labelsize": 9.5, "xtick.labelsize": 8.5, "ytick.labelsize": 8.5, "legend.fontsize": 8.5,
}


def svg_bytes(fig: Figure) -> bytes:
    """``fig`` as SVG bytes: text as text, no date, stable ids (see the module docstring)."""
    import io

    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "cxaudit"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def figure_svg(fig: Figure) -> str:
    """SVG text of ``fig`` as a notebook shows it (``bbox_inches="tight"``), every text of the figure
    redacted for personal data first (:func:`cxaudit.figdisplay.redact_figure_text`), no date, stable ids."""
    import matplotlib
    from IPython.core.pylabtools import print_figure

    from .figdisplay import redact_figure_text

    redact_figure_text(fig)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "cxaudit"}):
        return print_figure(fig, fmt="svg", bbox_inches="tight", metadata={"Date": None})


def _inline_svg() -> None:
    """Inside IPython (a notebook kernel): figures are shown as SVG (:func:`figure_svg`), not PNG."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    shell = get_ipython()
    if shell is None:
        return
    # the inline backend sets its own (PNG) figure formatters when the first figure is made: make one now,
    # so that ours come after and stay
    plt.close(plt.figure())
    formatters = shell.display_formatter.formatters
    formatters["image/svg+xml"].enabled = True
    formatters["image/svg+xml"].for_type(Figure, figure_svg)
    formatters["image/png"].pop(Figure, None)


#: At most this many steps per drawn step curve (survival curves, ECDFs): a curve over 500,000 customers
#: or 2M tickets has ~10^5 steps (a 1.3 MB figure at the XL demo size); 800 are finer than the pixels.
MAX_STEPS = 800


def step_points(x: np.ndarray, max_steps: int = MAX_STEPS, *, log: bool = False) -> np.ndarray:
    """Positions of the points of a step curve (``x`` sorted ascending, drawn ``where="post"``) to draw:
    all when there are at most ``max_steps``, else the last point in each of ``max_steps`` equal slices
    of the x axis (of ``log10(x)`` with ``log``), so the drawn curve equals the full one at every slice's
    end and the last point is kept.

    >>> step_points(np.arange(10.0), 4).tolist()
    [2, 4, 6, 9]
    """
    x = np.asarray(x, dtype=float)
    if len(x) <= max_steps:
        return np.arange(len(x))
    axis = np.log10(x) if log else x
    edges = np.linspace(axis[0], axis[-1], max_steps + 1)
    return np.unique(np.searchsorted(axis, edges[1:], side="right") - 1)


def takeaway_title(ax: Axes, text: str, width: int = 66) -> None:
    """Put a takeaway headline on ``ax`` (the finding, not the chart's topic: "Home delivery drives 34% of
    NPS and is rated worst"), left-aligned and wrapped at ``width`` characters so it never runs past the
    figure in any language; a lower-case first word is capitalised ("eNPS" is left alone)."""
    import textwrap

    first = text.split(" ", 1)[0]
    if first[:1].islower() and first[1:] == first[1:].lower():  # "phone answers fastest", not "eNPS is lowest"
        text = text[:1].upper() + text[1:]
    # a figure title from the left edge, not an axes title: long tick labels do not narrow it
    ax.figure.suptitle("\n".join(textwrap.wrap(text, width)) or text, x=0.01, ha="left",
                       fontsize=RC["axes.titlesize"], fontweight="bold")


def set_style(primary: str | None = None) -> None:
    """House style: white grid, DejaVu Sans (renders Cyrillic and Polish), one colour cycle, SVG output
    in a notebook."""
    if primary:
        PALETTE["main"] = primary
        SERIES[0] = primary
    sns.set_theme(style="whitegrid", font="DejaVu Sans", palette=SERIES, rc=RC)
    _inline_svg()


def nps_distribution(scores: pd.Series, lang: str) -> Figure:
    """Bar chart of the 0–10 answers, coloured detractor / passive / promoter."""
    s = pd.to_numeric(scores, errors="coerce").dropna()
    share = s.value_counts(normalize=True).reindex(range(11), fill_value=0.0)
    colours = [PALETTE["detractor"]] * 7 + [PALETTE["passive"]] * 2 + [PALETTE["promoter"]] * 2
    fig, ax = plt.subplots()
    ax.bar(share.index, share.to_numpy() * 100, color=colours)
    ax.set_xticks(range(11))
    ax.set_xlabel(t("metrics.nps_axis", lang))
    ax.set_ylabel(t("metrics.share_axis", lang) + ", %")
    ax.set_title(t("metrics.distribution", lang) + f" (n = {fmt_num(len(s), lang, 0)})")
    fig.tight_layout()
    plt.close(fig)
    return fig


def ci_dotplot(table: pd.DataFrame, label: str, title: str, lang: str, xlabel: str,
               reference: float | None = None) -> Figure:
    """Point estimates with 95% intervals, one row per group; small bases drawn hollow."""
    tab = table.iloc[::-1]
    y = np.arange(len(tab))
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(tab) + 1.2))
    # With tiny bases the adjusted-Wald interval (centred on the adjusted estimate) can exclude the
    # raw estimate; draw the interval as computed and never a negative whisker.
    err = np.maximum(np.vstack([tab["value"] - tab["ci_low"], tab["ci_high"] - tab["value"]]), 0)
    ax.errorbar(tab["value"], y, xerr=err, fmt="none", ecolor="#7f8c8d", capsize=3)
    small = tab["small_base"].to_numpy(bool) if "small_base" in tab.columns else np.zeros(len(tab), bool)
    ax.scatter(tab["value"][~small], y[~small], color=PALETTE["main"], zorder=3)
    ax.scatter(tab["value"][small], y[small], facecolors="white", edgecolors=PALETTE["main"], zorder=3)
    ax.set_yticks(y, [f"{g} (n = {fmt_num(n, lang, 0)})" for g, n in zip(tab[label], tab["n"], strict=True)])
    if reference is not None:
        ax.axvline(reference, color=PALETTE["passive"], linestyle="--", linewidth=1)
    ax.set_xlabel(xlabel)
    takeaway_title(ax, title)
    fig.tight_layout()
    plt.close(fig)
    return fig
