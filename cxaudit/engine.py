"""A query engine for the large tables: the heavy aggregations as Ibis expressions.

The pandas / numpy path (:mod:`cxaudit.metrics` and the section modules) holds every row in memory.
For tables that do not fit, or that live in a warehouse, the same aggregations are written here once
as Ibis expressions (Ibis, the portable dataframe library, ``ibis-project.org``) and run where the
data is:

- **DuckDB** (default): embedded, in-process, out-of-core on Parquet files and folders of them;
- **Apache Spark** through PySpark (the optional extra ``spark``), for data that outgrows a machine;
- any other backend Ibis connects to by URL (Trino, BigQuery, Snowflake, Postgres, ...).

Only aggregates leave the engine: group sums and counts, life tables, order statistics, edge
counts, cross-product matrices. The interval formulas stay in Python and are the package's own
(:func:`cxaudit.metrics.wilson`, the NPS / CSAT / CES formulas of :func:`cxaudit.metrics.metric_table`,
Greenwood's variance), so a cube from the engine equals the in-memory cube to rounding.

What each function computes and the in-memory function it equals:

- :func:`metric_table` / :func:`metric_cube` — :func:`cxaudit.metrics.metric_table` / ``metric_cube``
  (group sums Σw, Σw², Σwx, Σwx², Σw·[promoter], Σw·[detractor]; Kish n when weighted);
- :func:`churn_table` — :func:`cxaudit.metrics.churn_table` (n and churned per group; Wilson interval);
- :func:`life_table` + :func:`kaplan_meier` — statsmodels ``SurvfuncRight`` with delayed entry
  (Kaplan & Meier 1958; Greenwood 1926 variance; log–log interval as in :mod:`cxaudit.churn`);
- :func:`logrank` — statsmodels ``survdiff`` (the log-rank test of :func:`cxaudit.churn.survival`) from life tables;
- :func:`exposure_table` — :func:`cxaudit.churn.exposure_rates` (events and months at risk; Garwood interval);
- :func:`time_quantiles` — :func:`cxaudit.tickets.time_table`: exact order statistics, numpy's default
  quantile (linear interpolation between the order statistics x₍⌊h⌋₎ and x₍⌈h⌉₎, h = (n − 1)·q,
  Hyndman & Fan 1996 type 7) and the distribution-free interval of :func:`cxaudit.tickets.quantile_ci`;
- :func:`theme_counts` — the n and k of :func:`cxaudit.text.themes_by`;
- :func:`edge_counts` — ``transitions`` and ``cases`` of :func:`cxaudit.process.directly_follows`;
- :func:`crossproducts` — n, Σx and X'X of complete rows, the sufficient statistics of a correlation
  matrix or a least-squares fit (:func:`correlation_from_crossproducts`);
- :func:`rule_counts` — how many rows break each validation rule, counted in the engine.

Examples
--------
>>> con = connect()
>>> t = con.create_table("r", pd.DataFrame({"nps": [10, 9, 3, 8, 10, 0], "seg": list("aaabbb")}))
>>> metric_table(t, "nps", by=["seg"])[["seg", "n", "value"]]
  seg    n      value
0   a  3.0  33.333333
1   b  3.0   0.000000
"""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .errors import CxauditError, DataError, MetricError
from .metrics import (
    CUBE_METRICS,
    Z95,
    _check_range,
    _check_whole,
    _scale_of,
    _Sums,
    _table_from_sums,
    period_churn_from_exposure,
    wilson,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = [
    "EngineSpec",
    "BACKENDS",
    "connect",
    "source",
    "metric_table",
    "metric_cube",
    "churn_table",
    "life_table",
    "kaplan_meier",
    "logrank",
    "exposure_table",
    "time_quantiles",
    "theme_counts",
    "edge_counts",
    "crossproducts",
    "correlation_from_crossproducts",
    "rule_counts",
]

#: Backends chosen by name in ``engine: {backend: ...}``; any other Ibis backend by ``url``.
BACKENDS: tuple[str, ...] = ("duckdb", "pyspark")

_Period = Literal["M", "W"]


class EngineError(CxauditError):
    """The engine cannot be reached or a table in it cannot be read (one line)."""


@dataclass(frozen=True)
class EngineSpec:
    """Which engine runs the aggregations: a backend by name (``duckdb``, ``pyspark``) with its
    ``options`` (DuckDB settings such as ``memory_limit`` / ``threads``; Spark conf keys and
    ``master``), or a connection ``url`` that :func:`ibis.connect` understands."""

    backend: str | None = "duckdb"
    url: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, value: Any) -> EngineSpec:
        """From ``None``, a backend name, a URL, a mapping like ``audit.yaml``'s ``engine:`` or a
        config object with ``backend`` / ``url`` / ``options`` attributes."""
        if value is None:
            return cls()
        if isinstance(value, EngineSpec):
            return value
        if isinstance(value, str):
            return cls(backend=None, url=value) if "://" in value else cls(backend=value)
        if isinstance(value, Mapping):
            return cls(backend=value.get("backend") or (None if value.get("url") else "duckdb"),
                       url=value.get("url"), options=dict(value.get("options") or {}))
        return cls(backend=getattr(value, "backend", None) or (None if getattr(value, "url", None) else "duckdb"),
                   url=getattr(value, "url", None), options=dict(getattr(value, "options", None) or {}))


