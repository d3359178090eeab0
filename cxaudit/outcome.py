"""The survey outcome that drivers, pain points, findings and targets explain (issue 13, item 2).

``outcome:`` in audit.yaml names it (:class:`cxaudit.config.Outcome`); without it the outcome is NPS
when at least ``min_base`` respondents answered it, else CSAT. Three kinds:

- ``nps``: the 0-10 likelihood to recommend; its summary is the NPS (% promoters − % detractors,
  Reichheld 2003); a respondent is *low* when a detractor (0-6).
- ``scale``: a rated column (CSAT, an overall-satisfaction rating, any rated question) on one of the
  configured scales; its summary is the top-box share with the scale's ``top_box`` (top box when 1,
  top-2 box when 2, ...); *low* = below the top box.
- ``binary``: a label such as satisfied / not satisfied; ``positive`` lists the good values; the
  summary is the share of good answers; *low* = not good.

:func:`score` is the numeric column a driver model explains (0-10, the rating, or 1/0), :func:`good`
the per-respondent good/not-good flag. Every label the report shows comes from :func:`label`, so it
names the outcome actually used ("NPS", "CSAT (top-2 box)", "Satisfied passengers").

Examples
--------
>>> import pandas as pd
>>> from cxaudit.config import AuditConfig
>>> cfg = AuditConfig.model_validate({"client": {"name": "A"}, "inputs": {"responses": {"file": "r.csv"}},
...                                   "outcome": {"column": "sat", "positive": ["satisfied"]}})
>>> r = pd.DataFrame({"sat": ["satisfied", "neutral or dissatisfied", None, "Satisfied"]})
>>> o = resolve(cfg, r)
>>> o.kind, score(o, r).tolist(), round(summary(o, r)[0], 1), summary(o, r)[1]
('binary', [1.0, 0.0, nan, 1.0], 66.7, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["OutcomeInfo", "resolve", "resolve_audit", "score", "good", "summary", "label", "short_label"]


@dataclass(frozen=True)
class OutcomeInfo:
    """The resolved outcome: which column, which kind, its scale and (binary) good values."""

    column: str
    kind: str  # nps | scale | binary
    scale_name: str | None = None
    scale_min: float | None = None
    scale_max: float | None = None
    top_box: int | None = None
    positive: frozenset[str] = field(default_factory=frozenset)
    name: str | None = None  # the client's own label (audit.yaml outcome.label)

    @property
    def top_cut(self) -> float | None:
        """The lowest rating in the top box (``max − top_box + 1``)."""
        if self.kind != "scale" or self.scale_max is None or self.top_box is None:
            return None
        return self.scale_max - self.top_box + 1


def resolve(config: Any, responses: pd.DataFrame | None) -> OutcomeInfo | None:
    """The outcome of this audit: audit.yaml ``outcome`` when its column is in the responses, else
    NPS answered by at least ``min_base`` respondents, else CSAT likewise; None otherwise."""
    if responses is None:
        return None
    spec = getattr(config, "outcome", None)
    if spec is not None and spec.column in responses.columns:
        kind = spec.resolved_kind
        if kind == "binary":
            return OutcomeInfo(spec.column, "binary", positive=frozenset(p.strip().casefold() for p in spec.positive),
                               name=spec.label)
        if kind == "nps":
            return OutcomeInfo(spec.column, "nps", "nps", 0, 10, name=spec.label)
        sc = getattr(config.scales, spec.resolved_scale)
        return OutcomeInfo(spec.column, "scale", spec.resolved_scale, sc.min, sc.max, sc.top_box, name=spec.label)
    for col in ("nps", "csat"):
        if col in responses.columns and pd.to_numeric(responses[col], errors="coerce").notna().sum() >= config.min_base:
            if col == "nps":
                return OutcomeInfo("nps", "nps", "nps", 0, 10)
            sc = config.scales.csat
            return OutcomeInfo("csat", "scale", "csat", sc.min, sc.max, sc.top_box)
    return None


def resolve_audit(audit: Any) -> OutcomeInfo | None:
    """:func:`resolve` of a loaded audit (None without responses)."""
    return resolve(audit.config, audit.tables.get("responses"))


def score(o: OutcomeInfo, frame: pd.DataFrame) -> pd.Series:
    """The numeric outcome per respondent: NPS 0-10, the rating, or 1/0 for a binary outcome (NaN
    where not answered, and for a rating off the scale)."""
    x = frame[o.column]
    if o.kind == "binary":
        text = x.astype("string").str.strip().str.casefold()
        return pd.Series(np.where(text.isna(), np.nan, text.isin(o.positive).fillna(False).astype(float)),
                         index=frame.index, dtype="float64")
    num = pd.to_numeric(x, errors="coerce").astype("float64")
    if o.scale_min is not None and o.scale_max is not None:
        num = num.where((num >= o.scale_min) & (num <= o.scale_max))
    return num


def good(o: OutcomeInfo, frame: pd.DataFrame) -> pd.Series:
    """1.0 for a good outcome (promoter, top box, positive label), 0.0 otherwise, NaN unanswered."""
    s = score(o, frame)
    if o.kind == "binary":
        return s
    top = o.top_cut
    cut = 9.0 if o.kind == "nps" or top is None else float(top)
    return s.ge(cut).astype("float64").where(s.notna())


def summary(o: OutcomeInfo, frame: pd.DataFrame, weights: np.ndarray | None = None) -> tuple[float, int, float, float]:
    """The outcome's headline on ``frame``: NPS, or the good share in % (top box / positive), with its
    base n and 95% interval (NPS: :func:`cxaudit.metrics.nps`; shares: Wilson 1927)."""
    from .metrics import nps, wilson

    if o.kind == "nps":
        m = nps(score(o, frame), weights)
        return m.value, int(m.n), float(m.ci_low if m.ci_low is not None else math.nan), \
            float(m.ci_high if m.ci_high is not None else math.nan)
    g = good(o, frame)
    ok = g.notna().to_numpy()
    n = int(ok.sum())
    if not n:
        return math.nan, 0, math.nan, math.nan
    k = float(g[ok].sum())
    lo, hi = wilson(np.array([k]), np.array([float(n)]))
    return 100 * k / n, n, 100 * float(lo[0]), 100 * float(hi[0])


def label(o: OutcomeInfo, lang: str) -> str:
    """The outcome's name in the report, saying what the summary counts: "NPS", "CSAT (top-2 box,
    % answering 4-5)", "Satisfied passengers (% of answers)"."""
    from .i18n import t

    if o.kind == "nps":
        return o.name or "NPS"
    base = o.name or (t(f"outcome.name.{o.column}", lang) if o.column in ("csat", "ces") else t("outcome.name.rating", lang))
    if o.kind == "binary":
        return t("outcome.binary", lang, name=base)
    box = t("outcome.top_box", lang) if o.top_box == 1 else t("outcome.top_k_box", lang, k=o.top_box)
    lo = int(o.top_cut) if o.top_cut is not None else None
    high = int(o.scale_max) if o.scale_max is not None else None
    return t("outcome.scale", lang, name=base, box=box, low=lo, high=high)


def short_label(o: OutcomeInfo, lang: str) -> str:
    """The outcome's short name (for axis labels and column headers): "NPS", "CSAT", the client's label."""
    from .i18n import t

    if o.kind == "nps":
        return o.name or "NPS"
    return o.name or (t(f"outcome.name.{o.column}", lang) if o.column in ("csat", "ces") else t("outcome.name.rating", lang))
