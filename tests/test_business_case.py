"""The TO-BE business case: costs, reconciliation, ROI / payback / scenarios, measurable targets.

Findings are the constructed ones of test_recommend (the sizes the demo's planted effects produce);
every expected number is recomputed here from the findings' evidence, independently of the module.
"""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

import pytest
from scipy.stats import norm
from test_recommend import demo_findings

from cxaudit import business_case as bc
from cxaudit.findings import Finding
from cxaudit.i18n import LANGUAGES
from cxaudit.recommend import (
    Override,
    RuleBook,
    builtin_rules,
    economics,
    impact_text,
    measurement_plan,
    recommend,
)

START = dt.date(2027, 1, 15)
COSTS = {"low": 4_000.0, "medium": 15_000.0, "high": 60_000.0}


def _findings() -> list[Finding]:
    return [f for fs in demo_findings().values() for f in fs]


def _config(costs: dict[str, float] | None = None) -> SimpleNamespace:
    return SimpleNamespace(economics=SimpleNamespace(costs=dict(COSTS if costs is None else costs), plan_start=START))


def _run(book: RuleBook | None = None, costs: dict[str, float] | None = None):
    fs = _findings()
    book = book or builtin_rules()
    recs = recommend(fs, book)
    tg, case = bc.finalise(recs, fs, book, config=_config(costs))
    return fs, recs, tg, case


def _z() -> float:
    return norm.ppf(1 - bc.ALPHA / 2) + norm.ppf(bc.POWER)


# --- reconciliation ---------------------------------------------------------------------------------


def test_effects_minus_overlap_and_cap_equal_the_plan_total_to_the_unit() -> None:
    fs, recs, tg, case = _run()
    tab = bc.business_case_table(case, recs, "en")
    changes = tab[tab["kind"] == "change"]
    line = tab.set_index("kind")
    # the printed value column is the printed rows added up ...
    assert line.loc["sum", "value_num"] == changes["value_num"].fillna(0).sum()
    cap = line.loc["cap", "value_num"] if "cap" in line.index else 0.0
    # ... and Σ − overlap − cap is the plan total, to the currency unit, on the printed numbers
    assert line.loc["sum", "value_num"] + line.loc["overlap", "value_num"] + cap == line.loc["total", "value_num"]
    assert all(float(x).is_integer() for x in tab["value_num"].dropna())
    # same for NPS points (one decimal, as printed)
    cap_nps = line.loc["cap", "impact_num"] if "cap" in line.index else 0.0
    assert round(10 * changes["impact_num"].sum()) == round(10 * line.loc["sum", "impact_num"])
    assert round(10 * (line.loc["sum", "impact_num"] + line.loc["overlap", "impact_num"] + cap_nps)) == round(
        10 * line.loc["total", "impact_num"])
    # the plan total, recomputed from the evidence: uplift × M × g (12-month revenue period)
    ev = next(f for f in fs if f.id == "churn.revenue_at_risk").evidence
    r = next(f for f in fs if f.id == "churn.detractor_ratio").evidence["rates_12m"]
    g = (r["detractor"] - r["passive"]) / (r["detractor"] - r["promoter"])
    plan = [x for x in recs if x.on_plan]
    keep = math.prod(1 - x.detractor_move for x in plan)
    m = min(1 - keep, builtin_rules().a("max_detractor_move"))
    assert line.loc["total", "value_num"] == round(ev["uplift_detractors_to_promoter_rate"] * m * g)
    assert line.loc["overlap", "value_num"] < 0  # the changes overlap: the plan is less than their sum
    assert line.loc["total", "cost_num"] == sum(x.cost for x in plan)


def test_reconsider_items_leave_the_plan_and_its_targets() -> None:
    fs, recs, tg, case = _run()
    off = [r for r in recs if r.quadrant == "reconsider"]
    assert off, "the constructed findings include low-impact, medium-effort changes"
    assert all(not r.on_plan for r in off) and all(r.on_plan for r in recs if r.quadrant != "reconsider")
    assert {x["rank"] for x in case.rows} == {r.rank for r in recs if r.on_plan}
    assert {x["rank"] for x in case.reconsidered} == {r.rank for r in off}
    plan_m = 1 - math.prod(1 - r.detractor_move for r in recs if r.on_plan)
    assert tg.detractor_move_uncapped == pytest.approx(plan_m)
    assert len(bc.reconsidered_table(recs, "ru")) == len(off)


# --- costs, ROI, payback, scenarios ---------------------------------------------------------------------


