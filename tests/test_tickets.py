"""Support tickets: quantile intervals, SLA shares, repeat contacts, rising categories, findings —
against hand computations and the demo's planted slow social channel."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxaudit.audit import load_audit
from cxaudit.demo import PLANTED, generate_demo
from cxaudit.errors import ConfigError, DataError
from cxaudit.tickets import (
    DEFAULT_SLA_HOURS,
    fmt_hours,
    monthly,
    prepare,
    quantile_ci,
    repeat_contacts,
    rising,
    settings,
    sla_table,
    ticket_findings,
    time_table,
    volume,
)


@pytest.fixture(scope="module")
def demo_tickets(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, int]:
    folder = generate_demo(tmp_path_factory.mktemp("demo"), size="default", lang="en")
    audit = load_audit(folder)
    return prepare(audit.table("tickets")), len(audit.table("customers"))


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
    findings = ticket_findings(tk, settings(), "en", n_customers=n_customers)
    assert [f.id for f in findings] == ["tickets.sla.social"]  # nothing rises in the demo
    f = findings[0]
    assert f.unit == "h" and f.ci_low <= 6.0 <= f.ci_high and f.severity == 4 and f.tags["channels"] == ["social"]
    assert 0 < f.reach <= (tk["channel"] == "social").sum() / n_customers
    assert "6.0 h" in f.title and "1.0 h" in f.title
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


def test_rising_category_is_detected_and_flat_is_not() -> None:
    rng = np.random.default_rng(5)
    rows = []
    for m in range(18):
        total = 400
        p_rise = 0.05 * 1.08**m  # planted: +8 % a month
        n_rise = rng.binomial(total, p_rise)
        cats = ["billing"] * n_rise + ["other"] * (total - n_rise)
        day = pd.Timestamp("2025-01-01") + pd.DateOffset(months=m)
        rows += [(f"T{m}_{i}", "email", day, c) for i, c in enumerate(cats)]
    df = pd.DataFrame(rows, columns=["ticket_id", "channel", "created_at", "category"])
    df["month"] = df["created_at"].dt.strftime("%Y-%m")
    res = rising(df, "category").set_index("category")
    assert bool(res.loc["billing", "rising"]) and not bool(res.loc["other", "rising"])
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
