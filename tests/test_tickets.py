"""Support tickets: quantile intervals, SLA shares, repeat contacts, rising categories, findings —
against hand computations and the demo's planted slow social channel."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxaudit.audit import Audit, load_audit
from cxaudit.demo import PLANTED, generate_demo
from cxaudit.errors import ConfigError, DataError
from cxaudit.findings import Finding
from cxaudit.metrics import _wilson
from cxaudit.text import analyse_comments, customer_names, default_codeframe, voc_findings
from cxaudit.tickets import (
    DEFAULT_SLA_HOURS,
    TicketThemes,
    add_ticket_evidence,
    fmt_hours,
    month_exposure,
    monthly,
    prepare,
    quantile_ci,
    repeat_contacts,
    rising,
    rising_themes,
    settings,
    shared_themes,
    sla_table,
    theme_channel_wide,
    ticket_findings,
    ticket_text,
    ticket_themes,
    time_table,
    total_trend,
    trend_table,
    volume,
)


@pytest.fixture(scope="module")
def demo_audit(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    return load_audit(generate_demo(tmp_path_factory.mktemp("demo"), size="default", lang="en"))


@pytest.fixture(scope="module")
def demo_tickets(demo_audit: Audit) -> tuple[pd.DataFrame, int]:
    return prepare(demo_audit.table("tickets")), len(demo_audit.table("customers"))


def _tickets(rows: list[tuple[str, str, str, str | None]]) -> pd.DataFrame:
    """(ticket_id, channel, created_at, first_response_at) -> a prepared table."""
    df = pd.DataFrame(rows, columns=["ticket_id", "channel", "created_at", "first_response_at"])
    df["created_at"] = pd.to_datetime(df["created_at"])
    df["first_response_at"] = pd.to_datetime(df["first_response_at"])
    return prepare(df)


def test_quantile_interval_by_hand() -> None:
    # n = 20, median: r = qbinom(0.025, 20, 0.5) = 6, s = qbinom(0.975, 20, 0.5) + 1 = 15;
    # coverage pbinom(14) − pbinom(5) = 0.9586 (Conover 1999, Table A3 gives the same ranks)
    x = np.arange(1.0, 21.0)[::-1]
    est, lo, hi = quantile_ci(x, 0.5)
    assert (est, lo, hi) == (10.5, 6.0, 15.0)
    assert stats.binom.cdf(14, 20, 0.5) - stats.binom.cdf(5, 20, 0.5) == pytest.approx(0.9586, abs=1e-4)
    # p90 with n = 100: ranks qbinom(0.025, 100, 0.9) = 84 and qbinom(0.975, 100, 0.9) + 1 = 96
    est, lo, hi = quantile_ci(np.arange(1.0, 101.0), 0.9)
    assert (lo, hi) == (84.0, 96.0) and est == pytest.approx(90.1)
    assert np.isnan(quantile_ci([1.0, 2.0], 0.5)[1])


def test_demo_social_channel_is_slow_and_over_its_sla(demo_tickets: tuple[pd.DataFrame, int]) -> None:
    tk, n_customers = demo_tickets
    times = time_table(tk, "first_response_h").set_index("channel")
    planted = PLANTED["tickets"]["median_first_response_minutes"]
    for ch, minutes in planted.items():  # each planted median inside the interval of the estimate
        assert times.loc[ch, "median_low"] <= minutes / 60 <= times.loc[ch, "median_high"], ch
    assert times["median"].idxmax() == PLANTED["tickets"]["slow_channel"]
    sla = sla_table(tk, settings()).set_index("channel")
    assert sla.loc["social", "status"] == "missed" and sla.loc["social", "share"] < 0.05
    assert set(sla.index[sla["status"] == "missed"]) == {"social"}
    findings = ticket_findings(tk, settings(), "en", n_customers=n_customers, themes=ticket_themes(tk, n_quotes=0))
    assert [f.id for f in findings] == ["tickets.sla.social"]  # nothing rises in the demo (categories or themes)
    f = findings[0]
    assert f.unit == "h" and f.ci_low <= 6.0 <= f.ci_high and f.severity == 4 and f.tags["channels"] == ["social"]
    assert 0 < f.reach <= (tk["channel"] == "social").sum() / n_customers
    assert "6.0 h" in f.title and "1.0 h" in f.title and f.title.startswith("Social media:")
    # the volume table adds up, and months without a gap
    assert volume(tk, "channel")["n"].sum() == len(tk)
    assert len(monthly(tk)) == 18


def test_sla_share_with_open_and_censored_tickets() -> None:
    tk = _tickets([
        ("T1", "social", "2025-01-01 10:00", "2025-01-01 10:30"),   # in time (0.5 h)
        ("T2", "social", "2025-01-01 10:00", "2025-01-01 12:00"),   # late (2 h)
        ("T3", "social", "2025-01-01 10:00", None),                 # open for 3 h by as_of: late
        ("T4", "social", "2025-01-01 12:30", None),                 # open for 0.5 h: censored
        ("T5", "social", "2025-01-01 11:00", "2025-01-01 10:00"),   # response before creation: invalid
        ("T6", "fax", "2025-01-01 11:00", "2025-01-01 13:00"),      # no expectation for fax
    ])
    assert tk["bad_first_response"].tolist() == [False, False, False, False, True, False]
    tab = sla_table(tk, settings(), as_of=pd.Timestamp("2025-01-01 13:00")).set_index("channel")
    # T5 has no valid response and has waited 2 h > 1 h: late. Assessed: T1, T2, T3, T5 -> 1 of 4
    assert tab.loc["social", "n_assessed"] == 4 and tab.loc["social", "within"] == 1
    # Wilson 95 % for 1/4 by hand: centre (0.25 + 1.92/4)/(1 + 3.84/4), half 1.96·√(0.1875/4 + 3.84/64)/(1.96)
    z = 1.959964
    centre = (0.25 + z**2 / 8) / (1 + z**2 / 4)
    half = z * np.sqrt(0.25 * 0.75 / 4 + z**2 / 64) / (1 + z**2 / 4)
    assert tab.loc["social", "ci_low"] == pytest.approx(centre - half)
    assert tab.loc["fax", "status"] == "none"
    no_times = prepare(tk[["ticket_id", "channel", "created_at"]])
    assert set(sla_table(no_times, settings())["status"]) == {"none"}


def test_settings_defaults_and_overrides() -> None:
    assert settings().sla_hours == DEFAULT_SLA_HOURS and DEFAULT_SLA_HOURS["social"] == 1.0
    cfg = SimpleNamespace(tickets=SimpleNamespace(sla_hours={"Social media": 2, "fax": 48}, sla_target=0.9,
                                                  repeat_days=None))
    s = settings(cfg)
    assert s.sla_hours["social"] == 2.0 and s.sla_hours["fax"] == 48.0 and s.sla_target == 0.9
    assert s.repeat_days == 7 and s.overridden == ("social", "fax")
    assert settings(SimpleNamespace()).sla_hours == DEFAULT_SLA_HOURS   # a config without the block
    with pytest.raises(ConfigError, match="tickets.sla_hours.chat"):
        settings(sla_hours={"chat": 0})


def test_repeat_contacts_by_hand() -> None:
    df = pd.DataFrame({
        "ticket_id": list("ABCDEF"),
        "customer_id": ["C1", "C1", "C1", "C2", "C2", None],
        "category": ["delivery", "delivery", "billing", "delivery", "delivery", "delivery"],
        "channel": "phone",
        "created_at": pd.to_datetime(["2025-01-01", "2025-01-05", "2025-01-06", "2025-01-01", "2025-01-20",
                                      "2025-01-02"]),
    })
    # B: C1 delivery 4 days after A -> repeat; C: other category; E: 19 days later; F: no customer
    assert repeat_contacts(df, 7).tolist() == [False, True, False, False, False, False]
    assert repeat_contacts(df, 30).tolist() == [False, True, False, False, True, False]
    with pytest.raises(DataError, match="customer_id"):
        repeat_contacts(df.drop(columns="customer_id"))


def test_rising_share_with_a_constant_total_is_also_a_rising_count() -> None:
    """Constant volume (400 tickets a month), one category's share planted at +8 % a month: with a
    constant total its count rises by the same 8 %, so both tests flag it and the rest falls."""
    rng = np.random.default_rng(5)
    rows = []
    for m in range(18):
        total = 400
        n_rise = rng.binomial(total, 0.05 * 1.08**m)
        cats = ["billing"] * n_rise + ["other"] * (total - n_rise)
        start = pd.Timestamp("2025-01-01") + pd.DateOffset(months=m)
        days = rng.integers(0, start.days_in_month, total)   # spread over the month, not all on day 1
        rows += [(f"T{m}_{i}", "email", start + pd.Timedelta(days=int(d), hours=10), c)
                 for i, (c, d) in enumerate(zip(cats, days, strict=True))]
    df = pd.DataFrame(rows, columns=["ticket_id", "channel", "created_at", "category"])
    res = rising(df, "category").set_index("category")
    assert bool(res.loc["billing", "rising"]) and bool(res.loc["billing", "rising_share"])
    assert not bool(res.loc["other", "rising"]) and not bool(res.loc["other", "rising_share"])
    assert res.loc["billing", "share_low"] <= 1.08 <= res.loc["billing", "share_high"]
    assert res.loc["billing", "ci_low"] <= 1.08 <= res.loc["billing", "ci_high"]


def test_prepare_errors_and_duration_words() -> None:
    with pytest.raises(DataError, match="created_at"):
        prepare(pd.DataFrame({"ticket_id": ["T1"], "channel": ["phone"]}))
    with pytest.raises(DataError, match="date-times"):
        prepare(pd.DataFrame({"ticket_id": ["T1"], "channel": ["phone"], "created_at": ["yesterday"]}))
    assert fmt_hours(0.1, "en") == "6 min" and fmt_hours(6.0, "ru") == "6,0 ч" and fmt_hours(96, "pl") == "4,0 dni"


def test_no_findings_without_a_breach() -> None:
    """A client without tickets gives no ticket findings (the notebook shows one line instead)."""
    empty = _tickets([("T1", "phone", "2025-01-01 10:00", "2025-01-01 10:05")])
    assert ticket_findings(empty, settings(), "en") == []


# --- rising counts -------------------------------------------------------------------------------------


def _daily_tickets(rates: dict[str, object], start: str, end: str, seed: int) -> pd.DataFrame:
    """Tickets drawn day by day: category -> expected tickets per day as a function of the day
    number d (0 = ``start``); Poisson counts, creation times spread over the working day."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, end, freq="D")
    rows = []
    for d, day in enumerate(days):
        for cat, rate in rates.items():
            for _ in range(rng.poisson(rate(d))):  # type: ignore[operator]
                rows.append((cat, day + pd.Timedelta(minutes=int(rng.integers(8 * 60, 20 * 60)))))
    df = pd.DataFrame(rows, columns=["category", "created_at"]).sort_values("created_at", kind="stable")
    df["ticket_id"] = [f"T{i}" for i in range(len(df))]
    df["channel"] = "email"
    return df.reset_index(drop=True)