def test_costs_by_effort_from_audit_yaml_and_a_rule_override() -> None:
    base = builtin_rules()
    book = RuleBook(base.rules, {"tickets_sla": Override(cost=1_234.0)}, base.assumptions)
    _, recs, _, _ = _run(book)
    for r in recs:
        if r.rule == "tickets_sla":
            assert (r.cost, r.cost_source) == (1_234.0, "override")
        else:
            assert (r.cost, r.cost_source) == (COSTS[r.effort], "config")


def test_default_costs_are_a_labelled_share_of_revenue() -> None:
    fs = _findings() + []
    risk = next(f for f in fs if f.id == "churn.revenue_at_risk")
    risk.evidence["active_revenue"] = 20_000_000.0
    recs = recommend(fs)
    _, case = bc.finalise(recs, fs, config=SimpleNamespace(economics=SimpleNamespace(costs={}, plan_start=START)))
    assert case.cost_source == "assumption"
    for r in recs:
        assert r.cost == round(bc.DEFAULT_COST_SHARES[r.effort] * 20_000_000.0, -2) and r.cost_source == "assumption"
    assert "assumption" in " ".join(bc.case_notes(case, "en"))


def test_roi_payback_and_scenarios_from_the_uplift_interval() -> None:
    fs, recs, tg, case = _run()
    ev = next(f for f in fs if f.id == "churn.revenue_at_risk").evidence
    lo_f = ev["uplift_ci"][0] / ev["uplift_detractors_to_promoter_rate"]
    hi_f = ev["uplift_ci"][1] / ev["uplift_detractors_to_promoter_rate"]
    r = next(x for x in recs if x.rule == "churn_detractor_recovery")
    value = r.revenue  # per 12 months (horizon_months = 12)
    assert r.scenarios["expected"]["value"] == pytest.approx(value)
    assert r.scenarios["low"]["value"] == pytest.approx(value * lo_f)
    assert r.scenarios["high"]["value"] == pytest.approx(value * hi_f)
    assert r.roi == pytest.approx((value - 15_000) / 15_000)
    assert r.payback_months == pytest.approx(12 * 15_000 / value)
    assert r.scenarios["low"]["roi"] < r.roi < r.scenarios["high"]["roi"]
    assert case.total_value_low < case.total_value < case.total_value_high
    assert case.roi == pytest.approx((case.total_value - case.total_cost) / case.total_cost)


def test_every_change_on_the_plan_has_an_owner_a_cost_a_kpi_target_and_a_date() -> None:
    _, recs, _, _ = _run()
    for r in recs:
        assert r.owner, r.rule
        assert r.cost is not None and r.due is not None, r.rule
    assert next(r for r in recs if r.rule == "tickets_sla").due == "2027-04-15"  # 0-3 months from the start
    # KPIs with a baseline carry a target; the plan's headline KPIs take the plan's own target
    for r in recs:
        if r.kpi.get("baseline") is not None and r.kpi["metric"] not in ("touchpoint_rating",):
            assert r.kpi["target"] is not None, r.rule
    sla = next(r for r in recs if r.rule == "tickets_sla")
    assert (sla.kpi["baseline"], sla.kpi["target"]) == (6.1, 1.0)  # the channel's expected response time
    plan = measurement_plan([r for r in recs if r.on_plan], "en")
    assert not (plan["owner"] == "–").any() and not (plan["due"] == "–").any()


def test_an_enabler_is_named_not_shown_as_zero_points() -> None:
    _, recs, _, case = _run()
    enablers = [r for r in recs if r.impact_model == "none"]
    assert enablers
    for lang in LANGUAGES:
        for r in enablers:
            text = impact_text(r, lang)
            assert "0,0" not in text and "0.0" not in text and text == bc.impact_label(0.0, False, lang)
    tab = bc.business_case_table(case, recs, "en")
    assert not tab.loc[tab["kind"] == "change", "impact"].isin(["+0.0", "0.0"]).any()


# --- measurable targets ----------------------------------------------------------------------------------


def test_sample_sizes_match_the_normal_power_formula() -> None:
    # two proportions: n = 2 ((z_{1-α/2} + z_power) / h)², h = 2 asin √p1 − 2 asin √p0 (Cohen 1988)
    h = 2 * math.asin(math.sqrt(0.55)) - 2 * math.asin(math.sqrt(0.50))
    assert bc.n_per_wave_proportion(0.50, 0.55) == math.ceil(2 * (_z() / h) ** 2 + 1e-6) or abs(
        bc.n_per_wave_proportion(0.50, 0.55) - 2 * (_z() / h) ** 2) < 1.01
    # NPS: d = (Δ / 100) / √((p + d) − (p − d)²)
    p, d = 0.382, 0.264
    sd = math.sqrt((p + d) - (p - d) ** 2)
    ref = 2 * (_z() / (5 / 100 / sd)) ** 2
    assert abs(bc.n_per_wave_nps(11.8, 16.8, p, d) - ref) < 1.01
    assert bc.n_per_wave_proportion(0.3, 0.3) is None


