"""The employee section (notebook 06): one analysis call, then display blocks.

:func:`analyse` wraps :func:`cxaudit.employees.analyse` (DataFrames, no language) with the audit
settings the section prints (minimum base, the touchpoint scale); the ``blocks_*(result, lang)``
functions turn it into display blocks (:mod:`cxaudit.show` HTML and the figures of
:mod:`cxaudit.employees`), one per group of the report. Methods and sources are in
:mod:`cxaudit.employees`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import employees as emp
from . import show as _show
from .audit import Audit
from .findings import Finding
from .i18n import fmt_num, t

__all__ = ["EmployeesSection", "analyse", "blocks_intro", "blocks_enps", "blocks_enps_by_role", "blocks_motivation",
           "blocks_index", "blocks_drivers", "blocks_kpi", "blocks_link", "findings"]


@dataclass
class EmployeesSection:
    """The employee analysis (:class:`cxaudit.employees.EmployeeAnalysis`) and the audit it came from."""

    audit: Audit
    res: emp.EmployeeAnalysis

    @property
    def min_base(self) -> int:
        return int(self.audit.config.min_base)


def analyse(audit: Audit) -> EmployeesSection:
    """Every table of the section (:func:`cxaudit.employees.analyse`)."""
    return EmployeesSection(audit, emp.analyse(audit))


def blocks_intro(sec: EmployeesSection, lang: str) -> list[Any]:
    """The section heading, its introduction, the missing-input line and the anonymity notes."""
    out: list[Any] = [_show.section("employees", lang), _show.paragraph(t("employees.intro", lang))]
    if sec.res.employees is None:
        out.append(_show.missing_input(t("table.employees", lang), lang))
    out += [_show.note(text) for text in emp.anonymity_notes(sec.res.grouping, lang)]
    return out


def blocks_enps(sec: EmployeesSection, lang: str) -> list[Any]:
    """eNPS by department: the table, its notes and the interval chart."""
    res = sec.res
    if res.enps is None or not len(res.enps):
        return []
    out: list[Any] = [_show.heading(t("employees.enps_heading", lang), "employees"),
                      _show.paragraph(t("employees.enps_intro", lang)), emp.enps_view(res.enps, lang),
                      _show.note(t("employees.sig_note", lang))]
    if res.enps["small_base"].any():
        out.append(_show.note(t("report.small_base", lang, min=sec.min_base)))
    if res.enps["suppressed"].any():
        out.append(_show.note(t("employees.cells_suppressed", lang, min=res.min_size)))
    out.append(emp.enps_plot(res.enps, lang))
    return out


def blocks_enps_by_role(sec: EmployeesSection, lang: str) -> list[Any]:
    """eNPS by role, with the role grouping's anonymity notes."""
    res = sec.res
    if res.enps_by_role is None or not len(res.enps_by_role):
        return []
    return [_show.heading(t("employees.enps_role_heading", lang), "employees"),
            emp.enps_view(res.enps_by_role, lang, group_header="employees.col_role"),
            *[_show.note(text) for text in emp.anonymity_notes(res.role_grouping, lang)[1:]]]


def blocks_motivation(sec: EmployeesSection, lang: str) -> list[Any]:
    """The motivation profile: the table, its notes and the heat map."""
    res = sec.res
    if res.motivation is None or not len(res.motivation):
        return []
    out: list[Any] = [_show.heading(t("employees.motivation_heading", lang), "employees"),
                      _show.paragraph(t("employees.motivation_intro", lang)), emp.motivation_view(res.motivation, lang),
                      _show.note(t("employees.sig_note", lang))]
    if res.motivation["suppressed"].any():
        out.append(_show.note(t("employees.cells_suppressed", lang, min=res.min_size)))
    out += [emp.plot_motivation_heatmap(res.motivation, lang), _show.note(t("employees.heatmap_note", lang))]
    return out


def blocks_index(sec: EmployeesSection, lang: str) -> list[Any]:
    """The motivation index by department and the scale's reliability (Cronbach's alpha)."""
    res = sec.res
    out: list[Any] = []
    if res.index is not None and len(res.index):
        out += [_show.heading(t("employees.index_heading", lang), "employees"),
                _show.paragraph(t("employees.index_intro", lang, k=len(res.items))), emp.index_view(res.index, lang)]
    if res.reliability is not None and len(res.reliability):
        out += [_show.heading(t("employees.reliability_heading", lang), "employees"),
                _show.paragraph(t("employees.reliability_intro", lang, k=len(res.items))),
                emp.reliability_view(res.reliability, lang)]
        if not res.reliability["acceptable"].all():
            out.append(_show.note(t("employees.reliability_low", lang)))
    return out


def blocks_drivers(sec: EmployeesSection, lang: str) -> list[Any]:
    """Drivers of eNPS among the motivation factors (or the line saying they could not be estimated)."""
    res = sec.res
    if res.drivers is not None:
        info = res.drivers.attrs
        return [_show.heading(t("employees.drivers_heading", lang), "employees"),
                _show.paragraph(t("employees.drivers_intro", lang, r2=fmt_num(info["r2"], lang, 2),
                                  n=fmt_num(info["n"], lang, 0),
                                  method=t("employees.drivers_method_" + info["method"], lang))),
                emp.drivers_view(res.drivers, lang)]
    if res.drivers_error is not None:
        return [_show.heading(t("employees.drivers_heading", lang), "employees"),
                _show.note(t("employees.drivers_unavailable", lang))]
    return []


def blocks_kpi(sec: EmployeesSection, lang: str) -> list[Any]:
    """The weight of customer metrics in each department's KPIs."""
    res = sec.res
    out: list[Any] = [_show.heading(t("employees.kpi_heading", lang), "employees")]
    if res.kpi is None:
        return out + [_show.missing_input(t("table.kpis", lang), lang)]
    out += [_show.paragraph(t("employees.kpi_intro", lang)), emp.kpi_view(res.kpi, lang)]
    if (res.kpi["unknown_weight"] > 0).any():
        out.append(_show.note(t("employees.kpi_unknown", lang)))
    out.append(emp.plot_kpi_share(res.kpi, lang))
    return out


def blocks_link(sec: EmployeesSection, lang: str) -> list[Any]:
    """The EX–CX link: each department's employee measures beside its touchpoints' customer rating, the
    chart, and the rank correlations (one line when none is significant, :func:`cxaudit.employees.blocks_correlations`)."""
    res = sec.res
    if res.employees is None:
        return []
    out: list[Any] = [_show.heading(t("employees.link_heading", lang), "employees")]
    if res.cx is None:
        return out + [_show.missing_input(t("table.touchpoints", lang), lang)]
    if not len(res.cx):
        return out + [_show.note(t("employees.no_owners", lang))]
    sc = sec.audit.config.scales.touchpoint
    out.append(_show.paragraph(t("employees.link_intro", lang, max=sc.max, top=sc.top_box)))
    if (note := emp.weakest_note(res, lang)) is not None:
        out.append(_show.note(note))
    if res.ex_cx is not None and len(res.ex_cx):
        out.append(emp.ex_cx_view(res.ex_cx, lang))
        if "enps" in res.ex_cx.columns:
            out.append(emp.plot_ex_cx(res.ex_cx, lang))
    return out + emp.blocks_correlations(res, lang)


def findings(sec: EmployeesSection, lang: str) -> list[Finding]:
    """The section's findings (:func:`cxaudit.employees.employees_findings`)."""
    return emp.employees_findings(sec.audit, lang, sec.res)
