"""Exceptions that carry the context a user needs.

Every *known* problem (bad config, bad data, a failing notebook, an unsafe client name) raises a
subclass of :class:`CxauditError`. The CLI prints ``str(error)`` as one line and exits with
``error.exit_code``; it never shows a traceback for these.
"""

from __future__ import annotations

__all__ = [
    "CxauditError",
    "ConfigError",
    "DataError",
    "ClientNameError",
    "NotebookError",
    "MetricError",
]


class CxauditError(Exception):
    """Base class of every error cxaudit reports as one clear line."""

    exit_code: int = 1


class ConfigError(CxauditError):
    """``audit.yaml`` is wrong: unknown key, wrong type, missing file.

    The message always names the file and the key.
    """

    exit_code = 2

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file, self.key, self.problem = file, key, problem
        where = f"{file}: key '{key}'" if key else file
        super().__init__(f"{where}: {problem}")


class DataError(CxauditError):
    """An input table cannot be used at all (missing required column, unreadable file).

    Row-level problems do not raise: they go to the exclusion log instead.
    """

    exit_code = 3

    def __init__(self, file: str, problem: str, *, column: str | None = None, row: int | None = None) -> None:
        self.file, self.problem, self.column, self.row = file, problem, column, row
        parts = [file]
        if column is not None:
            parts.append(f"column '{column}'")
        if row is not None:
            parts.append(f"row {row}")
        super().__init__(": ".join([", ".join(parts), problem]))


class ClientNameError(CxauditError):
    """A client name that is not a plain folder name (it could escape ``data/`` or ``reports/``)."""

    exit_code = 2


class MetricError(CxauditError, ValueError):
    """A metric cannot be computed on this input (n = 0, weights summing to zero, ...)."""

    exit_code = 4


class NotebookError(CxauditError):
    """A notebook of the chain failed; names the notebook, the cell and the error."""

    exit_code = 5

    def __init__(self, notebook: str, cell: int | None, ename: str, evalue: str, output: str) -> None:
        self.notebook, self.cell, self.ename, self.evalue, self.output = notebook, cell, ename, evalue, output
        cell_txt = f"cell {cell}" if cell is not None else "kernel"
        evalue_line = (evalue or "").strip().splitlines()[0] if (evalue or "").strip() else ""
        super().__init__(
            f"notebook {notebook} failed in {cell_txt}: {ename}: {evalue_line} (executed notebook kept at {output})"
        )
