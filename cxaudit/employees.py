"""Employee motivation and the EX–CX link: eNPS, motivation structure and KPI alignment by department.

Inputs are the canonical tables ``employees`` (``employee_id``, ``department``, ``role``,
``tenure_months``, ``enps`` on 0–10 and motivation items ``mot_*`` on 1–5), ``kpis``
(``department``, ``kpi``, ``weight``, ``is_customer_metric``), ``touchpoints``
(``owner_department``) and the ``tp_<touchpoint>`` ratings of ``responses``.

What it computes
----------------
- **eNPS** by group with its 95% interval: the NPS machinery of :mod:`cxaudit.metrics`
  (``metric_table`` / ``nps``: adjusted Wald, Rocks 2016) applied to the eNPS item; each group is
  compared with the rest of the company by the two-sample NPS z-test (:func:`cxaudit.stats.nps_difference`,
  R ``NPS::nps.test``) with Holm's (1979) correction across groups.
- **Motivation profile**: item means with Student t intervals per group; each group against the rest
  of the company by Welch's (1947) t-test, Holm-corrected over all group × item tests. A motivation
  index (the mean of a respondent's items) and its reliability, Cronbach's (1951) alpha with the
  Feldt (1965) F interval (``pingouin.cronbach_alpha``).
- **Drivers of eNPS**: :func:`cxaudit.drivers.relative_importance` on the motivation items.
- **KPI alignment**: the share of each department's KPI (variable pay) weight on customer metrics.
- **EX–CX link**: each department's eNPS and motivation index against the CX of the touchpoints it
  owns (mean rating and top-2 share), as Spearman rank correlations across departments with the
  exact permutation p-value for small n (and scipy's t approximation), and the interval of ρ from
  Fisher's z with the Bonett & Wright (2000) variance.

Anonymity
---------
A group (department, role, ...) with fewer respondents than ``anonymity_min`` (default 5;
``audit.config.anonymity_min`` when the config has it) is never shown separately. Such groups are
pooled into "Other"; when that pool is itself below the minimum, the smallest shown groups are
added to it (complementary suppression), so that the company total minus the groups shown never
isolates fewer than ``anonymity_min`` people. Within a table, a cell whose own base (valid answers)
falls below the minimum is blanked with the same complementary rule (:func:`suppress_cells`).
Only one-way cuts are ever shown.

Examples
--------
>>> import pandas as pd
>>> g = anonymous_groups(pd.Series(["A"] * 20 + ["B"] * 12 + ["C"] * 4), min_size=5)
>>> g.shown, g.merged
(['A', '__other__'], ['B', 'C'])
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from scipy import stats

from .audit import Audit
from .errors import DataError, MetricError
from .findings import Finding
from .i18n import fmt_ci, fmt_num, fmt_pct, t
from .i18n import fmt_p as _fmt_p
from .metrics import Z95, csat, metric_table, nps
from .plots import PALETTE, takeaway_title
from .schema import MOTIVATION_ITEMS as _SCHEMA_MOTIVATION_ITEMS
from .stats import holm as _holm  # Holm (1979) via statsmodels
from .stats import nps_difference

__all__ = [
    "ANONYMITY_MIN",
    "OTHER",
    "TOTAL",
    "MISSING",
    "MOTIVATION_ITEMS",
    "SIGNIFICANCE",
    "ALPHA_ACCEPTABLE",
    "Grouping",
    "EmployeeAnalysis",
    "anonymity_min",
    "anonymous_groups",
    "suppress_cells",
    "employee_frame",
    "motivation_items",
    "item_label",
    "group_label",
    "with_labels",
    "enps_table",
    "motivation_profile",
    "motivation_index",
    "motivation_index_table",
    "reliability",
    "enps_drivers",
    "kpi_alignment",
    "touchpoint_cx",
    "department_cx",
    "ex_cx_table",
    "ex_cx_correlations",
    "spearman",
    "critical_rho",
    "fmt_p",
    "analyse",
    "employees_findings",
    "plot_motivation_heatmap",
    "plot_kpi_share",
    "plot_ex_cx",
    "anonymity_notes",
    "enps_view",
    "enps_plot",
    "motivation_view",
    "index_view",
    "reliability_view",
    "drivers_view",
    "kpi_view",
    "ex_cx_view",
    "correlations_view",
    "small_n_caveat",
    "weakest_note",
]

#: Default minimum group size shown separately (overridden by ``audit.config.anonymity_min``).
ANONYMITY_MIN: int = 5
#: Key of the pooled group of small groups (shown as "Other").
OTHER: str = "__other__"
#: Key of the whole-company row.
TOTAL: str = "__company__"
#: Key of respondents who did not state the grouping variable (a group like any other).
MISSING: str = "__missing__"
#: The motivation items of the standard questionnaire (any ``mot_*`` column is used).
MOTIVATION_ITEMS: tuple[str, ...] = _SCHEMA_MOTIVATION_ITEMS
#: Significance level of the (Holm-corrected) comparisons with the rest of the company.
SIGNIFICANCE: float = 0.05
#: Cronbach's alpha at or above which a scale counts as reliable (Nunnally 1978).
ALPHA_ACCEPTABLE: float = 0.7
#: Motivation items are rated on this scale.
ITEM_SCALE: tuple[int, int] = (1, 5)
#: Above this many departments the permutation p-value of Spearman's ρ is not enumerated exactly.
EXACT_MAX_N: int = 9


# --- anonymity -------------------------------------------------------------------------------------


def anonymity_min(audit: Audit) -> int:
    """The minimum group size shown separately: ``audit.config.anonymity_min`` or 5."""
    return int(getattr(audit.config, "anonymity_min", ANONYMITY_MIN))


@dataclass(frozen=True)
class Grouping:
    """Which groups of one variable may be shown separately.

    Attributes
    ----------
    min_size : int
        The anonymity minimum used.
    sizes : dict
        Respondents per original group (missing values counted under :data:`MISSING`).
    mapping : dict
        Original group -> shown group: itself, or :data:`OTHER` when pooled.
    suppressed : bool
        True when the whole population is below ``min_size``: nothing may be shown, not even the total.
    """

    min_size: int
    sizes: dict[str, int]
    mapping: dict[str, str]
    suppressed: bool = False

    @property
    def shown(self) -> list[str]:
        """Shown groups: originals by name, then :data:`OTHER` if used."""
        if self.suppressed:
            return []
        own = sorted(g for g, s in self.mapping.items() if s == g)
        return own + ([OTHER] if OTHER in self.mapping.values() else [])

    @property
    def merged(self) -> list[str]:
        """Original groups pooled into :data:`OTHER`, by name."""
        return sorted(g for g, s in self.mapping.items() if s == OTHER)

    @property
    def total(self) -> int:
        return int(sum(self.sizes.values()))

    def shown_sizes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for g, s in self.mapping.items():
            out[s] = out.get(s, 0) + self.sizes[g]
        return {g: out[g] for g in self.shown}

    def apply(self, values: pd.Series) -> pd.Series:
        """The shown group of every respondent (missing when everything is suppressed)."""
        keys = _group_keys(values)
        if self.suppressed:
            return pd.Series(pd.NA, index=values.index, dtype="object")
        return keys.map(self.mapping).astype("object")


def _group_keys(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text.isna() | (text == ""), MISSING).astype("object")


def anonymous_groups(values: pd.Series, min_size: int = ANONYMITY_MIN) -> Grouping:
    """Pool groups smaller than ``min_size`` so that no group below it can be seen or derived.

    1. Groups with fewer than ``min_size`` respondents go to :data:`OTHER`.
    2. Complementary suppression: while the pool holds at least one but fewer than ``min_size``
       respondents, the smallest group still shown (ties by name) joins it. Otherwise the company
       total minus the shown groups would reveal the pooled few.
    3. When the whole population is below ``min_size``, nothing is shown (``suppressed``).

    Missing values form their own group (:data:`MISSING`), so "total minus the groups" never isolates
    the few who skipped the question either. This is the primary/complementary cell suppression of
    statistical disclosure control (Hundepool et al. 2012, *Statistical Disclosure Control*, ch. 4).

    Examples
    --------
    >>> g = anonymous_groups(pd.Series(["A"] * 20 + ["B"] * 12 + ["C"] * 3 + ["D"] * 3))
    >>> g.shown, g.shown_sizes()[OTHER]
    (['A', 'B', '__other__'], 6)
    """
    if min_size < 1:
        raise ValueError(f"min_size must be >= 1, got {min_size}")
    counts = _group_keys(values).value_counts()
    sizes = {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))}
    total = sum(sizes.values())
    if total < min_size:
        return Grouping(min_size, sizes, {g: OTHER for g in sizes}, suppressed=True)
    pooled = {g for g, n in sizes.items() if n < min_size}
    pooled_n = sum(sizes[g] for g in pooled)
    # smallest first, ties by name: the cheapest complement
    candidates = sorted((g for g in sizes if g not in pooled), key=lambda g: (sizes[g], g))
    while 0 < pooled_n < min_size and candidates:
        g = candidates.pop(0)
        pooled.add(g)
        pooled_n += sizes[g]
    return Grouping(min_size, sizes, {g: (OTHER if g in pooled else g) for g in sizes})


def suppress_cells(n: Sequence[float] | np.ndarray | pd.Series, min_size: int = ANONYMITY_MIN) -> np.ndarray:
    """Cells of one table column that must be blanked, with complementary suppression.

    A cell with 0 < n < ``min_size`` is blanked (primary). If the blanked cells together hold fewer
    than ``min_size`` respondents, the smallest remaining non-empty cells are blanked too until they
    hold at least ``min_size`` (or every cell is blanked), so that the column total minus the cells
    shown never isolates fewer than ``min_size`` answers.

    Examples
    --------
    >>> suppress_cells([20, 12, 4]).tolist()
    [False, True, True]
    >>> suppress_cells([20, 12, 4, 3]).tolist()
    [False, False, True, True]
    """
    arr = np.asarray(n, dtype=float)
    arr = np.where(np.isnan(arr), 0.0, arr)
    out = (arr > 0) & (arr < min_size)
    while 0 < arr[out].sum() < min_size:
        rest = np.flatnonzero(~out & (arr > 0))
        if rest.size == 0:
            break
        out[rest[np.argmin(arr[rest])]] = True
    return out


# --- inputs -----------------------------------------------------------------------------------------


def motivation_items(employees: pd.DataFrame) -> list[str]:
    """The ``mot_*`` item columns of an employee table, in file order."""
    return [c for c in employees.columns if str(c).startswith("mot_")]


def employee_frame(audit: Audit) -> pd.DataFrame:
    """The ``employees`` table with its motivation items as numbers on 1–5.

    The canonical schema keeps ``mot_*`` columns as text; here they are converted. Empty cells are
    missing answers.

    Raises
    ------
    DataError
        naming the file, the column and the row of a value that is not a whole number 1–5.
    """
    e = audit.table("employees").copy()
    file = audit.files["employees"].name if "employees" in audit.files else "employees"
    lo, hi = ITEM_SCALE
    for col in motivation_items(e):
        text = e[col].astype("string").str.strip().str.replace(",", ".", regex=False)
        num = pd.to_numeric(text, errors="coerce")
        bad = text.notna() & (text != "") & (num.isna() | (num < lo) | (num > hi) | (num != np.floor(num)))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            row = int(e["_row"].iloc[i]) if "_row" in e.columns else None
            raise DataError(file, f"expected a whole-number rating {lo}–{hi} (or an empty cell), "
                                  f"got {e[col].iloc[i]!r}", column=col, row=row)
        e[col] = num.astype("float64")
    if "enps" in e.columns:
        e["enps"] = pd.to_numeric(e["enps"], errors="coerce").astype("float64")
    e["department"] = e["department"].astype("string").str.strip().astype("object")
    return e


# --- labels -----------------------------------------------------------------------------------------


def item_label(item: str, lang: str) -> str:
    """The client-facing name of a motivation item (``employees.item.<column>``; else the column)."""
    try:
        return t(f"employees.item.{item}", lang)
    except KeyError:
        return item.removeprefix("mot_").replace("_", " ")


def group_label(key: object, lang: str) -> str:
    """The client-facing name of a group key (Other, company, not stated, or the group itself)."""
    special = {OTHER: "employees.other", TOTAL: "employees.company", MISSING: "employees.not_stated"}
    if isinstance(key, str) and key in special:
        return t(special[key], lang)
    return str(key)


def with_labels(df: pd.DataFrame, lang: str, column: str = "group", out: str = "label") -> pd.DataFrame:
    """``df`` with a ``label`` column naming each group in ``lang``."""
    res = df.copy()
    res[out] = [group_label(g, lang) for g in res[column]]
    return res


def fmt_p(p: float | None, lang: str) -> str:
    """A p-value as reports print it (:func:`cxaudit.i18n.fmt_p`)."""
    return _fmt_p(p, lang)


# --- small statistics helpers ----------------------------------------------------------------------


def _mean_ci(x: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float, float, float]:
    """(mean, n, low, high): Student t 95% interval; weighted with Kish's effective n."""
    keep = ~np.isnan(x)
    if w is not None:
        keep &= ~np.isnan(w)
        w = w[keep]
    x = x[keep]
    if x.size == 0:
        return math.nan, 0.0, math.nan, math.nan
    if w is None:
        n, mean = float(x.size), float(x.mean())
        sd = float(x.std(ddof=1)) if x.size > 1 else math.nan
    else:
        n = float(w.sum() ** 2 / np.sum(w**2))
        mean = float(np.average(x, weights=w))
        sd = float(np.sqrt(np.average((x - mean) ** 2, weights=w) * n / (n - 1))) if n > 1 else math.nan
    if n <= 1 or math.isnan(sd):
        return mean, n, math.nan, math.nan
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return mean, n, mean - half, mean + half


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Welch's t and two-sided p of mean(a) − mean(b); NaN when either side has < 2 answers."""
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size < 2 or b.size < 2:
        return math.nan, math.nan
    if np.var(a) == 0 and np.var(b) == 0:
        return math.nan, math.nan
    res = stats.ttest_ind(a, b, equal_var=False)
    return float(res.statistic), float(res.pvalue)


