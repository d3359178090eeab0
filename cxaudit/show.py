"""Client-facing display blocks for notebooks: headings, notes and formatted tables.

Everything here returns an :class:`IPython.display.HTML` object whose text comes from the i18n
catalog or from the data, always HTML-escaped. The report keeps exactly these outputs (plus
figures), so a notebook's client-facing content is whatever it displays through this module.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"segment": ["<b>A</b>"], "n": [12], "value": [3.25], "lo": [1.0], "hi": [5.5]})
>>> html = table_html(df, [Col("segment", "quality.col_group"), Col("n", "metrics.col_n", "int"),
...                        Col("value", "metrics.col_value", "num1"),
...                        Col("lo", "metrics.col_ci", "ci1", hi="hi")], "en")
>>> "&lt;b&gt;A&lt;/b&gt;" in html and "[1.0; 5.5]" in html
True
>>> '>ноя\\xa02025</td>' in table_html(pd.DataFrame({"period": ["2025-11"]}),
...                                  [Col("period", "metrics.col_period", "period")], "ru")
True
"""

from __future__ import annotations

import hashlib
import html as _html
import json as _json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from IPython.display import HTML

from .i18n import fmt_ci, fmt_int, fmt_num, fmt_p, fmt_pct, fmt_period, t
from .pii import redact_value

__all__ = ["Col", "escape", "section", "heading", "paragraph", "note", "table", "table_html", "missing_input",
           "export_table"]

Kind = Literal["text", "period", "int", "num0", "num1", "num2", "pct", "pct1", "signed1", "ci1", "ci_pct", "flag", "p"]
#: Kinds shown as text (left-aligned); the others are numbers.
_TEXT_KINDS = ("text", "period")


@dataclass(frozen=True)
class Col:
    """One table column: the data column, the catalog key of its header, and how to format it.

    ``period``: a month (``YYYY-MM``) or week label of a trend table, shown in the locale
    (:func:`cxaudit.i18n.fmt_period`: "ноя 2025"); the data keep the sortable ISO label.
    ``p``: a p-value, always through the project's one formatter :func:`cxaudit.i18n.fmt_p`
    ("0.012", "< 0.001"); the data keep the number (tables.xlsx gets it as a number).
    For interval kinds (``ci1``, ``ci_pct``) ``key`` is the lower bound and ``hi`` the upper. A value
    column with ``lo`` and ``hi`` shows its 95% interval under the value (narrow tables for print).
    A header that is not a catalog key is shown as given (e.g. a segment name from the data).
    """

    key: str
    header: str
    kind: Kind = "text"
    hi: str | None = None
    lo: str | None = None  # with ``hi``: print the interval under the value, in the same cell


def escape(x: object) -> str:
    """HTML-escape any value for client-facing output (quotes included), personal data redacted first.

    The one choke point for text from data: table cells (segment values, labels, quotes), headers,
    headings, notes and the TO-BE blocks all pass here, so an e-mail, phone, card, IBAN or national
    id in a segment column never reaches the report (:func:`cxaudit.pii.redact_value`).

    >>> escape('<b>a@b.com</b>')
    '&lt;b&gt;[EMAIL]&lt;/b&gt;'
    """
    return _html.escape(redact_value(str(x)), quote=True)


def section(key: str, lang: str) -> HTML:
    """The ``<h1>`` that opens a report section (``section.<key>`` in the catalog)."""
    return HTML(f'<h1 class="cx-section" id="sec-{escape(key)}">{escape(t("section." + key, lang))}</h1>')


def heading(text: str, section_key: str) -> HTML:
    """A sub-heading; its id is stable (a hash of the text), so links and snapshots are too."""
    _RECORD["heading"] = text
    slug = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return HTML(f'<h2 class="cx-sub" id="sub-{escape(section_key)}-{slug}">{escape(text)}</h2>')


def paragraph(text: str) -> HTML:
    return HTML(f'<p class="cx-text">{escape(text)}</p>')


def note(text: str) -> HTML:
    return HTML(f'<p class="cx-note">{escape(text)}</p>')


def missing_input(what: str, lang: str) -> HTML:
    """The one line a section shows when the client supplied no data for it."""
    return note(t("report.section_missing", lang, what=what))


def _fmt(row: pd.Series, col: Col, lang: str) -> str:
    v = row[col.key]
    if col.kind == "text":
        return "–" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
    if col.kind == "flag":
        return str(v) if isinstance(v, str) else ""
    if col.kind == "period":
        return fmt_period(v, lang)
    if v is None or pd.isna(v):
        return "–"
    match col.kind:
        case "int":
            return fmt_int(float(v), lang)
        case "num0" | "num1" | "num2":
            return fmt_num(float(v), lang, int(col.kind[-1]))
        case "signed1":
            return fmt_num(float(v), lang, 1, sign=True)
        case "pct":
            return fmt_pct(float(v), lang)
        case "pct1":
            return fmt_pct(float(v), lang, 1)
        case "p":
            return fmt_p(float(v), lang)
        case "ci1":
            return fmt_ci(v, row[col.hi], lang, 1)
        case "ci_pct":  # whole percent, one decimal where whole percents would hide the width ([98; 98])
            hi = row[col.hi]
            narrow = not pd.isna(hi) and hi > v and round(100 * float(v)) == round(100 * float(hi))
            return fmt_ci(v, hi, lang, 1 if narrow else 0, scale=100)
    raise ValueError(f"unknown column kind {col.kind!r}")


