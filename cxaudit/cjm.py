"""Customer journey maps (AS-IS and TO-BE, overall and per persona) and value-proposition canvases.

A journey map has the audit's stages as columns (by default the nine of :data:`cxaudit.config.STAGES`)
and these lanes (Kalbach, *Mapping Experiences*, 2nd ed. 2020; Richardson 2010, "Using Customer Journey
Maps to Improve Customer Experience", HBR):

* touchpoints and channels of the stage (touchpoints table);
* the emotion curve: the stage's satisfaction, the top-box share of its touchpoint ratings with the
  respondent-clustered Wilson interval of :func:`cxaudit.journey.journey_cells`, drawn as a band;
* the pain point of the stage: its touchpoint with the most NPS points lost (reach × gap, as in
  :func:`cxaudit.journey.pain_points`), marked by severity (the NPS gap of its low raters, in the
  bands of the journey findings) × reach (the share of customers who rate it low);
* moments of truth: the stages whose touchpoints carry the most key-driver importance (Shapley / LMG
  share of explained NPS variance, :func:`cxaudit.journey.key_drivers`; the top three stages);
* one comment per stage from a customer who rated one of its touchpoints low (personal data redacted);
* the departments that own its touchpoints.

A stage without ratings says "not measured" in every measured lane; nothing is interpolated.

The TO-BE map puts the recommendations (``run_dir/tobe.json``) in place: a recommendation applies to a
stage when its tags name the stage or one of its touchpoints (and, on a persona's map, when it names
that persona or no persona at all). Where one applies, the stage's target closes
``journey_gap_closure`` (a labelled assumption of :mod:`cxaudit.recommend`, default 0.5) of its gap to
the upper quartile of the stages' satisfaction; every other stage keeps its AS-IS value.

The value-proposition canvas (Osterwalder, Pigneur, Bernarda & Smith, *Value Proposition Design*,
2014) of a persona lists its jobs (the touchpoints it uses most), pains (its pain points and complaint
themes), gains (its drivers and the themes its promoters praise), and matches them with the
recommendations that relieve those pains (pain relievers) or serve those drivers (gain creators).

Figures are vector graphics (SVG), one A4 landscape page each, embedded in the report as images.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Rectangle

from . import journey
from .audit import Audit
from .i18n import fmt_pct, t, value_label

__all__ = [
    "SECTION",
    "MOMENTS",
    "sub_audit",
    "as_is_map",
    "tobe_map",
    "applies",
    "value_canvas",
    "map_figure",
    "canvas_figure",
    "svg_html",
    "blocks_maps",
]

SECTION = "journey_map"
#: How many stages are marked as moments of truth.
MOMENTS: int = 3
A4_LANDSCAPE = (11.69, 8.27)
_SEVERITY_COLOURS = {1: "#f4d03f", 2: "#f0a830", 3: "#e67e22", 4: "#d35400", 5: "#a93226"}


class _WithTable(Mapping[str, pd.DataFrame]):
    """``base`` with the table ``name`` replaced by ``frame``; every other table is read from ``base``
    only when asked for. A run's snapshot reads each table on first use: copying the mapping
    (``{**audit.tables}``) read all of them, 2.2 GB and 6 CPU-s at the XL demo size (issue 19)."""

    def __init__(self, base: Mapping[str, pd.DataFrame], name: str, frame: pd.DataFrame) -> None:
        self._base, self._name, self._frame = base, name, frame

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self._frame if key == self._name else self._base[key]

    def __contains__(self, key: object) -> bool:  # not Mapping's, which reads the table to answer
        return key == self._name or key in self._base

    def __iter__(self) -> Any:
        yield from self._base
        if self._name not in self._base:
            yield self._name

    def __len__(self) -> int:
        return len(self._base) + (self._name not in self._base)


def sub_audit(audit: Audit, mask: pd.Series) -> Audit:
    """The audit with only the responses where ``mask`` holds (other tables unchanged, not read)."""
    r = audit.responses
    return dataclasses.replace(audit, tables=_WithTable(audit.tables, "responses",
                                                        r[mask.reindex(r.index, fill_value=False)]))


def _quote(audit: Audit, cols: Sequence[str], low_cut: float, used: set[str] | None = None) -> str | None:
    from .text import redact_pii

    r = audit.responses
    if "comment" not in r.columns or not cols:
        return None
    low = (r[list(cols)].astype(float) <= low_cut).any(axis=1)
    c = r["comment"].astype("string").str.strip()
    ok = low & c.notna() & c.str.len().between(25, 180)
    if used:
        ok &= ~c.isin(list(used)).fillna(False)
    if not ok.any():
        return None
    # the low rater least likely to recommend (then the earliest answer): a comment about what went wrong
    score = r.loc[ok, "nps"].astype(float) if "nps" in r.columns else pd.Series(0.0, index=c[ok].index)
    pick = pd.DataFrame({"s": score.fillna(99.0), "i": np.arange(int(ok.sum()))}, index=c[ok].index)
    text = str(c[pick.sort_values(["s", "i"], kind="stable").index[0]])
    if used is not None:
        used.add(text)
    return redact_pii(text)


def _drivers(audit: Audit, tps: pd.DataFrame) -> pd.DataFrame | None:
    """Key drivers without bootstrap; None when the ratings cannot support them (a small persona whose
    pairwise correlation matrix is not positive definite): the map then marks no moment of truth."""
    from .errors import MetricError

    try:
        return journey.key_drivers(audit, tps, bootstrap=0)
    except MetricError:
        return None


def as_is_map(audit: Audit) -> pd.DataFrame:
    """The AS-IS journey map: one row per configured stage, in journey order.

    Columns: ``stage, order, measured`` (any rating at the stage), ``touchpoints`` (labels),
    ``channels`` (codes), ``owners``, ``n, top2, top2_low, top2_high`` (satisfaction with its 95%
    interval; NaN when not measured), ``pain`` (label of the stage's worst touchpoint), ``pain_reach``,
    ``pain_gap``, ``pain_severity`` (1-5), ``importance`` (% of explained NPS variance of the stage's
    touchpoints), ``moment`` (a moment of truth), ``quote``.
    """
    stages = list(audit.config.stages)
    tps = journey.touchpoint_table(audit)
    rows: dict[str, dict[str, Any]] = {s: {"stage": s, "order": i, "measured": False, "touchpoints": [], "channels": [], "owners": [], "n": 0,
                "top2": np.nan, "top2_low": np.nan, "top2_high": np.nan, "pain": None, "pain_reach": np.nan,
                "pain_gap": np.nan, "pain_severity": 0, "importance": np.nan, "moment": False, "quote": None,
                "columns": []} for i, s in enumerate(stages)}
    if tps is not None:
        for s, g in tps.groupby("stage", sort=False):
            if s not in rows:
                continue
            rows[s]["touchpoints"] = list(g["label"])
            rows[s]["channels"] = list(dict.fromkeys(g["channel"]))
            rows[s]["owners"] = list(dict.fromkeys(o for o in g["owner_department"] if o))
            rows[s]["columns"] = [c for c in g["column"] if isinstance(c, str)]
        rated = tps[tps["column"].notna()]
        if len(rated) and len(audit.responses):
            cells = journey.journey_cells(audit, by=("stage",), tps=tps)
            for _, c in cells.iterrows():
                if c["stage"] in rows and c["n"] > 0:
                    rows[c["stage"]].update(measured=True, n=int(c["n"]), top2=float(c["top2"]),
                                            top2_low=float(c["top2_low"]), top2_high=float(c["top2_high"]))
            pains = journey.pain_points(audit, tps)
            if pains is not None:
                for s in rows:
                    p = pains[pains["stage"] == s]
                    if len(p) and p.iloc[0]["points"] > 0:
                        best = p.iloc[0]
                        rows[s].update(pain=str(best["label"]), pain_reach=float(best["reach"]),
                                       pain_gap=float(best["gap"]), pain_severity=journey._severity(float(best["gap"])))
            kd = _drivers(audit, tps) if len(rated) >= 2 else None
            if kd is not None and len(kd):
                imp = kd.groupby("stage")["share"].sum()
                for s, v in imp.items():
                    if s in rows:
                        rows[s]["importance"] = float(v)
                for s in imp.sort_values(ascending=False).head(MOMENTS).index:
                    if s in rows:
                        rows[s]["moment"] = True
            low_cut = journey.rating_scale(audit)[3]
            seen: set[str] = set()  # one comment is not shown at two stages
            for s in rows:
                rows[s]["quote"] = _quote(audit, rows[s]["columns"], low_cut, seen)
    return pd.DataFrame(rows.values()).drop(columns=["columns"])


def applies(rec: Any, stage: str, touchpoint_ids: Sequence[str], persona: int | None = None) -> bool:
    """Whether a recommendation changes this stage (on the map of ``persona``, or overall)."""
    tags = rec.tags if hasattr(rec, "tags") else rec.get("tags", {})
    personas = [str(p) for p in tags.get("personas", [])]
    if persona is not None and personas and str(persona) not in personas:
        return False
    if persona is None and personas and not tags.get("touchpoints") and not tags.get("stages"):
        return False
    return stage in tags.get("stages", []) or bool(set(tags.get("touchpoints", [])) & set(touchpoint_ids))


def tobe_map(audit: Audit, asis: pd.DataFrame, recs: Sequence[Any], *, persona: int | None = None,
             closure: float | None = None, lang: str = "en") -> pd.DataFrame:
    """The TO-BE map: ``asis`` with ``changes`` (the labels ``R1``... of the recommendations that apply,
    by rank; on a persona's map those that name the persona first, so that a cell cut short for space
    still shows them), ``change_titles`` and ``target`` (see the module doc; the AS-IS value where none
    applies)."""
    from .recommend import DEFAULT_ASSUMPTIONS

    closure = DEFAULT_ASSUMPTIONS["journey_gap_closure"] if closure is None else closure
    tps = journey.touchpoint_table(audit)
    ids = {s: list(g["touchpoint"]) for s, g in tps.groupby("stage")} if tps is not None else {}
    out = asis.copy()
    def for_persona(r: Any) -> bool:
        tags = r.tags if hasattr(r, "tags") else r.get("tags", {})
        return persona is not None and str(persona) in [str(p) for p in tags.get("personas", [])]

    ranked = sorted(recs, key=lambda r: (not for_persona(r), r.rank))
    out["changes"] = [[r.label(lang) for r in ranked if applies(r, s, ids.get(s, []), persona)] for s in out["stage"]]
    out["change_titles"] = [[r.title(lang) for r in ranked if applies(r, s, ids.get(s, []), persona)] for s in out["stage"]]
    known = out["top2"].dropna()
    bench = float(known.quantile(0.75)) if len(known) else np.nan
    out["target"] = [x + closure * max(bench - x, 0.0) if ch and not np.isnan(x) else x
                     for x, ch in zip(out["top2"], out["changes"], strict=True)]
    return out


# --- value proposition -----------------------------------------------------------------------------


def value_canvas(audit: Audit, recs: Sequence[Any], persona: int | None = None, lang: str = "en",
                 top: int = 3) -> dict[str, list[str]]:
    """The value-proposition canvas of the respondents in ``audit`` (a persona's sub-audit).

    ``jobs``: the touchpoints they use most; ``pains``: their pain points (reach × NPS gap) and the
    complaint themes most frequent in their detractors' comments; ``gains``: their key drivers and the
    themes their promoters mention; ``relievers`` / ``creators``: the recommendations whose tags name a
    pain / gain touchpoint or theme (on a persona's canvas only those for it or for everybody, those
    naming the persona first; four at most).
    """
    from .text import choose_codeframe, code_comments

    out: dict[str, list[str]] = {k: [] for k in ("jobs", "pains", "gains", "relievers", "creators")}
    r = audit.responses
    tps = journey.touchpoint_table(audit)
    pain_ids: list[str] = []
    gain_ids: list[str] = []
    if tps is not None:
        rated = tps[tps["column"].notna()]
        if len(rated) and len(r):
            use = r[list(rated["column"])].notna().mean().to_numpy()
            for i in np.argsort(-use, kind="stable")[:top]:
                out["jobs"].append(str(rated.iloc[i]["label"]))
            pains = journey.pain_points(audit, tps)
            if pains is not None:
                p = pains[pains["points"] > 0].head(top)
                pain_ids += list(p.index)
                out["pains"] += [str(x) for x in p["label"]]
            # gains: the key drivers that are not already pains (a driver rated low is a pain); without
            # a driver analysis (a small persona), the touchpoints whose ratings correlate most with NPS
            kd = _drivers(audit, tps) if len(rated) >= 2 else None
            if kd is not None:
                order = list(kd.sort_values("rank").index)
            elif "nps" in r.columns:
                rr = {tp: r[c].astype(float).corr(r["nps"].astype(float)) for tp, c in zip(rated["touchpoint"], rated["column"],
                                                                                         strict=True)}
                order = [tp for tp, v in sorted(rr.items(), key=lambda kv: -np.nan_to_num(kv[1], nan=-9))]
            else:
                order = []
            label_of = dict(zip(rated["touchpoint"], rated["label"], strict=True))
            for tp in [x for x in order if x not in pain_ids][:top]:
                gain_ids.append(tp)
                out["gains"].append(str(label_of.get(tp, tp)))
    if "comment" in r.columns and "nps" in r.columns and r["comment"].notna().any():
        cf = choose_codeframe(audit).codeframe
        names = {th.key: th.name(lang) for th in cf.themes}
        m = code_comments(r["comment"], cf, langs=pd.Series(audit.config.language, index=r.index)).matrix
        has = r["comment"].astype("string").str.strip().fillna("").ne("")
        for grp, key, ids in (((r["nps"] <= 6), "pains", pain_ids), ((r["nps"] >= 9), "gains", gain_ids)):
            sub = m[grp & has]
            if len(sub):
                sh = sub.mean().sort_values(ascending=False, kind="stable")
                for th in [x for x, v in sh.items() if v > 0][:2]:
                    out[key].append(names.get(th, th))
                    ids.append(th)
    # on a persona's canvas the recommendations that name the persona first (only four are shown)
    named = lambda x: persona is not None and str(persona) in [str(p) for p in x.tags.get("personas", [])]  # noqa: E731
    for rec in sorted(recs, key=lambda x: (not named(x), x.rank)):
        tags = rec.tags
        pers = [str(p) for p in tags.get("personas", [])]
        if persona is not None and pers and str(persona) not in pers:
            continue
        hit = set(tags.get("touchpoints", [])) | set(tags.get("themes", []))
        label = f"{rec.label(lang)} {rec.title(lang)}"
        if hit & set(pain_ids):
            out["relievers"].append(label)
        elif hit & set(gain_ids):
            out["creators"].append(label)
    out["relievers"], out["creators"] = out["relievers"][:4], out["creators"][:4]
    return out


# --- figures ---------------------------------------------------------------------------------------


def _wrap(text: str, width: int, lines: int) -> str:
    w = textwrap.wrap(text, width=width, break_long_words=True)
    if len(w) > lines:
        w = w[:lines]
        w[-1] = w[-1][: max(width - 1, 1)].rstrip() + "…"
    return "\n".join(w)


#: A figure title of up to this many characters is set at 13 pt across an A4 landscape figure; a longer
#: one (a persona's long name) is set smaller so that it ends inside the figure (issue 14: no text past
#: the margin; bold DejaVu Sans at 13 pt is about 8.3 pt a character, the figure 842 pt wide).
TITLE_CHARS = 96


def _title_size(title: str, base: float = 13.0) -> float:
    """Font size (pt) of a figure title: ``base`` up to :data:`TITLE_CHARS` characters, smaller beyond."""
    return base if len(title) <= TITLE_CHARS else max(8.0, base * TITLE_CHARS / len(title))


def map_figure(df: pd.DataFrame, audit: Audit, lang: str, title: str, *, tobe: bool = False) -> Figure:
    """One journey map on an A4 landscape page (see the module doc for the lanes)."""
    lanes = ["touchpoints", "emotion", "pain", "moment", "quote", "owner"]
    if tobe:
        lanes.insert(1, "changes")
    heights = {"touchpoints": 1.25, "changes": 1.15, "emotion": 1.7, "pain": 1.0, "moment": 0.45, "quote": 1.35,
               "owner": 0.55}
    fig = plt.figure(figsize=A4_LANDSCAPE)
    ax = fig.add_axes((0.01, 0.02, 0.98, 0.9))
    n = len(df)
    left = 1.25  # lane labels
    total = sum(heights[x] for x in lanes) + 0.5
    ax.set_xlim(0, left + n)
    ax.set_ylim(0, total)
    ax.axis("off")
    fig.suptitle(title, x=0.01, y=0.975, ha="left", fontsize=_title_size(title), fontweight="bold")
    y = total
    # header: stage names
    for i, s in enumerate(df["stage"]):
        ax.add_patch(Rectangle((left + i + 0.02, y - 0.48), 0.96, 0.44, color="#1f3b5c"))
        name = value_label("stage", s, lang)
        long_word = max((len(w) for w in name.split()), default=0) > 13
        ax.text(left + i + 0.5, y - 0.26, "\n".join(textwrap.wrap(name, 16, break_long_words=False)[:2]),
                ha="center", va="center", color="white", fontsize=6.3 if long_word else 7.5, fontweight="bold")
    y -= 0.5
    y_moment: float | None = None
    not_measured = t("cjm.not_measured", lang)
    lane_names = {"touchpoints": "cjm.lane_touchpoints", "changes": "cjm.lane_changes", "emotion": "cjm.lane_emotion",
                  "pain": "cjm.lane_pain", "moment": "cjm.lane_moment", "quote": "cjm.lane_quote",
                  "owner": "cjm.lane_owner"}
    for k, lane in enumerate(lanes):
        h = heights[lane]
        top, bottom = y, y - h
        if k % 2 == 0:
            ax.add_patch(Rectangle((0, bottom), left + n, h, color="#f3f5f7", zorder=0))
        ax.text(0.05, (top + bottom) / 2, _wrap(t(lane_names[lane], lang), 16, 3), ha="left", va="center",
                fontsize=7.5, fontweight="bold", color="#1f3b5c")
        if lane == "moment":
            y_moment = (top + bottom) / 2
        if lane == "emotion":
            vals = df["top2"].to_numpy(dtype=float)
            lo, hi = df["top2_low"].to_numpy(dtype=float), df["top2_high"].to_numpy(dtype=float)
            ymin, ymax = bottom + 0.15, top - 0.2

            def yy(v: np.ndarray | float, ymin: float = ymin, ymax: float = ymax) -> np.ndarray:
                return ymin + np.asarray(v, dtype=float) * (ymax - ymin)

            xs = left + np.arange(n) + 0.5
            for g in (0.0, 0.5, 1.0):
                ax.plot([left, left + n], [yy(g)] * 2, color="#d0d4d9", lw=0.5, zorder=1)
                ax.text(left - 0.03, float(yy(g)), fmt_pct(g, lang), ha="right", va="center", fontsize=6, color="#7f8c8d")
            ok = ~np.isnan(vals)
            ax.fill_between(xs, yy(np.where(ok, lo, np.nan)), yy(np.where(ok, hi, np.nan)), color="#1f3b5c", alpha=0.15,
                            lw=0, zorder=2)
            ax.plot(xs, yy(vals), color="#1f3b5c", lw=1.6 if not tobe else 1.0, ls="-" if not tobe else "--",
                    marker="o", ms=4, zorder=3, label=t("cjm.as_is", lang))
            if tobe:
                tg = df["target"].to_numpy(dtype=float)
                ax.plot(xs, yy(tg), color="#2e8b57", lw=1.8, marker="o", ms=4, zorder=4, label=t("cjm.target", lang))
                ax.legend(loc="upper right", fontsize=6.5, frameon=False, bbox_to_anchor=(1.0, (top + 0.02) / total),
                          bbox_transform=ax.transAxes, ncol=2)
            for i in range(n):
                if ok[i]:
                    label = fmt_pct(vals[i], lang)
                    if tobe and df["target"].iloc[i] != vals[i]:
                        label += f" → {fmt_pct(df['target'].iloc[i], lang)}"
                    ax.text(xs[i], float(yy(vals[i])) - 0.17, label, ha="center", va="top", fontsize=6.3, zorder=5)
                else:
                    ax.text(xs[i], (top + bottom) / 2, not_measured, ha="center", va="center", fontsize=6.5,
                            color="#7f8c8d", style="italic")
        for i, row in enumerate(df.itertuples(index=False)):
            cx, cy = left + i + 0.5, (top + bottom) / 2
            if lane == "touchpoints":
                chans = ", ".join(value_label("channel", c, lang) for c in row.channels)
                txt = _wrap("; ".join(row.touchpoints), 20, 4) if row.touchpoints else "–"
                ax.text(cx, top - 0.08, txt, ha="center", va="top", fontsize=6.3)
                ax.text(cx, bottom + 0.08, _wrap(chans, 22, 2), ha="center", va="bottom", fontsize=6, color="#7f8c8d",
                        style="italic")
            elif lane == "changes":
                if row.changes:
                    items = [f"{c}: {tt}" for c, tt in zip(row.changes, row.change_titles, strict=True)]
                    ax.add_patch(FancyBboxPatch((left + i + 0.05, bottom + 0.06), 0.9, h - 0.12,
                                                boxstyle="round,pad=0.01", fc="#e8f5ee", ec="#2e8b57", lw=0.8))
                    ax.text(cx, top - 0.12, _wrap(" · ".join(items), 21, 7), ha="center", va="top", fontsize=5.8)
                else:
                    ax.text(cx, cy, "–", ha="center", va="center", fontsize=7, color="#7f8c8d")
            elif lane == "pain":
                if not row.measured:
                    ax.text(cx, cy, not_measured, ha="center", va="center", fontsize=6.5, color="#7f8c8d", style="italic")
                elif isinstance(row.pain, str) and row.pain:
                    r = 0.08 + 0.9 * min(float(row.pain_reach), 0.25)
                    ax.add_patch(Circle((cx, top - 0.1 - r), r, color=_SEVERITY_COLOURS.get(int(row.pain_severity), "#999"),
                                        alpha=0.9, zorder=3))
                    ax.text(cx, bottom + 0.06, _wrap(f"{row.pain} ({fmt_pct(row.pain_reach, lang)})", 22, 2),
                            ha="center", va="bottom", fontsize=6)
                else:
                    ax.text(cx, cy, t("cjm.no_pain", lang), ha="center", va="center", fontsize=6.3, color="#7f8c8d")
            elif lane == "moment":
                if row.moment:
                    ax.text(cx, cy, "★ " + t("cjm.moment", lang), ha="center", va="center", fontsize=7,
                            color="#d9822b", fontweight="bold")
                elif not row.measured:
                    ax.text(cx, cy, not_measured, ha="center", va="center", fontsize=6.5, color="#7f8c8d", style="italic")
            elif lane == "quote":
                if isinstance(row.quote, str) and row.quote:
                    ax.text(cx, top - 0.08, "“" + _wrap(row.quote, 22, 6) + "”", ha="center", va="top", fontsize=5.9,
                            style="italic")
                else:
                    ax.text(cx, cy, t("cjm.no_quote", lang), ha="center", va="center", fontsize=6.3, color="#7f8c8d")
            elif lane == "owner":
                ax.text(cx, cy, _wrap(", ".join(row.owners) or "–", 22, 2), ha="center", va="center", fontsize=6.3)
        y = bottom
    if "moment" in lanes and df["measured"].any() and not df["moment"].any():
        mt = [v for v in (y_moment,) if v is not None]
        ax.text(left + n / 2, mt[0], t("cjm.no_moments", lang), ha="center", va="center", fontsize=6.5,
                color="#7f8c8d", style="italic")
    # severity legend
    ax.text(left, 0.02, t("cjm.pain_legend", lang), ha="left", va="bottom", fontsize=6, color="#555")
    return fig


def canvas_figure(canvas: Mapping[str, Sequence[str]], lang: str, title: str) -> Figure:
    """The value-proposition canvas on an A4 landscape page: the value map (square, left) against the
    customer profile (circle, right)."""
    fig = plt.figure(figsize=A4_LANDSCAPE)
    ax = fig.add_axes((0.02, 0.03, 0.96, 0.86))
    ax.set_xlim(0, 20.6)
    ax.set_ylim(0, 12)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.suptitle(title, x=0.02, y=0.96, ha="left", fontsize=_title_size(title), fontweight="bold")
    ax.add_patch(Rectangle((0.3, 0.8), 9.4, 10.4, fc="#f3f5f7", ec="#1f3b5c", lw=1.2))
    ax.plot([0.3, 9.7], [6.0, 6.0], color="#1f3b5c", lw=0.8)
    ax.add_patch(Circle((15.2, 6.0), 5.2, fc="#fbf3ea", ec="#d9822b", lw=1.2))
    ax.plot([15.2, 15.2], [6.0, 11.2], color="#d9822b", lw=0.8)
    ax.plot([15.2, 10.7], [6.0, 3.4], color="#d9822b", lw=0.8)
    ax.plot([15.2, 19.7], [6.0, 3.4], color="#d9822b", lw=0.8)
    none = t("cjm.canvas_none", lang)

    def block(x: float, y: float, head: str, items: Sequence[str], width: int, lines: int) -> None:
        ax.text(x, y, t(head, lang), fontsize=10, fontweight="bold", va="top", color="#1f3b5c")
        body = "\n".join("• " + _wrap(s, width, 3).replace("\n", "\n   ") for s in items) if items else none
        ax.text(x, y - 0.6, _wrap_lines(body, lines), fontsize=8.5, va="top", linespacing=1.35)

    block(0.6, 10.9, "cjm.canvas_creators", canvas.get("creators", []), 50, 10)
    block(0.6, 5.7, "cjm.canvas_relievers", canvas.get("relievers", []), 50, 10)
    # inside the circle: at y = 9.3 its left edge is at x = 15.2 - sqrt(5.2² - 3.3²) = 11.2
    block(11.7, 9.3, "cjm.canvas_gains", canvas.get("gains", []), 18, 11)
    block(15.5, 9.3, "cjm.canvas_pains", canvas.get("pains", []), 20, 11)
    block(12.8, 3.2, "cjm.canvas_jobs", canvas.get("jobs", []), 26, 6)
    ax.text(5.0, 0.4, t("cjm.canvas_value_map", lang), ha="center", fontsize=8, color="#1f3b5c", style="italic")
    ax.text(15.2, 0.4, t("cjm.canvas_profile", lang), ha="center", fontsize=8, color="#d9822b", style="italic")
    return fig


def _wrap_lines(text: str, lines: int) -> str:
    parts = text.split("\n")
    return "\n".join(parts[:lines] + (["…"] if len(parts) > lines else []))


def svg_bytes(fig: Figure) -> bytes:
    """The figure as SVG (text kept as paths, so the page looks the same everywhere)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def svg_html(fig: Figure, alt: str, heading: str = "") -> str:
    """A landscape page holding the figure as an SVG image (``data:`` URI), after ``heading`` (HTML)."""
    from .show import escape

    data = base64.b64encode(svg_bytes(fig)).decode("ascii")
    return (f'<div class="cx-landscape">{heading}<img class="cx-cjm" alt="{escape(alt)}" '
            f'src="data:image/svg+xml;base64,{data}"></div>')


def blocks_maps(audit: Audit, recs: Sequence[Any] | None, labels: pd.Series | None,
                names: Mapping[int, str] | None, lang: str, *, with_canvas: bool = True) -> list[Any]:
    """AS-IS and TO-BE maps overall and per persona, and a canvas per persona, as display blocks."""
    from IPython.display import HTML

    from . import show

    out: list[Any] = []
    recs = list(recs or [])
    groups: list[tuple[int | None, str]] = [(None, t("cjm.everybody", lang))]
    if labels is not None:
        for k in sorted({int(x) for x in labels.dropna()}):
            name = (names or {}).get(k, "")
            groups.append((k, t("cjm.persona", lang, k=k, name=name)))
    for p, who in groups:
        # one persona's responses at a time (issue 19: holding every persona's copy at once doubled
        # the responses in memory at the XL demo size)
        sub = audit if p is None or labels is None else sub_audit(audit, labels == p)
        asis = as_is_map(sub)
        head = show.heading(t("cjm.map_heading", lang, who=who), SECTION).data
        out.append(HTML(svg_html(map_figure(asis, sub, lang, t("cjm.asis_title", lang, who=who)),
                                 t("cjm.asis_title", lang, who=who), head)))
        if recs:
            tb = tobe_map(sub, asis, recs, persona=p, lang=lang)
            out.append(HTML(svg_html(map_figure(tb, sub, lang, t("cjm.tobe_title", lang, who=who), tobe=True),
                                     t("cjm.tobe_title", lang, who=who))))
        if with_canvas and p is not None:
            canvas = value_canvas(sub, recs, p, lang)
            out.append(HTML(svg_html(canvas_figure(canvas, lang, t("cjm.canvas_title", lang, who=who)),
                                     t("cjm.canvas_title", lang, who=who))))
    return out