# --- eNPS -------------------------------------------------------------------------------------------


def enps_table(
    employees: pd.DataFrame,
    by: str = "department",
    *,
    min_size: int = ANONYMITY_MIN,
    min_base: int = 30,
    ci: Literal["adjusted-wald", "wald"] = "adjusted-wald",
    grouping: Grouping | None = None,
) -> pd.DataFrame:
    """eNPS per group of ``by`` and for the company, with 95% intervals and a test against the rest.

    The eNPS item is scored like NPS (promoters 9–10, detractors 0–6; eNPS = 100 × (p − d)); values
    and intervals come from :func:`cxaudit.metrics.metric_table` (adjusted Wald by default: P + ¾,
    D + ¾, n + 3 — Rocks 2016). Each group is compared with the rest of the company by the z-test of
    :func:`cxaudit.stats.nps_difference` (R ``NPS::nps.test``); p-values are Holm-corrected across
    the groups. Groups below ``min_size`` are pooled (:func:`anonymous_groups`) and cells whose base
    is below it are blanked (:func:`suppress_cells`).

    Returns
    -------
    DataFrame
        ``group, n, value, ci_low, ci_high, promoters, passives, detractors, small_base, diff_rest,
        p_value, p_holm, below_rest, above_rest, suppressed, is_total``; the company row last.
    """
    if "enps" not in employees.columns:
        raise DataError("employees", "no eNPS item; map it as 'enps' in inputs.employees.columns", column="enps")
    grouping = grouping or anonymous_groups(employees[by], min_size)
    cols = ["group", "n", "value", "ci_low", "ci_high", "promoters", "passives", "detractors", "small_base",
            "diff_rest", "p_value", "p_holm", "below_rest", "above_rest", "suppressed", "is_total"]
    work = employees.assign(group=grouping.apply(employees[by]))
    valid = work[work["enps"].notna() & work["group"].notna()]
    if grouping.suppressed or len(valid) < grouping.min_size:
        return pd.DataFrame(columns=cols)
    tab = metric_table(valid, "nps", by=["group"], column="enps", min_base=min_base, nps_ci=ci)
    tab = tab.set_index("group").reindex([g for g in grouping.shown if g in set(tab["group"])]).reset_index()
    tab["passives"] = (1 - tab["promoters"] - tab["detractors"]).clip(lower=0.0)
    supp = suppress_cells(tab["n"].to_numpy(), grouping.min_size)
    diffs, pvals = [], []
    for g, s in zip(tab["group"], supp, strict=True):
        part, rest = valid.loc[valid["group"] == g, "enps"], valid.loc[valid["group"] != g, "enps"]
        if s or len(rest) == 0:
            diffs.append(math.nan)
            pvals.append(math.nan)
            continue
        test = nps_difference(nps(part, ci=ci), nps(rest, ci=ci))
        diffs.append(test.diff)
        pvals.append(test.p_value if not math.isnan(test.se) and test.se > 0 else math.nan)
    tab["diff_rest"], tab["p_value"] = diffs, pvals
    tab["p_holm"] = _holm(np.asarray(pvals))
    sig = tab["p_holm"].to_numpy(float) < SIGNIFICANCE
    tab["below_rest"] = sig & (tab["diff_rest"].to_numpy(float) < 0)
    tab["above_rest"] = sig & (tab["diff_rest"].to_numpy(float) > 0)
    tab["suppressed"] = supp
    blank = ["n", "value", "ci_low", "ci_high", "promoters", "passives", "detractors"]
    tab.loc[supp, blank] = np.nan
    tab["is_total"] = False
    company = nps(valid["enps"], ci=ci)
    total = {
        "group": TOTAL, "n": company.n, "value": company.value, "ci_low": company.ci_low,
        "ci_high": company.ci_high, "promoters": company.details["promoters"],
        "passives": company.details["passives"], "detractors": company.details["detractors"],
        "small_base": company.n < min_base, "diff_rest": math.nan, "p_value": math.nan, "p_holm": math.nan,
        "below_rest": False, "above_rest": False, "suppressed": False, "is_total": True,
    }
    out = pd.concat([tab[cols], pd.DataFrame([total])[cols]], ignore_index=True)
    return out


