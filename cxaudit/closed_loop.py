"""Closing the loop: the callback list for the client's team and the loop-closure indicators.

After each wave the respondents to call back are listed in ``run_dir/closed_loop.xlsx``: every answer
with an NPS at or below ``closed_loop.max_nps`` (6: the detractors; Reichheld 2003), urgent at or below
``closed_loop.urgent_nps`` (3), with the respondent's ids, the touchpoint they rated lowest (the one to
talk about), the complaint theme of their comment (the consultant's codeframe), their comment with
personal data redacted, and two empty columns for the team (``contacted_on``, ``outcome``). Contact
data come only from the response columns the consultant lists in ``closed_loop.contact_columns``; they
are in this file only, never in a report, and every cell is written formula-safe.

When the team returns the file with those two columns filled in (``closed_loop_returned.xlsx`` in the
wave's folder, ``data/<client>/waves/<wave>/``), :func:`loop_kpis` reports the share contacted, the median
days from the answer to the call and the share resolved; otherwise it reports how many callbacks each
wave produced. This follows the closed-loop practice of the Net Promoter System (Reichheld & Markey
2011, *The Ultimate Question 2.0*, ch. 6: inner loop).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConfigError, DataError

__all__ = ["CALLBACK_FILE", "RETURNED_FILE", "Callbacks", "callbacks", "write_callbacks", "blocks_loop", "loop_kpis"]

CALLBACK_FILE = "closed_loop.xlsx"
RETURNED_FILE = "closed_loop_returned.xlsx"
TEAM_COLUMNS = ("contacted_on", "outcome")
OUTCOMES = ("resolved", "not_resolved", "no_answer")


@dataclass
class Callbacks:
    """The callback list (``table``) and the columns of contact data it carries."""

    table: pd.DataFrame
    contact_columns: list[str]
    path: Path | None = None


def _codeframe(audit: Any) -> Any:
    from .text import default_codeframe, load_codeframe

    f = Path(audit.dir) / "codeframe.yaml"
    return load_codeframe(f) if f.is_file() else default_codeframe()


def callbacks(audit: Any) -> Callbacks:
    """The respondents to call back, most urgent first (module docstring).

    Raises
    ------
    ConfigError
        When ``closed_loop.contact_columns`` names a column the responses do not have.
    """
    from .text import code_comments, redact_pii

    cfg = audit.config.closed_loop
    r = audit.responses
    missing = [c for c in cfg.contact_columns if c not in r.columns]
    if missing:
        raise ConfigError(str(Path(audit.dir) / "audit.yaml"), "closed_loop.contact_columns",
                          f"names {missing[0]!r}, which the responses do not have "
                          f"(columns: {', '.join(map(str, r.columns))})")
    if "nps" not in r.columns:
        return Callbacks(pd.DataFrame(columns=["response_id"]), list(cfg.contact_columns))
    nps = pd.to_numeric(r["nps"], errors="coerce")
    tps = [c for c in audit.touchpoint_columns if c in r.columns]
    keep = list(dict.fromkeys(c for c in ("response_id", "customer_id", "date", "comment", *tps, *cfg.contact_columns)
                              if c in r.columns))
    sel = r.loc[nps.le(cfg.max_nps).fillna(False).to_numpy(bool), keep]  # only the columns used: no copy of the rest
    labels = {}
    if audit.has("touchpoints"):
        t_ = audit.table("touchpoints")
        labels = {str(a): (str(b) if isinstance(b, str) and b else str(a))
                  for a, b in zip(t_["touchpoint"], t_.get("label", t_["touchpoint"]), strict=True)}
    if tps:
        ratings = sel[tps].apply(pd.to_numeric, errors="coerce")
        has = ratings.notna().any(axis=1)
        low = ratings.fillna(np.inf).idxmin(axis=1).where(has)
        sel["touchpoint"] = low.map(lambda x: labels.get(x, labels.get(str(x)[3:], x)) if isinstance(x, str) else "")
        sel["touchpoint_rating"] = _rating_at(ratings, low)
    else:
        sel["touchpoint"], sel["touchpoint_rating"] = "", np.nan
    sel["theme"] = ""
    comment = sel["comment"].fillna("").astype(str) if "comment" in sel.columns else pd.Series("", index=sel.index)
    if comment.str.strip().ne("").any():
        cf = _codeframe(audit)
        coding = code_comments(comment.where(comment.str.strip().ne("")).dropna(), cf)
        complaint = [th.key for th in cf.themes if th.polarity == "complaint" and th.key in coding.matrix.columns]
        lab = {th.key: th.label.get(audit.language) or th.label.get("en") or th.key for th in cf.themes}
        themes = _joined_themes(coding.matrix[complaint], [lab[k] for k in complaint])
        sel.loc[themes.index, "theme"] = themes.to_numpy(object)  # one assignment, not one per row
    redacted = {c: redact_pii(c) for c in pd.unique(comment.to_numpy(object)) if c}  # each distinct text once
    sel["comment_redacted"] = [redacted[c] if c else "" for c in comment]
    sel["urgency"] = np.where(nps.loc[sel.index] <= cfg.urgent_nps, "high", "medium")
    cols = ["response_id", *[c for c in ("customer_id", "date") if c in sel.columns], "nps", "urgency", "touchpoint",
            "touchpoint_rating", "theme", "comment_redacted", *cfg.contact_columns]
    out = sel.assign(nps=nps.loc[sel.index])[cols]
    out = out.assign(_u=out["urgency"].map({"high": 0, "medium": 1})).sort_values(["_u", "nps"], kind="stable")
    out = out.drop(columns="_u").reset_index(drop=True)
    for c in TEAM_COLUMNS:
        out[c] = ""
    return Callbacks(out, list(cfg.contact_columns))


def _rating_at(ratings: pd.DataFrame, low: pd.Series) -> np.ndarray:
    """``ratings.at[i, low[i]]`` for every row (NaN where ``low`` is not a column name), read from the
    array by position instead of one lookup per row (the same numbers; 135k rows at the XL demo size)."""
    values = ratings.to_numpy(dtype=float)
    col = ratings.columns.get_indexer(low)  # -1 where there is no rating (NaN)
    out = np.full(len(values), np.nan)
    ok = col >= 0
    out[ok] = values[np.flatnonzero(ok), col[ok]]
    return out


def _joined_themes(matrix: pd.DataFrame, names: list[str]) -> pd.Series:
    """Per row of the boolean theme ``matrix``, the ``names`` of its true columns joined by ``"; "`` in
    column order (``""`` for none): computed once per distinct pattern of themes, not once per row."""
    m = matrix.to_numpy(dtype=bool)
    if m.shape[1] == 0:
        return pd.Series("", index=matrix.index, dtype=object)
    patterns, inverse = np.unique(m, axis=0, return_inverse=True)
    text = np.array(["; ".join(n for n, hit in zip(names, p, strict=True) if hit) for p in patterns], dtype=object)
    return pd.Series(text[inverse.ravel()], index=matrix.index, dtype=object)


def _cells(s: pd.Series) -> list[Any]:
    """A column as XLSX cell values: ``None`` for a missing value, Python numbers, text and naive datetimes."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return [None if v is pd.NaT else v.to_pydatetime() for v in s]
    values = s.astype(object).where(s.notna(), None).tolist()
    return [v.item() if isinstance(v, np.generic) else str(v) if isinstance(v, list | tuple | dict | set) else v
            for v in values] if s.dtype == object else values


