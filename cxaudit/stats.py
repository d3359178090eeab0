"""Significance tests between groups and periods, multiple-comparison correction, letters, reliability.

Every test works on the group summaries of :func:`cxaudit.metrics.metric_table` (counts, shares,
means, SDs; Kish n_eff when weighted) except Games–Howell and Welch's ANOVA on unweighted CES, which
call pingouin on the answers themselves.

References
----------
- NPS difference: SE = √(v₁/n₁ + v₂/n₂) with v = (p + d) − (p − d)², two-sided z-test — R package
  ``NPS`` (brendan-r/NPS, ``nps.test``). Homogeneity of k NPS values: the inverse-variance Wald
  statistic Q = Σ (x_g − x̄)² / var_g ~ χ²(k − 1) (Cochran 1954, *Biometrics* 10(1)).
- CSAT: pooled two-proportion z-test (statsmodels ``proportions_ztest``) and Pearson's χ² test of
  homogeneity without continuity correction (scipy ``chi2_contingency``); for two groups χ² = z².
- CES: Welch's ANOVA (Welch 1951) and Games–Howell (Games & Howell 1976) pairwise tests via
  pingouin; for weighted data the same formulas on weighted means with Kish's n_eff.
- Multiple comparisons: Holm (1979), *Scand. J. Statistics* 6(2), via statsmodels ``multipletests``.
- Significance letters: the Displayr / Q convention — each group gets a letter; a letter shown for a
  group marks a group it is significantly higher than; upper case p < 0.001, lower case p < 0.05.
- Reliability: Cronbach's alpha with its F-based confidence interval (Feldt, Woodruff & Salih
  1987) via pingouin ``cronbach_alpha``.

Respondents (or customers) with no value in a segment column form the group :data:`NOT_STATED`
(:func:`segment_keys`): per-segment tables show it as its own row, so the groups add up to the total,
but it is not a segment and takes no part in the tests or letters.
"""

from __future__ import annotations

import gc
import string
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from .errors import MetricError
from .i18n import t
from .metrics import MetricResult, metric_table

__all__ = [
    "DiffTest",
    "nps_difference",
    "nps_z_test",
    "welch_t_test",
    "holm",
    "pairwise_tests",
    "omnibus_test",
    "significance_letters",
    "letter_labels",
    "SegmentTest",
    "segment_tests",
    "period_changes",
    "two_sample_test",
    "compare_periods",
    "Reliability",
    "cronbach_alpha",
    "ALPHA",
    "ALPHA_STRONG",
    "NOT_STATED",
    "segment_keys",
    "group_name",
    "not_stated_note",
]

#: Lower-case letters: p < ALPHA; upper-case: p < ALPHA_STRONG (Displayr / Q defaults).
ALPHA = 0.05
ALPHA_STRONG = 0.001

#: Group key of the rows with no value (an empty or blank cell) in a segment column; shown as
#: ``core.not_stated`` ("Not stated"), never tested against the segments.
NOT_STATED = "__not_stated__"


# --- the not-stated group ------------------------------------------------------------------------


def segment_keys(values: pd.Series) -> pd.Series:
    """Group keys of a segment column: each value as it is, :data:`NOT_STATED` for a missing or
    blank cell (object dtype, same index). Grouping on the keys loses no row, unlike a pandas
    ``groupby`` on the values (``dropna=True``).

    Examples
    --------
    >>> segment_keys(pd.Series(["A", None, " ", "B"])).tolist()
    ['A', '__not_stated__', '__not_stated__', 'B']
    """
    if isinstance(values.dtype, pd.StringDtype):  # text: each distinct value checked once (issue 19)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        blank_u = pd.Series(uniques, dtype=values.dtype).str.strip().eq("").fillna(True).to_numpy(bool)
        keys = np.append(np.where(blank_u, NOT_STATED, np.asarray(uniques, dtype=object)), NOT_STATED)
        return pd.Series(keys[codes], index=values.index, dtype=object, name=values.name)  # code -1: missing
    blank = values.isna().to_numpy(bool) | values.astype("string").str.strip().eq("").fillna(True).to_numpy(bool)
    return pd.Series(np.where(blank, NOT_STATED, values.astype(object).to_numpy()), index=values.index,
                     dtype=object, name=values.name)


