"""cxaudit: a CX (customer-experience) audit workbook.

The public API is small; everything else lives in modules named after the concept they implement
(:mod:`cxaudit.metrics`, :mod:`cxaudit.quality`, :mod:`cxaudit.scorecard`, ...).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import (
    drivers,
    employees,
    export,
    journey,
    metrics,
    plots,
    quality,
    scorecard,
    show,
    stats,
    text,
    tickets,
)
from .audit import Audit, load_audit
from .config import AuditConfig, load_config
from .errors import ClientNameError, ConfigError, CxauditError, DataError, MetricError, NotebookError
from .findings import Finding, FindingSet, read_findings
from .metrics import ces, csat, metric_table, nps
from .session import start

try:
    __version__ = version("cxaudit")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"

__all__ = [
    "Audit",
    "AuditConfig",
    "ClientNameError",
    "ConfigError",
    "CxauditError",
    "DataError",
    "Finding",
    "FindingSet",
    "MetricError",
    "NotebookError",
    "ces",
    "csat",
    "drivers",
    "employees",
    "export",
    "journey",
    "load_audit",
    "load_config",
    "metric_table",
    "metrics",
    "nps",
    "plots",
    "quality",
    "read_findings",
    "scorecard",
    "show",
    "start",
    "stats",
    "text",
    "tickets",
    "__version__",
]