def connect(spec: Any = None) -> Any:
    """An Ibis connection for ``spec`` (see :meth:`EngineSpec.of`); DuckDB in memory by default.

    PySpark runs in local mode (``master: local[*]``) unless ``options`` say otherwise; it needs the
    extra ``spark`` (``pip install -e '.[spark]'``) and Java 17.

    Raises
    ------
    EngineError
        An unknown backend, or a backend whose package is not installed.
    """
    s = EngineSpec.of(spec)
    try:
        import ibis
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise EngineError(f"engine: the Ibis package is not installed ({exc}); pip install 'ibis-framework[duckdb]'") \
            from None
    if s.url:
        return ibis.connect(s.url, **dict(s.options))
    if s.backend == "duckdb":
        return ibis.duckdb.connect(**dict(s.options))
    if s.backend == "pyspark":
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise EngineError("engine: backend 'pyspark' needs the extra 'spark' (pip install -e '.[spark]') "
                              "and Java 17") from None
        opts = dict(s.options)
        builder = SparkSession.builder.master(str(opts.pop("master", "local[*]"))).appName("cxaudit")
        # Spark writes a "spark-warehouse" folder into the working directory unless told otherwise: keep
        # it out of the client's and the checkout's folders
        import tempfile

        defaults = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4",
                    "spark.sql.session.timeZone": "UTC",
                    "spark.sql.warehouse.dir": tempfile.mkdtemp(prefix="cxaudit-spark-warehouse-")}
        for k, v in {**defaults, **opts}.items():
            builder = builder.config(k, str(v))
        session = builder.getOrCreate()
        return ibis.pyspark.connect(session)
    raise EngineError(f"engine: unknown backend {s.backend!r}; expected one of {', '.join(BACKENDS)} or a url")


def source(con: Any, where: str | Path, *, name: str | None = None) -> ir.Table:
    """A table of the engine: a Parquet file, a folder of Parquet files (a dataset) or a glob, read in
    place (DuckDB streams it, never loading it whole), else the name of a table already in the engine.

    Raises
    ------
    EngineError
        Nothing of that name: no such file or folder and no such table.
    """
    text = str(where)
    path = Path(text)
    if path.is_dir():
        files = [str(f) for f in dataset_files(path)]  # listed here: the engine's glob follows links
        if not files:
            raise EngineError(f"engine: folder {text!r} holds no .parquet file")
        pattern: Any = files if _backend_name(con) == "duckdb" else text
        return con.read_parquet(pattern, table_name=name) if name else con.read_parquet(pattern)
    if path.suffix == ".parquet" or any(ch in text for ch in "*?["):
        if not path.is_file() and not _glob.glob(text):
            raise EngineError(f"engine: file {text!r} not found")
        return con.read_parquet(text, table_name=name) if name else con.read_parquet(text)
    try:
        return con.table(text)
    except Exception as exc:  # each backend raises its own "not found" type
        raise EngineError(f"engine: no table {text!r} in the {_backend_name(con)} engine ({type(exc).__name__})") \
            from None


def dataset_files(folder: str | Path, root: str | Path | None = None) -> list[Path]:
    """The ``.parquet`` files of a dataset folder (its subfolders too), sorted by their path inside it.

    Listed here rather than by the engine: DuckDB's ``**/*.parquet`` glob (and :meth:`Path.rglob`)
    follow a symbolic link, so a link inside the client's folder could read any file of the machine.

    Raises
    ------
    DataError
        A symbolic link inside the folder (to a ``.parquet`` file or to a folder), or the folder or a
        file whose real location is outside ``root`` (the client's folder; default: ``folder`` itself).
    """
    folder = Path(folder)
    base = Path(root if root is not None else folder).resolve()
    if folder.is_symlink() or not folder.resolve().is_relative_to(base):
        raise DataError(str(folder), f"the dataset folder is a link or lies outside the client folder {base}; "
                                     "copy its files into the client folder")
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):  # does not follow links into folders
        for entry in [*dirnames, *filenames]:
            p = Path(dirpath) / entry
            if p.is_symlink() and (entry in dirnames or entry.endswith(".parquet")):
                raise DataError(str(p), "a symbolic link inside the dataset folder is not read (it could point "
                                        "outside the client folder); copy the file into the folder instead")
        for entry in filenames:
            p = Path(dirpath) / entry
            if entry.endswith(".parquet"):
                if not p.resolve().is_relative_to(base):
                    raise DataError(str(p), f"the file lies outside the client folder {base}")
                files.append(p)
    return sorted(files, key=lambda f: f.relative_to(folder).as_posix())


def _backend_name(con: Any) -> str:
    return str(getattr(con, "name", type(con).__module__))


def _execute(expr: Any) -> pd.DataFrame:
    """Run an expression and return its (small, aggregated) result as pandas."""
    out = expr.to_pandas()
    return out.reset_index(drop=True)


def _require(t: ir.Table, columns: Sequence[str | None], what: str) -> None:
    missing = [c for c in columns if c is not None and c not in t.columns]
    if missing:
        raise MetricError(f"{what}: column {missing[0]!r} not found (columns: {', '.join(t.columns)})")


# --- metric cube ----------------------------------------------------------------------------------