def group_name(key: Any, lang: str) -> Any:
    """The client-facing name of a segment group: "Not stated" in ``lang`` for :data:`NOT_STATED`,
    else the value itself."""
    return t("core.not_stated", lang) if isinstance(key, str) and key == NOT_STATED else key


def not_stated_note(lang: str) -> str:
    """The note under a per-segment table with a not-stated row: why the row is there and that it
    takes no part in the tests."""
    return t("core.not_stated_note", lang, label=t("core.not_stated", lang))


@dataclass(frozen=True)
class DiffTest:
    """A difference a − b on the metric's scale, its SE, z and two-sided p-value."""

    diff: float
    se: float
    z: float
    p_value: float


def _nps_var(r: MetricResult) -> float:
    p, d = r.details["promoters"], r.details["detractors"]
    return (p + d) - (p - d) ** 2


def nps_difference(a: MetricResult, b: MetricResult) -> DiffTest:
    """z-test of NPS(a) − NPS(b) for independent samples (``nps.test`` of the R package NPS).

    Examples
    --------
    >>> from cxaudit.metrics import nps
    >>> t = nps_difference(nps([10] * 6 + [5] * 4), nps([10] * 3 + [5] * 7))
    >>> round(t.diff, 1), round(t.z, 4)
    (60.0, 1.4142)
    """
    diff = (a.value - b.value) / 100
    se = float(np.sqrt(_nps_var(a) / a.n + _nps_var(b) / b.n))
    z, p = _z_from(np.asarray(diff), np.asarray(se))
    return DiffTest(100 * diff, 100 * se, float(z), float(p))


# --- vectorised two-sample tests -------------------------------------------------------------------


def _z_from(diff: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """z = diff / se and the two-sided normal p. With se = 0: z = ±inf (p = 0) for a non-zero
    difference, z = 0 (p = 1) for none — two degenerate identical groups are not 'different'."""
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(diff == 0, 0.0, np.sign(diff) * np.inf))
    z = np.where(np.isnan(diff) | np.isnan(se), np.nan, z)
    return z, 2 * stats.norm.sf(np.abs(z))