def _write_xlsx(df: pd.DataFrame, path: Path) -> None:
    """The callback list as a formula-safe XLSX, streamed row by row (XlsxWriter's ``constant_memory``).

    Every text cell goes through :func:`cxaudit.export.safe_frame` (a leading apostrophe on any text
    that would start a formula, OWASP CSV injection) and is written as text: XlsxWriter's conversion
    of text to formulas, URLs or numbers is off. Numbers stay numbers, dates are dates, a missing
    value or an empty text is an empty cell. The cells are those :func:`cxaudit.export.write_xlsx`
    writes with openpyxl (a test reads both back), about 10× faster: at the XL demo size the list
    has ~135k rows (issue 19)."""
    import xlsxwriter

    from .export import safe_frame

    frame = safe_frame(df)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False,
                                         "default_date_format": "yyyy-mm-dd h:mm:ss"})
    try:
        ws = wb.add_worksheet("callbacks")
        ws.write_row(0, 0, [str(c) for c in frame.columns])
        columns = [_cells(frame[c]) for c in frame.columns]
        for i, row in enumerate(zip(*columns, strict=True), start=1):
            ws.write_row(i, 0, row)
    finally:
        wb.close()


def write_callbacks(audit: Any, run_dir: Path) -> Callbacks:
    """:func:`callbacks` written to ``run_dir/closed_loop.xlsx``."""
    cb = callbacks(audit)
    cb.path = Path(run_dir) / CALLBACK_FILE
    _write_xlsx(cb.table, cb.path)
    return cb


