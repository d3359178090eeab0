"""``tables.xlsx``: every table of the report as numbers, one sheet each.

Sources, in this order:

* the TO-BE results of the run (``tobe.json``): the recommendations (impact, value and its low /
  high scenario, cost, return, payback, owner, due date, KPI baseline and target, answers needed
  per wave), the business case (the changes, their sum, the overlap, the cap and the plan total),
  and the targets (AS-IS with its 95 % interval bounds and base, the plan's estimate, the target,
  whether it was re-set, answers needed per wave);
* every table a notebook showed (:func:`cxaudit.show.record_tables` writes them to
  ``report_tables/<notebook>/NNN.parquet`` with the heading above each), in notebook order: the
  shown columns under their report headers, numbers and both bounds of every interval as numbers.

Cells are written by :func:`cxaudit.export.write_xlsx` when that module is present (it escapes text
that would start a formula); otherwise by openpyxl here, with the same escaping (a text cell
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe —
OWASP, "CSV Injection").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .i18n import t

__all__ = ["TABLES_FILE", "collect_tables", "write_tables", "escape_cell"]

TABLES_FILE = "tables.xlsx"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def escape_cell(v: Any) -> Any:
    """A text value that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v


def _sheet_name(title: str, used: set[str]) -> str:
    base = _BAD_SHEET.sub(" ", title).strip().strip("'")[:31] or "Table"
    name, k = base, 2
    while name.lower() in used:
        suffix = f" ({k})"
        name, k = base[: 31 - len(suffix)] + suffix, k + 1
    used.add(name.lower())
    return name


def _tobe_sheets(run_dir: Path, lang: str) -> list[tuple[str, pd.DataFrame]]:
    from .business_case import BusinessCase, business_case_table
    from .recommend import impact_header, read_tobe

    tobe = read_tobe(run_dir)
    if not tobe:
        return []
    recs, tg = tobe["recommendations"], tobe["targets"]
    out: list[tuple[str, pd.DataFrame]] = []
    rows = []
    for r in recs:
        sc = r.scenarios or {}
        kpi = r.kpi or {}
        rows.append({
            t("tobe.col_rec", lang): r.label(lang), t("tobe.col_title", lang): r.title(lang),
            t("xlsx.on_plan", lang): bool(r.on_plan), t("tobe.col_quadrant", lang): t(f"tobe.quadrant.{r.quadrant}", lang),
            impact_header(recs, lang): None if r.impact_model == "none" else float(r.impact_nps),
            t("bc.col_value", lang): (sc.get("expected") or {}).get("value"),
            f"{t('bc.col_value', lang)} ({t('show.xlsx_low', lang)})": (sc.get("low") or {}).get("value"),
            f"{t('bc.col_value', lang)} ({t('show.xlsx_high', lang)})": (sc.get("high") or {}).get("value"),
            t("bc.col_cost", lang): r.cost, t("bc.col_roi", lang): r.roi,
            f"{t('bc.col_payback', lang)}, {t('bc.unit.months', lang)}": r.payback_months,
            t("tobe.col_effort", lang): t(f"tobe.effort.{r.effort}", lang),
            t("tobe.col_horizon", lang): t(f"tobe.horizon.{r.horizon}", lang),
            t("bc.col_owner", lang): r.owner or None,
            t("bc.col_due", lang): pd.Timestamp(r.due).date() if r.due else None,
            t("tobe.col_metric", lang): t(f"tobe.metric.{kpi['metric']}", lang) if kpi.get("metric") else None,
            t("tobe.col_baseline", lang): kpi.get("baseline"), t("tobe.col_target", lang): kpi.get("target"),
            t("xlsx.reset", lang): bool(kpi.get("reset")), t("bc.col_n_needed", lang): kpi.get("n_needed"),
        })
    if rows:
        out.append((t("tobe.recommendations", lang), pd.DataFrame(rows)))
    case_d = (tobe.get("methodology") or {}).get("business_case")
    if case_d:
        tab = business_case_table(BusinessCase(**case_d), recs, lang)
        out.append((t("deck.business_case", lang), pd.DataFrame({
            t("tobe.col_rec", lang): tab["rec"], t("tobe.col_title", lang): tab["title"],
            impact_header(recs, lang): tab["impact_num"].astype("float64"),
            t("bc.col_value", lang): tab["value_num"].astype("float64"),
            t("bc.col_cost", lang): tab["cost_num"].astype("float64"),
        })))
    if tg is not None:
        trows = []
        names = {"nps": t("tobe.target.nps", lang), "csat": t("tobe.target.csat", lang), "churn": t("tobe.target.churn", lang)}
        for key, (as_is, ci, n, scale) in {
            "nps": (tg.nps_as_is, tg.nps_ci, tg.nps_n, 1.0), "csat": (tg.csat_as_is, tg.csat_ci, tg.csat_n, 1.0),
            "churn": (tg.churn_as_is, tg.churn_ci, tg.churn_n, 100.0),
        }.items():
            if as_is is None:
                continue
            c = (tg.checks or {}).get(key, {})
            trows.append({t("tobe.col_metric", lang): names[key], t("tobe.col_as_is", lang): as_is * scale,
                          f"{t('tobe.ci95', lang)} ({t('show.xlsx_low', lang)})": ci[0] * scale if ci else None,
                          f"{t('tobe.ci95', lang)} ({t('show.xlsx_high', lang)})": ci[1] * scale if ci else None,
                          t("metrics.col_n", lang): n, t("xlsx.estimate", lang): c.get("estimate"),
                          t("tobe.col_target", lang): c.get("target"), t("xlsx.reset", lang): bool(c.get("reset")),
                          t("bc.col_n_needed", lang): c.get("n_needed")})
        if trows:
            out.append((t("tobe.targets", lang), pd.DataFrame(trows)))
    return out


