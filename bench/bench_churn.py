"""Benchmark: the whole churn section on a large synthetic customer base (500,000 customers by default).

The base is generated with the demo client's own generators (``cxaudit.demo``: the same planted churn
structure — detractors churn 24 %, promoters 8 %, exact counts per NPS group, shorter tenure churns more,
churned customers open twice as many tickets), with 1.25 survey responses and 0.75 tickets per customer
as in the demo. The raw tables are put into canonical form in memory with the demo's ``audit.yaml``
rules (unparseable dates, out-of-range NPS, duplicate ids and speeders excluded) instead of through CSV
files, so the figures below time the analysis, not file parsing.

Timed: the customer frame (latest valid answer per customer, ticket counts), then each step of
:func:`cxaudit.churn.analyse` — rates and trend, reasons, the logistic model, 18 per-touchpoint models,
Kaplan–Meier + log-rank + Cox, economics (LTV, revenue at risk with delta-method intervals, retention vs
acquisition, moving detractors) — and the report blocks and findings. The baseline is the same pipeline
on the demo's default size (4,000 customers), measured in the same run.

Usage::

    .venv/bin/python bench/bench_churn.py [--customers 500000] [--baseline 4000] [--seed 7]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd

from cxaudit import churn, churn_view, demo


def generate(n_customers: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Canonical ``customers``, ``responses`` and ``tickets`` tables from the demo generators."""
    r_cust, r_resp, r_life, r_tick, _ = np.random.default_rng(seed).spawn(5)
    cust = demo._customer_base(r_cust, n_customers)
    raw_resp, truth = demo._responses(r_resp, int(round(1.25 * n_customers)), cust, "en")
    raw_cust, life = demo._customers(r_life, cust, truth, "en")
    raw_tick = demo._tickets(r_tick, int(round(0.75 * n_customers)), life, "en")

    customers = raw_cust.assign(
        start_date=pd.to_datetime(raw_cust["start_date"]),
        churn_date=pd.to_datetime(raw_cust["churn_date"].replace("", None)),
        churned=raw_cust["churned"].astype(bool).astype("boolean"),
        churn_reason=raw_cust["churn_reason"].replace("", None),
        tenure_months=raw_cust["tenure_months"].astype(float),
    )
    tps = [c for c in raw_resp.columns if c.startswith("tp_")]
    responses = pd.DataFrame({
        "_row": np.arange(2, len(raw_resp) + 2),
        "response_id": raw_resp["Response ID"],
        "customer_id": raw_resp["Customer ID"],
        "date": pd.to_datetime(raw_resp["Submitted"], format="%Y-%m-%d %H:%M", errors="coerce"),
        "nps": pd.to_numeric(raw_resp["Q1 Recommend (0-10)"], errors="coerce").astype(float),
        "duration_s": raw_resp["Duration (s)"].astype(float),
        "segment": raw_resp["segment"],
        **{tp: raw_resp[tp].astype(float) for tp in tps},
    })
    # the demo's audit.yaml excludes: invalid_date, out_of_range, duplicate_id, speeder
    keep = (responses["date"].notna() & ~responses["response_id"].duplicated()
            & ~(responses["nps"].notna() & ~responses["nps"].between(0, 10))
            & ~(responses["duration_s"] < responses["duration_s"].median() / 3))
    responses = responses[keep].reset_index(drop=True)
    tickets = raw_tick.assign(
        created_at=pd.to_datetime(raw_tick["created_at"]),
        resolved_at=pd.to_datetime(raw_tick["resolved_at"].replace("", None)),
    )
    return customers, responses, tickets, {"responses_raw": len(raw_resp), "responses_kept": len(responses)}


def run(n_customers: int, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    customers, responses, tickets, info = generate(n_customers, seed)
    t_gen = time.perf_counter() - t0

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    window = churn.observation_window(customers, responses, tickets)
    frame = churn.customer_frame(customers, responses, tickets, window=window)
    t_frame = time.perf_counter() - t0

    t0 = time.perf_counter()
    an = churn.analyse(frame, segments=["segment", "region"], window=window)
    t_analyse = time.perf_counter() - t0

    t0 = time.perf_counter()
    v = churn_view
    blocks = (v.blocks_rates(an, "en") + v.blocks_trend(an, "en") + v.blocks_reasons(an, "en")
              + v.blocks_drivers(an, "en") + v.blocks_survival(an, "en") + v.blocks_economics(an, "en"))
    findings = churn.churn_findings(an, "en")
    t_report = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return {"cpu": cpu, "n": n_customers, "info": info, "generate": t_gen, "frame": t_frame, "analyse": t_analyse,
            "steps": dict(an.timings), "report": t_report, "blocks": len(blocks), "findings": len(findings),
            "an": an}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=500_000)
    ap.add_argument("--baseline", type=int, default=demo.SIZES["default"]["customers"])
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    base = run(args.baseline, args.seed)
    big = run(args.customers, args.seed)

    an = big["an"]
    r = an.ratio
    print(f"large base: {big['n']:,} customers, {big['info']['responses_kept']:,} kept survey responses "
          f"(of {big['info']['responses_raw']:,}), {int(an.overall['churned'].iloc[0]):,} churned")
    print(f"planted effect: detractor/promoter churn ratio {r.ratio:.3f} [{r.ci_low:.3f}; {r.ci_high:.3f}] "
          f"(planted 3.0); adjusted OR {an.logit.ratio('nps_group=detractor')['ratio']:.2f}, "
          f"HR {an.cox.ratio('nps_group=detractor')['ratio']:.2f}")
    print(f"revenue at risk {an.rar.value:,.0f} [{an.rar.ci_low:,.0f}; {an.rar.ci_high:,.0f}], "
          f"uplift {an.rar.uplift:,.0f}; {big['findings']} findings, {big['blocks']} report blocks")
    print()
    rows = [("generate (not churn analysis)", "generate"), ("customer frame", "frame")]
    rows += [(f"  analyse: {k}", k) for k in big["steps"]]
    rows += [("analyse, total", "analyse"), ("report blocks + findings", "report")]
    print(f"{'step':34s}{'baseline':>12s}{'large':>12s}{'ratio':>9s}")
    for label, key in rows:
        b = base["steps"][key] if key in base["steps"] else base[key]
        g = big["steps"][key] if key in big["steps"] else big[key]
        print(f"{label:34s}{b:11.2f}s{g:11.2f}s{g / b:8.1f}x")
    total_b = base["frame"] + base["analyse"] + base["report"]
    total_g = big["frame"] + big["analyse"] + big["report"]
    print(f"{'churn section, end to end':34s}{total_b:11.2f}s{total_g:11.2f}s{total_g / total_b:8.1f}x")
    print(f"{'  (process CPU time)':34s}{base['cpu']:11.2f}s{big['cpu']:11.2f}s{big['cpu'] / base['cpu']:8.1f}x")
    print(f"customers ratio {big['n'] / base['n']:.0f}x; seconds per 100k customers (large run): "
          f"{total_g / big['n'] * 1e5:.2f}; wall times depend on machine load, CPU time less so")


if __name__ == "__main__":
    main()
