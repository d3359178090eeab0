"""The reader registry's core: :class:`RawTable`, :func:`register_reader`, row numbers.

Kept apart from :mod:`cxaudit.io` (which detects formats and dispatches) so that readers import this
module and never the package that imports them: no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import InputSpec

__all__ = ["ISSUE_COLUMNS", "READERS", "RawTable", "Reader", "register_reader", "rows_series"]

#: Columns of :attr:`RawTable.issues`: position of the data row, rule, column, value.
ISSUE_COLUMNS = ["pos", "rule", "column", "value"]


def _no_issues() -> pd.DataFrame:
    return pd.DataFrame({"pos": pd.Series(dtype="int64"), "rule": pd.Series(dtype=object),
                         "column": pd.Series(dtype=object), "value": pd.Series(dtype=object)})


@dataclass(frozen=True)
class RawTable:
    """What a reader returns: the text cells, and the 1-based row in the file of each data row.

    Attributes
    ----------
    frame : DataFrame
        One row per data row, one text column per column of the file (missing cells are NA).
    source_rows : Series
        The row number a person finds each data row at (see the module docstring).
    file : Path
    meta : dict
        What the reader found out: ``format``, ``encoding``, ``delimiter``, ``decimal``, ``sheet``,
        ``header_rows``, ``questions`` (column -> question text), ``aliases`` (another name -> column,
        e.g. a Qualtrics ImportId), ``value_codes`` (column -> {label: code}, SPSS), ``user_missing``
        (column -> cells set to missing), ``blank_rows``, ``notes``.
    issues : DataFrame
        Row-level problems the reader saw (:data:`ISSUE_COLUMNS`): a row with more fields than the
        header (``malformed_row``), fewer (``truncated_row``), a repeated header (``repeated_header``).
        :func:`cxaudit.schema.conform` puts them in the exclusion log.
    """

    frame: pd.DataFrame
    source_rows: pd.Series
    file: Path
    meta: dict[str, Any] = field(default_factory=dict)
    issues: pd.DataFrame = field(default_factory=_no_issues)


Reader = Callable[[Path, InputSpec], RawTable]
READERS: dict[str, Reader] = {}
_SUFFIXES: dict[str, str] = {}


def register_reader(fmt: str, suffixes: tuple[str, ...]) -> Callable[[Reader], Reader]:
    """Decorator: make ``func(path, spec) -> RawTable`` the reader for ``fmt`` and these suffixes."""

    def deco(func: Reader) -> Reader:
        READERS[fmt] = func
        for s in suffixes:
            _SUFFIXES[s] = fmt
        return func

    return deco



def rows_series(n: int, first: int) -> pd.Series:
    """Row numbers ``first, first + 1, ...`` for ``n`` data rows."""
    return pd.Series(range(first, first + n), dtype="int64")
