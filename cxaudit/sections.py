"""The section registry: one declaration per report section, and the schedule the runner follows.

A section is a notebook (``cxaudit/notebooks/<notebook>``) backed by a module, with client-facing
strings in an i18n catalog. It declares which input tables it reads (``tables``: it runs and says what
is missing when they are absent) and which sections must finish before it starts (``depends_on``:
their findings are on disk when it starts). The runner executes independent sections in parallel and
each section as soon as everything it depends on has finished; the report shows sections in
``order``, whatever the order in which they ran.

Adding a section is a registry entry (:func:`register`, or a line in :data:`SECTIONS`), a module, a
notebook and catalog keys (ARCHITECTURE.md).

Examples
--------
>>> [s.key for s in SECTIONS.values()][:3]
['data_quality', 'cx_metrics', 'journey']
>>> [lv for lv, level in enumerate(levels(SECTIONS.values())) if "to_be" in [s.key for s in level]]
[1]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .errors import CxauditError

__all__ = ["Section", "SECTIONS", "register", "levels", "topological", "report_order", "section_for_notebook"]


@dataclass(frozen=True)
class Section:
    """One report section.

    Attributes
    ----------
    key : str
        Section key: the ``sec-<key>`` heading id and the prefix of its finding ids.
    notebook : str
        File name in ``cxaudit/notebooks/`` (``"04_churn.ipynb"``).
    module : str
        The module holding its analysis (``"cxaudit.churn"``).
    catalog : str
        Its i18n catalog (``cxaudit/i18n/<lang>/<catalog>.yaml``).
    tables : tuple of str
        Input tables it reads; any subset may be absent (the section says what more data would add).
    depends_on : tuple of str
        Keys of sections whose findings it reads; the runner starts it after they finish.
    order : int
        Position in the report (smaller first).
    """

    key: str
    notebook: str
    module: str
    catalog: str
    tables: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    order: int = 0
    extra: Mapping[str, object] = field(default_factory=dict, compare=False)


_ASIS = ("data_quality", "cx_metrics", "journey", "churn", "voc", "employees")

#: The registry, in report order.
SECTIONS: dict[str, Section] = {
    s.key: s
    for s in (
        Section("data_quality", "01_data_quality.ipynb", "cxaudit.quality", "quality",
                ("responses", "touchpoints", "customers", "tickets", "employees", "kpis"), (), 10),
        Section("cx_metrics", "02_cx_metrics.ipynb", "cxaudit.scorecard", "metrics", ("responses", "customers"),
                (), 20),
        Section("journey", "03_journey.ipynb", "cxaudit.journey", "journey", ("responses", "touchpoints"), (), 30),
        Section("churn", "04_churn.ipynb", "cxaudit.churn", "churn", ("customers", "responses"), (), 40),
        Section("voc", "05_voc.ipynb", "cxaudit.text", "voc", ("responses", "tickets"), (), 50),
        Section("employees", "06_employees.ipynb", "cxaudit.employees", "employees",
                ("employees", "kpis", "touchpoints", "responses"), (), 60),
        Section("processes", "09_processes.ipynb", "cxaudit.process", "processes",
                ("events", "tickets", "responses", "customers", "touchpoints"), (), 55),
        Section("personas", "08_personas.ipynb", "cxaudit.personas", "personas",
                ("responses", "customers", "tickets", "touchpoints"), (), 65),
        Section("to_be", "07_to_be.ipynb", "cxaudit.recommend", "tobe", (), (*_ASIS, "processes", "personas"), 100),
        Section("journey_map", "10_journey_map.ipynb", "cxaudit.cjm", "cjm", ("responses", "touchpoints"),
                ("to_be", "personas"), 110),
        Section("blueprints", "11_blueprints.ipynb", "cxaudit.bpmn", "blueprints", ("events", "touchpoints"),
                ("to_be", "processes"), 120),
        Section("measure", "12_measure.ipynb", "cxaudit.survey_kit", "survey", ("responses", "touchpoints"),
                ("to_be",), 130),
    )
}


def register(section: Section, registry: dict[str, Section] | None = None) -> Section:
    """Add ``section`` to ``registry`` (default :data:`SECTIONS`); its ``depends_on`` must be known.

    Raises
    ------
    CxauditError
        If the key is taken, a dependency is unknown, or the dependencies form a cycle.
    """
    reg = SECTIONS if registry is None else registry
    if section.key in reg:
        raise CxauditError(f"section {section.key!r} is registered twice")
    unknown = [d for d in section.depends_on if d not in reg]
    if unknown:
        raise CxauditError(f"section {section.key!r} depends on unknown section(s) {', '.join(unknown)}")
    reg[section.key] = section
    return section


def topological(sections: Iterable[Section]) -> list[Section]:
    """Sections so that each comes after everything it depends on (ties: report order, then key).

    Dependencies outside ``sections`` are ignored (a chain run on a subset of the registry).

    Raises
    ------
    CxauditError
        On a dependency cycle, naming the sections in it.
    """
    out: list[Section] = []
    for level in levels(sections):
        out += level
    return out


def levels(sections: Iterable[Section]) -> list[list[Section]]:
    """Kahn's algorithm by levels: level 0 depends on nothing, level k only on levels < k."""
    pending = {s.key: s for s in sections}
    out: list[list[Section]] = []
    while pending:
        ready = [s for s in pending.values() if not any(d in pending for d in s.depends_on)]
        if not ready:
            raise CxauditError(f"sections depend on each other in a cycle: {', '.join(sorted(pending))}")
        ready.sort(key=lambda s: (s.order, s.key))
        out.append(ready)
        for s in ready:
            del pending[s.key]
    return out


def report_order(sections: Iterable[Section]) -> list[Section]:
    """Sections in the order the report shows them."""
    return sorted(sections, key=lambda s: (s.order, s.key))


def section_for_notebook(name: str, registry: Mapping[str, Section] | None = None) -> Section | None:
    """The section whose notebook file is ``name`` (``"04_churn.ipynb"``), or None."""
    reg = SECTIONS if registry is None else registry
    return next((s for s in reg.values() if s.notebook == name), None)