# --- motivation -------------------------------------------------------------------------------------


def motivation_index(employees: pd.DataFrame, items: Sequence[str] | None = None) -> pd.Series:
    """Each respondent's motivation index: the mean of the items answered, 1–5.

    Missing when fewer than half of the items (rounded up) were answered — the usual "half rule" for
    scale scores (e.g. Fayers & Machin, *Quality of Life*, 2016, ch. 7).

    Examples
    --------
    >>> df = pd.DataFrame({"mot_a": [4.0, 2.0, None], "mot_b": [2.0, None, None]})
    >>> motivation_index(df).tolist()
    [3.0, 2.0, nan]
    """
    items = list(items) if items is not None else motivation_items(employees)
    if not items:
        raise DataError("employees", "no motivation items: expected columns named mot_<item> rated 1–5",
                        column="mot_*")
    grid = employees[items].astype(float)
    answered = grid.notna().sum(axis=1)
    return grid.mean(axis=1).where(answered >= math.ceil(len(items) / 2))


def _profile(
    employees: pd.DataFrame, measures: dict[str, pd.Series], grouping: Grouping, by: str
) -> pd.DataFrame:
    """Mean ± t interval per shown group and measure, Welch test vs the rest, Holm over all tests."""
    groups = grouping.apply(employees[by])
    rows: list[dict[str, Any]] = []
    for name, values in measures.items():
        x = values.to_numpy(dtype=float)
        ok = ~np.isnan(x) & groups.notna().to_numpy()
        shown = grouping.shown
        ns = np.array([np.sum(ok & (groups == g).to_numpy()) for g in shown], dtype=float)
        supp = suppress_cells(ns, grouping.min_size)
        for g, s in zip(shown, supp, strict=True):
            in_g = ok & (groups == g).to_numpy()
            part, rest = x[in_g], x[ok & ~in_g]
            mean, n, lo, hi = _mean_ci(part)
            tval, p = _welch(part, rest) if not s else (math.nan, math.nan)
            rows.append({"group": g, "measure": name, "n": n, "mean": mean, "ci_low": lo, "ci_high": hi,
                         "rest_mean": float(rest.mean()) if rest.size else math.nan,
                         "diff_rest": mean - float(rest.mean()) if rest.size else math.nan,
                         "t": tval, "p_value": p, "suppressed": bool(s), "is_total": False})
            if s:
                rows[-1].update({k: math.nan for k in ("n", "mean", "ci_low", "ci_high", "rest_mean", "diff_rest")})
        if grouping.suppressed or ok.sum() < grouping.min_size:
            continue
        mean, n, lo, hi = _mean_ci(x[ok])
        rows.append({"group": TOTAL, "measure": name, "n": n, "mean": mean, "ci_low": lo, "ci_high": hi,
                     "rest_mean": math.nan, "diff_rest": math.nan, "t": math.nan, "p_value": math.nan,
                     "suppressed": False, "is_total": True})
    out = pd.DataFrame(rows, columns=["group", "measure", "n", "mean", "ci_low", "ci_high", "rest_mean",
                                      "diff_rest", "t", "p_value", "suppressed", "is_total"])
    out["p_holm"] = _holm(out["p_value"].to_numpy(float))
    sig = out["p_holm"].to_numpy(float) < SIGNIFICANCE
    out["below_rest"] = sig & (out["diff_rest"].to_numpy(float) < 0)
    out["above_rest"] = sig & (out["diff_rest"].to_numpy(float) > 0)
    return out


def motivation_profile(
    employees: pd.DataFrame,
    items: Sequence[str] | None = None,
    by: str = "department",
    *,
    min_size: int = ANONYMITY_MIN,
    grouping: Grouping | None = None,
) -> pd.DataFrame:
    """Item means per group with 95% Student t intervals, each compared with the rest of the company.

    For every shown group and item: mean, n and t interval; Welch's t-test of the group against all
    other respondents (Welch 1947; ``scipy.stats.ttest_ind(equal_var=False)``); p-values Holm-corrected
    over all group × item tests of the table (Holm 1979). The company row (``group == TOTAL``) gives
    the reference mean. Long format: one row per (group, item), the item in ``measure``.
    """
    items = list(items) if items is not None else motivation_items(employees)
    if not items:
        raise DataError("employees", "no motivation items: expected columns named mot_<item> rated 1–5",
                        column="mot_*")
    grouping = grouping or anonymous_groups(employees[by], min_size)
    return _profile(employees, {i: employees[i].astype(float) for i in items}, grouping, by)


def motivation_index_table(
    employees: pd.DataFrame,
    items: Sequence[str] | None = None,
    by: str = "department",
    *,
    min_size: int = ANONYMITY_MIN,
    grouping: Grouping | None = None,
) -> pd.DataFrame:
    """The motivation index (:func:`motivation_index`) per group, as :func:`motivation_profile` does for items."""
    grouping = grouping or anonymous_groups(employees[by], min_size)
    out = _profile(employees, {"index": motivation_index(employees, items)}, grouping, by)
    return out.drop(columns="measure")


def reliability(
    employees: pd.DataFrame,
    items: Sequence[str] | None = None,
    by: str | None = "department",
    *,
    min_size: int = ANONYMITY_MIN,
    grouping: Grouping | None = None,
) -> pd.DataFrame:
    """Cronbach's alpha of the motivation scale with its 95% interval, for the company and each group.

    α = k/(k − 1) · (1 − Σ s²ᵢ / s²ₜ) (Cronbach 1951) on the complete cases (listwise), with the
    F-based interval of Feldt (1965), via ``pingouin.cronbach_alpha(ci=.95)``. α ≥ 0.7 counts as
    acceptable (Nunnally 1978). Groups follow the anonymity rule; a group needs more than ``len(items)``
    complete answers for an alpha.

    Returns
    -------
    DataFrame
        ``group, n, k, alpha, ci_low, ci_high, acceptable, is_total``; the company row first.
    """
    items = list(items) if items is not None else motivation_items(employees)
    cols = ["group", "n", "k", "alpha", "ci_low", "ci_high", "acceptable", "is_total"]
    if len(items) < 2:
        return pd.DataFrame(columns=cols)
    complete = employees[items].astype(float).notna().all(axis=1)
    parts: list[tuple[str, pd.DataFrame]] = []
    if complete.sum() >= min_size:
        parts.append((TOTAL, employees.loc[complete, items]))
    if by is not None:
        grouping = grouping or anonymous_groups(employees[by], min_size)
        groups = grouping.apply(employees[by])
        shown = grouping.shown
        ns = [int((complete & (groups == g)).sum()) for g in shown]
        supp = suppress_cells(ns, grouping.min_size)
        parts += [(g, employees.loc[complete & (groups == g), items]) for g, s in zip(shown, supp, strict=True)
                  if not s]
    rows = []
    for g, data in parts:
        n = len(data)
        if n <= len(items) or (data.var(ddof=1) == 0).all():
            rows.append({"group": g, "n": n, "k": len(items), "alpha": math.nan, "ci_low": math.nan,
                         "ci_high": math.nan, "acceptable": False, "is_total": g == TOTAL})
            continue
        # pingouin costs ~2.4 s to import (xarray via pandas_flavor): only where it is used
        from .stats import _pingouin

        alpha, ci = _pingouin().cronbach_alpha(data=data.astype(float), ci=0.95)
        rows.append({"group": g, "n": n, "k": len(items), "alpha": float(alpha), "ci_low": float(ci[0]),
                     "ci_high": float(ci[1]), "acceptable": float(alpha) >= ALPHA_ACCEPTABLE,
                     "is_total": g == TOTAL})
    return pd.DataFrame(rows, columns=cols)