def _score_checks(t: ir.Table, metric: str, column: str, lo: float, hi: float) -> None:
    """The range (and for NPS whole-number) checks of :func:`cxaudit.metrics.metric_table`, as one aggregate."""
    import ibis

    x = t[column].cast("float64")
    aggs = {"lo": x.min(), "hi": x.max()}
    if metric == "nps":
        aggs["frac"] = ibis.ifelse(x != x.floor(), x, ibis.null("float64")).min()
    row = _execute(t.aggregate(**aggs)).iloc[0]
    seen = np.array([v for v in (row["lo"], row["hi"]) if pd.notna(v)], dtype=float)
    _check_range(seen, lo, hi, f"{metric.upper()} column {column!r}")
    if metric == "nps" and pd.notna(row.get("frac")):
        _check_whole(np.array([float(row["frac"])]), f"NPS column {column!r}")


def _check_weights(t: ir.Table, weight: str | None, what: str) -> None:
    if weight is None:
        return
    neg = _execute(t.aggregate(n=(t[weight].cast("float64") < 0).sum())).iloc[0]["n"]
    if pd.notna(neg) and int(neg) > 0:
        raise MetricError(f"{what}: column {weight!r} has negative weights; expected weights >= 0")


def _period_expr(t: ir.Table, date_column: str, period: _Period) -> Any:
    if period not in ("M", "W"):
        raise MetricError(f"unknown period {period!r}; expected 'M' (month), 'W' (ISO week) or None")
    return t[date_column].cast("timestamp").truncate(period).cast("date")


def _period_labels(values: pd.Series, period: _Period) -> pd.Series:
    """The labels of ``Series.dt.to_period("M" | "W")`` for period starts from the engine."""
    d = pd.to_datetime(values)
    return pd.Series([str(pd.Period(v, period)) for v in d], index=values.index, dtype=object)


_SUM_FIELDS = ("count", "sw", "sw2", "swx", "swx2", "swpos", "swneg")


def _group_sums(t: ir.Table, specs: Sequence[tuple[str, str, float, float | None]], keys: Sequence[str],
                period: _Period | None, date_column: str, weight: str | None) -> pd.DataFrame:
    """Per group, for each ``(name, column, pos_at, neg_at)`` of ``specs``: count, Σw, Σw², Σwx, Σwx²,
    Σw·[x ≥ pos], Σw·[x ≤ neg] over the rows where that score (and the weight) is present, in ONE
    ``GROUP BY`` for all metrics (columns ``<name>:<sum>``). Rows with a missing key (or date) are out."""
    import ibis

    keep = ibis.literal(True)
    for k in keys:
        keep &= t[k].notnull()
    if period is not None:
        keep &= t[date_column].notnull()
    cols: dict[str, Any] = {k: t[k] for k in keys}
    if period is not None:
        cols["period"] = _period_expr(t, date_column, period)
    cols["_w"] = t[weight].cast("float64") if weight else ibis.literal(1.0)
    for i, (_, column, _, _) in enumerate(specs):
        cols[f"_x{i}"] = t[column].cast("float64")
    base = t.filter(keep).select(**cols)
    aggs: dict[str, Any] = {}
    for i, (name, _, pos_at, neg_at) in enumerate(specs):
        x = base[f"_x{i}"]
        valid = x.notnull() & base["_w"].notnull()
        w = ibis.ifelse(valid, base["_w"], 0.0)
        xv = ibis.ifelse(valid, x, 0.0)
        aggs[f"{name}:count"] = valid.cast("int64").sum()
        aggs[f"{name}:sw"] = w.sum()
        aggs[f"{name}:sw2"] = (w * w).sum()
        aggs[f"{name}:swx"] = (w * xv).sum()
        aggs[f"{name}:swx2"] = (w * xv * xv).sum()
        aggs[f"{name}:swpos"] = ibis.ifelse(valid & (x >= pos_at), w, 0.0).sum()
        aggs[f"{name}:swneg"] = (ibis.ifelse(valid & (x <= neg_at), w, 0.0).sum() if neg_at is not None
                                 else ibis.literal(0.0))
    group = [*keys, *(["period"] if period is not None else [])]
    expr = base.group_by(group).aggregate(**aggs) if group else base.aggregate(**aggs)
    out = _execute(expr)
    if group:
        out = out.sort_values(group, kind="stable").reset_index(drop=True)
    if period is not None:
        out["period"] = _period_labels(out["period"], period)
    return out


def _sums_of(frame: pd.DataFrame, name: str) -> _Sums:
    return _Sums(*(frame[f"{name}:{f}"].to_numpy(dtype=float, na_value=0.0) for f in _SUM_FIELDS))