def test_a_target_inside_todays_interval_is_flagged_and_reset() -> None:
    # the review's case: churn 10.9 % → 10.5 % inside [10.1; 11.8]
    c = bc.check_target(10.9, 10.5, (10.1, 11.8), lower_is_better=True)
    assert c["reset"] and c["estimate"] == 10.5 and c["target"] == pytest.approx(10.0)
    assert not (c["target"] >= 10.1)
    up = bc.check_target(11.8, 14.0, (9.1, 14.5))
    assert up["reset"] and up["target"] == pytest.approx(14.6)
    out = bc.check_target(11.8, 16.0, (9.1, 14.5))
    assert not out["reset"] and out["target"] == 16.0


def test_the_plan_targets_are_checked_and_carry_their_sample_size() -> None:
    fs, recs, tg, _ = _run()
    churn = tg.checks["churn"]
    lo, hi = 100 * tg.churn_ci[0], 100 * tg.churn_ci[1]
    assert churn["estimate"] == pytest.approx(100 * tg.churn_to_be)
    assert churn["reset"] == (lo <= 100 * tg.churn_to_be <= hi)
    assert not (lo <= churn["target"] <= hi)  # whatever the estimate, the target can be shown to be met
    h = abs(2 * math.asin(math.sqrt(churn["target"] / 100)) - 2 * math.asin(math.sqrt(tg.churn_as_is)))
    assert abs(churn["n_needed"] - 2 * (_z() / h) ** 2) < 1.01
    nps = tg.checks["nps"]
    assert not (tg.nps_ci[0] <= nps["target"] <= tg.nps_ci[1])
    notes = bc.targets_check_notes(tg, "ru")
    assert len(notes) == len(tg.checks) and all("ответов" in n for n in notes)
    # the targets table shows the measurable target, "*" where it was re-set, and the answers per wave
    from cxaudit.recommend import targets_table

    tab = targets_table(tg, "en").set_index("metric")
    row = tab.loc["Churn rate per 12 months"]
    assert row["target"] == f"{churn['target']:.1f}%" + (" *" if churn["reset"] else "")
    assert row["n_needed"] == f"{churn['n_needed']:,}"
    assert any(n.startswith("* ") for n in bc.targets_check_notes(tg, "en")) == churn["reset"]


# --- rules: concentrated revenue risk -----------------------------------------------------------------


def test_concentrated_revenue_risk_gets_a_key_account_action_on_the_plan() -> None:
    fs = _findings()
    risk = next(f for f in fs if f.id == "churn.revenue_at_risk")
    risk.evidence.update({"top_segment_share": 0.87, "top_segment_reach": 0.105, "top_segment_label": "Corporate",
                          "top_segment_column": "Customer segment", "top_segment_customers": 526,
                          "top_segment_revenue_at_risk": 1_087_500.0})
    recs = recommend(fs)
    rec = next(r for r in recs if r.rule == "churn_revenue_concentration")
    assert "churn_value_retention" not in {r.rule for r in recs}  # the specific rule wins its group
    assert "Corporate" in rec.title("en") and "87%" in rec.action("en") and "526" in rec.action("en")
    assert "«Corporate»" in rec.title("ru") and "„Corporate”" in rec.title("pl")
    d = economics(fs).detractors
    assert rec.impact_nps == pytest.approx(100 * 0.105 * d * 0.3)
    bc.finalise(recs, fs, config=_config())
    assert rec.on_plan and rec.owner == "Key account management" and rec.kpi["target"] == pytest.approx(
        0.8 * 1_087_500.0)


# --- the demo's amounts fit its currency ---------------------------------------------------------------


def test_demo_amounts_are_in_the_clients_currency(tmp_path) -> None:
    import pandas as pd

    from cxaudit.config import load_config
    from cxaudit.demo import CURRENCY, generate_demo

    rev = {}
    for lang in ("en", "ru", "pl"):
        out = generate_demo(tmp_path / lang, size="small", lang=lang, seed=5)
        cfg = load_config(out / "audit.yaml")
        assert cfg.client.currency == CURRENCY[lang][0]
        rev[lang] = pd.read_csv(out / "customers.csv")["revenue"]
        assert set(cfg.economics.costs) == {"low", "medium", "high"}
        assert cfg.economics.costs["low"] < cfg.economics.costs["medium"] < cfg.economics.costs["high"]
        # costs in the same currency as the revenue: the same share of it in every language
        share = cfg.economics.costs["high"] / rev[lang].sum()
        rev[lang + "_share"] = share
    # the same customers; roubles at 90 and zlotys at 4 per dollar (whole roubles, grosze)
    assert (rev["ru"] - (rev["en"] * 90).round(0)).abs().max() <= 1.0
    assert (rev["pl"] - (rev["en"] * 4)).abs().max() <= 0.02
    assert rev["ru_share"] == pytest.approx(rev["en_share"], rel=0.02)
    assert rev["pl_share"] == pytest.approx(rev["en_share"], rel=0.02)


