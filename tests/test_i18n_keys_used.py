"""Every catalog key is used: no dead strings pile up in cxaudit/i18n/*/*.yaml.

A key of the en catalog (the three languages have the same keys: test_show_i18n) counts as used when
its full name appears as a string in the package code, the notebooks (cell sources), the report
templates or the packaged YAML (rules.yaml refers to keys such as ``voc.tickets_rising``), or when it
belongs to a family whose name is built at run time, listed in :data:`DYNAMIC` with the code that
builds it. Tests do not count: a key only a test reads is not in the report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import pytest

from cxaudit.i18n import catalog

ROOT = Path(__file__).resolve().parents[1]

#: Key families (a prefix ending in "." or "_") or single keys whose names are built at run time
#: -> the code fragment that builds them (it must still be in the sources, so the list cannot go stale).
#: Only families of coded values, rule ids and enumerations; a heading or a note is always written out.
DYNAMIC: dict[str, str] = {
    "value.": 'f"value.{kind}.{code}"',  # i18n.value_label: channels, languages, stages
    "section.": '"section." + key',  # show.section
    "table.": 'f"table.{',  # audit / quality / report: the six canonical tables
    "column.": 'f"column.{column}"',  # quality: columns named in the problem log
    "rule.": 'f"rule.{rule}"',  # quality: schema rule ids of the exclusion log
    "metrics.nps": 'f"metrics.{key}"',  # scorecard: the three headline metrics (not the metrics.* family)
    "metrics.csat": 'f"metrics.{key}"',
    "metrics.ces": 'f"metrics.{key}"',
    "quality.delim_": 'f"quality.delim_{',  # quality: the detected CSV delimiter
    "quality.format_": 'f"quality.format_{fmt}"',  # quality: the detected file format
    "journey.method_": 'f"journey.method_{',  # notebook 03: key-driver method
    "journey.missing_": 'f"journey.missing_{',  # notebook 03: missing-data handling
    "journey.quadrant.": 'f"journey.quadrant.{q}"',  # importance-performance quadrants
    "churn.assume.": 'f"churn.assume.{key}"',  # economics assumptions
    "churn.group.": 'f"churn.group.{g}"',  # NPS groups
    "churn.msg.": 'f"churn.msg.{self.code}"',  # model diagnostics
    "churn.pred.": 'f"churn.pred.{c}"',  # model predictors
    "employees.item.": 'f"employees.item.{item}"',  # motivation items
    "employees.measure_": 'f"employees.measure_{m}"',  # EX measures
    "employees.axis_": '"employees.axis_" + ex',  # EX–CX figure axis
    "employees.drivers_method_": '"employees.drivers_method_" + ',  # notebook 06: driver method
    "voc.pii.": 'f"voc.pii.{k}"',  # redaction labels
    "outcome.name.": 'f"outcome.name.{o.column}"',  # cxaudit.outcome: CSAT / CES as the outcome
    "voc.polarity_": 'f"voc.polarity_{p}"',  # notebook 05: theme polarity
    "voc.recurs_": '"voc.recurs_" + ',  # notebook 05: comments / tickets / both / none
    "voc.sla_": 'f"voc.sla_{s}"',  # notebook 05: SLA status
    "tobe.assume.": 'f"tobe.assume.{model}"',  # revenue-case models
    "tobe.targets_note.": 'f"tobe.targets_note.{key}"',
    "tobe.effort.": 'f"tobe.effort.{',  # rule enumerations: effort, horizon, measurement metric, frequency
    "tobe.horizon.": 'f"tobe.horizon.{',
    "tobe.metric.": "f\"tobe.metric.{m['metric']}\"",
    "tobe.freq.": "f\"tobe.freq.{m['frequency']}\"",
    "tobe.theme.": 'f"tobe.{SINGULAR.get(kind, kind)}.{value}"',  # recommend.tag_label: theme tags
    "tobe.department.": 'f"tobe.{SINGULAR.get(kind, kind)}.{value}"',  # rules' owner_default departments
    "report.method.": "f'report.method.{k}'",  # report appendix
    "report.assumption.": 'f"report.assumption.{k}"',
}

#: Unused keys that cannot be deleted here yet, each with the reason. Keep it empty when possible.
PENDING: dict[str, str] = {}  # key -> why it may stay unused for now (empty: every key is used)


def _notebook_text(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "\n".join("".join(c.get("source", [])) for c in nb.get("cells", []))


@cache
def sources() -> str:
    """The code, notebooks, templates and packaged YAML (not the catalogs, not the tests), as one text."""
    parts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "cxaudit").rglob("*.py"))]
    parts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "cxaudit" / "resources").rglob("*.yaml"))]
    parts += [_notebook_text(p) for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    parts += [p.read_bytes().decode("utf-8", "replace") for p in sorted((ROOT / "templates").rglob("*")) if p.is_file()]
    return "\n".join(parts)


def _dynamic(key: str, dynamic: Iterable[str]) -> bool:
    return any(key.startswith(d) if d.endswith((".", "_")) else key == d for d in dynamic)


def unused_keys(keys: Iterable[str], text: str, dynamic: Mapping[str, str] = DYNAMIC) -> list[str]:
    """The keys neither named in ``text`` (as a whole key: ``voc.col_trend`` is not used by
    ``voc.col_trend_count``) nor in a family of ``dynamic``."""
    named = set(re.findall(r"(?<![\w.-])[a-z_]+(?:\.[\w-]+)+", text))
    return sorted(k for k in keys if k not in named and not _dynamic(k, dynamic))


def test_unused_keys_helper() -> None:
    text = 'Col("trend", "voc.col_trend_count")\nt(f"voc.sla_{s}", lang)\n"value.stage.retention"'
    keys = ["voc.col_trend", "voc.col_trend_count", "voc.sla_met", "value.stage.retention", "metrics.nps_detail"]
    assert unused_keys(keys, text, {"voc.sla_": 'f"voc.sla_{s}"', "metrics.nps": ""}) == \
        ["metrics.nps_detail", "voc.col_trend"]


def test_dynamic_families_are_still_built() -> None:
    text = sources()
    assert [d for d, fragment in DYNAMIC.items() if fragment not in text] == []
    en = catalog("en")
    assert [d for d in DYNAMIC if not any(_dynamic(k, [d]) for k in en)] == []  # each family has keys


def test_every_catalog_key_is_used() -> None:
    unused = unused_keys(catalog("en"), sources())
    assert [k for k in unused if k not in PENDING] == [], "catalog keys nothing uses: delete them in en/ru/pl"
    assert sorted(set(PENDING) - set(unused)) == [], "used again or deleted: drop from PENDING"


@pytest.mark.parametrize("key", ["voc.by_stage_heading", "voc.tickets_rising_heading", "voc.col_trend",
                                 "voc.finding_rising", "journey.stage.retention", "voc.stage.retention",
                                 "tobe.stage.retention"])
def test_removed_keys_stay_removed(key: str) -> None:
    assert all(key not in catalog(lang) for lang in ("en", "ru", "pl"))