def metric_table(
    t: ir.Table,
    metric: Literal["nps", "csat", "ces"],
    by: Sequence[str] = (),
    period: _Period | None = None,
    *,
    column: str | None = None,
    date_column: str = "date",
    weight: str | None = None,
    min_base: int = 30,
    scale: int | None = None,
    top_box: int = 2,
    nps_ci: Literal["adjusted-wald", "wald"] = "adjusted-wald",
    scale_min: int | None = None,
) -> pd.DataFrame:
    """:func:`cxaudit.metrics.metric_table` computed in the engine: one row per observed group of ``by``
    (and calendar ``period``) with ``n, value, ci_low, ci_high, small_base`` and the metric's extras.

    The engine returns the group sums (one ``GROUP BY``; :func:`metric_cube` gets every metric's sums
    in one ``GROUP BY`` per dimension); the formulas are those of
    :func:`cxaudit.metrics.metric_table` applied to them, so the tables agree to rounding.
    """
    if metric not in CUBE_METRICS:
        raise MetricError(f"unknown metric {metric!r}; expected nps, csat or ces")
    column = column or metric
    _require(t, [column, *by, date_column if period is not None else None, weight], f"{metric} table")
    lo, hi, pos_at, neg_at = _scale_of(metric, scale, scale_min, top_box)
    _score_checks(t, metric, column, lo, hi)
    _check_weights(t, weight, f"{metric} table")
    sums = _group_sums(t, [(metric, column, pos_at, neg_at)], list(by), period, date_column, weight)
    labels = sums[[*by, *(["period"] if period is not None else [])]].copy()
    return _table_from_sums(metric, labels, _sums_of(sums, metric), weight is not None, min_base, nps_ci)


def metric_cube(
    t: ir.Table,
    metrics: Sequence[str] = CUBE_METRICS,
    by: Sequence[str] = (),
    period: _Period | None = "M",
    *,
    columns: dict[str, str] | None = None,
    date_column: str = "date",
    weight: str | None = None,
    min_base: int = 30,
    scales: dict[str, int] | None = None,
    top_box: int = 2,
    nps_ci: Literal["adjusted-wald", "wald"] = "adjusted-wald",
    scale_mins: dict[str, int] | None = None,
) -> pd.DataFrame:
    """:func:`cxaudit.metrics.metric_cube` computed in the engine: every metric × every ``by`` column
    (each crossed with ``period``), long format ``metric, dimension, group, period, n, value, ...``."""
    columns, scales, scale_mins = columns or {}, scales or {}, scale_mins or {}
    for m in metrics:
        if m not in CUBE_METRICS:
            raise MetricError(f"unknown metric {m!r}; expected nps, csat or ces")
    _require(t, [*(columns.get(m, m) for m in metrics), *by, date_column if period else None, weight], "metric cube")
    _check_weights(t, weight, "metric cube")
    parts = []
    specs = []
    for m in metrics:
        lo, hi, pos_at, neg_at = _scale_of(m, scales.get(m), scale_mins.get(m), top_box)
        _score_checks(t, m, columns.get(m, m), lo, hi)
        specs.append((m, columns.get(m, m), pos_at, neg_at))
    for dim in [None, *by]:
        keys = [] if dim is None else [dim]
        sums = _group_sums(t, specs, keys, period, date_column, weight) if specs else None
        for m in metrics:
            assert sums is not None
            labels = sums[[*keys, *(["period"] if period else [])]].copy()
            tab = _table_from_sums(m, labels, _sums_of(sums, m), weight is not None, min_base, nps_ci)
            tab.insert(1, "dimension", "total" if dim is None else dim)
            tab.insert(2, "group", "" if dim is None else tab.pop(dim).astype(str))
            parts.append(tab)
    if not parts:
        return pd.DataFrame(columns=["metric", "dimension", "group", "n", "value", "ci_low", "ci_high", "small_base"])
    return pd.concat(parts, ignore_index=True)


# --- churn ----------------------------------------------------------------------------------------


def _flag(t: ir.Table, column: str) -> Any:
    col = t[column]
    return col.cast("int64") if col.type().is_boolean() else col.cast("float64")


def churn_counts(t: ir.Table, by: Sequence[str] = (), *, churned: str = "churned") -> pd.DataFrame:
    """``n`` customers with a known churn flag and ``churned`` among them, per observed group of ``by``
    (sorted by the keys); customers with a missing flag or key are left out, as in the pandas path.

    Raises
    ------
    MetricError
        A missing column, or a flag other than true/false (1/0).
    """
    _require(t, [churned, *by], "churn table")
    f = _flag(t, churned)
    bad = _execute(t.aggregate(n=(f.notnull() & (f != 0) & (f != 1)).sum())).iloc[0]["n"]
    if pd.notna(bad) and int(bad) > 0:
        raise MetricError(f"churn table: column {churned!r} must be true/false (1/0)")
    keep = f.notnull()
    for k in by:
        keep &= t[k].notnull()
    base = t.filter(keep).select(*[t[k] for k in by], _f=f)
    aggs = {"n": base.count(), "churned": base["_f"].sum()}
    expr = base.group_by(list(by)).aggregate(**aggs) if by else base.aggregate(**aggs)
    out = _execute(expr)
    if by:
        out = out.sort_values(list(by), kind="stable").reset_index(drop=True)
    out["n"] = out["n"].astype(float)
    out["churned"] = out["churned"].astype(float)
    return out[out["n"] > 0].reset_index(drop=True)


def churn_table(t: ir.Table, by: Sequence[str] = (), *, churned: str = "churned", min_base: int = 30) -> pd.DataFrame:
    """:func:`cxaudit.metrics.churn_table` from engine counts: churn and retention share per group with
    Wilson (1927) 95 % intervals (:func:`cxaudit.metrics.wilson`) computed in Python from n and churned."""
    out = churn_counts(t, by, churned=churned)
    n, k = out["n"].to_numpy(float), out["churned"].to_numpy(float)
    lo, hi = wilson(k, n)
    out["churn_rate"], out["ci_low"], out["ci_high"] = k / n, lo, hi
    out["retention_rate"], out["retention_ci_low"], out["retention_ci_high"] = 1 - k / n, 1 - hi, 1 - lo
    out["small_base"] = out["n"] < min_base
    return out