def _cell(row: pd.Series, col: Col, lang: str) -> str:
    cls = "cx-txt" if col.kind in _TEXT_KINDS else "cx-num"
    text = escape(_fmt(row, col, lang))
    if col.lo and col.hi and not pd.isna(row[col.key]):
        decimals = 0 if col.kind in ("pct", "num0", "int") else 2 if col.kind == "num2" else 1
        scale = 100 if col.kind in ("pct", "pct1") else 1
        text += f'<br><span class="cx-ci">{escape(fmt_ci(row[col.lo], row[col.hi], lang, decimals, scale=scale))}</span>'
    return f'<td class="{cls}">{text}</td>'


def _header(col: Col, lang: str) -> str:
    try:
        return t(col.header, lang)
    except KeyError:
        return col.header


def table_html(
    df: pd.DataFrame,
    cols: Sequence[Col],
    lang: str,
    *,
    small_base: str | None = "small_base",
    caption: str | None = None,
    table_id: str | None = None,
) -> str:
    """Render ``df`` as an escaped HTML table. Rows where ``df[small_base]`` is true get the class
    ``cx-small-base`` (shown, but marked)."""
    head = "".join(
        f'<th class="{"cx-txt" if c.kind in _TEXT_KINDS else "cx-num"}">{escape(_header(c, lang))}</th>' for c in cols
    )
    body = []
    for _, row in df.iterrows():
        cls = ' class="cx-small-base"' if small_base and small_base in df.columns and bool(row[small_base]) else ""
        cells = "".join(_cell(row, c, lang) for c in cols)
        body.append(f"<tr{cls}>{cells}</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    tid = f' id="{escape(table_id)}"' if table_id else ""
    return f'<table class="cx-table"{tid}>{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def table(df: pd.DataFrame, cols: Sequence[Col], lang: str, **kw: object) -> HTML:
    """:func:`table_html` wrapped for display in a notebook (and recorded for tables.xlsx, see
    :func:`record_tables`)."""
    _record(df, cols, lang, kw.get("caption"))
    return HTML(table_html(df, cols, lang, **kw))  # type: ignore[arg-type]


def export_table(df: pd.DataFrame, cols: Sequence[Col], lang: str, *, caption: str) -> None:
    """Keep a table for tables.xlsx only, not in the report: the detail behind a one-line result
    ("no difference by region") stays available as numbers under ``caption``."""
    _record(df, cols, lang, caption)


# --- every table the report shows, as numbers, for tables.xlsx (cxaudit.tables_export) ------------------

_RECORD: dict[str, object] = {"dir": None, "heading": "", "count": 0}


def record_tables(directory: str | Path | None) -> None:
    """Record every :func:`table` shown from now on into ``directory`` (``NNN.parquet`` + ``NNN.json``
    with the heading above it): the columns shown, under their client-facing headers, with numbers
    and interval bounds kept as numbers. ``None`` stops recording. Set by :func:`cxaudit.session.start`."""
    _RECORD.update({"dir": Path(directory) if directory is not None else None, "heading": "", "count": 0})
    if directory is not None:
        Path(directory).mkdir(parents=True, exist_ok=True)


def _record(df: pd.DataFrame, cols: Sequence[Col], lang: str, caption: object = None) -> None:
    folder = _RECORD["dir"]
    if folder is None or not len(cols):
        return
    out: dict[str, pd.Series] = {}

    def put(name: str, values: pd.Series) -> None:
        while name in out:
            name += " "
        out[name] = values.reset_index(drop=True)

    low, high = t("show.xlsx_low", lang), t("show.xlsx_high", lang)
    for c in cols:
        name = _header(c, lang)
        if c.kind in ("ci1", "ci_pct"):  # the interval as two numbers
            put(f"{name} ({low})", pd.to_numeric(df[c.key], errors="coerce").astype("float64"))
            put(f"{name} ({high})", pd.to_numeric(df[c.hi], errors="coerce").astype("float64"))
        elif c.kind in (*_TEXT_KINDS, "flag"):
            put(name, df[c.key].map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v))
                                    else redact_value(str(v))).astype("string"))
        else:
            put(name, pd.to_numeric(df[c.key], errors="coerce").astype("float64"))
            if c.lo and c.hi:
                put(f"{name} ({low})", pd.to_numeric(df[c.lo], errors="coerce").astype("float64"))
                put(f"{name} ({high})", pd.to_numeric(df[c.hi], errors="coerce").astype("float64"))
    n = int(_RECORD["count"]) + 1  # type: ignore[call-overload]
    _RECORD["count"] = n
    base = Path(folder) / f"{n:03d}"  # type: ignore[arg-type]
    try:
        pd.DataFrame(out).to_parquet(base.with_suffix(".parquet"), index=False)
    except (ValueError, TypeError, ImportError) as exc:  # the report itself must not fail on its spreadsheet copy
        import sys

        print(f"cxaudit: table {n} not recorded for tables.xlsx: {exc}", file=sys.stderr)
        return
    title = str(caption) if caption else str(_RECORD["heading"] or "")
    base.with_suffix(".json").write_text(_json.dumps({"title": title}, ensure_ascii=False), encoding="utf-8")