def enps_drivers(
    employees: pd.DataFrame,
    items: Sequence[str] | None = None,
    *,
    method: str | None = None,
    min_size: int = ANONYMITY_MIN,
    bootstrap: int = 500,
    seed: int = 20261124,
) -> pd.DataFrame:
    """Which motivation items move eNPS: :func:`cxaudit.drivers.relative_importance` on the
    complete cases (eNPS 0–10 as the outcome, the ``mot_*`` items as drivers, listwise).

    The method and its sources are those of :mod:`cxaudit.drivers` (Shapley/LMG, Lindeman, Merenda &
    Gold 1980; Johnson's relative weights, Johnson 2000); ``method=None`` uses its default. With
    ``bootstrap`` replicates (seeded by ``seed``) each share gets a percentile interval and the
    random-noise test of Tonidandel, LeBreton & Johnson (2009). Only the whole company is analysed
    (no group is shown), and nothing is computed below ``min_size`` respondents.
    """
    from .drivers import relative_importance  # imported here: the drivers module is optional

    items = list(items) if items is not None else motivation_items(employees)
    data = employees[["enps", *items]].astype(float).dropna()
    if len(data) < max(min_size, len(items) + 2):
        raise DataError("employees", f"too few complete answers for a driver analysis: {len(data)} rows "
                                     f"with eNPS and all {len(items)} items; expected at least "
                                     f"{max(min_size, len(items) + 2)}", column="enps")
    kw: dict[str, Any] = {} if method is None else {"method": method}
    return relative_importance(data, "enps", items, bootstrap=bootstrap, missing="listwise", seed=seed, **kw)


# --- KPI alignment ----------------------------------------------------------------------------------


def kpi_alignment(kpis: pd.DataFrame) -> pd.DataFrame:
    """The share of each department's KPI weight (variable pay) tied to customer metrics.

    share = Σ weight of KPIs flagged ``is_customer_metric`` / Σ weight of all its KPIs. Weights are
    normalised per department, so fractions and percentages both work. A KPI whose flag is missing
    counts in the total but not as a customer metric; its weight is reported in ``unknown_weight``.
    A plain count of the client's own table: no sampling, so no interval. Rows are sorted by the
    share, lowest first.

    Raises
    ------
    DataError
        when a weight is negative or a department's weights sum to zero.

    Examples
    --------
    >>> k = pd.DataFrame({"department": ["A", "A", "B"], "kpi": ["x", "y", "z"],
    ...                   "weight": [30.0, 70.0, 1.0], "is_customer_metric": [True, False, False]})
    >>> kpi_alignment(k)[["department", "customer_share"]].to_dict("records")
    [{'department': 'B', 'customer_share': 0.0}, {'department': 'A', 'customer_share': 0.3}]
    """
    k = kpis.copy()
    k["department"] = k["department"].astype("string").str.strip()
    w = pd.to_numeric(k["weight"], errors="coerce").astype(float)
    if (w < 0).any():
        i = int(np.flatnonzero((w < 0).to_numpy())[0])
        row = int(k["_row"].iloc[i]) if "_row" in k.columns else None
        raise DataError("kpis", f"expected a weight >= 0, got {k['weight'].iloc[i]!r}", column="weight", row=row)
    flag = k["is_customer_metric"].astype("boolean")
    k["_w"] = w.fillna(0.0)
    k["_cust"] = np.where(flag.fillna(False).to_numpy(bool), k["_w"], 0.0)
    k["_unknown"] = np.where(flag.isna().to_numpy(bool), k["_w"], 0.0)
    k["_is_cust"] = flag.fillna(False).to_numpy(bool)
    rows = []
    for dept, part in k.groupby("department", sort=True):
        total = float(part["_w"].sum())
        if total <= 0:
            raise DataError("kpis", f"the KPI weights of department {dept!r} sum to {total:g}; expected a "
                                    "positive total", column="weight")
        rows.append({
            "department": str(dept),
            "n_kpis": len(part),
            "total_weight": total,
            "customer_weight": float(part["_cust"].sum()),
            "customer_share": float(part["_cust"].sum()) / total,
            "unknown_weight": float(part["_unknown"].sum()) / total,
            "n_customer_kpis": int(part["_is_cust"].sum()),
            "customer_kpis": ", ".join(str(x) for x in part.loc[part["_is_cust"], "kpi"]),
            "no_customer_metric": float(part["_cust"].sum()) == 0.0,
        })
    return pd.DataFrame(rows).sort_values(["customer_share", "department"]).reset_index(drop=True)


# --- CX of the touchpoints each department owns ----------------------------------------------------


def _tp_column(touchpoint: str, columns: Sequence[str]) -> str | None:
    for c in (f"tp_{touchpoint}", touchpoint):
        if c in columns and str(c).startswith("tp_"):
            return c
    return None


def touchpoint_cx(
    responses: pd.DataFrame, touchpoints: pd.DataFrame, *, scale_min: int = 1, scale_max: int = 5,
    top_box: int = 2,
) -> pd.DataFrame:
    """Each touchpoint's mean rating (Student t interval) and top-2 share (Wilson interval).

    Ratings come from the ``tp_<touchpoint>`` columns of ``responses`` (a touchpoint id that already
    starts with ``tp_`` is the column itself). The top-2 share is computed by :func:`cxaudit.metrics.csat`.
    With a ``weight`` column, means and shares are weighted and n is Kish's effective n.
    ``rank`` 1 is the lowest mean rating (the weakest touchpoint).
    """
    w_all = pd.to_numeric(responses["weight"], errors="coerce").to_numpy(float) if "weight" in responses else None
    rows = []
    for _, tp in touchpoints.iterrows():
        col = _tp_column(str(tp["touchpoint"]), list(responses.columns))
        if col is None:
            continue
        x = pd.to_numeric(responses[col], errors="coerce").to_numpy(float)
        if np.isnan(x).all():
            continue
        mean, n, lo, hi = _mean_ci(x, w_all)
        top = csat(x, scale=scale_max, top_box=top_box, weights=w_all, scale_min=scale_min)
        rows.append({
            "touchpoint": str(tp["touchpoint"]), "column": col,
            "label": str(tp["label"]) if "label" in tp and pd.notna(tp["label"]) else str(tp["touchpoint"]),
            "owner_department": (str(tp["owner_department"]).strip()
                                 if "owner_department" in tp and pd.notna(tp["owner_department"]) else None),
            "n": n, "mean": mean, "ci_low": lo, "ci_high": hi,
            "top2": top.value, "top2_ci_low": top.ci_low, "top2_ci_high": top.ci_high,
        })
    out = pd.DataFrame(rows, columns=["touchpoint", "column", "label", "owner_department", "n", "mean", "ci_low",
                                      "ci_high", "top2", "top2_ci_low", "top2_ci_high"])
    out["rank"] = out["mean"].rank(method="min").astype("Int64")
    return out.sort_values("mean").reset_index(drop=True)


def department_cx(
    responses: pd.DataFrame, touchpoints: pd.DataFrame, *, scale_min: int = 1, scale_max: int = 5,
    top_box: int = 2,
) -> pd.DataFrame:
    """The CX of the touchpoints each department owns (``touchpoints.owner_department``).

    For each respondent who rated at least one of a department's touchpoints: the mean of those
    ratings and the share of them in the top-``top_box`` box. The department's CX mean and top-2 share
    are the means of these respondent scores over respondents, with Student t intervals (respondents
    are independent; one respondent's ratings of several touchpoints are not). ``reach`` is the share
    of all responses that rated any of its touchpoints; ``owns_weakest`` is true for the owner of the
    lowest-rated touchpoint (:func:`touchpoint_cx` rank 1).
    """
    cols = ["department", "touchpoints", "labels", "n", "cx_mean", "cx_ci_low", "cx_ci_high", "cx_top2",
            "cx_top2_ci_low", "cx_top2_ci_high", "reach", "weakest_rank", "owns_weakest"]
    if "owner_department" not in touchpoints.columns:
        return pd.DataFrame(columns=cols)
    tps = touchpoint_cx(responses, touchpoints, scale_min=scale_min, scale_max=scale_max, top_box=top_box)
    tps = tps[tps["owner_department"].notna()]
    w = pd.to_numeric(responses["weight"], errors="coerce").to_numpy(float) if "weight" in responses else None
    cut = scale_max - top_box + 1
    rows = []
    for dept, part in tps.groupby("owner_department", sort=True):
        grid = responses[list(part["column"])].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        answered = (~np.isnan(grid)).sum(axis=1)
        has = answered > 0
        with np.errstate(invalid="ignore"):
            score = np.where(has, np.nansum(grid, axis=1) / np.maximum(answered, 1), np.nan)
            top = np.where(has, np.nansum(grid >= cut, axis=1) / np.maximum(answered, 1), np.nan)
        mean, n, lo, hi = _mean_ci(score, w)
        tmean, _, tlo, thi = _mean_ci(top, w)
        rows.append({
            "department": str(dept), "touchpoints": list(part["touchpoint"]), "labels": list(part["label"]),
            "n": n, "cx_mean": mean, "cx_ci_low": lo, "cx_ci_high": hi,
            "cx_top2": tmean, "cx_top2_ci_low": max(0.0, tlo) if not math.isnan(tlo) else tlo,
            "cx_top2_ci_high": min(1.0, thi) if not math.isnan(thi) else thi,
            "reach": float(has.mean()) if len(has) else 0.0,
            "weakest_rank": int(part["rank"].min()), "owns_weakest": bool((part["rank"] == 1).any()),
        })
    return pd.DataFrame(rows, columns=cols).sort_values("cx_mean").reset_index(drop=True)


