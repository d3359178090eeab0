"""The churn section's two models on all rows at the XL demo's customer count (issue 19, item 3).

``.venv/bin/python bench/bench_churn_models.py [--customers 500000]``: builds the customer frame as
``bench_churn.py`` does (the demo's generators), then times, in process CPU seconds and wall seconds,
the logistic model and the Cox model exactly as ``churn.analyse`` specifies them (``model_spec``), on
all rows. Decides ``churn.MODEL_MAX_ROWS``: all rows are used while a fit stays under 30 s.
"""

from __future__ import annotations

import argparse
import json
import time

from bench_churn import generate

from cxaudit import churn


def timed(fn, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN201
    t, c = time.perf_counter(), time.process_time()
    out = fn(*a, **kw)
    return out, round(time.process_time() - c, 2), round(time.perf_counter() - t, 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=500_000)
    a = ap.parse_args()
    customers, responses, tickets, _ = generate(a.customers, 7)
    window = churn.observation_window(customers, responses, tickets)
    frame = churn.customer_frame(customers, responses, tickets, window=window)
    segs = ["segment", "region"]
    out = {"customers": a.customers}
    num, cat = churn.model_spec(frame, segs, "logit")
    m, cpu, wall = timed(churn.fit_logit, frame, num, cat)
    out["logit"] = {"cpu_s": cpu, "wall_s": wall, "rows": m.n, "params": len(m.columns), "fit_rows": m.fit_rows}
    num, cat = churn.model_spec(frame, segs, "cox")
    _, cpu, wall = timed(churn.survival, frame, "nps_group", delayed_entry=True)
    out["kaplan_meier_logrank"] = {"cpu_s": cpu, "wall_s": wall}
    m, cpu, wall = timed(churn.fit_cox, frame, num, cat, entry="t_entry")
    out["cox"] = {"cpu_s": cpu, "wall_s": wall, "rows": m.n, "params": len(m.columns), "fit_rows": m.fit_rows}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