def nps_z_test(
    p1: np.ndarray, d1: np.ndarray, n1: np.ndarray, p2: np.ndarray, d2: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised ``NPS::nps.test``: (diff, se, z, p) of NPS₁ − NPS₂ on the −100..100 scale.

    v = (p + d) − (p − d)²; se = √(v₁/n₁ + v₂/n₂); z = diff / se; p two-sided normal.
    """
    p1, d1, n1, p2, d2, n2 = (np.asarray(a, dtype=float) for a in (p1, d1, n1, p2, d2, n2))
    v1, v2 = (p1 + d1) - (p1 - d1) ** 2, (p2 + d2) - (p2 - d2) ** 2
    diff = (p1 - d1) - (p2 - d2)
    se = np.sqrt(np.maximum(v1, 0) / n1 + np.maximum(v2, 0) / n2)
    z, p = _z_from(diff, se)
    return 100 * diff, 100 * se, z, p


def welch_t_test(
    m1: np.ndarray, s1: np.ndarray, n1: np.ndarray, m2: np.ndarray, s2: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Welch's unequal-variance t-test from summaries: (diff, se, t, df, p two-sided).

    se = √(s₁²/n₁ + s₂²/n₂); Welch–Satterthwaite df. Same as scipy
    ``ttest_ind_from_stats(equal_var=False)``.
    """
    m1, s1, n1, m2, s2, n2 = (np.asarray(a, dtype=float) for a in (m1, s1, n1, m2, s2, n2))
    a, b = s1**2 / n1, s2**2 / n2
    se = np.sqrt(a + b)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
        t = (m1 - m2) / se
    p = 2 * stats.t.sf(np.abs(t), df)
    return m1 - m2, se, t, df, p


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (statsmodels ``multipletests(method="holm")``); NaN entries
    (untested pairs) stay NaN and do not count in the family."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        # multipletests ends with gc.collect(), which walks every live object: ~0.16 s per call with
        # the XL tables loaded. Frozen objects are not walked; the numbers are the same (issue 19).
        gc.freeze()
        try:
            out[ok] = multipletests(p[ok], method="holm")[1]
        finally:
            gc.unfreeze()
    return out


# --- pairwise tests between groups ---------------------------------------------------------------

Correction = Literal["holm", "none"]


def _pairs(k: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(k) for j in range(i + 1, k)]


def pairwise_tests(
    table: pd.DataFrame,
    label: str,
    *,
    raw: pd.DataFrame | None = None,
    column: str | None = None,
    weight: str | None = None,
    min_base: int = 30,
    correction: Correction = "holm",
) -> pd.DataFrame:
    """All pairwise tests between the rows (groups) of one :func:`metric_table` result.

    NPS: ``nps.test`` z-tests; CSAT: pooled two-proportion z-tests (statsmodels); CES: Games–Howell
    (pingouin, on the answers in ``raw`` — required for unweighted CES) or, with weights, the
    Games–Howell formula on weighted means and Kish's n_eff. Groups with ``n < min_base`` are not
    tested (their rows get NaN). NPS / CSAT p-values are Holm-corrected over the tested pairs;
    Games–Howell already controls the family-wise error, so CES ``p_adj`` is its p-value.

    Returns
    -------
    DataFrame
        ``a, b, diff (a − b), se, stat, p_value, p_adj, test, correction``.
    """
    metric = str(table["metric"].iloc[0]) if len(table) else ""
    groups = table[label].tolist()
    n = table["n"].to_numpy(float)
    tested = n >= max(min_base, 2)
    rows: list[dict[str, Any]] = []
    pairs = _pairs(len(groups))
    if metric == "nps":
        p, d = table["promoters"].to_numpy(float), table["detractors"].to_numpy(float)
        for i, j in pairs:
            diff, se, z, pv = (float(v) for v in nps_z_test(p[i], d[i], n[i], p[j], d[j], n[j]))
            rows.append({"a": groups[i], "b": groups[j], "diff": float(diff), "se": float(se), "stat": float(z),
                         "p_value": float(pv) if tested[i] and tested[j] else np.nan})
        test = "NPS z-test (R NPS::nps.test)"
    elif metric == "csat":
        share = table["value"].to_numpy(float)  # shares 0..1, as metric_table gives them
        k = share * n
        for i, j in pairs:
            if tested[i] and tested[j]:
                pooled = (k[i] + k[j]) / (n[i] + n[j])
                se = float(np.sqrt(pooled * (1 - pooled) * (1 / n[i] + 1 / n[j])))
                if se > 0:
                    z, pv = (float(v) for v in proportions_ztest(np.array([k[i], k[j]]), np.array([n[i], n[j]])))
                else:  # both groups all (un)satisfied: no difference (statsmodels would divide by 0)
                    z, pv = 0.0, 1.0
            else:
                z = pv = se = float("nan")
            rows.append({"a": groups[i], "b": groups[j], "diff": 100 * (share[i] - share[j]), "se": 100 * se,
                         "stat": float(z), "p_value": float(pv)})
        test = "two-proportion z-test (pooled)"
    elif metric == "ces":
        return _ces_pairwise(table, label, raw=raw, column=column, weight=weight, tested=tested)
    else:
        raise MetricError(f"pairwise tests: unknown metric {metric!r}; expected nps, csat or ces")
    out = pd.DataFrame(rows, columns=["a", "b", "diff", "se", "stat", "p_value"])
    out["p_adj"] = holm(out["p_value"].to_numpy()) if correction == "holm" else out["p_value"]
    out["test"], out["correction"] = test, correction
    return out


# pingouin >= 0.6 renamed columns (STACK-NOTES): every pingouin column is read through here.
_PG_COLUMNS = {
    "p_unc": ("p_unc", "p-unc"),
    "pval": ("pval", "p_val", "p-val"),
    "mean_A": ("mean_A", "mean(A)"),
    "mean_B": ("mean_B", "mean(B)"),
}


def _pg(frame: pd.DataFrame, name: str) -> pd.Series:
    for c in _PG_COLUMNS.get(name, (name,)):
        if c in frame.columns:
            return frame[c]
    raise KeyError(f"pingouin result has no column for {name!r} (columns: {list(frame.columns)})")


def _pingouin() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pingouin

    return pingouin


def _ces_pairwise(
    table: pd.DataFrame, label: str, *, raw: pd.DataFrame | None, column: str | None, weight: str | None,
    tested: np.ndarray,
) -> pd.DataFrame:
    groups = table[label].tolist()
    keep = [g for g, ok in zip(groups, tested, strict=True) if ok]
    rows: list[dict[str, Any]] = []
    if weight is None:
        if raw is None:
            raise MetricError("pairwise CES tests need the answers (raw=...) for Games–Howell")
        col = column or "ces"
        data = raw.loc[raw[label].isin(keep) & raw[col].notna(), [label, col]].copy()
        data[label] = data[label].astype(str)
        gh = None
        if len(keep) >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gh = _pingouin().pairwise_gameshowell(data=data, dv=col, between=label)
        found: dict[frozenset[str], tuple[str, float, float, float]] = {}
        if gh is not None:
            for _, r in gh.assign(pval=_pg(gh, "pval")).iterrows():
                found[frozenset((str(r["A"]), str(r["B"])))] = (str(r["A"]), float(r["se"]), float(r["T"]),
                                                                float(r["pval"]))
        mean = dict(zip(groups, table["value"].to_numpy(float), strict=True))
        for i, j in _pairs(len(groups)):
            a, b = groups[i], groups[j]
            hit = found.get(frozenset((str(a), str(b))))
            if hit is None:
                rows.append({"a": a, "b": b, "diff": mean[a] - mean[b], "se": np.nan, "stat": np.nan,
                             "p_value": np.nan})
                continue
            first, se, t, pv = hit
            sign = 1.0 if first == str(a) else -1.0
            rows.append({"a": a, "b": b, "diff": mean[a] - mean[b], "se": se, "stat": sign * t, "p_value": pv})
        test = "Games–Howell (pingouin)"
    else:
        m, s, n = (table[c].to_numpy(float) for c in ("value", "sd", "n"))
        k = int(tested.sum())
        for i, j in _pairs(len(groups)):
            diff, se, t, df, _ = (float(v) for v in welch_t_test(m[i], s[i], n[i], m[j], s[j], n[j]))
            pv = float(stats.studentized_range.sf(np.abs(t) * np.sqrt(2), k, df)) if tested[i] and tested[j] \
                and k >= 2 else float("nan")
            rows.append({"a": groups[i], "b": groups[j], "diff": float(diff), "se": float(se), "stat": float(t),
                         "p_value": min(pv, 1.0) if not np.isnan(pv) else np.nan})
        test = "Games–Howell (weighted means, Kish n_eff)"
    out = pd.DataFrame(rows, columns=["a", "b", "diff", "se", "stat", "p_value"])
    out["p_adj"] = out["p_value"]
    out["test"], out["correction"] = test, "Games–Howell"
    return out


def omnibus_test(
    table: pd.DataFrame, label: str, *, raw: pd.DataFrame | None = None, column: str | None = None,
    weight: str | None = None, min_base: int = 30,
) -> dict[str, Any]:
    """Does the metric differ across the tested groups at all?

    NPS: Q = Σ (x_g − x̄)² / var_g with inverse-variance weights, χ²(k − 1) (Cochran 1954). CSAT:
    Pearson χ² on the satisfied / not-satisfied × group table (scipy, no continuity correction).
    CES: Welch's ANOVA (pingouin; with weights, Welch's formula on weighted summaries).
    Returns ``{"test", "statistic", "df", "p_value", "k"}`` (NaN p with fewer than 2 groups).
    """
    metric = str(table["metric"].iloc[0]) if len(table) else ""
    tab = table[table["n"] >= max(min_base, 2)]
    k = len(tab)
    out: dict[str, Any] = {"test": "", "statistic": np.nan, "df": np.nan, "p_value": np.nan, "k": k}
    n = tab["n"].to_numpy(float)
    if metric == "nps":
        p, d = tab["promoters"].to_numpy(float), tab["detractors"].to_numpy(float)
        x, var = p - d, ((p + d) - (p - d) ** 2) / n
        out["test"] = "Wald χ² test of equal NPS (Cochran's Q)"
        if k >= 2 and np.all(var > 0):
            wt = 1 / var
            xbar = np.sum(wt * x) / wt.sum()
            q = float(np.sum(wt * (x - xbar) ** 2))
            out.update(statistic=q, df=k - 1, p_value=float(stats.chi2.sf(q, k - 1)))
    elif metric == "csat":
        share = tab["value"].to_numpy(float)
        out["test"] = "Pearson χ² test of homogeneity"
        if k >= 2:
            obs = np.vstack([share * n, (1 - share) * n])
            if np.all(obs.sum(axis=1) > 0):
                chi2, pv, dof, _ = stats.chi2_contingency(obs, correction=False)
                out.update(statistic=float(chi2), df=int(dof), p_value=float(pv))
            else:
                out.update(statistic=0.0, df=k - 1, p_value=1.0)
    elif metric == "ces":
        out["test"] = "Welch's ANOVA"
        if k >= 2 and weight is None:
            if raw is None:
                raise MetricError("Welch's ANOVA on CES needs the answers (raw=...)")
            col = column or "ces"
            data = raw.loc[raw[label].isin(tab[label]) & raw[col].notna(), [label, col]].copy()
            data[label] = data[label].astype(str)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = _pingouin().welch_anova(data=data, dv=col, between=label)
            out.update(statistic=float(res["F"].iloc[0]), df=(float(res["ddof1"].iloc[0]), float(res["ddof2"].iloc[0])),
                       p_value=float(_pg(res, "p_unc").iloc[0]))
        elif k >= 2:
            m, s = tab["value"].to_numpy(float), tab["sd"].to_numpy(float)
            wt = n / s**2
            mw = np.sum(wt * m) / wt.sum()
            lam = 3 * np.sum((1 - wt / wt.sum()) ** 2 / (n - 1)) / (k**2 - 1)
            f = np.sum(wt * (m - mw) ** 2) / (k - 1) / (1 + 2 * lam * (k - 2) / 3)
            df2 = 1 / lam
            out.update(statistic=float(f), df=(k - 1, float(df2)), p_value=float(stats.f.sf(f, k - 1, df2)))
    else:
        raise MetricError(f"omnibus test: unknown metric {metric!r}; expected nps, csat or ces")
    return out


# --- letters -------------------------------------------------------------------------------------


def letter_labels(k: int) -> list[str]:
    """A, B, …, Z, then AA, AB, … (Displayr column letters)."""
    letters = string.ascii_uppercase
    out = []
    for i in range(k):
        s, j = "", i
        while True:
            s = letters[j % 26] + s
            j = j // 26 - 1
            if j < 0:
                break
        out.append(s)
    return out


def significance_letters(
    groups: Sequence[Any], pairs: pd.DataFrame, *, alpha: float = ALPHA, alpha_strong: float = ALPHA_STRONG,
    labels: dict[Any, str] | None = None,
) -> dict[Any, str]:
    """The Displayr / Q letters: for each group, the letters of the groups it is significantly
    higher than — upper case when ``p_adj < alpha_strong``, lower case when ``p_adj < alpha``.

    ``pairs`` has columns ``a, b, diff (a − b), p_adj`` (as :func:`pairwise_tests` returns); the
    group letters are A, B, C… in the order of ``groups`` unless ``labels`` gives them.

    Examples
    --------
    >>> pairs = pd.DataFrame({"a": ["x", "x", "y"], "b": ["y", "z", "z"], "diff": [5.0, 9.0, -1.0],
    ...                       "p_adj": [0.01, 0.0001, 0.6]})
    >>> significance_letters(["x", "y", "z"], pairs)
    {'x': 'bC', 'y': '', 'z': ''}
    """
    labels = labels or dict(zip(groups, letter_labels(len(groups)), strict=True))
    higher: dict[Any, list[tuple[tuple[int, str], str]]] = {g: [] for g in groups}
    for _, r in pairs.iterrows():
        p = r["p_adj"]
        if p is None or np.isnan(p) or p >= alpha or r["diff"] == 0:
            continue
        win, lose = (r["a"], r["b"]) if r["diff"] > 0 else (r["b"], r["a"])
        letter = labels[lose] if p < alpha_strong else labels[lose].lower()
        higher[win].append(((len(labels[lose]), labels[lose]), letter))
    return {g: "".join(letter for _, letter in sorted(higher[g])) for g in groups}


@dataclass(frozen=True)
class SegmentTest:
    """One metric across the groups of one segment column, tested.

    ``table`` is the :func:`metric_table` result (in the given order) plus ``letter`` (the group's
    letter) and ``higher_than`` (the letters of the groups it is significantly higher than).
    """

    metric: str
    segment: str
    table: pd.DataFrame
    pairs: pd.DataFrame
    omnibus: dict[str, Any]
    correction: str
    test: str
    min_base: int
    untested: list[Any] = field(default_factory=list)


def segment_tests(
    df: pd.DataFrame,
    metric: Literal["nps", "csat", "ces"],
    segment: str,
    *,
    column: str | None = None,
    weight: str | None = None,
    min_base: int = 30,
    order: Sequence[Any] | None = None,
    correction: Correction = "holm",
    **table_kw: Any,
) -> SegmentTest:
    """Metric per group of ``segment`` with pairwise tests, an omnibus test and letters.

    ``order`` fixes the group letters (A, B, … by position in ``order``, so several metrics can share
    them even when a group has no answers for one of them); by default groups are sorted by value,
    highest first.
    ``table_kw`` goes to :func:`metric_table` (``scale``, ``top_box``, ``nps_ci``…).
    """
    tab = metric_table(df, metric, by=[segment], column=column, weight=weight, min_base=min_base, **table_kw)
    if order is not None:
        pos = {g: i for i, g in enumerate(order)}
        tab = tab.assign(_o=tab[segment].map(pos)).sort_values("_o", kind="stable").drop(columns="_o")
    else:
        tab = tab.sort_values("value", ascending=False, kind="stable")
    tab = tab.reset_index(drop=True)
    pairs = pairwise_tests(tab, segment, raw=df, column=column or metric, weight=weight, min_base=min_base,
                           correction=correction)
    omni = omnibus_test(tab, segment, raw=df, column=column or metric, weight=weight, min_base=min_base)
    groups = tab[segment].tolist()
    full = list(order) if order is not None else groups
    labels = dict(zip(full, letter_labels(len(full)), strict=True))
    letters = significance_letters(groups, pairs, labels={g: labels[g] for g in groups})
    tab["letter"] = [labels[g] for g in groups]
    tab["higher_than"] = tab[segment].map(letters)
    untested = tab.loc[tab["n"] < max(min_base, 2), segment].tolist()
    return SegmentTest(metric, segment, tab, pairs, omni, str(pairs["correction"].iloc[0]) if len(pairs) else
                       correction, str(pairs["test"].iloc[0]) if len(pairs) else "", min_base, untested)


# --- periods -------------------------------------------------------------------------------------


def two_sample_test(
    metric: str, a: pd.Series | dict[str, Any], b: pd.Series | dict[str, Any]
) -> tuple[float, float, float, float]:
    """(diff a − b, se, statistic, two-sided p) between two independent :func:`metric_table` rows.

    NPS: ``nps.test`` z (points); CSAT: pooled two-proportion z (percentage points); CES: Welch t.
    """
    if metric == "nps":
        diff, se, z, p = nps_z_test(a["promoters"], a["detractors"], a["n"], b["promoters"], b["detractors"], b["n"])
    elif metric == "csat":
        k1, k2 = a["value"] * a["n"], b["value"] * b["n"]
        pooled = (k1 + k2) / (a["n"] + b["n"])
        se = np.sqrt(pooled * (1 - pooled) * (1 / a["n"] + 1 / b["n"]))
        z, p = _z_from(np.asarray(a["value"] - b["value"], float), np.asarray(se, float))
        diff, se = 100 * (a["value"] - b["value"]), 100 * se
    elif metric == "ces":
        diff, se, z, _, p = welch_t_test(a["value"], a["sd"], a["n"], b["value"], b["sd"], b["n"])
    else:
        raise MetricError(f"unknown metric {metric!r}; expected nps, csat or ces")
    return float(diff), float(se), float(z), float(p)


def period_changes(
    df: pd.DataFrame,
    metric: Literal["nps", "csat", "ces"],
    period: Literal["M", "W"] = "M",
    *,
    column: str | None = None,
    weight: str | None = None,
    min_base: int = 30,
    alpha: float = ALPHA,
    **table_kw: Any,
) -> pd.DataFrame:
    """The metric per period, each period tested against the previous one.

    NPS: ``nps.test`` z-test; CSAT: pooled two-proportion z-test; CES: Welch's t-test. ``change``
    is ``"down"`` / ``"up"`` when the change is significant at ``alpha`` for that comparison
    (the usual tracker convention, wave against previous wave), ``""`` otherwise; ``p_holm`` gives
    the Holm-adjusted p over all the period-to-period comparisons of the table, so a reader can
    see which changes survive a family-wise correction. Periods with ``n < min_base`` (either side)
    are not tested. CSAT ``value`` and ``diff`` are shares 0..1 and percentage points.
    """
    tab = metric_table(df, metric, period=period, column=column, weight=weight, min_base=min_base, **table_kw)
    diff = np.full(len(tab), np.nan)
    se, stat, p = diff.copy(), diff.copy(), diff.copy()
    for i in range(1, len(tab)):
        a, b = tab.iloc[i], tab.iloc[i - 1]
        if a["n"] < max(min_base, 2) or b["n"] < max(min_base, 2):
            continue
        diff[i], se[i], stat[i], p[i] = two_sample_test(metric, a, b)
    tab["diff"], tab["se"], tab["stat"], tab["p_value"] = diff, se, stat, p
    tab["p_holm"] = holm(p)
    sig = ~np.isnan(p) & (p < alpha)
    tab["change"] = np.where(sig & (diff < 0), "down", np.where(sig & (diff > 0), "up", ""))
    return tab


def compare_periods(
    df: pd.DataFrame,
    metric: Literal["nps", "csat", "ces"],
    periods: Sequence[str],
    period: Literal["M", "W"] = "M",
    *,
    column: str | None = None,
    date_column: str = "date",
    weight: str | None = None,
    **table_kw: Any,
) -> dict[str, float]:
    """The metric in ``periods`` (e.g. ``["2025-11", "2025-12"]``) against all other periods:
    ``{"value", "n", "rest_value", "rest_n", "diff", "se", "stat", "p_value"}`` (same tests as
    :func:`period_changes`)."""
    labels = pd.to_datetime(df[date_column]).dt.to_period(period).astype(str)
    inside = labels.isin([str(x) for x in periods]).map({True: "in", False: "rest"})
    inside[pd.to_datetime(df[date_column]).isna()] = pd.NA
    work = df.assign(_window=inside)
    tab = metric_table(work, metric, by=["_window"], column=column, weight=weight, **table_kw).set_index("_window")
    if "in" not in tab.index or "rest" not in tab.index:
        raise MetricError(f"compare periods: need answers both in {list(periods)} and outside them")
    diff, se, z, p = two_sample_test(metric, tab.loc["in"], tab.loc["rest"])
    return {"value": float(tab.loc["in", "value"]), "n": float(tab.loc["in", "n"]),
            "rest_value": float(tab.loc["rest", "value"]), "rest_n": float(tab.loc["rest", "n"]),
            "diff": diff, "se": se, "stat": z, "p_value": p}


# --- reliability ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reliability:
    """Cronbach's alpha of a multi-item scale with its 95% interval."""

    alpha: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    nan_policy: str


def cronbach_alpha(items: pd.DataFrame, *, nan_policy: Literal["pairwise", "listwise"] = "pairwise",
                   ci: float = 0.95) -> Reliability:
    """Cronbach's alpha via pingouin (α = k/(k − 1) · (1 − Σ s_i² / s_total²), from the covariance
    matrix; ``pairwise`` uses pairwise-complete covariances so items rated by different
    respondents still count). The interval is pingouin's F-based one (Feldt et al. 1987).

    Examples
    --------
    >>> r = cronbach_alpha(pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]}))
    >>> round(r.alpha, 3)   # 3/2 · (1 − (2.5 + 2.3 + 1.5) / 17.3)
    0.954
    """
    if not isinstance(items, pd.DataFrame) or items.shape[1] < 2:
        raise MetricError("Cronbach's alpha needs a DataFrame with at least 2 item columns")
    data = items.apply(pd.to_numeric, errors="coerce")
    data = data.loc[data.notna().sum(axis=1) > 0]
    if nan_policy == "listwise":
        data = data.dropna()
    if len(data) < 3:
        raise MetricError(f"Cronbach's alpha needs at least 3 respondents with answers, got {len(data)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alpha, interval = _pingouin().cronbach_alpha(data=data, nan_policy=nan_policy, ci=ci)
    return Reliability(float(alpha), float(interval[0]), float(interval[1]), len(data), data.shape[1], nan_policy)