# --- survival -------------------------------------------------------------------------------------


def life_table(t: ir.Table, by: Sequence[str] = (), *, time: str = "t_exit", event: str = "churned",
               entry: str | None = None) -> pd.DataFrame:
    """The life table of each group, from the engine: per distinct time, ``exits`` (customers whose
    follow-up ends then), ``events`` (of them, churned) and ``entries`` (customers entering the risk
    set then; with ``entry=None`` nobody enters late). Rows with a missing time, flag, entry or key
    are left out. Long format ``<by...>, time, exits, events, entries``, sorted by group and time:
    a few thousand rows whatever the number of customers. :func:`kaplan_meier` turns it into curves.
    """
    _require(t, [time, event, entry, *by], "life table")
    f = _flag(t, event)
    keep = t[time].notnull() & f.notnull()
    if entry:
        keep &= t[entry].notnull()
    for k in by:
        keep &= t[k].notnull()
    base = t.filter(keep)
    keys = list(by)
    ex = base.group_by([*[base[k] for k in keys], base[time].cast("float64").name("time")]).aggregate(
        exits=base.count(), events=_flag(base, event).sum())
    ex_df = _execute(ex)
    if entry:
        en = base.group_by([*[base[k] for k in keys], base[entry].cast("float64").name("time")]).aggregate(
            entries=base.count())
        en_df = _execute(en)
    else:
        en_df = pd.DataFrame({**{k: pd.Series(dtype=ex_df[k].dtype) for k in keys}, "time": pd.Series(dtype=float),
                              "entries": pd.Series(dtype=float)})
    out = ex_df.merge(en_df, on=[*keys, "time"], how="outer")
    for c in ("exits", "events", "entries"):
        out[c] = out[c].fillna(0).astype(float)
    return out.sort_values([*keys, "time"], kind="stable").reset_index(drop=True)


def kaplan_meier(table: pd.DataFrame, *, delayed_entry: bool = True) -> pd.DataFrame:
    """The Kaplan–Meier curve of one group's :func:`life_table` (its ``time, exits, events, entries``).

    At risk just before t: n(t) = #(entry < t) − #(exit < t) with delayed entry, else #(exit ≥ t);
    S(t) = Π (1 − d/n) over event times (Kaplan & Meier 1958); Greenwood's (1926) variance
    S² Σ d / (n (n − d)); 95 % interval on the log–log scale. These are the formulas of statsmodels
    ``SurvfuncRight`` (with ``entry``) and of :mod:`cxaudit.churn`'s curves, on counts instead of rows.
    Columns ``time, surv, ci_low, ci_high, n_risk, events``, event times only.
    """
    lt = table.sort_values("time", kind="stable")
    time = lt["time"].to_numpy(float)
    exits, d, entries = (lt[c].to_numpy(float) for c in ("exits", "events", "entries"))
    before_exit = np.cumsum(exits) - exits  # exits strictly before t
    if delayed_entry:
        before_entry = np.cumsum(entries) - entries  # entries strictly before t
        n = before_entry - before_exit
    else:
        n = exits.sum() - before_exit
    ev = d > 0
    time, n, d = time[ev], n[ev], d[ev]
    with np.errstate(divide="ignore", invalid="ignore"):
        step = 1 - d / n
        zero = step < 1e-16
        s = np.exp(np.cumsum(np.log(np.where(zero, 1e-16, step))))
        s[zero] = 0
        g = d / np.clip(n * (n - d), 1e-12, np.inf)
        g[(n == d) | (n == 0)] = np.nan
        se = np.sqrt(np.cumsum(g))
        finite = np.isfinite(se) | (s != 0)
        se = np.where(finite, se * s, np.nan)
        log_s = np.log(s)
        half = Z95 * se / (s * np.abs(log_s))
        lo = np.exp(-np.exp(np.log(-log_s) + half))
        hi = np.exp(-np.exp(np.log(-log_s) - half))
    exact = (s >= 1.0) | (s <= 0.0) | ~np.isfinite(half)
    return pd.DataFrame({"time": time, "surv": s, "ci_low": np.where(exact, s, lo), "ci_high": np.where(exact, s, hi),
                         "n_risk": n, "events": d})


def _at_risk(times: np.ndarray, part: pd.DataFrame, delayed_entry: bool) -> tuple[np.ndarray, np.ndarray]:
    """Number at risk just before each of ``times`` and events at each, from one group's life table."""
    lt = part.sort_values("time", kind="stable")
    t = lt["time"].to_numpy(float)
    pos = np.searchsorted(t, times, side="left")  # rows of the life table strictly before each time
    exits_before = np.concatenate([[0.0], np.cumsum(lt["exits"].to_numpy(float))])[pos]
    if delayed_entry:
        entries_before = np.concatenate([[0.0], np.cumsum(lt["entries"].to_numpy(float))])[pos]
        n = entries_before - exits_before
    else:
        n = float(lt["exits"].sum()) - exits_before
    d = pd.Series(lt["events"].to_numpy(float), index=t).groupby(level=0).sum().reindex(times, fill_value=0.0)
    return n, d.to_numpy(float)


