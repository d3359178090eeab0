"""The :class:`Finding` record every notebook emits and the TO-BE step and the report read.

A finding is plain data, so the executive summary, the recommendation engine and the tests can all
read it without parsing notebooks. Each notebook writes its findings to
``<run_dir>/findings/<notebook>.json``; :func:`read_findings` collects them all.

Examples
--------
>>> f = Finding(id="cx.nps.overall", section="cx_metrics", title="NPS is +12", metric="nps",
...             value=12.0, n=500, ci_low=5.1, ci_high=18.8, severity=3, reach=0.31)
>>> round(f.priority, 2)
0.93
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Finding", "FindingSet", "format_value", "ranked", "read_findings", "write_findings"]


@dataclass(frozen=True)
class Finding:
    """One quantified observation of the audit.

    Parameters
    ----------
    id : str
        Stable id, ``<section>.<topic>[.<detail>]``; recommendation rules match on it.
    section : str
        Report section key (``data_quality``, ``cx_metrics``, ...).
    title : str
        One sentence in the report language, with the key number in it.
    metric : str
        What ``value`` measures (``nps``, ``csat_top2``, ``excluded_share``, ...).
    value, n, ci_low, ci_high
        The number, its base and its 95% interval (``None`` where an interval does not apply).
    severity : int
        1 (cosmetic) .. 5 (stops customers from buying again).
    reach : float
        Share of customers affected, 0..1.
    evidence : dict
        The numbers behind it and the table or figure it came from.
    tags : dict
        Links to touchpoints, stages, channels, departments, segments (lists of names).
    unit : str
        How ``value`` reads: ``""`` (plain number), ``"%"`` (a percentage 0–100), ``"pts"`` (a
        signed score such as NPS), ``"h"`` (hours).
    """

    id: str
    section: str
    title: str
    metric: str
    value: float
    n: int
    ci_low: float | None = None
    ci_high: float | None = None
    severity: int = 3
    reach: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, list[str]] = field(default_factory=dict)
    unit: str = ""

    def __post_init__(self) -> None:
        if not 1 <= int(self.severity) <= 5:
            raise ValueError(f"finding {self.id}: severity must be 1..5, got {self.severity}")
        if not 0.0 <= float(self.reach) <= 1.0:
            raise ValueError(f"finding {self.id}: reach must be 0..1, got {self.reach}")
        if self.unit not in ("", "%", "pts", "h"):
            raise ValueError(f"finding {self.id}: unit must be '', '%', 'pts' or 'h', got {self.unit!r}")
        if int(self.n) < 0:
            raise ValueError(f"finding {self.id}: n must be >= 0, got {self.n}")

    @property
    def priority(self) -> float:
        """Severity × reach: how much of the customer base is hurt, and how badly."""
        return float(self.severity) * float(self.reach)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(**d)


def _jsonable(x: Any) -> Any:
    """Plain JSON types; numpy scalars become Python numbers and NaN becomes null."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str | bytes):
        x = x.item()
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


class FindingSet:
    """The findings one notebook collects; ``save()`` writes them to the run directory."""

    def __init__(self, run_dir: str | Path, notebook: str) -> None:
        self.run_dir = Path(run_dir)
        self.notebook = notebook
        self.items: list[Finding] = []

    def add(self, finding: Finding) -> Finding:
        if any(f.id == finding.id for f in self.items):
            raise ValueError(f"finding id {finding.id!r} emitted twice by {self.notebook}")
        self.items.append(finding)
        return finding

    def save(self) -> Path:
        return write_findings(self.run_dir, self.notebook, self.items)

    def __len__(self) -> int:
        return len(self.items)


def write_findings(run_dir: str | Path, notebook: str, findings: list[Finding]) -> Path:
    out = Path(run_dir) / "findings" / f"{notebook}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    # titles reach the executive summary and the TO-BE text: personal data in them (a segment value
    # with an e-mail or an id in it) is redacted here, once (cxaudit.pii)
    from .pii import redact_value

    rows = [{**f.to_dict(), "title": redact_value(f.title)} for f in findings]
    out.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def read_findings(run_dir: str | Path) -> list[Finding]:
    """All findings of a run, in notebook order then emission order."""
    out: list[Finding] = []
    for path in sorted((Path(run_dir) / "findings").glob("*.json")):
        out.extend(Finding.from_dict(d) for d in json.loads(path.read_text(encoding="utf-8")))
    return out


def format_value(f: Finding, lang: str) -> tuple[str, str]:
    """``(value, interval)`` of a finding as the report prints them, in ``lang``'s number format."""
    from .i18n import fmt_ci, fmt_num, t

    has_ci = f.ci_low is not None and f.ci_high is not None
    ci = fmt_ci(f.ci_low, f.ci_high, lang, 1 if abs(f.value) < 1000 else 0) if has_ci else "–"
    if f.unit == "%":
        space = "" if lang == "en" else "\u00a0"
        return f"{fmt_num(f.value, lang, 1)}{space}%", ci
    if f.unit == "pts":
        return fmt_num(f.value, lang, 1, sign=True), ci
    if f.unit == "h":
        return f"{fmt_num(f.value, lang, 1)}\u00a0{t('unit.hours', lang)}", ci
    return fmt_num(f.value, lang, 1 if abs(f.value) < 1000 else 0), ci


def ranked(findings: list[Finding]) -> list[Finding]:
    """Findings by priority (severity × reach), highest first; ties keep emission order."""
    return sorted(findings, key=lambda f: -f.priority)