def test_category_doubling_with_total_volume_is_rising_count_not_rising_share() -> None:
    """The reviewer's case. Over 12 months the total volume doubles (16 → 32 tickets a day);
    "grows" doubles with it (4 → 8 a day: its share stays 25 %), "flat" stays at 4 a day (its share
    halves), "rest" makes up the total (8 → 20 a day: its share rises from 50 % to 62.5 %). The
    window starts on 10 January and ends on 20 December: partial first and last months."""
    doubling = 2 ** (1 / 365.25)
    tk = _daily_tickets({"grows": lambda d: 4 * doubling**d, "flat": lambda d: 4.0,
                         "rest": lambda d: 12 * doubling**d - 4}, "2025-01-10", "2025-12-20", seed=11)
    res = rising(tk, "category").set_index("category")
    monthly_rr = 2 ** (1 / 12)   # doubling in 12 months = +5.95 % a month
    g = res.loc["grows"]
    assert bool(g["rising"]) and g["p_holm"] < 0.001 and g["ci_low"] <= monthly_rr <= g["ci_high"]
    assert not bool(g["rising_share"]) and g["share_low"] <= 1.0 <= g["share_high"]
    f = res.loc["flat"]
    assert not bool(f["rising"]) and f["ci_low"] <= 1.0 <= f["ci_high"]
    assert not bool(f["rising_share"]) and f["share_high"] < 1   # its share falls (halves)
    r = res.loc["rest"]
    assert bool(r["rising"]) and bool(r["rising_share"])
    assert list(res["months"].unique()) == [12]
    total = total_trend(tk)
    assert total is not None and total["ci_low"] <= monthly_rr <= total["ci_high"] and total["n"] == len(tk)

    # as findings: "grows" rises with the volume (severity 2), "rest" faster than it (severity 3)
    found = {f.id: f for f in ticket_findings(prepare(tk), settings(), "en")}
    assert set(found) == {"tickets.rising.grows", "tickets.rising.rest"}
    assert found["tickets.rising.grows"].severity == 2 and "in line with total volume" in found["tickets.rising.grows"].title
    assert found["tickets.rising.rest"].severity == 3 and "faster than total volume" in found["tickets.rising.rest"].title
    assert found["tickets.rising.grows"].evidence["rising_faster_than_total"] is False

    # the negative-binomial model agrees on the planted effect
    nb = rising(tk, "category", method="negbin").set_index("category")
    assert bool(nb.loc["grows", "rising"]) and not bool(nb.loc["flat", "rising"])
    assert nb.loc["grows", "ci_low"] <= monthly_rr <= nb.loc["grows", "ci_high"]
    with pytest.raises(ValueError, match="method"):
        rising(tk, "category", method="ols")


