"""SurveyMonkey exports ("Analyze results → Save as → All individual responses", CSV or XLSX).

Two header rows::

    Respondent ID,Collector ID,Start Date,End Date,IP Address,...,How likely ...?,Which channels?,,,What could we improve?
    ,,,,,...,Response,Website,App,Other (please specify),Open-Ended Response

Row 1 holds the question; a blank cell continues the question to its left (a multi-column
question: checkboxes, a matrix, an "Other (please specify)" box). Row 2 holds the option of each
column, ``Response`` for a single-answer question or ``Open-Ended Response`` for a text box; the
respondent metadata columns have an empty row 2.

Column names: the question for a single-column question, ``"<question> | <option>"`` for each
column of a multi-column one (made unique with ``#2`` if two questions share their text).
Aliases (``meta["aliases"]``): ``Q<k>`` for the k-th question and ``Q<k>_<j>`` for its j-th column,
so ``nps: Q1`` works in ``inputs.<table>.columns``.

Dates are exported as ``MM/DD/YYYY hh:mm:ss AM`` (US); :mod:`cxaudit.schema` reads that form.

Source: SurveyMonkey Help Center, "Exporting Individual Responses" / "Understanding exported data"
(https://help.surveymonkey.com/en/surveymonkey/analyze/individual-responses-export/).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import InputSpec
from ._base import RawTable, register_reader
from ._grid import Grid, build_table, clean_names, unique_names

__all__ = ["looks_like_surveymonkey", "read_surveymonkey", "header_names", "SUGGESTED"]

SUGGESTED = {"response_id": "Respondent ID", "date": "End Date"}
_SINGLE = {"response", "open-ended response", ""}
_META_HINTS = ("respondent id", "collector id", "start date", "end date")


def looks_like_surveymonkey(records: list[list[str]]) -> bool:
    """Row 1 starts with SurveyMonkey's respondent columns and row 2 has ``Response`` /
    ``Open-Ended Response`` cells under the questions."""
    if len(records) < 2:
        return False
    first = [c.strip().lower() for c in records[0][:4]]
    second = {c.strip().lower() for c in records[1]}
    has_options = bool(second & {"response", "open-ended response"})
    return has_options and (first[:1] == ["respondent id"] or sum(h in first for h in _META_HINTS) >= 2)


def header_names(row1: list[str], row2: list[str], width: int) -> tuple[list[str], dict[str, Any]]:
    """Column names and meta (questions, options, aliases) from SurveyMonkey's two header rows."""
    row1 = clean_names(row1 + [""] * (width - len(row1)))
    row2 = clean_names(row2 + [""] * (width - len(row2)))
    # forward-fill the question over the blank cells that continue it
    groups: list[int] = []
    question: list[str] = []
    current, gid = "", -1
    for j in range(width):
        if row1[j] or gid < 0 or not row2[j]:
            current, gid = row1[j], gid + 1
        groups.append(gid)
        question.append(current)
    size: dict[int, int] = {}
    for g in groups:
        size[g] = size.get(g, 0) + 1
    names = []
    for j in range(width):
        single = size[groups[j]] == 1 and row2[j].lower() in _SINGLE
        names.append(question[j] if single or not row2[j] else f"{question[j]} | {row2[j]}")
    names = unique_names(names)
    questions = dict(zip(names, question, strict=True))
    options = {n: o for n, o in zip(names, row2, strict=True) if o}
    aliases: dict[str, str] = {}
    k = 0
    seen_groups: dict[int, int] = {}
    for j, n in enumerate(names):
        if not row2[j]:
            continue  # respondent metadata, not a question
        g = groups[j]
        if g not in seen_groups:
            k += 1
            seen_groups[g] = k
            idx = 0
        idx = sum(1 for jj in range(j + 1) if groups[jj] == g and row2[jj])
        qk = seen_groups[g]
        if size[g] == 1:
            aliases[f"Q{qk}"] = n
        else:
            aliases.setdefault(f"Q{qk}", n)
            aliases[f"Q{qk}_{idx}"] = n
    for n, o in options.items():  # "question | Response" also names a single-column question
        if o.lower() in ("response", "open-ended response") and " | " not in n:
            aliases.setdefault(f"{n} | {o}", n)
    return names, {"questions": questions, "options": options, "aliases": aliases}


def table_from_grid(path: Path, grid: Grid, meta: dict[str, Any], first: int = 0) -> RawTable:
    """The data rows below the two header records ``first`` and ``first + 1`` of ``grid``."""
    width = int(max(grid.nfields[first], len(grid.record(first)), len(grid.record(first + 1))))
    names, hm = header_names(grid.record(first), grid.record(first + 1), width)
    meta |= {"format": "surveymonkey", **hm, "suggested": SUGGESTED}
    # the header repeated inside the data is recognised by either header row
    return build_table(path, grid, [first, first + 1], names, meta,
                       header_records=[grid.record(first), grid.record(first + 1)])


@register_reader("surveymonkey", ())
def read_surveymonkey(path: Path, spec: InputSpec) -> RawTable:
    """Read a SurveyMonkey CSV or XLSX export."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from .excel import read_grid_xlsx

        grid, meta = read_grid_xlsx(path, spec)
        first = 0
        for i in range(min(len(grid.cells) - 1, 20)):
            if looks_like_surveymonkey([grid.record(i), grid.record(i + 1)]):
                first = i
                break
        raw = table_from_grid(path, grid, meta, first)
    else:
        from .csv import text_meta

        grid, meta = text_meta(path, spec)
        raw = table_from_grid(path, grid, meta)
    from .csv import detect_decimal

    meta["decimal"] = spec.decimal or detect_decimal(raw.frame)
    return raw