def blocks_loop(cb: Callbacks, lang: str) -> list[Any]:
    """What the report says about the callback list: counts by urgency only (no id, no contact data)."""
    from .i18n import fmt_int, t
    from .show import heading, paragraph

    n = len(cb.table)
    high = int((cb.table["urgency"] == "high").sum()) if n else 0
    return [heading(t("survey.h_loop", lang), "measure"),
            paragraph(t("survey.loop_text", lang, n=fmt_int(n, lang), high=fmt_int(high, lang)))]


def _returned(folder: Path) -> pd.DataFrame | None:
    f = folder / RETURNED_FILE
    if not f.is_file():
        return None
    df = pd.read_excel(f, dtype=str)
    missing = [c for c in ("response_id", *TEAM_COLUMNS) if c not in df.columns]
    if missing:
        raise DataError(str(f), f"column {missing[0]!r} not found; expected the callback list with "
                                f"{', '.join(TEAM_COLUMNS)} filled in", column=missing[0])
    return df


def loop_kpis(audits: Mapping[str, Any], lang: str) -> dict[str, Any] | None:
    """Loop-closure indicators across waves for the tracking report: ``{"rows": [(catalog key, text)]}``.

    Per wave: callbacks due (and urgent); with the team's returned list: share contacted, median days from
    the answer to the call, share resolved."""
    from .i18n import fmt_int, fmt_num, fmt_pct

    rows: list[tuple[str, str]] = []
    for w, a in audits.items():
        if not a.has("responses"):
            continue
        cb = callbacks(a).table
        n = len(cb)
        high = int((cb["urgency"] == "high").sum()) if n else 0
        rows.append(("track.loop_due", f"{w}: {fmt_int(n, lang)} ({fmt_int(high, lang)})"))
        folder = Path(a.files["responses"]).parent if getattr(a, "files", None) else None
        back = _returned(folder) if folder is not None else None
        if back is None or not n:
            continue
        back = back[back["response_id"].isin(cb["response_id"].astype(str))]
        contacted = pd.to_datetime(back["contacted_on"], errors="coerce")
        done = contacted.notna()
        rows.append(("track.loop_contacted", f"{w}: {fmt_pct(done.sum() / n, lang, 0)} (n = {fmt_int(n, lang)})"))
        if done.any() and "date" in cb.columns:
            answered = pd.to_datetime(cb.set_index(cb["response_id"].astype(str))["date"], errors="coerce")
            days = (contacted[done].to_numpy() - answered.reindex(back.loc[done, "response_id"]).to_numpy())
            days = pd.Series(days).dt.total_seconds() / 86400
            rows.append(("track.loop_days", f"{w}: {fmt_num(float(days.median()), lang, 1)}"))
        resolved = back["outcome"].astype(str).str.strip().str.lower().eq("resolved")
        rows.append(("track.loop_resolved", f"{w}: {fmt_pct(resolved.sum() / n, lang, 0)}"))
    return {"rows": rows} if rows else None