def test_month_exposure_counts_the_days_of_partial_months() -> None:
    created = pd.Series(pd.to_datetime(["2025-01-17 09:00", "2025-02-03 12:00", "2025-03-10 18:00"]))
    expo = month_exposure(created)
    # 17–31 Jan = 15 days, February 28, 1–10 Mar = 10 days. Midpoints in days after 17 Jan: 7.5,
    # 15 + 14 = 29, 43 + 5 = 48; in months of 365.2425 / 12 = 30.436875 days: 0.2464, 0.9528, 1.5770
    assert expo["days"].tolist() == [15.0, 28.0, 10.0]
    assert expo["t"].tolist() == [0.2464, 0.9528, 1.5770]
    assert expo["tickets"].tolist() == [1, 1, 1]
    # a window given by the analyst: tickets outside it do not count
    expo = month_exposure(created, period=("2025-02-01", "2025-02-28"))
    assert expo.index.tolist() == ["2025-02"] and expo["days"].tolist() == [28.0] and expo["tickets"].tolist() == [1]
    with pytest.raises(DataError, match="window"):
        month_exposure(created, period=("2025-03-01", "2025-02-01"))


def test_counts_proportional_to_observed_days_are_flat() -> None:
    """3 tickets every observed day from 15 Jan to 5 Dec: the first month has 17 days (51 tickets),
    the last 5 (15 tickets), the others 84–93. The rate per day is constant, so the fitted slope is
    exactly 0 (the Poisson score equations hold at b = 0); a model of raw monthly counts without the
    exposure sees the short last month as a fall."""
    import statsmodels.api as sm

    days = pd.date_range("2025-01-15", "2025-12-05", freq="D")
    created = pd.Series(np.repeat(days, 3) + pd.Timedelta(hours=12))
    tk = pd.DataFrame({"ticket_id": [f"T{i}" for i in range(len(created))], "channel": "chat",
                       "created_at": created, "category": "billing"})
    tk.loc[::2, "category"] = "delivery"   # two categories, each also proportional to the days
    expo = month_exposure(tk["created_at"])
    assert expo["tickets"].iloc[0] == 51 and expo["tickets"].iloc[-1] == 15
    res = rising(tk, "category").set_index("category")
    assert res["rate_ratio"].to_numpy() == pytest.approx([1.0, 1.0], abs=0.003)
    assert not res["rising"].any()
    total = total_trend(tk)
    assert total is not None and total["rate_ratio"] == pytest.approx(1.0, abs=1e-9)
    naive = sm.GLM(expo["tickets"].to_numpy(float), sm.add_constant(np.arange(len(expo), dtype=float)),
                   family=sm.families.Poisson()).fit()
    assert np.exp(naive.params[1]) < 0.99   # without exposure: a spurious fall of more than 1 % a month