# --- the EX–CX link --------------------------------------------------------------------------------


def _rank_pearson(rx: np.ndarray, ry: np.ndarray, axis: int = -1) -> np.ndarray:
    rx = rx - rx.mean(axis=axis, keepdims=True)
    ry = ry - ry.mean()
    return (rx * ry).sum(axis=axis) / np.sqrt((rx**2).sum(axis=axis) * (ry**2).sum())


def spearman(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Spearman's ρ with p-values and a 95% interval, for the small n of a department comparison.

    - ρ and the t-approximation p-value: ``scipy.stats.spearmanr``.
    - ``p_exact``: the two-sided permutation p-value, enumerating all n! pairings when
      n ≤ :data:`EXACT_MAX_N` (``scipy.stats.permutation_test``, ``permutation_type="pairings"``);
      otherwise equal to the t approximation. This is the p the report uses.
    - Interval: Fisher's z = atanh ρ with the Bonett & Wright (2000, *Psychometrika* 65) variance
      (1 + ρ²/2) / (n − 3); needs n ≥ 4 and |ρ| < 1.

    Examples
    --------
    >>> r = spearman([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5])
    >>> round(r["rho"], 4), round(r["p_exact"], 4)
    (0.8286, 0.0583)
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~np.isnan(xa) & ~np.isnan(ya)
    xa, ya = xa[keep], ya[keep]
    n = int(xa.size)
    out = {"n": float(n), "rho": math.nan, "p_value": math.nan, "p_exact": math.nan, "ci_low": math.nan,
           "ci_high": math.nan}
    if n < 3 or np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return out
    res = stats.spearmanr(xa, ya)
    rho = float(res.statistic)
    out["rho"], out["p_value"] = rho, float(res.pvalue)
    if n <= EXACT_MAX_N:
        rx, ry = stats.rankdata(xa), stats.rankdata(ya)
        perm = stats.permutation_test((rx,), lambda a, axis=-1: _rank_pearson(a, ry, axis),
                                      permutation_type="pairings", vectorized=True, n_resamples=np.inf,
                                      alternative="two-sided")
        out["p_exact"] = float(min(1.0, perm.pvalue))
    else:
        out["p_exact"] = out["p_value"]
    if n >= 4 and abs(rho) < 1:
        z, se = math.atanh(rho), math.sqrt((1 + rho**2 / 2) / (n - 3))
        out["ci_low"], out["ci_high"] = math.tanh(z - Z95 * se), math.tanh(z + Z95 * se)
    return out


def critical_rho(n: int, alpha: float = 0.05) -> float:
    """The smallest |ρ| that is significant (two-sided, level ``alpha``) with ``n`` untied pairs.

    Exact for n ≤ :data:`EXACT_MAX_N`: the null distribution of ρ = 1 − 6Σd²/(n(n² − 1)) over all n!
    permutations. Above that, from the t approximation t = ρ√((n − 2)/(1 − ρ²)). Published tables
    (e.g. Zar 1972, *JASA* 67) give 0.886 at n = 6 and 0.786 at n = 7. NaN for n < 4 (nothing is
    significant at 5%).
    """
    if n < 3:
        return math.nan
    if n <= EXACT_MAX_N:
        ranks = np.arange(1, n + 1, dtype=float)
        perms = np.array(list(itertools.permutations(range(1, n + 1))), dtype=float)
        rho = 1 - 6 * ((perms - ranks) ** 2).sum(axis=1) / (n * (n**2 - 1))
        vals = np.unique(np.round(np.abs(rho), 12))
        for v in vals:  # ascending: the first |ρ| whose two-sided tail is <= alpha
            if np.mean(np.abs(rho) >= v - 1e-12) <= alpha + 1e-12:
                return float(v)
        return math.nan
    tcrit = float(stats.t.ppf(1 - alpha / 2, n - 2))
    return tcrit / math.sqrt(n - 2 + tcrit**2)


def ex_cx_table(
    enps: pd.DataFrame | None,
    index: pd.DataFrame | None,
    cx: pd.DataFrame,
    kpi: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per department that is shown separately and owns rated touchpoints: its EX metrics
    (eNPS, motivation index, KPI customer share) beside the CX of its touchpoints.

    Pooled groups (:data:`OTHER`, :data:`MISSING`) and blanked cells are left out: they are not one
    department. Department names are matched across the tables ignoring case and outer spaces.
    """
    out = cx[["department", "touchpoints", "labels", "n", "cx_mean", "cx_ci_low", "cx_ci_high", "cx_top2",
              "cx_top2_ci_low", "cx_top2_ci_high", "reach", "owns_weakest"]].rename(columns={"n": "cx_n"})
    out["_key"] = _dept_key(out["department"])
    if enps is not None and len(enps):
        e = enps[~enps["is_total"] & ~enps["suppressed"] & ~enps["group"].isin([OTHER, MISSING])]
        e = e[["group", "n", "value", "ci_low", "ci_high"]].rename(columns={
            "n": "enps_n", "value": "enps", "ci_low": "enps_ci_low", "ci_high": "enps_ci_high"})
        out = out.merge(e.assign(_key=_dept_key(e["group"])).drop(columns="group"), on="_key", how="left")
    if index is not None and len(index):
        m = index[~index["is_total"] & ~index["suppressed"] & ~index["group"].isin([OTHER, MISSING])]
        m = m[["group", "n", "mean", "ci_low", "ci_high"]].rename(columns={
            "n": "mot_n", "mean": "motivation", "ci_low": "mot_ci_low", "ci_high": "mot_ci_high"})
        out = out.merge(m.assign(_key=_dept_key(m["group"])).drop(columns="group"), on="_key", how="left")
    if kpi is not None and len(kpi):
        k = kpi[["department", "customer_share"]]
        out = out.merge(k.assign(_key=_dept_key(k["department"])).drop(columns="department"), on="_key", how="left")
    ex_cols = [c for c in ("enps", "motivation") if c in out.columns]
    if ex_cols:
        out = out[out[ex_cols].notna().any(axis=1)]
    return out.drop(columns="_key").reset_index(drop=True)


def _dept_key(values: pd.Series) -> pd.Series:
    """Department names compared across tables: stripped and case-folded."""
    return values.astype("string").str.strip().str.casefold()


def ex_cx_correlations(table: pd.DataFrame) -> pd.DataFrame:
    """Spearman's ρ across departments for each EX measure (eNPS, motivation index, KPI customer
    share) against each CX measure (mean rating, top-2 share) of the touchpoints they own.

    See :func:`spearman` for the p-values and interval. With a handful of departments only very
    strong rank agreement is significant (:func:`critical_rho`); the report says so.
    """
    rows = []
    for ex in ("enps", "motivation", "customer_share"):
        if ex not in table.columns:
            continue
        for cxm in ("cx_mean", "cx_top2"):
            r = spearman(table[ex].to_numpy(float), table[cxm].to_numpy(float))
            rows.append({"ex": ex, "cx": cxm, **r, "critical_rho": critical_rho(int(r["n"]))})
    return pd.DataFrame(rows, columns=["ex", "cx", "n", "rho", "p_value", "p_exact", "ci_low", "ci_high",
                                       "critical_rho"])


# --- everything at once -------------------------------------------------------------------------------


@dataclass
class EmployeeAnalysis:
    """Every table of the employee section, computed once (what the notebook displays).

    Tables that need an absent input are ``None``; ``drivers_error`` says why drivers are missing.
    """

    min_size: int
    employees: pd.DataFrame | None = None
    items: list[str] = field(default_factory=list)
    grouping: Grouping | None = None
    role_grouping: Grouping | None = None
    enps: pd.DataFrame | None = None
    enps_by_role: pd.DataFrame | None = None
    motivation: pd.DataFrame | None = None
    index: pd.DataFrame | None = None
    reliability: pd.DataFrame | None = None
    drivers: pd.DataFrame | None = None
    drivers_error: str | None = None
    kpi: pd.DataFrame | None = None
    touchpoints: pd.DataFrame | None = None
    cx: pd.DataFrame | None = None
    ex_cx: pd.DataFrame | None = None
    correlations: pd.DataFrame | None = None


def analyse(audit: Audit, *, drivers: bool = True) -> EmployeeAnalysis:
    """Compute the employee section for ``audit`` with its anonymity minimum (:func:`anonymity_min`).

    ``drivers=False`` skips the driver analysis (it is the slowest part and lives in another module).
    """
    k = anonymity_min(audit)
    res = EmployeeAnalysis(min_size=k)
    min_base = audit.config.min_base
    if audit.has("employees"):
        e = employee_frame(audit)
        res.employees, res.items = e, motivation_items(e)
        res.grouping = anonymous_groups(e["department"], k)
        if "enps" in e.columns and e["enps"].notna().any():
            res.enps = enps_table(e, "department", min_size=k, min_base=min_base, grouping=res.grouping)
            if "role" in e.columns and e["role"].notna().any():
                res.role_grouping = anonymous_groups(e["role"], k)
                res.enps_by_role = enps_table(e, "role", min_size=k, min_base=min_base, grouping=res.role_grouping)
        if res.items:
            res.motivation = motivation_profile(e, res.items, min_size=k, grouping=res.grouping)
            res.index = motivation_index_table(e, res.items, min_size=k, grouping=res.grouping)
            res.reliability = reliability(e, res.items, min_size=k, grouping=res.grouping)
            if drivers and "enps" in e.columns:
                try:
                    res.drivers = enps_drivers(e, res.items, min_size=k, seed=audit.config.seed)
                except ImportError as exc:  # the drivers module is not installed in this checkout
                    res.drivers_error = f"cxaudit.drivers unavailable: {exc}"
                except (DataError, MetricError) as exc:  # too few answers, constant or collinear items
                    res.drivers_error = str(exc)
    if audit.has("kpis"):
        res.kpi = kpi_alignment(audit.table("kpis"))
    if audit.has("touchpoints") and audit.touchpoint_columns:
        sc = audit.config.scales.touchpoint
        kw = {"scale_min": sc.min, "scale_max": sc.max, "top_box": sc.top_box}
        res.touchpoints = touchpoint_cx(audit.responses, audit.table("touchpoints"), **kw)
        res.cx = department_cx(audit.responses, audit.table("touchpoints"), **kw)
        if res.employees is not None and len(res.cx):
            res.ex_cx = ex_cx_table(res.enps, res.index, res.cx, res.kpi)
            res.correlations = ex_cx_correlations(res.ex_cx)
    return res


# --- findings -----------------------------------------------------------------------------------------


def _owned(res: EmployeeAnalysis, dept: str) -> tuple[list[str], float, dict[str, Any]]:
    """(touchpoints owned, reach, CX evidence) of a department; empty when it owns none."""
    if res.cx is None:
        return [], 0.0, {}
    hit = res.cx[_dept_key(res.cx["department"]) == dept.strip().casefold()]
    if hit.empty:
        return [], 0.0, {}
    row = hit.iloc[0]
    ev = {"cx_mean": row["cx_mean"], "cx_ci": [row["cx_ci_low"], row["cx_ci_high"]], "cx_n": row["n"],
          "cx_top2": row["cx_top2"], "owns_weakest": bool(row["owns_weakest"]),
          "weakest_rank": int(row["weakest_rank"])}
    return list(row["touchpoints"]), float(row["reach"]), ev


def employees_findings(audit: Audit, lang: str, analysis: EmployeeAnalysis | None = None) -> list[Finding]:
    """The section's findings.

    - ``employees.enps.<department>``: eNPS whose whole interval is below zero, or significantly below the rest of the
      company (Holm-corrected z-test). Severity 4 when the whole interval is below zero, else 3.
    - ``employees.motivation.<department>``: motivation index significantly below the rest
      (Welch t-test, Holm). Severity 3.
    - ``employees.kpi_no_cx.<department>``: none of its KPI weight is on a customer metric. Severity 4
      when it owns the weakest touchpoint, 3 when its touchpoints rate below the average touchpoint,
      else 2.

    Only departments shown separately (anonymity) get eNPS and motivation findings. ``reach`` is
    the share of customer responses that rated any touchpoint the department owns; tags carry the
    department and those touchpoints.
    """
    res = analysis or analyse(audit, drivers=False)
    out: list[Finding] = []
    if res.enps is not None and len(res.enps):
        tab = res.enps[~res.enps["is_total"] & ~res.enps["suppressed"] & (res.enps["group"] != OTHER)
                       & (res.enps["group"] != MISSING)]
        company = res.enps[res.enps["is_total"]].iloc[0]
        for _, r in tab.iterrows():
            # a negative point estimate whose interval reaches above zero is noise, not a finding
            if not (r["ci_high"] < 0 or r["below_rest"]):
                continue
            severity = 4 if r["ci_high"] < 0 else 3
            dept = str(r["group"])
            tps, reach, ev = _owned(res, dept)
            out.append(Finding(
                id=f"employees.enps.{dept}", section="employees",
                title=t("employees.finding_enps", lang, department=dept, value=fmt_num(r["value"], lang, 1, sign=True),
                        company=fmt_num(company["value"], lang, 1, sign=True)),
                metric="enps", value=float(r["value"]), n=int(r["n"]), ci_low=float(r["ci_low"]),
                ci_high=float(r["ci_high"]), severity=severity, reach=reach, unit="pts",
                evidence={"company_enps": float(company["value"]), "company_n": int(company["n"]),
                          "diff_rest": r["diff_rest"], "p_holm": r["p_holm"], "promoters": r["promoters"],
                          "detractors": r["detractors"], "test": "two-sample NPS z-test (R NPS::nps.test), Holm",
                          "anonymity_min": res.min_size, "table": "employees.enps_table", **ev},
                tags={"departments": [dept], "touchpoints": tps},
            ))
    if res.index is not None and len(res.index):
        tab = res.index[~res.index["is_total"] & ~res.index["suppressed"] & (res.index["group"] != OTHER)
                        & (res.index["group"] != MISSING)]
        company = res.index[res.index["is_total"]]
        for _, r in tab[tab["below_rest"]].iterrows():
            dept = str(r["group"])
            tps, reach, ev = _owned(res, dept)
            low_items = []
            if res.motivation is not None:
                m = res.motivation[(res.motivation["group"] == dept) & res.motivation["below_rest"]]
                low_items = list(m.sort_values("diff_rest")["measure"])
            out.append(Finding(
                id=f"employees.motivation.{dept}", section="employees",
                title=t("employees.finding_motivation", lang, department=dept, value=fmt_num(r["mean"], lang, 2),
                        rest=fmt_num(r["rest_mean"], lang, 2),
                        items=", ".join(item_label(i, lang) for i in low_items[:3]) or "–"),
                metric="motivation_index", value=float(r["mean"]), n=int(r["n"]), ci_low=float(r["ci_low"]),
                ci_high=float(r["ci_high"]), severity=3, reach=reach,
                evidence={"rest_mean": r["rest_mean"], "diff_rest": r["diff_rest"], "t": r["t"],
                          "p_holm": r["p_holm"], "low_items": low_items,
                          "company_mean": float(company["mean"].iloc[0]) if len(company) else None,
                          "test": "Welch t-test vs the rest of the company, Holm", "anonymity_min": res.min_size,
                          "table": "employees.motivation_index", **ev},
                tags={"departments": [dept], "touchpoints": tps},
            ))
    if res.kpi is not None and len(res.kpi):
        avg_tp = float(res.touchpoints["mean"].mean()) if res.touchpoints is not None and len(res.touchpoints) else None
        for _, r in res.kpi[res.kpi["no_customer_metric"]].iterrows():
            dept = str(r["department"])
            tps, reach, ev = _owned(res, dept)
            if ev.get("owns_weakest"):
                key, severity = "employees.finding_kpi_no_cx_weakest", 4
            elif ev and avg_tp is not None and ev["cx_mean"] < avg_tp:
                key, severity = "employees.finding_kpi_no_cx_below", 3
            else:
                key, severity = "employees.finding_kpi_no_cx", 2
            out.append(Finding(
                id=f"employees.kpi_no_cx.{dept}", section="employees",
                title=t(key, lang, department=dept, n=int(r["n_kpis"])),
                metric="kpi_customer_share", value=100 * float(r["customer_share"]), n=int(r["n_kpis"]),
                severity=severity, reach=reach, unit="%",
                evidence={"customer_weight": r["customer_weight"], "total_weight": r["total_weight"],
                          "average_touchpoint_mean": avg_tp, "table": "employees.kpi_alignment", **ev},
                tags={"departments": [dept], "touchpoints": tps},
            ))
    return out


# --- figures ----------------------------------------------------------------------------------------------


def plot_motivation_heatmap(profile: pd.DataFrame, lang: str) -> Figure:
    """Groups × items: colour = difference from the company mean, text = the group's mean.

    Cells significantly different from the rest of the company (Holm) are outlined; blanked
    (anonymity) cells are left empty.
    """
    groups = [g for g in dict.fromkeys(profile.loc[~profile["is_total"], "group"])]
    items = list(dict.fromkeys(profile["measure"]))
    company = profile[profile["is_total"]].set_index("measure")["mean"]
    grid = np.full((len(groups), len(items)), np.nan)
    means = np.full_like(grid, np.nan)
    sig = np.zeros_like(grid, dtype=bool)
    for _, r in profile[~profile["is_total"]].iterrows():
        i, j = groups.index(r["group"]), items.index(r["measure"])
        means[i, j] = r["mean"]
        grid[i, j] = r["mean"] - company.get(r["measure"], np.nan)
        sig[i, j] = bool(r["below_rest"] or r["above_rest"])
    lim = max(0.5, float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 0.5)
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * len(groups) + 1.9))
    # the house palette (plots.PALETTE): below the company in the detractor red, above in the brand colour
    cmap = LinearSegmentedColormap.from_list("cx_diff", [PALETTE["detractor"], "#f7f7f7", PALETTE["main"]])
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=-lim, vmax=lim, aspect="auto")
    for i in range(len(groups)):
        for j in range(len(items)):
            if np.isnan(means[i, j]):
                continue
            dark = abs(grid[i, j]) > 0.55 * lim
            ax.text(j, i, fmt_num(means[i, j], lang, 1), ha="center", va="center", fontsize=8,
                    color="white" if dark else "#222222", fontweight="bold" if sig[i, j] else "normal")
            if sig[i, j]:
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#222222", lw=1.2))
    ax.set_xticks(range(len(items)), [item_label(i, lang) for i in items], rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(groups)), [group_label(g, lang) for g in groups], fontsize=9)
    ax.grid(False)
    cbar = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    cbar.set_label(t("employees.heatmap_scale", lang), fontsize=8)
    if np.isfinite(grid).any():  # the takeaway: the department and factor furthest below the company
        i, j = (int(v) for v in np.unravel_index(int(np.nanargmin(grid)), grid.shape))
        title = t("employees.heatmap_title", lang, department=group_label(groups[i], lang),
                  item=item_label(items[j], lang), value=fmt_num(means[i, j], lang, 1),
                  company=fmt_num(float(company.get(items[j], np.nan)), lang, 1))
    else:
        title = t("employees.heatmap_title_plain", lang)
    takeaway_title(ax, title)
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_kpi_share(kpi: pd.DataFrame, lang: str) -> Figure:
    """Horizontal stacked bars: each department's KPI weight on customer metrics vs the rest."""
    tab = kpi.sort_values(["customer_share", "department"], ascending=[True, False])
    y = np.arange(len(tab))
    share = tab["customer_share"].to_numpy(float) * 100
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(tab) + 1.3))
    ax.barh(y, share, color=PALETTE["promoter"], label=t("employees.kpi_customer", lang))
    ax.barh(y, 100 - share, left=share, color=PALETTE["passive"], label=t("employees.kpi_other", lang))
    for yi, s in zip(y, share, strict=True):
        ax.text(min(float(s), 100.0) + 1, float(yi), fmt_pct(s / 100, lang), va="center", fontsize=8)
    ax.set_yticks(y, list(tab["department"]))
    ax.set_xlim(0, 100)
    ax.set_xlabel(t("employees.kpi_axis", lang))
    takeaway_title(ax, t("employees.kpi_title", lang, k=int((share <= 0).sum()), n=len(tab)))
    ax.legend(loc="lower right", fontsize=8, frameon=True)
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_ex_cx(table: pd.DataFrame, lang: str, ex: str = "enps") -> Figure:
    """Each department's EX measure (x) against the mean rating of its touchpoints (y), both with
    their 95% intervals; the department owning the weakest touchpoint is drawn in red."""
    lo_col, hi_col = {"enps": ("enps_ci_low", "enps_ci_high"), "motivation": ("mot_ci_low", "mot_ci_high")}[ex]
    tab = table.dropna(subset=[ex, "cx_mean"])
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    xerr = np.maximum(np.vstack([tab[ex] - tab[lo_col], tab[hi_col] - tab[ex]]), 0)
    yerr = np.maximum(np.vstack([tab["cx_mean"] - tab["cx_ci_low"], tab["cx_ci_high"] - tab["cx_mean"]]), 0)
    ax.errorbar(tab[ex], tab["cx_mean"], xerr=xerr, yerr=yerr, fmt="none", ecolor="#5d6d7e", capsize=2.5, lw=1.1,
                zorder=2)
    colours = [PALETTE["detractor"] if w else PALETTE["main"] for w in tab["owns_weakest"]]
    ax.scatter(tab[ex], tab["cx_mean"], color=colours, s=22, zorder=3)
    texts = [ax.text(float(r[ex]), float(r["cx_mean"]), str(r["department"]), fontsize=8, zorder=4)
             for _, r in tab.iterrows()]
    ax.set_xlabel(t("employees.axis_" + ex, lang))
    ax.set_ylabel(t("employees.axis_cx_mean", lang))
    weakest = tab[tab["owns_weakest"].astype(bool)]
    if len(weakest):
        w = weakest.iloc[0]
        takeaway_title(ax, t("employees.scatter_title", lang, department=str(w["department"]),
                             enps=fmt_num(float(w[ex]), lang, 0 if ex == "enps" else 1, sign=ex == "enps"),
                             cx=fmt_num(float(w["cx_mean"]), lang, 2)))
    else:
        takeaway_title(ax, t("employees.scatter_title_plain", lang))
    fig.tight_layout()
    if texts:  # department names apart from each other and from the points (adjustText)
        from adjustText import adjust_text

        adjust_text(texts, x=tab[ex].to_numpy(float), y=tab["cx_mean"].to_numpy(float), ax=ax,
                    arrowprops={"arrowstyle": "-", "color": "#9aa3ab", "lw": 0.6})
    plt.close(fig)
    return fig


