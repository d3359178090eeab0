"""The executive summary, answer first (cxaudit.summary) and SVG figures in the report (report.svg_figure)."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from cxaudit import plots, summary  # noqa: E402
from cxaudit.findings import Finding  # noqa: E402
from cxaudit.report import sanitize_output_html, svg_figure  # noqa: E402


def _f(fid: str, section: str, severity: int, reach: float, tags: dict | None = None, **kw) -> Finding:
    return Finding(fid, section, kw.pop("title", fid), "x", kw.pop("value", 1.0), kw.pop("n", 100),
                   severity=severity, reach=reach, tags=tags or {}, **kw)


# The review's case: internal findings tagged with 86 % reach outranked home delivery.
FINDINGS = [
    _f("employees.kpi_no_cx.Logistics", "employees", 4, 0.86, {"departments": ["Logistics"],
                                                                "touchpoints": ["tp_delivery"]}),
    _f("employees.motivation.Logistics", "employees", 3, 0.86, {"departments": ["Logistics"]}),
    _f("employees.enps.Sales", "employees", 3, 0.5, {"departments": ["Sales"]}),
    _f("journey.pain_point.tp_delivery", "journey", 5, 0.24, {"touchpoints": ["tp_delivery"],
                                                              "departments": ["Logistics"]}),
    _f("churn.detractor_ratio", "churn", 4, 0.16),
    _f("journey.pain_point.tp_support_call", "journey", 5, 0.12, {"touchpoints": ["tp_support_call"]}),
    _f("churn.segment.corporate", "churn", 4, 0.05, evidence={"revenue_share": 0.87}),
    _f("cx_metrics.nps.overall", "cx_metrics", 3, 0.26, value=11.8, n=568, ci_low=5.2, ci_high=18.3, unit="pts"),
    _f("data_quality.responses.excluded", "data_quality", 2, 0.03),
]


def test_key_findings_rank_customers_and_money_and_attach_internal_ones() -> None:
    keys = summary.key_findings(FINDINGS, top=4)
    ids = [k.finding.id for k in keys]
    # severity x max(reach, revenue share): corporate revenue 4 x 0.87 = 3.48 > delivery 5 x 0.24 = 1.2 >
    # detractors 4 x 0.16 = 0.64 > support call 5 x 0.12 = 0.6; headline metrics and data quality are not findings here
    assert ids[:4] == ["churn.segment.corporate", "journey.pain_point.tp_delivery", "churn.detractor_ratio",
                       "journey.pain_point.tp_support_call"]
    delivery = keys[1]
    # both Logistics findings explain delivery (a touchpoint match first, then the department)
    assert [x.id for x in delivery.explained_by] == ["employees.kpi_no_cx.Logistics", "employees.motivation.Logistics"]
    # the Sales finding explains no customer problem: listed after the customer findings, never before
    assert ids[4:] == ["employees.enps.Sales"]


def test_headline_metrics_with_intervals_and_churn_per_year() -> None:
    tobe = {"targets": {"churn_as_is": 0.1117, "churn_ci": [0.0886, 0.1386], "churn_n": 500, "churn_horizon": "12m"}}
    fs = FINDINGS + [_f("churn.rate.overall", "churn", 3, 0.14, value=14.4, n=500, unit="%"),
                     _f("churn.revenue_at_risk", "churn", 4, 0.09, value=1_055_750, n=428, ci_low=532_746,
                        ci_high=1_578_753)]
    tiles = {m.key: m for m in summary.headline_metrics(fs, "en", "USD", tobe)}
    assert list(tiles) == ["report.kpi_nps", "report.kpi_churn", "report.kpi_revenue"]
    assert tiles["report.kpi_nps"].value == "+11.8"
    assert tiles["report.kpi_nps"].detail == "95% confidence [5.2; 18.3] · n\u00a0=\u00a0568"
    # churn per 12 months from the TO-BE targets, not the 18-month data-period rate of the finding
    assert tiles["report.kpi_churn"].value == "11.2%" and "[8.9; 13.9]" in tiles["report.kpi_churn"].detail
    assert tiles["report.kpi_churn"].label == "Customers leaving per year"
    assert tiles["report.kpi_revenue"].value == "1.1\u00a0M\u00a0USD"
    assert tiles["report.kpi_revenue"].detail.startswith("95% confidence 533\u00a0k–1.6\u00a0M")
    # without targets the finding's period rate is labelled as such
    plain = {m.key: m for m in summary.headline_metrics(fs, "en")}
    assert plain["report.kpi_churn"].value == "14.4%"
    assert plain["report.kpi_churn"].label == "Customers who left in the data period"


def test_first_actions_skip_reconsider_and_show_a_dash_for_what_is_missing() -> None:
    recs = [
        {"rank": 1, "rule": "a", "texts": {"en": {"title": "Fix delivery"}}, "impact_nps": 10.0, "revenue": 25952.0,
         "currency": "USD", "owner": "Logistics", "quadrant": "strategic"},
        {"rank": 2, "rule": "b", "texts": {"en": {"title": "Reconsider me"}}, "impact_nps": 1.0, "revenue": None,
         "currency": "USD", "owner": "", "quadrant": "reconsider"},
        {"rank": 3, "rule": "c", "texts": {"en": {"title": "Close the loop"}}, "impact_nps": 0.0, "revenue": None,
         "currency": "USD", "owner": "", "quadrant": "quick_win", "cost": 40000.0, "due": "2027-03-31",
         "on_plan": True},
        {"rank": 4, "rule": "d", "texts": {"en": {"title": "Off the plan"}}, "impact_nps": 2.0, "revenue": None,
         "currency": "USD", "owner": "IT", "quadrant": "fill_in", "on_plan": False},
    ]
    acts = summary.first_actions({"recommendations": recs}, "en")
    assert [a.title for a in acts] == ["Fix delivery", "Close the loop"]
    assert acts[0].value == "+10.0 NPS pts · +26\u00a0k\u00a0USD" and acts[0].cost == "—" and acts[0].due == "—"
    # no measurable effect is not "0.0 NPS pts"; cost and date are shown once the TO-BE step sets them
    assert acts[1].value == "—" and acts[1].cost == "40\u00a0k\u00a0USD" and acts[1].owner == "—"
    assert acts[1].due == "31 March 2027"


def test_answer_sentence() -> None:
    keys = summary.key_findings([_f("journey.x", "journey", 5, 0.2, title="Home delivery is rated worst.")])
    text = summary.answer_sentence(keys, {"targets": {"nps_as_is": 11.8, "nps_to_be": 21.0, "revenue_kept": 24000,
                                                      "currency": "USD"}}, "en")
    assert text.startswith("The biggest problem for customers: Home delivery is rated worst. ")
    assert "from +12 to +21" in text and "24\u00a0k\u00a0USD" in text
    assert summary.answer_sentence([], None, "ru") == "В этом аудите нет выводов, требующих действий."


def _svg_of(title: str) -> str:
    plots.set_style()
    fig, ax = plt.subplots()
    ax.bar([0, 1], [3, 4])
    ax.set_title(title)
    ax.set_xlabel("Touchpoint <b>")
    out = plots.svg_bytes(fig).decode("utf-8")
    plt.close(fig)
    return out


def test_matplotlib_svg_is_kept_with_its_title_as_alt_text_and_is_deterministic() -> None:
    svg = _svg_of("Home delivery rated worst <script>")
    assert svg == _svg_of("Home delivery rated worst <script>")  # no date, stable ids
    assert "<text" in svg  # text stays text (searchable, small)
    fig = svg_figure(svg)
    assert fig is not None
    data, alt = fig
    assert base64.b64decode(data).decode("utf-8") == svg
    assert alt == "Home delivery rated worst <script>"  # escaped by the template like any attribute


@pytest.mark.parametrize("bad", [
    '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><image href="https://tracker.example.com/p.png"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><use xlink:href="http://x.example/a.svg#b"/></svg>',
    '<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><style>@import "https://x.example/a.css";</style></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url(https://x.example/a)"/></svg>',
])
def test_unsafe_svg_is_refused(bad: str) -> None:
    assert svg_figure(bad) is None


def test_inline_svg_in_notebook_html_is_still_removed() -> None:
    # an SVG inside an HTML output is not a figure: the HTML sanitiser drops it with its content
    cleaned, changed = sanitize_output_html('<p>x</p><svg><script>alert(1)</script></svg>')
    assert cleaned == "<p>x</p>" and changed == 1


def test_notebook_figures_are_svg_with_personal_data_redacted() -> None:
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    plots.set_style()
    fig, ax = plt.subplots()
    ax.set_title("Complaint from jan.kowalski@example.com")
    data, _ = shell.display_formatter.format(fig, include=["image/svg+xml", "image/png", "text/plain"])
    plt.close(fig)
    assert "image/png" not in data  # one vector image, no bitmap
    svg = data["image/svg+xml"]
    assert "<text" in svg and "jan.kowalski" not in svg and "<dc:date>" not in svg
    assert svg_figure(svg) is not None


def _nb(*htmls: str):
    import nbformat

    nb = nbformat.v4.new_notebook()
    for i, h in enumerate(htmls):
        c = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data={"text/html": h})])
        c.id = f"c{i}"
        nb.cells.append(c)
    return nb


def test_method_notes_and_supporting_subsections_leave_the_body() -> None:
    from cxaudit.report import extract_method_notes, heading_pattern, move_sections_last

    nb = _nb('<h1 class="cx-section" id="sec-churn">Churn</h1>',
             '<p class="cx-note">Odds ratios from a logistic regression (Holm-corrected).</p>',
             '<p class="cx-note">Customers who left, with 95% confidence ranges.</p>',
             '<h2 class="cx-sub" id="sub-churn-1">Reasons for leaving by Region</h2>', "<table><tr><td>R</td></tr></table>",
             '<h2 class="cx-sub" id="sub-churn-2">Churn rate</h2>', "<p>KEPT</p>",
             '<h1 class="cx-section" id="sec-data_quality">Data quality</h1>', "<p>DQ</p>")
    notes = extract_method_notes(nb, "en")
    assert notes == [("Churn", '<p class="cx-note">Odds ratios from a logistic regression (Holm-corrected).</p>')]
    backing, moved = move_sections_last(nb, ["data_quality"], (), [heading_pattern("churn.reasons_by", "en")])
    body = "".join(c.outputs[0].data["text/html"] for c in nb.cells)
    assert "95% confidence ranges" in body and "KEPT" in body and "Holm" not in body
    assert "Reasons for leaving by Region" not in body and "DQ" not in body
    assert [c.outputs[0].data["text/html"] for c in backing][0].startswith('<h2 class="cx-sub" id="sub-churn-1">')
    assert "DQ" in "".join(c.outputs[0].data["text/html"] for c in moved)


def test_next_steps_decisions_risks_and_governance() -> None:
    from cxaudit.recommend import Recommendation
    from cxaudit.report import next_steps_html

    def rec(rank: int, owner: str, cost: float | None, quadrant: str = "strategic") -> Recommendation:
        return Recommendation(id=f"r{rank}", rule=f"r{rank}", family="x", findings=[], evidence=[],
                              texts={"en": {"title": f"Action <{rank}>", "action": "", "impact_note": ""}},
                              impact_nps=1.0, detractor_move=0.0, impact_model="", revenue=None, currency="EUR",
                              effort="low", horizon="0-3", tags={}, owner=owner, measure={}, rank=rank,
                              quadrant=quadrant, cost=cost)
    tobe = {"recommendations": [rec(1, "Logistics", 30000.0), rec(2, "", 20000.0), rec(3, "", None, "reconsider")],
            "targets": None}
    out = next_steps_html(tobe, "en")
    assert "Action &lt;1&gt; — Logistics, date to be set" in out and "Action &lt;2&gt; — owner to be named" in out
    assert "Action &lt;3&gt;" not in out  # reconsidered: not on the plan
    assert "Approve the plan: 2 actions on the roadmap. Budget: 50\u00a0k\u00a0EUR in total." in out
    assert "Name an owner for the 1 actions that have none." in out
    assert "Outer loop" in out and "(Logistics)" in out
    assert next_steps_html({"recommendations": []}, "en") == ""


def test_first_actions_name_the_outcome_of_a_run_without_nps() -> None:
    # issue 13: on a non-NPS outcome the impacts are points of that outcome, as tobe.json says
    recs = [{"rank": 1, "rule": "a", "texts": {"en": {"title": "Fix boarding"}, "ru": {"title": "Посадка"}},
             "impact_nps": 4.2, "impact_model": "low_raters", "revenue": None, "currency": "USD", "quadrant": "strategic",
             "impact_unit": {"en": "pts Satisfied passengers", "ru": "п. п. довольных пассажиров"}},
            {"rank": 2, "rule": "b", "texts": {"en": {"title": "Enable"}, "ru": {"title": "Основа"}}, "impact_nps": 0.4, "impact_model": "none",
             "revenue": None, "currency": "USD", "quadrant": "quick_win"}]
    acts = summary.first_actions({"recommendations": recs}, "en")
    assert acts[0].value == "+4.2 pts Satisfied passengers" and "NPS" not in acts[0].value
    assert acts[1].value == "—"  # an enabler has no estimated effect of its own
    assert summary.first_actions({"recommendations": recs}, "ru")[0].value == "+4,2 п. п. довольных пассажиров"


def test_a_run_on_another_outcome_shows_it_in_a_tile_and_in_the_answer() -> None:
    # issue 13/14: the survey without NPS (the airline shape) leads with its own outcome
    names = {"short": {"en": "Satisfied passengers", "ru": "Довольные пассажиры", "pl": "Zadowoleni pasażerowie"}}
    f = _f("cx_metrics.outcome.overall", "cx_metrics", 3, 0.44, value=55.75, n=400, ci_low=50.85, ci_high=60.54,
           unit="%", evidence={"labels": names})
    tiles = summary.headline_metrics([f], "en")
    assert [(m.label, m.value) for m in tiles] == [("Satisfied passengers", "55.8%")]
    assert tiles[0].detail == "95% confidence [50.9; 60.5] · n\u00a0=\u00a0400"
    assert summary.headline_metrics([f], "ru")[0].label == "Довольные пассажиры"
    tobe = {"targets": {"nps_as_is": None, "outcome_as_is": 55.75, "outcome_to_be": 69.85, "outcome_names": names}}
    keys = summary.key_findings([_f("journey.x", "journey", 5, 0.2, title="Online boarding is rated worst.")])
    text = summary.answer_sentence(keys, tobe, "en")
    assert text.endswith("aim to lift “Satisfied passengers” from 56% to 70% within 12 months.") and "NPS" not in text
    assert "«Довольные пассажиры» с 56\u00a0% до 70\u00a0%" in summary.answer_sentence(keys, tobe, "ru")