def logrank(table: pd.DataFrame, by: str, *, delayed_entry: bool = True) -> tuple[float, float, int]:
    """The log-rank test (Mantel 1966; Peto & Peto 1972) of equal survival across the groups of a
    :func:`life_table` (``by``, ``time``, ``exits``, ``events``, ``entries``): χ² = (O − E)ᵀ V⁻¹ (O − E)
    over groups 2..k, with the hypergeometric variance, summed over the times where more than one
    customer is at risk; p from χ² with k − 1 degrees of freedom. The computation of statsmodels
    ``survdiff`` (the one :func:`cxaudit.churn.survival` reports), on counts instead of rows.
    Returns ``(chi2, p, dof)``; NaN with fewer than two groups.
    """
    groups = sorted(table[by].dropna().unique(), key=str)
    if len(groups) < 2:
        return float("nan"), float("nan"), 0
    times = np.unique(table["time"].to_numpy(float))
    risk, dead = zip(*(_at_risk(times, table[table[by] == g], delayed_entry) for g in groups), strict=True)
    n, d = np.vstack(risk), np.vstack(dead)
    n_tot, d_tot = n.sum(axis=0), d.sum(axis=0)
    keep = n_tot > 1
    n, d, n_tot, d_tot = n[:, keep], d[:, keep], n_tot[keep], d_tot[keep]
    r = n / n_tot
    o_e = (d[1:] - r[1:] * d_tot).sum(axis=1)
    scale = d_tot * (n_tot - d_tot) / np.clip(n_tot - 1, 1e-10, np.inf)
    k = len(groups) - 1
    var = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            var[i, j] = float((scale * r[i + 1] * ((i == j) - r[j + 1])).sum())
    chi2 = float(o_e @ np.linalg.solve(var, o_e))
    return chi2, float(stats.chi2.sf(chi2, k)), k


def exposure_table(t: ir.Table, by: str | None = None, *, time: str = "t_exit", entry: str = "t_entry",
                   event: str = "churned", period_months: float = 12.0) -> pd.DataFrame:
    """Churn per period from person-time, in the engine: per group ``n`` customers with a known flag
    and exit time, ``events``, ``exposure_months`` = Σ max(exit − entry, 0) (a missing entry adds
    no months), the constant hazard λ = events / months and ``period_churn`` = 1 − exp(−period·λ)
    with the exact Poisson (Garwood 1936) interval — :func:`cxaudit.churn.exposure_rates` on sums.
    Groups sorted by key.
    """
    import ibis

    _require(t, [time, entry, event, by], "churn per period")
    f = _flag(t, event)
    keep = f.notnull() & t[time].notnull()
    if by:
        keep &= t[by].notnull()
    base = t.filter(keep)
    months = ibis.greatest(base[time].cast("float64") - base[entry].cast("float64"), 0.0)
    aggs = {"n": base.count(), "events": _flag(base, event).sum(), "exposure_months": months.sum()}
    expr = base.group_by(base[by]).aggregate(**aggs) if by else base.aggregate(**aggs)
    tab = _execute(expr)
    if by:
        tab = tab.sort_values(by, kind="stable").reset_index(drop=True)
    return period_churn_from_exposure(tab, period_months)


# --- ticket time quantiles ------------------------------------------------------------------------


def _ranks(n: int, q: float, conf: float) -> tuple[int, int, int, int]:
    """0-based ranks of the order statistics behind the q quantile (⌊h⌋, ⌈h⌉, h = (n − 1) q) and its
    distribution-free interval (r − 1, s − 1) as in :func:`cxaudit.tickets.quantile_ci` (−1: none)."""
    h = (n - 1) * q
    alpha = 1 - conf
    r = int(stats.binom.ppf(alpha / 2, n, q))
    s = int(stats.binom.ppf(1 - alpha / 2, n, q)) + 1
    return int(np.floor(h)), int(np.ceil(h)), r - 1 if 1 <= r <= n else -1, s - 1 if 1 <= s <= n else -1