# --- language: no English in ru / pl text, the client's name never declined --------------------------------

ACRONYMS = {"NPS", "CSAT", "CES", "KPI", "eNPS"}


#: English that has been found in client text: section jargon and method words.
JARGON = {"as-is", "to-be", "top", "box", "seed", "yaml", "audit", "rule", "score", "enabler", "driver", "fill-in",
          "quick", "win", "payback", "roi", "overlap", "cap", "low", "high", "medium", "target"}


def _latin_words(text: str, lang: str = "ru") -> set[str]:
    """English words in a ru (any Latin word but the acronyms) or pl text (English stop words and jargon)."""
    import re

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    text = re.sub(r"\{[^{}]*\}", " ", text)  # placeholders
    text = re.sub(r"<<.*?>>|<%.*?%>", " ", text)  # the values and conditions of a rule text (Jinja2)
    words = {w for w in re.findall(r"[^\W\d_][^\W\d_-]*(?:-[^\W\d_]+)?", text) if w not in ACRONYMS}
    if lang == "ru":
        return {w for w in words if len(w) > 1 and re.fullmatch(r"[A-Za-z-]+", w)}  # "n = 500" is fine
    english = (set(ENGLISH_STOP_WORDS) | JARGON) - {"do", "no", "on", "to", "co", "na", "nie", "ten", "we", "a", "i"}
    return {w for w in words if len(w) > 2 and w.lower() in english}


def test_no_english_in_the_ru_pl_texts_of_the_to_be_plan_and_deck() -> None:
    from cxaudit.i18n import catalog

    for lang in ("ru", "pl"):
        cat = catalog(lang)
        keys = [k for k in cat if k.startswith(("bc.", "deck.", "xlsx.", "tobe.", "show.xlsx"))]
        bad = {k: _latin_words(cat[k], lang) for k in keys if _latin_words(cat[k], lang)}
        assert bad == {}, (lang, bad)
        for rule in builtin_rules().rules:
            words = _latin_words(rule.text[lang].title, lang) | _latin_words(rule.text[lang].action, lang)
            assert not words, (lang, rule.id, words)


def test_the_clients_name_stays_in_the_nominative_in_ru_pl() -> None:
    """«{client}» / „{client}” after a noun that takes the case (компании, firmy), never "с {client}"."""
    from cxaudit.i18n import catalog

    quotes = {"ru": ("«{client}»",), "pl": ("„{client}”",)}
    for lang in ("ru", "pl"):
        for key, text in catalog(lang).items():
            n = text.count("{client}")
            assert n == sum(text.count(q) for q in quotes[lang]), (lang, key, text)


def test_audit_yaml_costs_and_a_recommendations_cost_override(tmp_path) -> None:
    """economics.costs per effort level and recommendations.overrides.<rule>.cost, read from audit.yaml."""
    from cxaudit.config import load_config
    from cxaudit.errors import ConfigError
    from cxaudit.recommend import rulebook

    (tmp_path / "r.csv").write_text("response_id,date,nps\n1,2025-01-01,9\n", encoding="utf-8")
    base = ("client: {name: X}\ninputs: {responses: {file: r.csv}}\n"
            "economics: {costs: {low: 1000, medium: 5000, high: 20000}}\n")
    (tmp_path / "audit.yaml").write_text(base + "recommendations: {overrides: {tickets_sla: {cost: 1234}}}\n",
                                         encoding="utf-8")
    cfg = load_config(tmp_path / "audit.yaml")
    fs = _findings()
    book = rulebook(tmp_path, cfg)
    recs = recommend(fs, book)
    bc.finalise(recs, fs, book, config=cfg, start=START)
    costs = {r.rule: (r.cost, r.cost_source) for r in recs}
    assert costs["tickets_sla"] == (1234.0, "override")
    assert costs["churn_detractor_recovery"] == (5000.0, "config")  # medium effort
    (tmp_path / "audit.yaml").write_text(base.replace("low: 1000", "low: -5"), encoding="utf-8")
    with pytest.raises(ConfigError, match="economics.costs"):
        load_config(tmp_path / "audit.yaml")
