"""cxaudit: a CX (customer-experience) audit workbook.

The public API is small; everything else lives in modules named after the concept they implement
(:mod:`cxaudit.metrics`, :mod:`cxaudit.quality`, :mod:`cxaudit.scorecard`, ...).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from .errors import ClientNameError, ConfigError, CxauditError, DataError, MetricError, NotebookError

# The public API is imported when first used (PEP 562), not with the package: `import cxaudit` costs
# ~0.1 s instead of several seconds, so the CLI answers at once and a notebook kernel imports only the
# sections it runs.
_SUBMODULES = frozenset({"drivers", "employees", "export", "journey", "metrics", "plots", "quality", "scorecard",
                         "show", "stats", "text", "tickets"})
_FROM = {"Audit": "audit", "load_audit": "audit", "AuditConfig": "config", "load_config": "config",
         "Finding": "findings", "FindingSet": "findings", "read_findings": "findings", "ces": "metrics",
         "csat": "metrics", "metric_table": "metrics", "nps": "metrics", "start": "session"}

if TYPE_CHECKING:
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
    from .findings import Finding, FindingSet, read_findings
    from .metrics import ces, csat, metric_table, nps
    from .session import start


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES or (not name.startswith("_") and find_spec(f"{__name__}.{name}") is not None):
        return import_module(f".{name}", __name__)  # any module, as `cx.findings` worked when all were imported
    if name in _FROM:
        value = getattr(import_module(f".{_FROM[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES, *_FROM})


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