def collect_tables(run_dir: str | Path, lang: str) -> list[tuple[str, pd.DataFrame]]:
    """(title, table) of every sheet, in order: the TO-BE results, then each notebook's tables."""
    from .session import REPORT_TABLES_DIR

    run_dir = Path(run_dir)
    out = _tobe_sheets(run_dir, lang)
    # the TO-BE notebook's formatted versions of these are the sheets above, in numbers
    as_numbers = {t(k, lang) for k in ("tobe.recommendations", "tobe.targets", "bc.heading", "tobe.plan")} if out else set()
    root = run_dir / REPORT_TABLES_DIR
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        for pq in sorted(folder.glob("*.parquet")):
            meta = pq.with_suffix(".json")
            title = json.loads(meta.read_text(encoding="utf-8")).get("title", "") if meta.is_file() else ""
            if folder.name.startswith("07_") and title in as_numbers:
                continue
            out.append((title or f"{folder.name} {pq.stem}", pd.read_parquet(pq)))
    return out


def write_tables(run_dir: str | Path, lang: str, out: str | Path | None = None) -> Path | None:
    """Write ``tables.xlsx`` (one sheet per table; see the module docstring) and return its path;
    None (nothing written) for a run with no table at all."""
    run_dir = Path(run_dir)
    path = Path(out) if out is not None else run_dir / TABLES_FILE
    used: set[str] = set()
    sheets = {_sheet_name(title, used): df for title, df in collect_tables(run_dir, lang)}
    if not sheets:
        return None
    write_xlsx: Callable[..., Path] | None
    try:
        from .export import write_xlsx  # issue 15: the one writer of client spreadsheets
    except ImportError:
        write_xlsx = None
    if write_xlsx is not None:
        write_xlsx(path, sheets)
        return path
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in sheets.items():
            safe = df.copy()
            safe.columns = [escape_cell(str(c)) for c in safe.columns]
            for c in safe.columns:
                if safe[c].dtype == object or str(safe[c].dtype) == "string":
                    safe[c] = safe[c].astype(object).map(escape_cell)
            safe.to_excel(xw, sheet_name=name, index=False)
    return path