# --- display blocks (escaped HTML through cxaudit.show) -------------------------------------------------


def _sig_text(diff: float, below: bool, above: bool, lang: str, decimals: int, sign: bool = True) -> str:
    if diff is None or (isinstance(diff, float) and math.isnan(diff)):
        return "–"
    mark = " ▼" if below else " ▲" if above else ""
    return fmt_num(diff, lang, decimals, sign=sign) + mark


def _ci_text(df: pd.DataFrame, lo: str, hi: str, lang: str, decimals: int = 2) -> list[str]:
    """Intervals as text with ``decimals`` places ("–" when missing), for scales where one decimal is too coarse."""
    return ["–" if pd.isna(a) or pd.isna(b) else fmt_ci(float(a), float(b), lang, decimals)
            for a, b in zip(df[lo], df[hi], strict=True)]


def anonymity_notes(grouping: Grouping | None, lang: str) -> list[str]:
    """The sentences that explain the anonymity rule and which groups were pooled."""
    if grouping is None:
        return []
    if grouping.suppressed:
        return [t("employees.anonymity_suppressed", lang, min=grouping.min_size)]
    out = [t("employees.anonymity_note", lang, min=grouping.min_size)]
    if grouping.merged:
        out.append(t("employees.anonymity_pooled", lang, groups=", ".join(group_label(g, lang) for g in grouping.merged)))
    return out


