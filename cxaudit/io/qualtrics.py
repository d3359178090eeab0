"""Qualtrics CSV / TSV exports ("Data & Analysis → Export data").

Current export (3 header rows)::

    StartDate,EndDate,Status,...,ResponseId,...,Q1,Q2_1,Q3,Q3_4_TEXT
    Start Date,End Date,Response Type,...,Response ID,...,"How likely ...?","Rate: - Delivery","Channel - Selected Choice","Channel - Other - Text"
    "{""ImportId"":""startDate"",""timeZone"":""America/Denver""}",...,"{""ImportId"":""QID1""}",...,"{""ImportId"":""QID3_4_TEXT""}"

Row 1 holds the column ids (the column names here), row 2 the question text (may contain line
breaks: the CSV quotes them), row 3 ``{"ImportId": ...}`` JSON. ImportIds may differ from the ids of
row 1 when the survey used recodes, so both -- and the question text -- can name a column in
``inputs.<table>.columns`` (:attr:`RawTable.meta` ``["aliases"]``).

Legacy export (2 header rows)::

    V1,V2,V3,...,V8,V9,V10,Q1,Q2
    ResponseID,ResponseSet,Name,...,StartDate,EndDate,Finished,"How likely ...?","Comment"

Sub-columns: ``" - Selected Choice"`` (the choice of a question that also has a text box) and
``" - Text"`` / ``_TEXT`` (the text typed into "Other (please specify)") are recorded in
``meta["subcolumns"]`` as ``{"question": id, "kind": "selected_choice" | "text_entry"}``.

Values can be exported as choice text ("Extremely likely") or as numeric values; either is read as
text here and :mod:`cxaudit.schema` recodes scale labels to numbers (:mod:`cxaudit.io.labels`).

TSV exports are UTF-16 with a BOM; the text layer (:mod:`cxaudit.io.csv`) handles that.

Source: Qualtrics support, "Understanding Your Dataset" and "Data Export Formats"
(https://www.qualtrics.com/support/survey-platform/data-and-analysis-module/data/download-data/).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..config import InputSpec
from ..errors import DataError
from ._base import RawTable, register_reader
from ._grid import build_table, clean_names
from .csv import text_meta

__all__ = ["looks_like_qualtrics", "read_qualtrics", "SUGGESTED"]

#: Canonical responses columns and the Qualtrics column that usually holds them (used only when
#: audit.yaml maps nothing else to that canonical name).
SUGGESTED = {
    "current": {"response_id": "ResponseId", "date": "RecordedDate", "duration_s": "Duration (in seconds)",
                "finished": "Finished"},
    "legacy": {"response_id": "ResponseID", "date": "EndDate", "finished": "Finished"},
}
_IMPORT = re.compile(r'^\s*\{\s*"ImportId"\s*:')
_LEGACY_ID = re.compile(r"^V\d+$")


def _is_import_row(rec: list[str]) -> bool:
    cells = [c for c in rec if c.strip()]
    return len(cells) >= 2 and sum(bool(_IMPORT.match(c)) for c in cells) >= 0.8 * len(cells)


def looks_like_qualtrics(records: list[list[str]]) -> bool:
    """True for the 3-row export (an ImportId row 3) or the legacy one (V1, V2 ... / ResponseID)."""
    if len(records) >= 3 and _is_import_row(records[2]):
        return True
    if len(records) >= 2 and records[0][:2] == ["V1", "V2"] and records[1][:1] == ["ResponseID"]:
        return True
    return False


def _import_id(cell: str) -> str | None:
    try:
        obj = json.loads(cell)
    except (json.JSONDecodeError, TypeError):
        return None
    return str(obj.get("ImportId")) if isinstance(obj, dict) and obj.get("ImportId") is not None else None


def _subcolumn(col: str, question: str, import_id: str | None) -> dict[str, str] | None:
    if question.endswith(" - Selected Choice"):
        return {"question": col, "kind": "selected_choice"}
    if col.upper().endswith("_TEXT") or question.endswith(" - Text"):
        parent = re.sub(r"(_\d+)?_TEXT$", "", col, flags=re.IGNORECASE)
        return {"question": parent, "kind": "text_entry"}
    return None


def header_meta(ids: list[str], questions: list[str], import_row: list[str] | None) -> dict[str, Any]:
    """Questions, aliases and sub-columns from the header rows of an export."""
    meta_q: dict[str, str] = {}
    aliases: dict[str, str] = {}
    subcols: dict[str, dict[str, str]] = {}
    counts: dict[str, int] = {}
    for j, col in enumerate(ids):
        q = questions[j] if j < len(questions) else ""
        imp = _import_id(import_row[j]) if import_row and j < len(import_row) else None
        text = q.removesuffix(" - Selected Choice")
        meta_q[col] = text
        for alias in {a for a in (imp, q, text) if a}:
            counts[alias] = counts.get(alias, 0) + 1
            aliases.setdefault(alias, col)
        sub = _subcolumn(col, q, imp)
        if sub:
            subcols[col] = sub
    # an alias shared by several columns names none of them
    aliases = {a: c for a, c in aliases.items() if counts[a] == 1 and a not in ids}
    return {"questions": meta_q, "aliases": aliases, "subcolumns": subcols}


@register_reader("qualtrics", ())
def read_qualtrics(path: Path, spec: InputSpec) -> RawTable:
    """Read a Qualtrics CSV / TSV export (3-row or legacy 2-row header)."""
    grid, meta = text_meta(path, spec)
    recs = [grid.record(i) for i in range(min(3, len(grid.cells)))]
    width = int(grid.nfields[0])
    if len(recs) >= 3 and _is_import_row(recs[2]):
        ids = clean_names(recs[0] + [""] * (width - len(recs[0])))
        questions = [re.sub(r"\s+", " ", q).strip() for q in recs[1]]
        hm = header_meta(ids, questions, recs[2])
        meta |= {"format": "qualtrics", "variant": "current", **hm, "suggested": SUGGESTED["current"]}
        header_idx = [0, 1, 2]
    elif len(recs) >= 2 and recs[0][:1] == ["V1"]:
        ids = clean_names(recs[0] + [""] * (width - len(recs[0])))
        labels = [re.sub(r"\s+", " ", q).strip() for q in recs[1]]
        hm = header_meta(ids, labels, None)
        meta |= {"format": "qualtrics", "variant": "legacy", **hm, "suggested": SUGGESTED["legacy"]}
        header_idx = [0, 1]
    else:
        raise DataError(str(path), "not a Qualtrics export: expected column ids in row 1, question text in row 2 "
                        "and {\"ImportId\": ...} in row 3 (or the legacy V1, V2, ... / ResponseID header)",
                        row=int(grid.rows[0]) if len(grid.rows) else None)
    from .csv import detect_decimal

    raw = build_table(path, grid, header_idx, ids, meta)
    meta["decimal"] = spec.decimal or detect_decimal(raw.frame)
    return raw