def test_quasi_poisson_trend_matches_statsmodels() -> None:
    """Reference: statsmodels 0.15 ``GLM(y, [1, t], family=Poisson(), offset=log(days)).fit(scale="X2",
    use_t=True)`` on these eight months gives b = 0.0938669, SE = 0.0269486 (dispersion 1.41495),
    p = 0.0130916 (t, 6 df), 95 % interval of b [0.0279261, 0.1598077] -> rate ratio 1.098414
    [1.028320; 1.173285]. R's ``glm(y ~ t + offset(log(days)), family = quasipoisson)`` uses the same
    dispersion (Pearson χ² / df) and t test (not run here)."""
    expo = pd.DataFrame({"days": [31.0, 28, 31, 30, 31, 30, 31, 31], "t": np.arange(8) + 0.5},
                        index=[f"2025-0{i}" for i in range(1, 9)])
    y = pd.DataFrame({"A": [30, 41, 35, 52, 44, 60, 49, 71], "B": [40, 40, 41, 40, 39, 40, 41, 40]},
                     index=expo.index)
    tab = trend_table(y, expo, by="g").set_index("g")
    a = tab.loc["A"]
    assert a["rate_ratio"] == pytest.approx(np.exp(0.0938669), rel=1e-6)
    assert (a["ci_low"], a["ci_high"]) == pytest.approx((1.028320, 1.173285), rel=1e-5)
    assert a["p_value"] == pytest.approx(0.0130916, rel=1e-4) and a["dispersion"] == pytest.approx(1.41495, rel=1e-4)
    # B is under-dispersed (Pearson χ²/df = 0.058): the dispersion is floored at 1, so B's SE is the
    # Poisson SE 0.0243117 (b = −0.0047799): t = −0.1966, p = 0.8506 with 6 df
    b = tab.loc["B"]
    assert b["dispersion"] == 1.0 and b["p_value"] == pytest.approx(0.850626, rel=1e-4)
    assert np.log(b["ci_high"] / b["rate_ratio"]) == pytest.approx(stats.t.ppf(0.975, 6) * 0.0243117, rel=1e-4)
    # Holm over the two groups: p_A·2 = 0.0262 < 0.05 -> A rises; too few months -> an empty table
    assert a["p_holm"] == pytest.approx(2 * a["p_value"]) and bool(a["rising"]) and not bool(b["rising"])
    assert trend_table(y.iloc[:5], expo.iloc[:5], by="g").empty