def enps_view(tab: pd.DataFrame, lang: str, group_header: str = "employees.col_department") -> HTML:
    """The eNPS table (one row per shown group, the company last) as escaped HTML."""
    from .show import Col, table

    df = with_labels(tab, lang)
    df["vs_rest"] = [_sig_text(d, b, a, lang, 1) for d, b, a in zip(df["diff_rest"], df["below_rest"],
                                                                     df["above_rest"], strict=True)]
    df["p_text"] = [fmt_p(p, lang) for p in df["p_holm"]]
    return table(df, [
        Col("label", group_header), Col("n", "metrics.col_n", "int"),
        Col("value", "employees.col_enps", "signed1", lo="ci_low", hi="ci_high"),
        Col("promoters", "employees.col_promoters", "pct"), Col("detractors", "employees.col_detractors", "pct"),
        Col("vs_rest", "employees.col_vs_rest"), Col("p_text", "employees.col_p"),
    ], lang)


def enps_plot(tab: pd.DataFrame, lang: str) -> Figure:
    """eNPS per shown department with its 95% interval (:func:`cxaudit.plots.ci_dotplot`)."""
    from .plots import ci_dotplot

    body = with_labels(tab[~tab["is_total"] & ~tab["suppressed"]], lang).sort_values("value", ascending=False)
    company = tab.loc[tab["is_total"], "value"]
    low = body.iloc[-1] if len(body) else None  # the takeaway: the department with the lowest eNPS
    title = t("employees.enps_plot_title", lang, department=str(low["label"]) if low is not None else "–",
              value=fmt_num(float(low["value"]), lang, 0, sign=True) if low is not None else "–",
              company=fmt_num(float(company.iloc[0]), lang, 0, sign=True) if len(company) else "–")
    return ci_dotplot(body, "label", title, lang, t("employees.enps_axis", lang),
                      reference=float(company.iloc[0]) if len(company) else None)


