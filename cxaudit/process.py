"""AS-IS service processes mined from an event log (the ``events`` table).

An event log has one row per step of a service case: ``case_id``, ``activity``, ``timestamp`` and
optionally ``resource``, ``department``, ``channel``, ``customer_id``, ``ticket_id``. Everything here
is an aggregation of that log on pandas / numpy (vectorised; a million events take seconds, see
``bench/bench_process.py``):

* **Process map** -- the directly-follows graph (DFG): for each pair of activities a -> b that follow
  each other directly in a case, the number of transitions, the number of cases and the waiting time
  between them (median, 90th percentile). van der Aalst, W. (2016), *Process Mining: Data Science in
  Action*, 2nd ed., §6.2 (directly-follows relation) and §9.4 (performance annotations).
* **Variants** -- the distinct activity sequences of cases, with their share of cases and a Wilson
  interval (van der Aalst 2016, §2.3: a trace variant).
* **Rework loops** -- an activity that occurs more than once in a case: per activity, the share of the
  cases containing it in which it repeats (Wilson interval). A loop is *flagged* when that share is
  at least :data:`LOOP_MIN_SHARE` and its lower bound at least :data:`LOOP_MIN_LOW` (rework on
  purpose is rare; a repeat rate of a few percent is noise of data entry).
* **Handovers** -- consecutive steps of a case in different departments (the handover-of-work
  relation, van der Aalst, Reijers & Song 2005, *CSCW* 14(6), "Discovering social networks from event
  logs"), counted per department pair and per case.
* **Bottlenecks** -- the waiting time before each activity (since the previous step of its case):
  median with a distribution-free 95 % interval from order statistics
  (:func:`cxaudit.tickets.quantile_ci`; Conover 1999, §3.2), 90th percentile, and its share of all
  waiting. An activity is *flagged* when the lower bound of its median wait exceeds
  :data:`BOTTLENECK_FACTOR` times the median wait of all steps of the log (a robust reference: the
  typical step).
* **Response-time conformance** -- per channel, the share of cases whose first step after the opening
  one came within the channel's response-time standard (``tickets.sla_hours`` of audit.yaml, the
  defaults of :data:`cxaudit.tickets.DEFAULT_SLA_HOURS`), with a Wilson interval.
* **Joined to experience** -- cases with a loop and cases with a handover against the other cases, on
  the outcome of their customers: NPS (the customer's most recent valid answer, as the churn and
  ticket sections assign it; two-sample NPS z-test, R package NPS ``nps.test``) and the case's ticket
  CSAT (top-2-box; pooled two-proportion z-test), with the Holm adjustment over the whole family
  (Holm 1979, *Scand J Statist* 6(2)).

Examples
--------
>>> ev = pd.DataFrame({"case_id": ["a", "a", "a", "b", "b"],
...                    "activity": ["Open", "Fix", "Fix", "Open", "Fix"],
...                    "timestamp": pd.to_datetime(["2025-01-01 10:00", "2025-01-01 12:00", "2025-01-01 13:00",
...                                                 "2025-01-02 09:00", "2025-01-02 10:00"])})
>>> g = directly_follows(prepare(ev))
>>> g[["source", "target", "transitions", "cases", "wait_median_h"]].to_dict("records")
[{'source': 'Open', 'target': 'Fix', 'transitions': 2, 'cases': 2, 'wait_median_h': 1.5}, \
{'source': 'Fix', 'target': 'Fix', 'transitions': 1, 'cases': 1, 'wait_median_h': 1.0}]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as _st

from .findings import Finding
from .i18n import fmt_date, fmt_int, fmt_num, fmt_pct, t
from .metrics import wilson

__all__ = [
    "LOOP_MIN_SHARE",
    "LOOP_MIN_LOW",
    "BOTTLENECK_FACTOR",
    "EventLog",
    "ProcessAnalysis",
    "ProcessPaths",
    "paths_audit",
    "prepare",
    "directly_follows",
    "variants",
    "rework_loops",
    "handovers",
    "bottlenecks",
    "conformance",
    "case_table",
    "experience",
    "analyse",
    "analyse_audit",
    "process_findings",
    "blocks_overview",
    "blocks_map",
    "blocks_variants",
    "blocks_loops",
    "blocks_bottlenecks",
    "blocks_experience",
    "missing_note",
    "process_map_svg",
    "DiscoveredModel",
    "discover_inductive",
]

SECTION = "processes"
#: A loop is flagged when the activity repeats in at least this share of the cases that contain it ...
LOOP_MIN_SHARE = 0.05
#: ... and the Wilson lower bound of that share is at least this.
LOOP_MIN_LOW = 0.02
#: A bottleneck: the lower 95 % bound of the activity's median wait exceeds this × the log's median wait.
BOTTLENECK_FACTOR = 3.0
#: Fewer cases than this: an activity is listed but never flagged.
MIN_CASES = 20


@dataclass(frozen=True)
class EventLog:
    """A sorted event log with integer codes (what every function below reads).

    The log is sorted by case, then timestamp, then file order; ``case`` and ``act`` are integer
    codes into ``cases`` and ``activities``; ``ts`` the step's time (int64 nanoseconds); ``wait_h`` is
    the time since the previous step of the same case in hours (NaN for a case's first step);
    ``first`` marks each case's first step. ``dep`` / ``chan`` code the ``department`` / ``channel``
    of each step into ``departments`` / ``channels`` (-1: no value; None without the column).
    ``rows`` are the sorted steps' positions in ``source``, the events table as given (no copy is
    kept: :attr:`frame` rebuilds the sorted table when asked).
    """

    source: pd.DataFrame
    rows: np.ndarray
    case: np.ndarray
    act: np.ndarray
    cases: pd.Index
    activities: pd.Index
    ts: np.ndarray
    wait_h: np.ndarray
    first: np.ndarray
    dep: np.ndarray | None = None
    departments: pd.Index | None = None
    chan: np.ndarray | None = None
    channels: pd.Index | None = None
    dropped: dict[str, int] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def frame(self) -> pd.DataFrame:
        """The sorted events table (built on each call: an analyst's view, not used by the analysis)."""
        return self.source.iloc[self.rows].reset_index(drop=True)

    @property
    def n_events(self) -> int:
        return len(self.case)

    @property
    def n_cases(self) -> int:
        return len(self.cases)

    def has(self, column: str) -> bool:
        return column in self.source.columns

    def case_variants(self) -> tuple[np.ndarray, list[list[int]], np.ndarray, np.ndarray]:
        """Each case's variant (:func:`_case_variants`, computed once); readers of a log need not import
        this module (the blueprints: :mod:`cxaudit.bpmn`, which this module draws its map with)."""
        return _case_variants(self)


def _factorize(col: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize`` of a column read as text (a text column as it is, another as ``string``). A
    categorical of text (:meth:`cxaudit.audit.Audit.columns`) is factorized on its codes: the same codes
    and values, in the same order of first appearance, without building its strings."""
    if isinstance(col.dtype, pd.CategoricalDtype) and isinstance(col.dtype.categories.dtype, pd.StringDtype):
        codes, uniq = pd.factorize(col, sort=False)
        return codes, pd.Index(np.asarray(uniq, dtype=object), dtype=col.dtype.categories.dtype)
    s = col if isinstance(col.dtype, pd.StringDtype) else col.astype("string")
    codes, uniq = pd.factorize(s, sort=False)
    return codes, pd.Index(uniq)


#: The columns of the event log the analysis reads, and those read as categoricals when the audit can
#: (:meth:`cxaudit.audit.Audit.columns`; at the XL demo size 2.4 GB of text in a kernel otherwise).
EVENT_COLUMNS = ("case_id", "activity", "timestamp", "lifecycle", "department", "channel", "customer_id",
                 "ticket_id")
EVENT_CATEGORIES = ("case_id", "activity", "lifecycle", "department", "channel", "customer_id", "ticket_id")


#: What the analysis reads of each table (the tickets' texts and the survey's ratings stay unread).
_READS = {"events": EVENT_COLUMNS, "tickets": ("ticket_id", "customer_id", "channel", "csat"),
          "responses": ("customer_id", "nps", "date", "_row"), "customers": ("customer_id",)}


def _read(audit: Any, name: str, categories: Sequence[str] = ()) -> pd.DataFrame:
    """The columns of table ``name`` the analysis reads (:data:`_READS`), ``categories`` coded, when the
    audit can (:meth:`cxaudit.audit.Audit.columns`); else the whole table."""
    columns = getattr(audit, "columns", None)
    return audit.table(name) if columns is None else columns(name, _READS[name], categories=categories)


def _small_int(codes: np.ndarray, n: int) -> np.ndarray:
    return codes.astype(np.int8 if n < 127 else np.int16 if n < 32_767 else np.int32)


def prepare(events: pd.DataFrame) -> EventLog:
    """Sort and code an ``events`` table. Rows without a case, activity or timestamp are dropped and
    counted (``dropped``); with a ``lifecycle`` column (XES ``lifecycle:transition``) only
    ``complete`` steps (or steps without a transition) are kept, the others counted as
    ``lifecycle_not_complete``.

    Only integer arrays are built (one code per step and column, see :class:`EventLog`); the table
    itself is neither copied nor sorted: a log of 11.2M steps keeps 0.4 GB besides its table (0.6 GB
    while it is built)."""
    ev = events
    dropped: dict[str, int] = {}
    ok = ev["case_id"].notna() & ev["activity"].notna() & ev["timestamp"].notna()
    if (~ok).any():
        dropped["missing_value"] = int((~ok).sum())
    if "lifecycle" in ev.columns:
        lc = ev["lifecycle"].astype("string").str.lower()
        keep_lc = lc.isna() | (lc == "complete")
        if (ok & ~keep_lc).any():
            dropped["lifecycle_not_complete"] = int((ok & ~keep_lc).sum())
        ok &= keep_lc
    keep = None if bool(ok.all()) else np.flatnonzero(ok.to_numpy())

    def col(name: str) -> pd.Series:
        return ev[name] if keep is None else ev[name].iloc[keep]

    case_codes, cases = _factorize(col("case_id"))
    ts = pd.to_datetime(col("timestamp")).to_numpy("datetime64[ns]").astype("int64")
    order = np.lexsort((ts, case_codes))  # stable: ties keep the file order
    n = len(order)
    case = case_codes[order].astype(np.int32 if len(cases) < 2**31 else np.int64)
    del case_codes
    ts = ts[order]
    a0, acts = _factorize(col("activity"))
    a0 = a0[order]
    # codes in order of first appearance in the sorted log (as factorizing the sorted column gives)
    first_at = np.full(len(acts), len(a0), dtype=np.int64)
    np.minimum.at(first_at, a0, np.arange(len(a0)))
    rank = np.empty(len(acts), dtype=np.int64)
    rank[np.argsort(first_at, kind="stable")] = np.arange(len(acts))
    act = rank[a0].astype(np.int32)
    del a0
    activities = pd.Index(acts[np.argsort(rank, kind="stable")])
    first = np.ones(n, dtype=bool)
    first[1:] = case[1:] != case[:-1]
    wait = np.full(n, np.nan)
    wait[1:] = (ts[1:] - ts[:-1]) / 3.6e12
    wait[first] = np.nan
    coded: dict[str, tuple[np.ndarray | None, pd.Index | None]] = {}
    for c in ("department", "channel"):
        if c in ev.columns:
            codes, uniq = _factorize(col(c))
            coded[c] = (_small_int(codes, len(uniq))[order], uniq)
        else:
            coded[c] = (None, None)
    rows = order if keep is None else keep[order]
    return EventLog(ev, rows, case, act, pd.Index(cases), activities, ts, wait, first,
                    coded["department"][0], coded["department"][1], coded["channel"][0], coded["channel"][1],
                    dropped)


def _distinct(a: np.ndarray, *, counts: bool = False) -> Any:
    """``numpy.unique(a)`` (with ``return_counts``) of an integer array by one sort (numpy's ``unique``
    may hash, which is far slower on millions of distinct values)."""
    s = np.sort(a)
    head = np.ones(len(s), dtype=bool)
    head[1:] = s[1:] != s[:-1]
    if not counts:
        return s[head]
    at = np.flatnonzero(head)
    return s[at], np.diff(np.r_[at, len(s)])


def _case_activity_counts(log: EventLog) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (case, activity) pairs coded ``case * k + act`` (sorted) and how often each occurs."""
    if "ca" not in log._memo:
        k = len(log.activities)
        ca = log.case.astype(np.int64) * k + log.act
        log._memo["ca"] = _distinct(ca, counts=True)
    return log._memo["ca"]


def directly_follows(log: EventLog) -> pd.DataFrame:
    """The directly-follows graph: ``source, target, transitions, cases, case_share, wait_median_h,
    wait_p90_h``, most frequent edge first (van der Aalst 2016, §6.2)."""
    nxt = ~log.first[1:]
    src, dst = log.act[:-1][nxt], log.act[1:][nxt]
    case = log.case[1:][nxt]
    wait = log.wait_h[1:][nxt]
    k = len(log.activities)
    pair = src.astype(np.int64) * k + dst
    del src, dst
    n_t = np.bincount(pair, minlength=k * k)
    n_c = np.bincount(_distinct(case.astype(np.int64) * (k * k) + pair) % (k * k), minlength=k * k)  # distinct cases
    del case
    g = pd.Series(wait, copy=False).groupby(pair, sort=False)  # the waits alone: no frame of every transition
    out = pd.DataFrame({"wait_median_h": g.median(), "wait_p90_h": g.quantile(0.9)})
    out.insert(0, "cases", n_c[out.index.to_numpy()])
    out.insert(0, "transitions", n_t[out.index.to_numpy()])
    out["source"] = log.activities[(out.index // k).to_numpy()].astype(str)
    out["target"] = log.activities[(out.index % k).to_numpy()].astype(str)
    out["case_share"] = out["cases"] / max(log.n_cases, 1)
    out = out.sort_values(["transitions", "source", "target"], ascending=[False, True, True], kind="stable")
    return out[["source", "target", "transitions", "cases", "case_share", "wait_median_h", "wait_p90_h"]].reset_index(
        drop=True)


def start_end(log: EventLog) -> tuple[pd.Series, pd.Series]:
    """Cases per start activity and per end activity."""
    last = np.ones(log.n_events, dtype=bool)
    last[:-1] = log.case[:-1] != log.case[1:]
    names = np.asarray(log.activities.astype(str), dtype=object)
    out = []
    for m in (log.first, last):  # counted on codes; the same order as counting the names (a bijection)
        vc = pd.Series(log.act[m].astype(np.int64)).value_counts()
        vc.index = pd.Index(names[vc.index.to_numpy()])
        out.append(vc)
    return out[0], out[1]


def _unique_rows(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``numpy.unique(mat, axis=0, return_inverse=True, return_counts=True)`` of an integer matrix, the
    same three arrays, by hashing: each row is hashed to one integer (polynomial, wrapping), the
    hashes are factorized, every row is checked equal to its group's first row (a collision falls back
    to ``numpy.unique``), and only the distinct rows are sorted (lexicographically, as numbers)."""
    n, w = mat.shape
    if n == 0 or w == 0:
        uniq, inv, counts = np.unique(mat, axis=0, return_inverse=True, return_counts=True)
        return uniq, np.asarray(inv).reshape(-1), counts
    h = np.zeros(n, dtype=np.uint64)
    for j in range(w):
        h *= np.uint64(1_000_003)
        h += mat[:, j].astype(np.int64).view(np.uint64)
    codes, uh = pd.factorize(h)
    del h
    rep = np.full(len(uh), n, dtype=np.int64)
    np.minimum.at(rep, codes, np.arange(n))  # each group's first row
    small = mat[rep]
    for j in range(w):  # exactness: every row equals its group's representative
        if not np.array_equal(mat[:, j], small[codes, j]):
            uniq, inv, counts = np.unique(mat, axis=0, return_inverse=True, return_counts=True)
            return uniq, np.asarray(inv).reshape(-1), counts
    order = np.lexsort(small.T[::-1])  # the first column sorts first
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    inv = rank[codes]
    return small[order], inv, np.bincount(inv, minlength=len(order))


def _case_variants(log: EventLog) -> tuple[np.ndarray, list[list[int]], np.ndarray, np.ndarray]:
    """Each case's variant: ``(vid, seqs, counts, rank)``: ``vid[case]`` indexes ``seqs`` (every distinct
    activity sequence, as codes) and ``counts`` (its number of cases); ``rank`` lists the variants
    most frequent first (ties: the sequences' lexicographic order of codes). Cases are rows of a padded
    code matrix counted with ``numpy.unique(axis=0)`` (exact, no hashing); a log whose longest case
    would make that matrix over 50M cells joins each case's codes as text instead (ties: the texts'
    order). The matrix's distinct rows are found by hashing (:func:`_unique_rows`, the same result as
    ``numpy.unique``). Computed once per log."""
    if "variants" in log._memo:
        return log._memo["variants"]
    if not log.n_events:
        z = np.zeros(0, dtype=np.int64)
        res: tuple[np.ndarray, list[list[int]], np.ndarray, np.ndarray] = (z, [], z, z)
    else:
        starts = np.flatnonzero(log.first)
        lens = np.diff(np.r_[starts, log.n_events])
        width = int(lens.max())
        if log.n_cases * width <= 50_000_000:
            mat = np.full((log.n_cases, width), -1, dtype=np.int32)
            mat[log.case, np.arange(log.n_events) - np.repeat(starts, lens)] = log.act
            uniq, inv, counts = _unique_rows(mat)
            del mat
            seqs = [[int(c) for c in row if c >= 0] for row in uniq]
            rank = np.argsort(-counts, kind="stable")
            res = (inv, seqs, counts, rank)
        else:
            keys = pd.Series(log.act.astype(str), copy=False).groupby(log.case, sort=False).agg(",".join)
            vid, texts = pd.factorize(keys.to_numpy(object), sort=False)
            counts = np.bincount(vid, minlength=len(texts))
            rank = np.lexsort((np.asarray(texts, dtype=object), -counts))
            # cases are codes 0..n-1 in order (groupby sort=False over sorted codes)
            res = (vid, [[int(c) for c in k.split(",")] for k in texts], counts, rank)
    log._memo["variants"] = res
    return res


def _variant_counts(log: EventLog) -> tuple[list[list[int]], np.ndarray]:
    """Every distinct activity sequence (as codes) and its number of cases, most frequent first (see
    :func:`_case_variants`)."""
    _, seqs, counts, rank = _case_variants(log)
    return [seqs[i] for i in rank], counts[rank]


def variants(log: EventLog, top: int = 10) -> pd.DataFrame:
    """The ``top`` most frequent variants: ``rank, variant (list of activities), steps, cases, share,
    ci_low, ci_high`` (Wilson); ``attrs["n_variants"]`` counts all of them."""
    seqs, counts = _variant_counts(log)
    n = int(counts.sum())
    head, hc = seqs[:top], counts[:top]
    lo, hi = wilson(hc.astype(float), np.full(len(hc), float(n)))
    names = [[str(log.activities[c]) for c in seq] for seq in head]
    out = pd.DataFrame({"rank": np.arange(1, len(head) + 1), "variant": names, "steps": [len(v) for v in names],
                        "cases": hc, "share": hc / n if n else hc * 0.0, "ci_low": lo, "ci_high": hi})
    out.attrs["n_variants"] = len(seqs)
    out.attrs["n_cases"] = n
    return out


def _activity_department(log: EventLog) -> pd.Series:
    """The most frequent department of each activity ('' without a department column; ties: the
    department name that sorts first)."""
    if log.dep is None or log.departments is None:
        return pd.Series("", index=log.activities.astype(str))
    if "act_dep" in log._memo:
        return log._memo["act_dep"]
    k, nd = len(log.activities), len(log.departments)
    known = log.dep >= 0
    n = np.bincount(log.act[known].astype(np.int64) * nd + log.dep[known], minlength=k * nd).reshape(k, nd)
    names = np.asarray(log.departments.astype(str), dtype=object)
    by_name = np.argsort(names, kind="stable")  # departments in name order: argmax takes the first of a tie
    best = by_name[np.argmax(n[:, by_name], axis=1)] if nd else np.zeros(k, dtype=np.int64)
    has = n.sum(axis=1) > 0 if nd else np.zeros(k, dtype=bool)
    out = pd.Series([str(names[best[i]]) if has[i] else "" for i in range(k)], index=log.activities.astype(str))
    log._memo["act_dep"] = out
    return out


def rework_loops(log: EventLog, *, min_share: float = LOOP_MIN_SHARE, min_low: float = LOOP_MIN_LOW,
                 min_cases: int = MIN_CASES) -> pd.DataFrame:
    """Per activity: ``activity, department, cases_with, cases_repeated, share, ci_low, ci_high,
    repeats (extra occurrences), flagged``; flagged loops first, then by share."""
    k = len(log.activities)
    uniq, cnt = _case_activity_counts(log)
    act = uniq % k
    with_ = np.bincount(act, minlength=k)
    rep = np.bincount(act, weights=(cnt > 1), minlength=k).astype(int)
    extra = np.bincount(act, weights=cnt - 1, minlength=k).astype(int)
    lo, hi = wilson(rep.astype(float), with_.astype(float))
    lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
    dept = _activity_department(log)
    out = pd.DataFrame({"activity": log.activities.astype(str), "department": dept.to_numpy(), "cases_with": with_,
                        "cases_repeated": rep, "share": rep / np.maximum(with_, 1), "ci_low": lo, "ci_high": hi,
                        "repeats": extra})
    out["flagged"] = (out["share"] >= min_share) & (out["ci_low"] >= min_low) & (out["cases_with"] >= min_cases)
    return out.sort_values(["flagged", "share", "activity"], ascending=[False, False, True], kind="stable").reset_index(
        drop=True)


def _handover_steps(log: EventLog) -> np.ndarray:
    """Index ``i`` of each step ``i + 1`` that follows step ``i`` of the same case in another
    department (both known)."""
    if "handover_steps" not in log._memo:
        d = log.dep
        if d is None or log.n_events < 2:
            log._memo["handover_steps"] = np.zeros(0, dtype=np.int64)
        else:
            log._memo["handover_steps"] = np.flatnonzero(~log.first[1:] & (d[:-1] >= 0) & (d[1:] >= 0)
                                                         & (d[:-1] != d[1:]))
    return log._memo["handover_steps"]


def handovers(log: EventLog) -> pd.DataFrame:
    """Department pairs of consecutive steps of a case: ``from_department, to_department, transitions,
    cases, case_share``; empty without a department column."""
    cols = ["from_department", "to_department", "transitions", "cases", "case_share"]
    if log.dep is None or log.departments is None:
        return pd.DataFrame(columns=cols)
    i = _handover_steps(log)
    if not len(i):
        return pd.DataFrame(columns=cols)
    nd = len(log.departments)
    pair = log.dep[i].astype(np.int64) * nd + log.dep[i + 1]
    transitions = np.bincount(pair, minlength=nd * nd)
    np2 = nd * nd
    if log.n_cases * np2 <= 50_000_000:  # cases per pair: a case x pair presence matrix, summed
        cases = (np.bincount(log.case[i + 1].astype(np.int64) * np2 + pair, minlength=log.n_cases * np2)
                 .reshape(log.n_cases, np2) > 0).sum(axis=0)
    else:
        cp = _distinct(log.case[i + 1].astype(np.int64) * np2 + pair)  # distinct (case, pair)
        cases = np.bincount(cp % np2, minlength=np2)
    used = np.flatnonzero(transitions)
    names = np.asarray(log.departments.astype(str), dtype=object)
    out = pd.DataFrame({"from_department": pd.Series(names[used // nd], dtype="str"),
                        "to_department": pd.Series(names[used % nd], dtype="str"),
                        "transitions": transitions[used], "cases": cases[used]})
    out = out.sort_values(["from_department", "to_department"], kind="stable").reset_index(drop=True)
    out["case_share"] = out["cases"] / max(log.n_cases, 1)
    return out.sort_values(["cases", "from_department", "to_department"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)[cols]


def _quantile_ci_sorted(a: np.ndarray, q: float) -> tuple[float, float, float]:
    """:func:`cxaudit.tickets.quantile_ci` on an already sorted array (the same order statistics)."""
    n = len(a)
    if n == 0:
        return math.nan, math.nan, math.nan
    r = int(_st.binom.ppf(0.025, n, q))
    s = int(_st.binom.ppf(0.975, n, q)) + 1
    lo = float(a[r - 1]) if 1 <= r <= n else math.nan
    hi = float(a[s - 1]) if 1 <= s <= n else math.nan
    return float(np.quantile(a, q)), lo, hi


def bottlenecks(log: EventLog, *, factor: float = BOTTLENECK_FACTOR, min_cases: int = MIN_CASES) -> pd.DataFrame:
    """Waiting time before each activity: ``activity, department, n, wait_median_h, ci_low, ci_high,
    wait_p90_h, wait_share, ratio (median / the log's median wait), flagged``; flagged first, then by
    median. ``attrs["reference_h"]`` is the log's median wait over all steps."""
    ok = ~np.isnan(log.wait_h)
    w, a = log.wait_h[ok], log.act[ok]
    ref = float(np.median(w)) if len(w) else math.nan
    total = float(w.sum()) if len(w) else math.nan
    # sorted by activity, then wait: group by activity (a stable sort of small codes), sort each group
    order = np.argsort(a.astype(np.int16) if len(log.activities) < 32_767 else a, kind="stable")
    w, a = w[order], a[order]
    bounds = np.flatnonzero(np.r_[True, a[1:] != a[:-1], True])
    for i in range(len(bounds) - 1):
        w[bounds[i]:bounds[i + 1]].sort()
    dept = _activity_department(log)
    rows = []
    for i in range(len(bounds) - 1):
        seg = w[bounds[i]:bounds[i + 1]]
        act = str(log.activities[int(a[bounds[i]])])
        med, lo, hi = _quantile_ci_sorted(seg, 0.5)
        rows.append({"activity": act, "department": dept.get(act, ""), "n": len(seg), "wait_median_h": med,
                     "ci_low": lo, "ci_high": hi, "wait_p90_h": float(np.quantile(seg, 0.9)),
                     "wait_share": float(seg.sum()) / total if total > 0 else math.nan})
    out = pd.DataFrame(rows, columns=["activity", "department", "n", "wait_median_h", "ci_low", "ci_high",
                                      "wait_p90_h", "wait_share"])
    out["ratio"] = out["wait_median_h"] / ref if ref and ref > 0 else math.nan
    out["flagged"] = (out["n"] >= min_cases) & (out["ci_low"] > factor * ref) if ref == ref else False
    out = out.sort_values(["flagged", "wait_median_h", "activity"], ascending=[False, False, True],
                          kind="stable").reset_index(drop=True)
    out.attrs["reference_h"] = ref
    out.attrs["factor"] = factor
    return out


def _first_values(log: EventLog, name: str) -> np.ndarray:
    """Per case, the first value of column ``name`` present in its steps (as text; ``pd.NA`` when none),
    as ``groupby(case).first()`` of the sorted column: only the chosen values are read from the table."""
    col = log.source[name]
    valid = col.notna().to_numpy()[log.rows]
    pos = np.flatnonzero(valid)
    case_at = log.case[pos]
    head = np.r_[True, case_at[1:] != case_at[:-1]] if len(pos) else np.zeros(0, dtype=bool)
    out = np.full(log.n_cases, pd.NA, dtype=object)
    out[case_at[head]] = col.iloc[log.rows[pos[head]]].astype("string").to_numpy()
    return out


def _case_departments(log: EventLog) -> np.ndarray:
    """Per case, the sorted list of the departments of its steps. Cases with the same set share one
    list object: the sets are rows of a case x department presence matrix (or, with very many
    departments, of a padded matrix of each case's department ranks), made distinct with
    :func:`_unique_rows`."""
    assert log.dep is not None and log.departments is not None
    names = np.asarray(log.departments.astype(str), dtype=object)
    nd = len(names)
    out = np.empty(log.n_cases, dtype=object)
    if not log.n_cases:
        return out
    rank = np.empty(nd, dtype=np.int64)
    rank[np.argsort(names, kind="stable")] = np.arange(nd)  # the departments' name order
    by_rank = names[np.argsort(rank)]
    known = log.dep >= 0
    if log.n_cases * max(nd, 1) <= 50_000_000:
        pres = np.bincount(log.case[known].astype(np.int64) * nd + rank[log.dep[known]],
                           minlength=log.n_cases * nd).reshape(log.n_cases, nd) > 0
        uniq, inv, _ = _unique_rows(pres.view(np.int8))
        lists = np.empty(len(uniq), dtype=object)
        lists[:] = [[str(by_rank[r]) for r in np.flatnonzero(row)] for row in uniq]
        out[:] = lists[inv]
        return out
    cd = _distinct(log.case[known].astype(np.int64) * nd + rank[log.dep[known]])  # (case, rank), sorted
    case_of, dep_rank = cd // nd, cd % nd
    n_per = np.bincount(case_of, minlength=log.n_cases)
    width = int(n_per.max())
    if log.n_cases * max(width, 1) <= 50_000_000:
        starts = np.r_[0, np.cumsum(n_per)[:-1]]
        mat = np.full((log.n_cases, max(width, 1)), -1, dtype=np.int64)
        mat[case_of, np.arange(len(cd)) - starts[case_of]] = dep_rank
        uniq, inv, _ = _unique_rows(mat)
        lists = np.empty(len(uniq), dtype=object)
        lists[:] = [[str(by_rank[r]) for r in row if r >= 0] for row in uniq]
        out[:] = lists[inv]
    else:
        bounds = np.r_[0, np.cumsum(n_per)]
        for c in range(log.n_cases):
            out[c] = [str(by_rank[r]) for r in dep_rank[bounds[c]:bounds[c + 1]]]
    return out


def case_table(log: EventLog, tickets: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per case: ``case_id, customer_id, ticket_id, channel, steps, start, end, duration_h,
    first_wait_h (first step after the opening one), has_loop, has_handover, handovers, departments``.
    ``customer_id`` / ``channel`` missing from the log are taken from the case's ticket."""
    idx = np.flatnonzero(log.first)
    last = np.r_[idx[1:] - 1, log.n_events - 1]
    ts = log.ts.view("datetime64[ns]")
    out = pd.DataFrame({"case_id": log.cases.astype(str), "steps": np.diff(np.r_[idx, log.n_events]),
                        "start": ts[idx], "end": ts[last]})
    out["duration_h"] = (out["end"] - out["start"]).dt.total_seconds() / 3600
    second = idx + 1
    has2 = (second < log.n_events) & (np.r_[idx[1:], log.n_events] > second)
    fw = np.full(len(idx), np.nan)
    fw[has2] = log.wait_h[second[has2]]
    out["first_wait_h"] = fw
    for c in ("customer_id", "ticket_id", "channel"):
        if log.has(c):
            out[c] = _first_values(log, c)
    if tickets is not None and "ticket_id" in out.columns and "ticket_id" in tickets.columns:
        tk = tickets.drop_duplicates("ticket_id")
        # each case's ticket row, looked up once (Series.map by the ticket id, one column at a time,
        # is the same get_indexer + take)
        at = pd.Index(tk["ticket_id"].astype("string")).get_indexer(out["ticket_id"].array)
        for c in ("customer_id", "channel", "csat"):
            if c in tk.columns:
                vals = tk[c].array
                if not isinstance(vals, pd.arrays.NumpyExtensionArray):  # text and other typed arrays
                    got = pd.Series(pd.api.extensions.take(vals, at, allow_fill=True), index=out.index)
                elif vals.dtype.kind in "fiub":  # numbers: NaN for a ticket not found
                    got = pd.Series(pd.api.extensions.take(vals.to_numpy(), at, allow_fill=True, fill_value=np.nan),
                                    index=out.index)
                else:  # objects: map infers their type
                    got = out["ticket_id"].map(tk.set_index(tk["ticket_id"].astype("string"))[c])
                out[c] = out[c].fillna(got) if c in out.columns else got
    k = len(log.activities)
    uniq, cnt = _case_activity_counts(log)
    loop_case = np.zeros(len(idx), dtype=bool)
    loop_case[np.unique(uniq[cnt > 1] // k)] = True
    out["has_loop"] = loop_case
    if log.dep is not None:
        n_h = np.bincount(log.case[_handover_steps(log) + 1], minlength=len(idx))
        out["handovers"] = n_h
        out["has_handover"] = n_h > 0
        out["departments"] = _case_departments(log)
    else:
        out["handovers"], out["has_handover"], out["departments"] = 0, False, [[] for _ in range(len(idx))]
    return out


def conformance(cases: pd.DataFrame, sla_hours: Mapping[str, float], target: float = 0.8) -> pd.DataFrame:
    """Per channel: ``channel, n, sla_h, within, share, ci_low, ci_high, median_h, below_target`` (the
    Wilson upper bound below ``target``). The response is the case's first step after the opening one
    (``first_wait_h``); cases of a channel without a standard are not counted."""
    cols = ["channel", "n", "sla_h", "within", "share", "ci_low", "ci_high", "median_h", "below_target"]
    if "channel" not in cases.columns:
        return pd.DataFrame(columns=cols)
    c = cases.dropna(subset=["first_wait_h", "channel"])
    c = c[c["channel"].astype(str).str.lower().isin(list(sla_hours))]
    rows = []
    for ch, g in c.groupby(c["channel"].astype(str).str.lower(), sort=True):
        sla = float(sla_hours[ch])
        k = int((g["first_wait_h"] <= sla).sum())
        lo, hi = wilson(np.array([float(k)]), np.array([float(len(g))]))
        rows.append({"channel": ch, "n": len(g), "sla_h": sla, "within": k, "share": k / len(g), "ci_low": float(lo[0]),
                     "ci_high": float(hi[0]), "median_h": float(g["first_wait_h"].median()),
                     "below_target": float(hi[0]) < target})
    return pd.DataFrame(rows, columns=cols)


def experience(cases: pd.DataFrame, nps_groups: pd.Series | None, *, scale_max: int = 5) -> pd.DataFrame:
    """Cases with a loop / a handover vs the others, on their customers' NPS and their tickets' CSAT.

    Returns ``flag, outcome, n_with, n_without, value_with, value_without, diff, se, p_value, p_holm,
    significant`` (Holm over every row). NPS is customer-level: a customer is 'with' when any of their
    cases has the flag (NPS points, ``nps_z_test``); CSAT is case-level, top-2-box of the ticket's
    rating (share, pooled two-proportion z-test; percentage points)."""
    from .stats import holm, nps_z_test

    rows: list[dict[str, Any]] = []
    flags = [f for f in ("has_loop", "has_handover") if f in cases.columns and cases[f].any() and not cases[f].all()]
    per_all: pd.DataFrame | None = None
    if flags and nps_groups is not None and len(nps_groups) and "customer_id" in cases.columns:
        known = cases["customer_id"].notna().to_numpy()
        who = cases.loc[known, "customer_id"].to_numpy()  # customer-level: any case of the customer
        per_all = cases.loc[known, flags].groupby(who).any()
        inside = pd.Index(per_all.index.to_numpy(object), dtype=object).isin(nps_groups.index.to_numpy(object))
        per_all = per_all[inside]  # (isin on object arrays: a hash table, not a Python loop over text)
        grp_all = nps_groups.reindex(per_all.index)
    for flag in flags:
        if per_all is not None:
            per, grp = per_all[flag], grp_all
            a, b = grp[per.to_numpy()], grp[~per.to_numpy()]
            if len(a) >= 2 and len(b) >= 2:
                pa, da = float((a == "promoter").mean()), float((a == "detractor").mean())
                pb, db = float((b == "promoter").mean()), float((b == "detractor").mean())
                diff, se, _, p = nps_z_test(*(np.asarray(x, dtype=float) for x in (pa, da, len(a), pb, db, len(b))))
                rows.append({"flag": flag, "outcome": "nps", "n_with": len(a), "n_without": len(b),
                             "value_with": 100 * (pa - da), "value_without": 100 * (pb - db), "diff": float(diff),
                             "se": float(se), "p_value": float(p), "detractors_with": da, "detractors_without": db,
                             "detractors_with_k": int((a == "detractor").sum())})
        if "csat" in cases.columns:
            cs = pd.to_numeric(cases["csat"], errors="coerce")
            ok = cs.notna()
            top = cs[ok] >= scale_max - 1
            fl = cases.loc[ok, flag].to_numpy(bool)
            n1, n2 = int(fl.sum()), int((~fl).sum())
            if n1 >= 2 and n2 >= 2:
                p1, p2 = float(top[fl].mean()), float(top[~fl].mean())
                pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
                se_c = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
                z = (p1 - p2) / se_c if se_c > 0 else 0.0
                rows.append({"flag": flag, "outcome": "csat", "n_with": n1, "n_without": n2, "value_with": p1,
                             "value_without": p2, "diff": 100 * (p1 - p2), "se": 100 * se_c,
                             "p_value": float(2 * _st.norm.sf(abs(z)))})
    out = pd.DataFrame(rows, columns=["flag", "outcome", "n_with", "n_without", "value_with", "value_without", "diff",
                                      "se", "p_value", "detractors_with", "detractors_without", "detractors_with_k"])
    out["p_holm"] = holm(out["p_value"].to_numpy(float)) if len(out) else []
    out["significant"] = out["p_holm"] < 0.05
    return out


@dataclass
class ProcessAnalysis:
    """Everything the section shows, computed once (:func:`analyse`)."""

    log: EventLog
    dfg: pd.DataFrame
    starts: pd.Series
    ends: pd.Series
    variants: pd.DataFrame
    loops: pd.DataFrame
    handovers: pd.DataFrame
    bottlenecks: pd.DataFrame
    cases: pd.DataFrame
    conformance: pd.DataFrame
    experience: pd.DataFrame
    touchpoints: pd.DataFrame | None = None
    n_customers: int | None = None
    sla_target: float = 0.8

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return pd.Timestamp(self.cases["start"].min()), pd.Timestamp(self.cases["end"].max())


def analyse(events: pd.DataFrame, *, tickets: pd.DataFrame | None = None, responses: pd.DataFrame | None = None,
            touchpoints: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
            sla_hours: Mapping[str, float] | None = None, sla_target: float = 0.8, top_variants: int = 10,
            csat_max: int = 5) -> ProcessAnalysis:
    """The whole AS-IS process analysis of an ``events`` table (see the module docstring)."""
    from .tickets import DEFAULT_SLA_HOURS, customer_nps_groups

    log = prepare(events)
    s, e = start_end(log)
    cases = case_table(log, tickets)
    groups = customer_nps_groups(responses) if responses is not None else None
    return ProcessAnalysis(
        log=log, dfg=directly_follows(log), starts=s, ends=e, variants=variants(log, top_variants),
        loops=rework_loops(log), handovers=handovers(log), bottlenecks=bottlenecks(log), cases=cases,
        conformance=conformance(cases, dict(sla_hours or DEFAULT_SLA_HOURS), sla_target),
        experience=experience(cases, groups, scale_max=csat_max), touchpoints=touchpoints,
        n_customers=len(customers) if customers is not None else None, sla_target=sla_target)


def analyse_audit(audit: Any) -> ProcessAnalysis | None:
    """:func:`analyse` on an audit's tables; None without an ``events`` table."""
    if not audit.has("events"):
        return None
    from .tickets import settings

    cfg = settings(audit.config)
    from .audit import in_memory

    get = (lambda n: _read(audit, n) if in_memory(audit, n) else None)  # noqa: E731  (engine tables: none)
    csat_max = int(getattr(getattr(audit.config.scales, "csat", None), "max", 5) or 5)
    touchpoints = audit.table("touchpoints") if in_memory(audit, "touchpoints") else None
    return analyse(_read(audit, "events", EVENT_CATEGORIES), tickets=get("tickets"), responses=get("responses"),
                   touchpoints=touchpoints, customers=get("customers"), sla_hours=cfg.sla_hours,
                   sla_target=cfg.sla_target, csat_max=csat_max)


class ProcessPaths:
    """What the TO-BE blueprints read of the event log (:mod:`cxaudit.bpmn`): the coded ``log`` and,
    computed when first asked for, the ``cases`` table of :func:`case_table` (with the tickets that
    ``tickets`` returns, read only then)."""

    def __init__(self, log: EventLog, tickets: Callable[[], pd.DataFrame | None] | None = None) -> None:
        self.log = log
        self._tickets = tickets
        self._cases: pd.DataFrame | None = None

    @property
    def cases(self) -> pd.DataFrame:
        if self._cases is None:
            self._cases = case_table(self.log, self._tickets() if self._tickets is not None else None)
        return self._cases


def paths_audit(audit: Any) -> ProcessPaths | None:
    """The event log of an audit prepared for the blueprints only (:class:`ProcessPaths`: no process
    map, variants table, tests or findings); None without an ``events`` table. A
    :class:`ProcessAnalysis` serves the blueprints the same way."""
    if not audit.has("events"):
        return None
    return ProcessPaths(prepare(_read(audit, "events", EVENT_CATEGORIES)), lambda: _read(audit, "tickets") if audit.has("tickets") else None)


# --- optional: inductive-miner discovery (pm4py, AGPL-3.0, extra 'process') -----------------------------

#: The one-line message when the optional extra is absent.
PM4PY_MISSING = "inductive-miner discovery needs pm4py: install the optional extra: pip install 'cxaudit[process]'"


@dataclass(frozen=True)
class DiscoveredModel:
    """What :func:`discover_inductive` found, for the analyst (never shown to the client as is).

    ``fitness`` is the token-based replay log fitness of the event log on the discovered model (1.0:
    every case replays; the inductive miner guarantees it when ``noise_threshold`` is 0) and
    ``fit_cases`` the share of cases that replay perfectly. ``tree`` is the process tree in pm4py's
    notation (``->`` sequence, ``X`` choice, ``+`` parallel, ``*`` loop, ``tau`` a silent step).
    """

    n_events: int
    n_cases: int
    n_activities: int
    noise_threshold: float
    tasks: int
    exclusive_gateways: int
    parallel_gateways: int
    inclusive_gateways: int
    flows: int
    fitness: float
    fit_cases: float
    tree: str

    def as_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"value": pd.Series(self.__dict__, dtype="object")})


def discover_inductive(events: pd.DataFrame | EventLog, *, noise_threshold: float = 0.0,
                       redact: Callable[[str], str] | None | Literal["pii"] = "pii") -> tuple[str, DiscoveredModel]:
    """Discover a BPMN 2.0 process model from an ``events`` table with the inductive miner.

    Analyst-only and optional: it needs pm4py (AGPL-3.0), installed by the extra ``cxaudit[process]``;
    pm4py is imported here only, never at module level, so the package never depends on it. Without
    it, a one-line :class:`~cxaudit.errors.CxauditError` says what to install.

    The log is first read as :func:`prepare` reads it (rows without a value and non-``complete``
    lifecycle steps dropped; order by case, time, file order; an :class:`EventLog` already prepared,
    such as ``ProcessAnalysis.log``, is used as it is); ``redact`` is applied to each distinct activity
    name before pm4py sees it: by default :func:`cxaudit.text.redact_pii`, another function, or None (no
    redaction: an explicit choice of the caller). pm4py receives the
    log as its variants (each distinct activity sequence with its number of cases, pm4py's
    univariate variant log, in the order of each variant's first case by case id, as pm4py builds it
    from a full log), so an 11M-step log costs what its few thousand variants cost. One process tree
    is discovered (inductive miner, IMf when ``noise_threshold`` > 0; both read only the variants and
    their counts) and converted both to BPMN (returned as XML, with pm4py's diagram layout) and to a
    Petri net on which each variant is replayed once; the replay's token counts are summed with the
    variants' case counts as weights, which gives the log fitness and the share of fitting cases that
    replaying every case gives (pm4py's token-based replay evaluation, the same formula).

    Returns
    -------
    (bpmn_xml, summary)
        The model as a BPMN 2.0 XML string and a :class:`DiscoveredModel`.

    References
    ----------
    Leemans, S. J. J., Fahland, D. & van der Aalst, W. M. P. (2013), "Discovering block-structured
    process models from event logs: a constructive approach", *Petri Nets 2013*, LNCS 7927, 311-329
    (IM; fitness guaranteed); Leemans et al. (2014), "Discovering block-structured process models from
    event logs containing infrequent behaviour", *BPM 2013 Workshops*, LNBIP 171, 66-78 (IMf, the noise
    threshold). Token-based replay: Rozinat, A. & van der Aalst, W. M. P. (2008), "Conformance checking
    of processes based on monitoring real behavior", *Information Systems* 33(1), 64-95. Berti, A., van
    Zelst, S. J. & van der Aalst, W. M. P. (2019), "Process Mining for Python (PM4Py)", arXiv:1905.06169.
    """
    import contextlib
    import io
    from collections import Counter

    from .errors import CxauditError

    if not 0.0 <= noise_threshold < 1.0:
        raise CxauditError(f"discover_inductive: noise_threshold must be in [0, 1), got {noise_threshold!r}")
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import pm4py  # AGPL-3.0: optional extra 'process'; imported here only
            from pm4py.algo.conformance.tokenreplay import algorithm as token_replay
            from pm4py.algo.discovery.inductive.dtypes.im_ds import IMDataStructureUVCL
            from pm4py.algo.discovery.inductive.variants.im import IMUVCL
            from pm4py.algo.discovery.inductive.variants.imf import IMFUVCL
            from pm4py.objects.bpmn.exporter.variants.etree import get_xml_string
            from pm4py.objects.log.obj import Event, Trace
            from pm4py.objects.log.obj import EventLog as Pm4pyLog
            from pm4py.objects.process_tree.utils import generic as pt_util
            from pm4py.util import constants as pm_constants
    except ImportError as e:
        raise CxauditError(PM4PY_MISSING) from e

    log = events if isinstance(events, EventLog) else prepare(events)
    if log.n_events == 0:
        raise CxauditError("discover_inductive: the event log has no usable step (case_id, activity and timestamp)")
    names = [str(a) for a in log.activities]
    if redact == "pii":
        from .text import redact_pii as redact
    if callable(redact):
        names = [redact(a) for a in names]
    vid, seqs, counts, _ = _case_variants(log)
    # each variant's first case in case-id order (pm4py sorts the cases of a table by id)
    by_id = np.empty(log.n_cases, dtype=np.int64)
    by_id[np.asarray(log.cases.astype(str).argsort())] = np.arange(log.n_cases)  # ids are distinct: no ties
    first_case = np.full(len(seqs), log.n_cases, dtype=np.int64)
    np.minimum.at(first_case, vid, by_id)
    uvcl: Counter[tuple[str, ...]] = Counter()
    for v in np.argsort(first_case, kind="stable"):
        uvcl[tuple(names[c] for c in seqs[v])] += int(counts[v])
    params: dict[Any, Any] = {"noise_threshold": noise_threshold, "disable_fallthroughs": False,
                              "multiprocessing": pm_constants.ENABLE_MULTIPROCESSING_DEFAULT}
    with contextlib.redirect_stderr(io.StringIO()):  # pm4py's progress bars
        miner = IMFUVCL(params) if noise_threshold > 0 else IMUVCL(params)
        tree = miner.apply(IMDataStructureUVCL(uvcl), params)
        tree = pt_util.fold(tree)
        pt_util.tree_sort(tree)
        model = pm4py.convert_to_bpmn(tree)
        net, im, fm = pm4py.convert_to_petri_net(tree)
        traces = Pm4pyLog([Trace([Event({"concept:name": a}) for a in key]) for key in uvcl])
        replayed = token_replay.apply(traces, net, im, fm, variant=token_replay.Variants.TOKEN_REPLAY, parameters={
            "consider_remaining_in_fitness": True, "cleaning_token_flood": False, "show_progress_bar": False})
    w = np.array(list(uvcl.values()), dtype=np.int64)
    tot = {k: int(sum(int(r[k]) * int(n) for r, n in zip(replayed, w, strict=True)))
           for k in ("missing_tokens", "consumed_tokens", "remaining_tokens", "produced_tokens")}
    n_fit = int(sum(int(n) for r, n in zip(replayed, w, strict=True) if r["trace_is_fit"]))
    fitness, fit_pct = 0.0, 0.0
    if tot["consumed_tokens"] > 0 and tot["produced_tokens"] > 0:  # pm4py's evaluation of the replay
        fit_pct = float(100.0 * n_fit) / float(w.sum())
        fitness = 0.5 * (1 - tot["missing_tokens"] / tot["consumed_tokens"]) + 0.5 * (
            1 - tot["remaining_tokens"] / tot["produced_tokens"])
    kinds = [type(n).__name__ for n in model.get_nodes()]
    summary = DiscoveredModel(
        n_events=log.n_events, n_cases=log.n_cases, n_activities=len(set(names)),
        noise_threshold=float(noise_threshold), tasks=kinds.count("Task"),
        exclusive_gateways=kinds.count("ExclusiveGateway"), parallel_gateways=kinds.count("ParallelGateway"),
        inclusive_gateways=kinds.count("InclusiveGateway"), flows=len(model.get_flows()),
        fitness=float(fitness), fit_cases=fit_pct / 100.0, tree=str(tree))
    xml = get_xml_string(model)
    return (xml.decode("utf-8") if isinstance(xml, bytes) else str(xml)), summary


# --- findings ------------------------------------------------------------------------------------------


def _touchpoints_of(an: ProcessAnalysis, departments: Sequence[str], channels: Sequence[str] = ()) -> list[str]:
    """Touchpoints owned by these departments (``touchpoints.owner_department``)."""
    tp = an.touchpoints
    if tp is None or "owner_department" not in tp.columns:
        return []
    own = tp[tp["owner_department"].astype(str).isin([str(d) for d in departments if d])]
    return [str(x) for x in own["touchpoint"]]


def _case_channels(cases: pd.DataFrame, mask: np.ndarray) -> list[str]:
    if "channel" not in cases.columns:
        return []
    vc = cases.loc[mask, "channel"].dropna().astype(str).value_counts()
    return [str(c) for c in vc.index[:3]]


def _affected_customers(an: ProcessAnalysis, mask: np.ndarray) -> tuple[int, float]:
    """Customers with an affected case, and their share of the customer base (of the log's customers
    without a customers table)."""
    c = an.cases
    if "customer_id" not in c.columns:
        return int(mask.sum()), float(mask.mean()) if len(c) else 0.0
    k = c.loc[mask, "customer_id"].dropna().nunique()
    base = an.n_customers or c["customer_id"].dropna().nunique()
    return int(k), min(1.0, k / base) if base else 0.0


def _exp_evidence(an: ProcessAnalysis, flag: str) -> dict[str, Any]:
    ex = an.experience
    ev: dict[str, Any] = {}
    for _, r in ex[ex["flag"] == flag].iterrows():
        o = r["outcome"]
        ev[f"{o}_with"], ev[f"{o}_without"] = float(r["value_with"]), float(r["value_without"])
        ev[f"{o}_diff"], ev[f"{o}_p_holm"] = float(r["diff"]), float(r["p_holm"])
        ev[f"{o}_n_with"], ev[f"{o}_n_without"] = int(r["n_with"]), int(r["n_without"])
        if o == "nps" and bool(r["significant"]):
            k, n = int(r["detractors_with_k"]), int(r["n_with"])
            lo, hi = wilson(np.array([float(k)]), np.array([float(n)]))
            ev |= {"detractor_share": float(r["detractors_with"]), "detractor_share_n": n,
                   "detractor_share_ci": [float(lo[0]), float(hi[0])]}
        ev[f"{o}_significant"] = bool(r["significant"])
    return ev


def process_findings(an: ProcessAnalysis, lang: str) -> list[Finding]:
    """Findings ``processes.loop.<activity>``, ``processes.bottleneck.<activity>`` and
    ``processes.handover.<from>.<to>`` (the most frequent department pair when handover cases have a
    Holm-significantly worse outcome), tagged with departments, channels and touchpoints."""
    out: list[Finding] = []
    cases = an.cases
    k_act = len(an.log.activities)
    uniq, cnt = _case_activity_counts(an.log)  # distinct (case, activity) pairs and their counts
    code_of = {str(a): i for i, a in enumerate(an.log.activities.astype(str))}
    for _, r in an.loops[an.loops["flagged"]].iterrows():
        act = str(r["activity"])
        mask = np.zeros(len(cases), dtype=bool)
        mask[uniq[(uniq % k_act == code_of[act]) & (cnt > 1)] // k_act] = True
        k, reach = _affected_customers(an, mask)
        ev = {"activity": act, "department_label": r["department"], "cases_repeated": int(r["cases_repeated"]),
              "cases_with": int(r["cases_with"]), "extra_steps": int(r["repeats"]), "customers": k,
              "table": "processes.loops", "test": "Wilson interval of the repeat share",
              **_exp_evidence(an, "has_loop")}
        sig = ev.get("nps_significant") or ev.get("csat_significant")
        out.append(Finding(
            id=f"{SECTION}.loop.{_slug(act)}", section=SECTION,
            title=t("processes.finding_loop", lang, activity=act, share=fmt_pct(r["share"], lang),
                    n=fmt_int(r["cases_with"], lang)),
            metric="rework_share", value=100 * float(r["share"]), n=int(r["cases_with"]),
            ci_low=100 * float(r["ci_low"]), ci_high=100 * float(r["ci_high"]), severity=4 if sig else 3,
            reach=reach, evidence=ev, unit="%",
            tags=_tags(an, [str(r["department"])], _case_channels(cases, mask))))
    for _, r in an.bottlenecks[an.bottlenecks["flagged"]].iterrows():
        act = str(r["activity"])
        mask = np.zeros(len(cases), dtype=bool)
        mask[uniq[uniq % k_act == code_of[act]] // k_act] = True
        k, reach = _affected_customers(an, mask)
        ev = {"activity": act, "department_label": r["department"], "ratio": float(r["ratio"]),
              "reference_h": float(an.bottlenecks.attrs["reference_h"]), "p90_h": float(r["wait_p90_h"]),
              "wait_share": float(r["wait_share"]), "customers": k, "table": "processes.bottlenecks",
              "test": "distribution-free 95% interval of the median (order statistics)"}
        out.append(Finding(
            id=f"{SECTION}.bottleneck.{_slug(act)}", section=SECTION,
            title=t("processes.finding_bottleneck", lang, activity=act, hours=fmt_num(r["wait_median_h"], lang, 1),
                    ratio=fmt_num(r["ratio"], lang, 1)),
            metric="wait_hours", value=float(r["wait_median_h"]), n=int(r["n"]), ci_low=float(r["ci_low"]),
            ci_high=float(r["ci_high"]), severity=4 if r["ratio"] >= 10 else 3, reach=reach, evidence=ev, unit="h",
            tags=_tags(an, [str(r["department"])], _case_channels(cases, mask))))
    hx = an.experience[(an.experience["flag"] == "has_handover") & an.experience["significant"]
                       & (an.experience["diff"] < 0)]
    if len(hx) and len(an.handovers):
        top = an.handovers.iloc[0]
        mask = cases["has_handover"].to_numpy(bool)
        k, reach = _affected_customers(an, mask)
        ev = {"from_department_label": top["from_department"], "to_department_label": top["to_department"],
              "cases": int(top["cases"]), "cases_with_handover": int(mask.sum()), "customers": k,
              "table": "processes.handovers", **_exp_evidence(an, "has_handover")}
        out.append(Finding(
            id=f"{SECTION}.handover.{_slug(top['from_department'])}.{_slug(top['to_department'])}", section=SECTION,
            title=t("processes.finding_handover", lang, share=fmt_pct(mask.mean(), lang),
                    a=str(top["from_department"]), b=str(top["to_department"])),
            metric="handover_share", value=100 * float(mask.mean()), n=len(cases), severity=3, reach=reach,
            evidence=ev, unit="%",
            tags=_tags(an, [str(top["from_department"]), str(top["to_department"])], _case_channels(cases, mask))))
    return out


def _tags(an: ProcessAnalysis, departments: Sequence[str], channels: Sequence[str]) -> dict[str, list[str]]:
    deps = [d for d in dict.fromkeys(departments) if d]
    tags: dict[str, list[str]] = {"departments": deps, "channels": list(channels)}
    tps = _touchpoints_of(an, deps)
    if tps:
        tags["touchpoints"] = tps
        tp = an.touchpoints
        if tp is not None and "stage" in tp.columns:
            tags["stages"] = list(dict.fromkeys(str(s) for s in tp[tp["touchpoint"].astype(str).isin(tps)]["stage"]))
    return tags


def _slug(x: Any) -> str:
    import re

    s = re.sub(r"[^0-9a-zA-Z]+", "_", str(x).strip().lower()).strip("_")
    if not s:  # a name in another script: a stable short hash
        import hashlib

        s = "x" + hashlib.sha1(str(x).encode("utf-8")).hexdigest()[:8]
    return s


# --- presentation --------------------------------------------------------------------------------------


def missing_note(lang: str) -> list[Any]:
    """What the section shows without an event log: one line, and what a log would add."""
    from . import show

    return [show.section(SECTION, lang), show.missing_input(t("table.events", lang), lang),
            show.paragraph(t("processes.would_add", lang))]


def blocks_overview(an: ProcessAnalysis, lang: str) -> list[Any]:
    from . import show

    lo, hi = an.period
    n_dropped = sum(an.log.dropped.values())
    out = [show.section(SECTION, lang),
           show.paragraph(t("processes.intro", lang, events=fmt_int(an.log.n_events, lang),
                            cases=fmt_int(an.log.n_cases, lang), activities=fmt_int(len(an.log.activities), lang),
                            start=fmt_date(lo, lang), end=fmt_date(hi, lang)))]
    if n_dropped:
        out.append(show.note(t("processes.dropped", lang, n=fmt_int(n_dropped, lang))))
    return out


def process_map_svg(an: ProcessAnalysis, lang: str, *, min_case_share: float = 0.02, max_edges: int = 40) -> str:
    """The process map as SVG, laid out by Graphviz ``dot`` (edges in at least ``min_case_share`` of
    the cases; label: cases and median wait)."""
    from .bpmn import dot_svg

    g = an.dfg[an.dfg["case_share"] >= min_case_share].head(max_edges)
    acts = list(dict.fromkeys([*g["source"], *g["target"]]))
    flagged = set(an.bottlenecks.loc[an.bottlenecks["flagged"], "activity"]) | set(
        an.loops.loc[an.loops["flagged"], "activity"])
    cnt = pd.Series(np.bincount(an.log.act, minlength=len(an.log.activities)), index=an.log.activities.astype(str))
    nodes = [(a, f"{a}\n{fmt_int(cnt.get(a, 0), lang)}", a in flagged) for a in acts]
    mx = max(int(g["cases"].max()), 1) if len(g) else 1
    edges = [(r.source, r.target, f"{fmt_int(r.cases, lang)} · {_hours(r.wait_median_h, lang)}",
              1.0 + 4.0 * r.cases / mx) for r in g.itertuples()]
    return dot_svg(nodes, edges)


def _hours(h: float, lang: str) -> str:
    from .tickets import fmt_hours

    return fmt_hours(h, lang)


def _svg_img(svg: str, alt: str) -> Any:
    import base64

    from IPython.display import HTML

    from .show import escape

    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return HTML(f'<p class="cx-figure"><img alt="{escape(alt)}" src="data:image/svg+xml;base64,{data}" '
                f'style="max-width: 100%"></p>')


def blocks_map(an: ProcessAnalysis, lang: str) -> list[Any]:
    from . import show

    out = [show.heading(t("processes.map_heading", lang), SECTION), show.paragraph(t("processes.map_text", lang)),
           _svg_img(process_map_svg(an, lang), t("processes.map_heading", lang))]
    top = an.dfg.head(12).copy()
    top["wait"] = [_hours(x, lang) for x in top["wait_median_h"]]
    top["p90"] = [_hours(x, lang) for x in top["wait_p90_h"]]
    out.append(show.table(top, [show.Col("source", "processes.col_from"), show.Col("target", "processes.col_to"),
                                show.Col("cases", "processes.col_cases", "int"),
                                show.Col("case_share", "processes.col_case_share", "pct"),
                                show.Col("wait", "processes.col_wait_median"),
                                show.Col("p90", "processes.col_wait_p90")], lang, small_base=None))
    return out


def blocks_variants(an: ProcessAnalysis, lang: str) -> list[Any]:
    from . import show

    v = an.variants.copy()
    v["path"] = [" → ".join(x) for x in v["variant"]]
    return [show.heading(t("processes.variants_heading", lang), SECTION),
            show.paragraph(t("processes.variants_text", lang, n=fmt_int(v.attrs.get("n_variants", len(v)), lang),
                             top=fmt_int(len(v), lang), share=fmt_pct(float(v["share"].sum()), lang))),
            show.table(v, [show.Col("rank", "processes.col_rank", "int"), show.Col("path", "processes.col_variant"),
                           show.Col("cases", "processes.col_cases", "int"),
                           show.Col("share", "processes.col_share", "pct", lo="ci_low", hi="ci_high")],
                       lang, small_base=None)]


def blocks_loops(an: ProcessAnalysis, lang: str) -> list[Any]:
    from . import show

    lp = an.loops[an.loops["cases_repeated"] > 0].copy()
    out = [show.heading(t("processes.loops_heading", lang), SECTION)]
    if not len(lp):
        return [*out, show.paragraph(t("processes.no_loops", lang))]
    lp["flag"] = [t("processes.flag_loop", lang) if f else "" for f in lp["flagged"]]
    out += [show.paragraph(t("processes.loops_text", lang, share=fmt_pct(LOOP_MIN_SHARE, lang))),
            show.table(lp, [show.Col("activity", "processes.col_activity"),
                            show.Col("department", "processes.col_department"),
                            show.Col("cases_with", "processes.col_cases", "int"),
                            show.Col("cases_repeated", "processes.col_repeated", "int"),
                            show.Col("share", "processes.col_share", "pct", lo="ci_low", hi="ci_high"),
                            show.Col("flag", "processes.col_flag", "flag")], lang, small_base=None)]
    hv = an.handovers.head(8)
    if len(hv):
        out += [show.heading(t("processes.handovers_heading", lang), SECTION),
                show.paragraph(t("processes.handovers_text", lang,
                                 share=fmt_pct(float(an.cases["has_handover"].mean()), lang))),
                show.table(hv, [show.Col("from_department", "processes.col_from"),
                                show.Col("to_department", "processes.col_to"),
                                show.Col("cases", "processes.col_cases", "int"),
                                show.Col("case_share", "processes.col_case_share", "pct")], lang, small_base=None)]
    return out


def blocks_bottlenecks(an: ProcessAnalysis, lang: str) -> list[Any]:
    from . import show

    b = an.bottlenecks.copy()
    b["median"] = [_hours(x, lang) for x in b["wait_median_h"]]
    b["ci"] = [f"[{_hours(lo, lang)}; {_hours(hi, lang)}]" if lo == lo and hi == hi else "–"
               for lo, hi in zip(b["ci_low"], b["ci_high"], strict=True)]
    b["p90"] = [_hours(x, lang) for x in b["wait_p90_h"]]
    b["flag"] = [t("processes.flag_bottleneck", lang) if f else "" for f in b["flagged"]]
    ref = b.attrs.get("reference_h", math.nan)
    out = [show.heading(t("processes.bottlenecks_heading", lang), SECTION),
           show.paragraph(t("processes.bottlenecks_text", lang, reference=_hours(ref, lang),
                            factor=fmt_num(BOTTLENECK_FACTOR, lang, 0))),
           show.table(b, [show.Col("activity", "processes.col_activity"),
                          show.Col("department", "processes.col_department"),
                          show.Col("n", "processes.col_steps", "int"), show.Col("median", "processes.col_wait_median"),
                          show.Col("ci", "processes.col_ci"), show.Col("p90", "processes.col_wait_p90"),
                          show.Col("wait_share", "processes.col_wait_share", "pct"),
                          show.Col("flag", "processes.col_flag", "flag")], lang, small_base=None)]
    cf = an.conformance.copy()
    if len(cf):
        cf["channel_label"] = [_channel(c, lang) for c in cf["channel"]]
        cf["standard"] = [_hours(x, lang) for x in cf["sla_h"]]
        cf["median"] = [_hours(x, lang) for x in cf["median_h"]]
        out += [show.heading(t("processes.conformance_heading", lang), SECTION),
                show.paragraph(t("processes.conformance_text", lang, target=fmt_pct(an.sla_target, lang))),
                show.table(cf, [show.Col("channel_label", "processes.col_channel"),
                                show.Col("n", "processes.col_cases", "int"),
                                show.Col("standard", "processes.col_standard"),
                                show.Col("median", "processes.col_wait_median"),
                                show.Col("share", "processes.col_within", "pct", lo="ci_low", hi="ci_high")],
                           lang, small_base=None)]
    return out


def _channel(c: str, lang: str) -> str:
    from .i18n import value_label

    return value_label("channel", c, lang)


def blocks_experience(an: ProcessAnalysis, lang: str) -> list[Any]:
    from . import show

    ex = an.experience.copy()
    out = [show.heading(t("processes.experience_heading", lang), SECTION)]
    if not len(ex):
        return [*out, show.paragraph(t("processes.experience_none", lang))]
    groups = {"has_loop": "processes.group_loop", "has_handover": "processes.group_handover"}
    outcomes = {"nps": "processes.outcome_nps", "csat": "processes.outcome_csat"}
    ex["group"] = [t(groups[f], lang) for f in ex["flag"]]
    ex["metric"] = [t(outcomes[o], lang) for o in ex["outcome"]]
    fmt = (lambda o, x: fmt_num(x, lang, 1, sign=True) if o == "nps" else fmt_pct(x, lang))  # noqa: E731
    ex["with"] = [fmt(o, x) for o, x in zip(ex["outcome"], ex["value_with"], strict=True)]
    ex["without"] = [fmt(o, x) for o, x in zip(ex["outcome"], ex["value_without"], strict=True)]
    ex["sig"] = [t("processes.significant", lang) if s else t("processes.not_significant", lang)
                 for s in ex["significant"]]
    out += [show.paragraph(t("processes.experience_text", lang)),
            show.table(ex, [show.Col("group", "processes.col_group"), show.Col("metric", "processes.col_outcome"),
                            show.Col("n_with", "processes.col_n_with", "int"), show.Col("with", "processes.col_with"),
                            show.Col("n_without", "processes.col_n_without", "int"),
                            show.Col("without", "processes.col_without"),
                            show.Col("diff", "processes.col_diff", "signed1"),
                            show.Col("p_holm", "processes.col_p_holm", "num2"),
                            show.Col("sig", "processes.col_flag")], lang, small_base=None)]
    return out