def time_quantiles(t: ir.Table, column: str = "first_response_h", by: str = "channel",
                   qs: Sequence[float] = (0.5, 0.9), conf: float = 0.95, min_base: int = 30) -> pd.DataFrame:
    """:func:`cxaudit.tickets.time_table` in the engine: per group ``n`` tickets, ``n_done`` with the
    time, ``mean``, and for each q (``median`` = 0.5, ``p90`` = 0.9, else ``q<100q>``) the quantile with
    its distribution-free interval (``_low`` / ``_high``).

    Exact, not approximate: the engine numbers the answered rows of each group in order of the value
    (``row_number() over (partition by group order by value)``) and returns only the few order
    statistics needed; the quantile is numpy's default (type 7: x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌈h⌉₎ − x₍⌊h⌋₎),
    h = (n − 1) q, Hyndman & Fan 1996) and the interval that of Conover (1999, §3.2).
    """
    import ibis

    _require(t, [column, by], "time table")
    base = t.filter(t[by].notnull())
    x = base[column].cast("float64")
    counts = _execute(base.group_by(base[by]).aggregate(n=base.count(), n_done=x.count(), mean=x.mean()))
    need: list[tuple[Any, int]] = []
    plan: dict[Any, dict[float, tuple[int, int, int, int]]] = {}
    for g, nd in zip(counts[by], counts["n_done"], strict=True):
        nd = int(nd)
        if nd == 0:
            continue
        plan[g] = {q: _ranks(nd, q, conf) for q in qs}
        need.extend((g, r) for ranks in plan[g].values() for r in ranks if r >= 0)
    values: dict[tuple[Any, int], float] = {}
    if need:
        done = base.filter(x.notnull()).select(_g=base[by], _x=x)
        win = ibis.window(group_by=done["_g"], order_by=done["_x"])
        numbered = done.mutate(_r=ibis.row_number().over(win))  # 0-based in Ibis
        wanted = pd.DataFrame(sorted(set(need), key=lambda p: (str(p[0]), p[1])), columns=["_g", "_r"])
        wanted["_r"] = wanted["_r"].astype("int64")
        mem = ibis.memtable(wanted)
        mem = mem.mutate(_g=mem["_g"].cast(numbered["_g"].type()))
        picked = numbered.join(mem, ["_g", "_r"]).select("_g", "_r", "_x")
        got = _execute(picked)
        values = {(g, int(r)): float(v) for g, r, v in zip(got["_g"], got["_r"], got["_x"], strict=True)}
    names = {0.5: "median", 0.9: "p90"}
    rows = []
    for g, n, nd, mean in zip(counts[by], counts["n"], counts["n_done"], counts["mean"], strict=True):
        row: dict[str, Any] = {by: g, "n": int(n), "n_done": int(nd), "share_done": int(nd) / int(n) if n else np.nan}
        for q in qs:
            name = names.get(q, f"q{round(100 * q):d}")
            if int(nd) == 0:
                row[name] = row[f"{name}_low"] = row[f"{name}_high"] = np.nan
                continue
            f0, f1, r, s = plan[g][q]
            h = (int(nd) - 1) * q
            a, b = values[(g, f0)], values[(g, f1)]
            row[name] = a + (h - f0) * (b - a) if f1 != f0 else a
            row[f"{name}_low"] = values[(g, r)] if r >= 0 else np.nan
            row[f"{name}_high"] = values[(g, s)] if s >= 0 else np.nan
        row["mean"] = float(mean) if int(nd) else np.nan
        row["small_base"] = int(nd) < min_base
        rows.append(row)
    out = pd.DataFrame(rows)
    sort = names.get(qs[0], f"q{round(100 * qs[0]):d}") if qs else by
    return out.sort_values(sort, kind="stable").reset_index(drop=True) if len(out) else out


# --- themes, event logs ---------------------------------------------------------------------------


def theme_counts(t: ir.Table, themes: Sequence[str], by: str, *, min_base: int = 30) -> pd.DataFrame:
    """Comments mentioning each theme per group: long ``group, theme, n, k, share, ci_low, ci_high,
    small_base`` (Wilson intervals) from one ``GROUP BY`` over a 0/1 (or true/false) theme column each,
    the counts of :func:`cxaudit.text.themes_by`. Rows with a missing group are left out."""
    _require(t, [by, *themes], "theme counts")
    base = t.filter(t[by].notnull())
    aggs: dict[str, Any] = {"n": base.count()}
    for i, th in enumerate(themes):
        aggs[f"_k{i}"] = (_flag(base, th).fill_null(0) != 0).cast("int64").sum()
    wide = _execute(base.group_by(base[by]).aggregate(**aggs)).sort_values(by, kind="stable")
    rows = []
    for i, th in enumerate(themes):
        n = wide["n"].to_numpy(float)
        k = wide[f"_k{i}"].to_numpy(float)
        lo, hi = wilson(k, n)
        rows.append(pd.DataFrame({"group": wide[by].to_numpy(), "theme": th, "n": n.astype(int), "k": k.astype(int),
                                  "share": k / n, "ci_low": lo, "ci_high": hi, "small_base": n < min_base}))
    if not rows:
        return pd.DataFrame(columns=["group", "theme", "n", "k", "share", "ci_low", "ci_high", "small_base"])
    return pd.concat(rows, ignore_index=True)