# --- themes in ticket texts ----------------------------------------------------------------------------


def test_ticket_text_joins_the_text_columns() -> None:
    df = pd.DataFrame({"ticket_id": ["1", "2", "3"], "subject": ["Late parcel", None, ""],
                       "description": ["Still waiting", "No refund", None]})
    assert ticket_text(df).tolist() == ["Late parcel\nStill waiting", "No refund", ""]
    assert ticket_text(df[["ticket_id"]]) is None
    no_text = _tickets([("T1", "phone", "2025-01-01 10:00", "2025-01-01 10:05")])
    assert ticket_themes(no_text) is None


def test_demo_ticket_themes_by_channel_and_the_same_problems(demo_audit: Audit,
                                                             demo_tickets: tuple[pd.DataFrame, int]) -> None:
    tk, _ = demo_tickets
    names = customer_names(demo_audit.table("customers"))
    th = ticket_themes(tk, lang="en", names=names)
    assert th is not None and th.n_text == th.n_tickets == len(tk) == 3000
    tab = th.table.set_index("theme")
    # the demo's delivery tickets ("has not arrived yet") and billing tickets ("a fee I never agreed to")
    assert tab.loc["late_delivery", "k"] > 200 and tab.loc["unexpected_fees", "k"] > 100
    assert tab.loc["phone_wait", "k"] == 0 and tab.loc["friendly_staff", "k"] == 0
    delivery = tk["category"] == PLANTED["tickets"]["categories"]["en"]["delivery"]
    coded = th.coding.matrix["late_delivery"]
    assert coded[delivery].mean() > 0.3 and not coded[~delivery].any()
    # Wilson interval of one cell by hand: social tickets mentioning late delivery
    cell = th.by_channel.set_index(["group", "theme"]).loc[("social", "late_delivery")]
    k, n = int(cell["k"]), int(cell["n"])
    assert n == (tk["channel"] == "social").sum() and k == int(coded[tk["channel"] == "social"].sum())
    z, p = 1.959964, k / n
    centre, half = (p + z**2 / (2 * n)) / (1 + z**2 / n), z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx((centre - half, centre + half))
    wide = theme_channel_wide(th, "en")
    assert wide["channel_label"].iloc[-1] == "All channels" and wide["n"].iloc[-1] == 3000
    assert wide["n"].iloc[:-1].sum() == 3000 and wide["k_late_delivery"].iloc[:-1].sum() == tab.loc["late_delivery", "k"]
    assert "Social media" in set(wide["channel_label"])
    # example tickets are redacted: the demo's ticket texts carry e-mails, phones and card numbers
    quotes = [q for qs in th.quotes.values() for q in qs]
    assert quotes and all(len(qs) == 2 for qs in th.quotes.values())
    raw = " ".join(tk["text"])
    assert "@" in raw and any(c in raw for c in PLANTED["pii"]["cards"])
    assert not any("@" in q or "+1 415" in q or any(c in q for c in PLANTED["pii"]["cards"]) for q in quotes)
    # the same problems: complaints planted in comments (late delivery, fees) recur in tickets too;
    # waiting on the phone is only in comments (no ticket text mentions it)
    voc = analyse_comments(demo_audit.responses, lang="en", names=names)
    same = shared_themes(voc.table, th).set_index("theme")
    assert bool(same.loc["late_delivery", "in_both"]) and bool(same.loc["unexpected_fees", "in_both"])
    assert bool(same.loc["phone_wait", "in_comments"]) and not bool(same.loc["phone_wait", "in_tickets"])
    assert same["in_both"].iloc[: int(same["in_both"].sum())].all()   # in both first
    found = voc_findings(voc, "en")
    add_ticket_evidence(found, shared_themes(voc.table, th))
    late = next(f for f in found if f.id == "voc.theme.late_delivery")
    assert late.evidence["tickets"]["recurs"] and late.evidence["tickets"]["mentions"] == tab.loc["late_delivery", "k"]
    # no theme's ticket count rises in the demo
    assert not rising_themes(tk, th)["rising"].any()