def motivation_view(profile: pd.DataFrame, lang: str) -> HTML:
    """Items × groups: mean with its interval beneath, ▲/▼ when different from the rest (Holm)."""
    from .show import Col, table

    groups = list(dict.fromkeys(profile.loc[~profile["is_total"], "group"])) + [TOTAL]
    items = list(dict.fromkeys(profile["measure"]))
    wide = pd.DataFrame({"item": [item_label(i, lang) for i in items]})
    cols = [Col("item", "employees.col_item")]
    for j, g in enumerate(groups):
        part = profile[profile["group"] == g].set_index("measure").reindex(items)
        if part["mean"].isna().all() and g == TOTAL:
            continue
        marks = [("" if pd.isna(m) else fmt_num(m, lang, 1) + (" ▼" if b else " ▲" if a else ""))
                 for m, b, a in zip(part["mean"], part["below_rest"].fillna(False), part["above_rest"].fillna(False),
                                    strict=True)]
        wide[f"v{j}"] = [m or None for m in marks]
        wide[f"lo{j}"], wide[f"hi{j}"] = part["ci_low"].to_numpy(), part["ci_high"].to_numpy()
        n = part["n"].max()
        header = t("employees.group_header", lang, group=group_label(g, lang),
                   n=fmt_num(n, lang, 0) if pd.notna(n) else "–")
        cols.append(Col(f"v{j}", header, "text", lo=f"lo{j}", hi=f"hi{j}"))
    return table(wide, cols, lang)


def index_view(index: pd.DataFrame, lang: str) -> HTML:
    """The motivation index per group: n, mean with interval, difference from the rest (▲/▼), p."""
    from .show import Col, table

    df = with_labels(index, lang)
    df["vs_rest"] = [_sig_text(d, b, a, lang, 2) for d, b, a in zip(df["diff_rest"], df["below_rest"],
                                                                     df["above_rest"], strict=True)]
    df["p_text"] = [fmt_p(p, lang) for p in df["p_holm"]]
    df["ci_text"] = _ci_text(df, "ci_low", "ci_high", lang)
    return table(df, [
        Col("label", "employees.col_department"), Col("n", "metrics.col_n", "int"),
        Col("mean", "employees.col_index", "num2"), Col("ci_text", "metrics.col_ci"),
        Col("vs_rest", "employees.col_vs_rest"), Col("p_text", "employees.col_p"),
    ], lang, small_base=None)


def reliability_view(rel: pd.DataFrame, lang: str) -> HTML:
    """Cronbach's alpha per group with its interval and base."""
    from .show import Col, table

    df = with_labels(rel, lang)
    df["flag"] = ["" if a or pd.isna(al) else "< " + fmt_num(ALPHA_ACCEPTABLE, lang, 1)
                  for a, al in zip(df["acceptable"], df["alpha"], strict=True)]
    df["ci_text"] = _ci_text(df, "ci_low", "ci_high", lang)
    return table(df, [
        Col("label", "employees.col_department"), Col("n", "metrics.col_n", "int"),
        Col("alpha", "employees.col_alpha", "num2"), Col("ci_text", "metrics.col_ci"),
        Col("flag", "quality.col_flag", "flag"),
    ], lang, small_base=None)


def drivers_view(drivers: pd.DataFrame, lang: str) -> HTML:
    """Relative importance of the motivation items for eNPS: % of R² (with its bootstrap interval)."""
    from .show import Col, table

    df = drivers.reset_index().rename(columns={drivers.index.name or "index": "driver"})
    df["item"] = [item_label(str(d), lang) for d in df["driver"]]
    cols = [Col("rank", "employees.col_rank", "int"), Col("item", "employees.col_item")]
    if "share_ci_low" in df.columns:
        cols.append(Col("share", "employees.col_share", "num1", lo="share_ci_low", hi="share_ci_high"))
    else:
        cols.append(Col("share", "employees.col_share", "num1"))
    if "significant" in df.columns:
        df["sig"] = [t("employees.yes" if s else "employees.no", lang) for s in df["significant"]]
        cols.append(Col("sig", "employees.col_significant"))
    cols.append(Col("n", "metrics.col_n", "int"))
    return table(df, cols, lang, small_base=None)


def kpi_view(kpi: pd.DataFrame, lang: str) -> HTML:
    """Per department: number of KPIs, weight on customer metrics (%), which KPIs those are."""
    from .show import Col, table

    df = kpi.sort_values(["customer_share", "department"], ascending=[False, True]).copy()
    df["kpis"] = [s if s else t("employees.none", lang) for s in df["customer_kpis"]]
    return table(df, [
        Col("department", "employees.col_department"), Col("n_kpis", "employees.col_n_kpis", "int"),
        Col("customer_share", "employees.col_customer_share", "pct"),
        Col("kpis", "employees.col_customer_kpis"),
    ], lang, small_base=None)


def ex_cx_view(ex_cx: pd.DataFrame, lang: str) -> HTML:
    """Per department: eNPS, motivation index, KPI customer share and the CX of its touchpoints."""
    from .show import Col, table

    df = ex_cx.sort_values("cx_mean").copy()
    df["tps"] = [", ".join(str(x) for x in labels) for labels in df["labels"]]
    cols = [Col("department", "employees.col_department"), Col("tps", "employees.col_touchpoints")]
    if "enps" in df.columns:
        cols += [Col("enps", "employees.col_enps", "signed1", lo="enps_ci_low", hi="enps_ci_high"),
                 Col("enps_n", "metrics.col_n", "int")]
    if "motivation" in df.columns:
        cols.append(Col("motivation", "employees.col_index", "num2", lo="mot_ci_low", hi="mot_ci_high"))
    if "customer_share" in df.columns:
        cols.append(Col("customer_share", "employees.col_customer_share", "pct"))
    df["cx_ci"] = _ci_text(df, "cx_ci_low", "cx_ci_high", lang)
    cols += [Col("cx_mean", "employees.col_cx_mean", "num2"), Col("cx_ci", "metrics.col_ci"),
             Col("cx_top2", "employees.col_cx_top2", "pct", lo="cx_top2_ci_low", hi="cx_top2_ci_high"),
             Col("cx_n", "employees.col_customers_n", "int")]
    return table(df, cols, lang, small_base=None)


def correlations_view(corr: pd.DataFrame, lang: str) -> HTML:
    """Spearman's ρ per (EX, CX) pair with its interval, exact p and the number of departments."""
    from .show import Col, table

    df = corr.copy()
    df["ex_label"] = [t(f"employees.measure_{m}", lang) for m in df["ex"]]
    df["cx_label"] = [t(f"employees.measure_{m}", lang) for m in df["cx"]]
    df["p_text"] = [fmt_p(p, lang) for p in df["p_exact"]]
    df["ci_text"] = _ci_text(df, "ci_low", "ci_high", lang)
    return table(df, [
        Col("ex_label", "employees.col_ex"), Col("cx_label", "employees.col_cx"),
        Col("rho", "employees.col_rho", "num2"), Col("ci_text", "metrics.col_ci"),
        Col("p_text", "employees.col_p_exact"), Col("n", "employees.col_departments_n", "int"),
    ], lang, small_base=None)


def blocks_correlations(res: EmployeeAnalysis, lang: str) -> list[Any]:
    """The EX–CX rank correlations across departments: the table only when a correlation is significant
    (exact p < 0.05), else one sentence (issue 14: no-difference results collapse to one line); then the
    small-n caveat (:func:`small_n_caveat`)."""
    from .show import heading, note, paragraph

    corr = res.correlations
    out: list[Any] = [heading(t("employees.corr_heading", lang), "employees")]
    if corr is not None and len(corr) and corr["n"].max() >= 3:
        if (pd.to_numeric(corr["p_exact"], errors="coerce") < 0.05).any():
            out += [paragraph(t("employees.corr_intro", lang)), correlations_view(corr, lang)]
        else:
            out.append(paragraph(t("employees.corr_no_difference", lang, n=int(corr["n"].max()))))
    out.append(note(small_n_caveat(corr, lang)))
    return out


def small_n_caveat(corr: pd.DataFrame | None, lang: str) -> str:
    """The small-n warning printed under the rank correlations (with the critical |ρ| at this n)."""
    n = int(corr["n"].max()) if corr is not None and len(corr) else 0
    if n < 3:
        return t("employees.too_few_departments", lang)
    crit = critical_rho(n)
    return t("employees.small_n_caveat", lang, n=n, crit=fmt_num(crit, lang, 2) if not math.isnan(crit) else "1")


def weakest_note(res: EmployeeAnalysis, lang: str) -> str | None:
    """Which department owns the lowest-rated touchpoint (None when there is no owner)."""
    if res.touchpoints is None or not len(res.touchpoints):
        return None
    w = res.touchpoints.iloc[0]
    if w["owner_department"] is None or pd.isna(w["owner_department"]):
        return None
    return t("employees.weakest_note", lang, department=w["owner_department"], touchpoint=w["label"],
             value=fmt_num(w["mean"], lang, 2), ci=fmt_ci(w["ci_low"], w["ci_high"], lang, 2),
             n=fmt_num(w["n"], lang, 0))