def edge_counts(t: ir.Table, *, case: str = "case_id", activity: str = "activity",
                timestamp: str = "timestamp", waits: bool = True) -> pd.DataFrame:
    """The directly-follows pairs of an event log with ``transitions`` (how often b directly follows a
    within a case), ``cases`` (in how many cases) and ``case_share``, most frequent first (van der
    Aalst 2016, *Process Mining*, §6.2); with ``waits``, also ``wait_median_h`` / ``wait_p90_h``, the
    exact median and 90th percentile of the hours from a to b (:func:`time_quantiles`; times taken to
    the second) — the columns of :func:`cxaudit.process.directly_follows`. Events without a case,
    activity or time are left out; events are ordered by time within a case (ties by activity name:
    ``process.prepare`` keeps the input order for ties, so give distinct times to match it exactly).
    """
    import ibis

    _require(t, [case, activity, timestamp], "edge counts")
    ev = t.filter(t[case].notnull() & t[activity].notnull() & t[timestamp].notnull()).select(
        _c=t[case].cast("string"), _a=t[activity].cast("string"), _t=t[timestamp].cast("timestamp"))
    win = ibis.window(group_by=ev["_c"], order_by=[ev["_t"], ev["_a"]])
    pairs = ev.mutate(target=ev["_a"].lead().over(win), _next=ev["_t"].lead().over(win)).rename(source="_a")
    pairs = pairs.filter(pairs["target"].notnull())
    edges = pairs.group_by(["source", "target"]).aggregate(transitions=pairs.count(), cases=pairs["_c"].nunique())
    n_cases = int(_execute(ev.aggregate(n=ev["_c"].nunique())).iloc[0]["n"])
    out = _execute(edges)
    out["case_share"] = out["cases"] / max(n_cases, 1)
    cols = ["source", "target", "transitions", "cases", "case_share"]
    if waits:
        sep = "\x1f"  # joins source and target into one group key
        hours = (pairs["_next"].epoch_seconds() - pairs["_t"].epoch_seconds()).cast("float64") / 3600.0
        timed = pairs.select(_edge=pairs["source"].concat(sep, pairs["target"]), wait_h=hours)
        q = time_quantiles(timed, "wait_h", "_edge", qs=(0.5, 0.9), min_base=0)
        q["source"], q["target"] = zip(*(str(e).split(sep, 1) for e in q["_edge"]), strict=True)
        out = out.merge(q[["source", "target", "median", "p90"]].rename(
            columns={"median": "wait_median_h", "p90": "wait_p90_h"}), on=["source", "target"], how="left")
        cols += ["wait_median_h", "wait_p90_h"]
    out = out.sort_values(["transitions", "source", "target"], ascending=[False, True, True], kind="stable")
    return out[cols].reset_index(drop=True)


# --- sufficient statistics for models -------------------------------------------------------------


@dataclass(frozen=True)
class CrossProducts:
    """n, Σx and X'X of the rows where every column is present (weighted: Σw, Σwx, X'WX)."""

    columns: tuple[str, ...]
    n: float
    sums: np.ndarray
    xtx: np.ndarray


def crossproducts(t: ir.Table, columns: Sequence[str], *, weight: str | None = None) -> CrossProducts:
    """The sufficient statistics of a linear model or a correlation matrix, from one aggregate query:
    n (Σw), Σx_i (Σw x_i) and Σx_i x_j (Σw x_i x_j) over complete rows — p(p + 3)/2 sums, whatever
    the number of rows. The key-driver models of :mod:`cxaudit.drivers` need only these
    (:func:`correlation_from_crossproducts`), so rows never leave the engine."""
    import ibis

    cols = list(columns)
    _require(t, [*cols, weight], "cross-products")
    keep = ibis.literal(True)
    for c in cols:
        keep &= t[c].notnull()
    if weight:
        keep &= t[weight].notnull()
    base = t.filter(keep).select(*[t[c].cast("float64").name(f"_x{i}") for i, c in enumerate(cols)],
                                 _w=t[weight].cast("float64") if weight else ibis.literal(1.0))
    w = base["_w"]
    aggs: dict[str, Any] = {"n": w.sum(), "rows": base.count()}
    for i in range(len(cols)):
        aggs[f"s{i}"] = (w * base[f"_x{i}"]).sum()
        for j in range(i, len(cols)):
            aggs[f"p{i}_{j}"] = (w * base[f"_x{i}"] * base[f"_x{j}"]).sum()
    row = _execute(base.aggregate(**aggs)).iloc[0]
    p = len(cols)
    sums = np.array([float(row[f"s{i}"]) if pd.notna(row[f"s{i}"]) else 0.0 for i in range(p)])
    xtx = np.zeros((p, p))
    for i in range(p):
        for j in range(i, p):
            v = row[f"p{i}_{j}"]
            xtx[i, j] = xtx[j, i] = float(v) if pd.notna(v) else 0.0
    n = float(row["n"]) if pd.notna(row["n"]) else 0.0
    return CrossProducts(tuple(cols), n, sums, xtx)


def correlation_from_crossproducts(cp: CrossProducts) -> pd.DataFrame:
    """Pearson correlations from n, Σx and X'X: C = X'X − Σx Σxᵀ / n, r_ij = C_ij / √(C_ii C_jj)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        c = cp.xtx - np.outer(cp.sums, cp.sums) / cp.n
        d = np.sqrt(np.diag(c))
        r = c / np.outer(d, d)
    return pd.DataFrame(r, index=list(cp.columns), columns=list(cp.columns))


# --- validation -----------------------------------------------------------------------------------


def rule_counts(t: ir.Table, rules: Mapping[str, Any]) -> pd.Series:
    """How many rows break each rule, in one aggregate query: ``rules`` maps a reason to a boolean
    Ibis expression over ``t`` that is true for a bad row (a NULL result counts as not bad)."""
    if not rules:
        return pd.Series(dtype="int64")
    aggs = {f"_r{i}": expr.fill_null(False).cast("int64").sum() for i, expr in enumerate(rules.values())}
    aggs["_rows"] = t.count()
    row = _execute(t.aggregate(**aggs)).iloc[0]
    out = pd.Series({name: int(row[f"_r{i}"]) if pd.notna(row[f"_r{i}"]) else 0
                     for i, name in enumerate(rules)}, dtype="int64")
    out["rows"] = int(row["_rows"])
    return out