def test_shared_themes_needs_more_than_stray_mentions() -> None:
    """A theme recurs with ≥ 10 mentions and a Wilson lower bound ≥ 1 %: 10 of 200 (5 %, lower bound
    2.7 %) recurs, 10 of 2000 (0.5 %) does not, 3 of 20 (15 %) has too few mentions."""
    comments = pd.DataFrame({"theme": ["a", "b", "c"], "n_comments": 200, "mentions": [10, 10, 3],
                             "share": [0.05, 0.05, 0.015], "share_low": [0.0274, 0.0274, 0.0051],
                             "share_high": [0.09, 0.09, 0.04]})
    k = np.array([10.0, 10.0, 3.0])
    n = np.array([2000.0, 200.0, 20.0])
    lo, hi = _wilson(k, n)
    table = pd.DataFrame({"theme": ["a", "b", "c"], "label": ["A", "B", "C"], "polarity": "complaint", "n": n,
                          "k": k, "share": k / n, "ci_low": lo, "ci_high": hi})
    th = TicketThemes(pd.DataFrame(), None, table, pd.DataFrame(), {}, 2000, 2000)
    same = shared_themes(comments, th).set_index("theme")
    assert lo[1] == pytest.approx(0.0274, abs=1e-4)
    assert same["in_comments"].to_dict() == {"a": True, "b": True, "c": False}
    assert same["in_tickets"].to_dict() == {"a": False, "b": True, "c": False}
    assert same["in_both"].to_dict() == {"a": False, "b": True, "c": False}
    assert shared_themes(None, th)["in_comments"].sum() == 0


def test_ticket_themes_in_russian_and_polish(tmp_path: Path) -> None:
    for lang in ("ru", "pl"):
        audit = load_audit(generate_demo(tmp_path / lang, size="small", lang=lang))
        tk = prepare(audit.table("tickets"))
        th = ticket_themes(tk, lang=lang, n_quotes=1)
        assert th is not None and set(th.tickets["lang"]) == {lang}
        tab = th.table.set_index("theme")
        assert tab.loc["late_delivery", "k"] > 0 and tab.loc["returns_refunds", "k"] > 0, lang
        assert th.table["label"].iloc[0] == default_codeframe().theme(th.table["theme"].iloc[0]).name(lang)


