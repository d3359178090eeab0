"""Seaborn/matplotlib figures in one house style. Deterministic: no bootstrapped error bars."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .i18n import fmt_num, t

__all__ = ["set_style", "nps_distribution", "ci_dotplot", "PALETTE"]

PALETTE = {"detractor": "#c0392b", "passive": "#b0b7bf", "promoter": "#2e8b57", "main": "#1f3b5c"}


def set_style(primary: str | None = None) -> None:
    """House style: white grid, DejaVu Sans (renders Cyrillic and Polish), 110 dpi figures."""
    sns.set_theme(style="whitegrid", font="DejaVu Sans", rc={
        "figure.dpi": 110, "savefig.dpi": 110, "axes.spines.top": False, "axes.spines.right": False,
        "axes.titleweight": "bold", "axes.titlesize": 12, "figure.figsize": (7.5, 3.6),
    })
    if primary:
        PALETTE["main"] = primary


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
    ax.set_title(title)
    fig.tight_layout()
    plt.close(fig)
    return fig