def test_sla_finding_carries_the_detractor_share_of_late_customers() -> None:
    # social (expected 1 h): c1..c6 answered after 3 h (late), c7, c8 after 30 min (in time).
    # 2 of 8 in time: Wilson upper bound < 0.8 -> missed; reach = 6 late customers / 8 customers.
    rows = [(f"T{i}", "social", "2025-01-01 10:00", "2025-01-01 13:00") for i in range(1, 7)]
    rows += [(f"T{i}", "social", "2025-01-01 10:00", "2025-01-01 10:30") for i in (7, 8)]
    tk = _tickets(rows)
    tk["customer_id"] = [f"c{i}" for i in range(1, 9)]
    tk.loc[len(tk)] = tk.iloc[0]  # c1's second late ticket: a customer counts once
    # each customer's NPS group from the most recent valid answer (as cxaudit.churn assigns it):
    # c1 3 -> detractor; c2 2 then 9 -> promoter; c3 6 -> detractor; c4 8 -> passive; c5 10 -> promoter;
    # c6: no NPS answer; c7 0 -> detractor but answered in time (not counted)
    responses = pd.DataFrame({
        "customer_id": ["c1", "c2", "c2", "c3", "c4", "c5", "c6", "c7"],
        "date": pd.to_datetime(["2025-02-01", "2025-01-05", "2025-02-01", "2025-02-01", "2025-02-01",
                                "2025-02-01", "2025-02-01", "2025-02-01"]),
        "nps": [3, 2, 9, 6, 8, 10, np.nan, 0],
        "_row": range(2, 10),
    })
    (f,) = ticket_findings(tk, settings(), "en", min_base=5, responses=responses)
    assert f.id == "tickets.sla.social" and f.reach == pytest.approx(6 / 8)
    # late customers with an NPS answer: c1..c5 (n = 5), detractors c1, c3 (k = 2): 0.4
    z = 1.959963984540054
    centre = (0.4 + z**2 / 10) / (1 + z**2 / 5)
    half = z * np.sqrt(0.4 * 0.6 / 5 + z**2 / 100) / (1 + z**2 / 5)
    ev = f.evidence
    assert (ev["detractor_share"], ev["detractor_share_n"], ev["detractor_share_k"]) == (0.4, 5, 2)
    assert ev["detractor_share_ci"] == pytest.approx([centre - half, centre + half])
    assert ev["detractor_share_ci"] == pytest.approx([0.1176, 0.7693], abs=1e-4)
    # the TO-BE model uses it: ΔNPS = 100 × reach 0.75 × 0.4 × shift 0.5 = 15, and says it is measured
    from cxaudit.recommend import recommend

    nps = Finding(id="cx_metrics.nps.overall", section="cx_metrics", title="NPS", metric="nps", value=10.0,
                  n=500, severity=3, reach=0.25, unit="pts", evidence={"promoters": 0.35, "detractors": 0.25})
    (rec,) = [r for r in recommend([nps, f]) if r.rule == "tickets_sla"]
    assert rec.impact_nps == pytest.approx(15.0)
    note = rec.texts["en"]["impact_note"]
    assert note.startswith("Measured: 75% of customers are affected and 40% of them are detractors")
    assert "(n = 5 with an NPS answer, 95% interval [12; 77]%)" in note
    assert "n = 5" in rec.texts["ru"]["impact_note"] and rec.texts["ru"]["impact_note"].startswith("Измерено")
    # fewer late customers with an answer than min_base: no share; the overall 25% is an assumption
    (g,) = ticket_findings(tk, settings(), "en", min_base=6, responses=responses)
    assert "detractor_share" not in g.evidence
    (rec,) = [r for r in recommend([nps, g]) if r.rule == "tickets_sla"]
    assert rec.impact_nps == pytest.approx(100 * 0.75 * 0.25 * 0.5)
    assert rec.texts["en"]["impact_note"].startswith("Assumption: 75% of customers are affected; their detractor "
                                                     "share is not measured, so the overall detractor share (25%)")
    assert rec.texts["pl"]["impact_note"].startswith("Założenie:") and "nie jest zmierzony" in rec.texts["pl"]["impact_note"]
    # without responses (or without customer ids) the finding is as before
    assert "detractor_share" not in ticket_findings(tk, settings(), "en", min_base=5)[0].evidence
