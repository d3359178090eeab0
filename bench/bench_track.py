"""Tracking across demo waves: power on the planted changes and the false-positive rate on the null cells.

For each of ``--seeds`` seeds (default 20) the demo client is generated with three waves
(:func:`cxaudit.demo.generate_waves`, size ``--size``, default ``default`` = 5,000 responses a wave),
every wave is validated, and every pair (wave2-wave1, wave3-wave2, wave3-wave1) is compared by
:func:`cxaudit.track.compare_cells` (Holm over each comparison's family). Cells are classed by what the
generator planted (``PLANTED["waves"]``):

- planted: tp_delivery's rating (up) and NPS / CSAT / CES of the small-business segment (down);
- null (true change zero): NPS / CSAT / CES of the consumer and corporate segments, and every touchpoint
  rating except tp_delivery;
- consequence: overall, region and contact-channel cells, which move because the small-business
  segment is part of them (true changes; flagging them is not a false positive).

Prints detection rates of the planted cells (right sign), the false-positive rate per null cell and the
share of comparisons with at least one null cell flagged (family-wise), and writes bench/out/track.json.

Usage: ``.venv/bin/python bench/bench_track.py [--seeds 20] [--size default]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from cxaudit.audit import load_audit
from cxaudit.demo import PLANTED, generate_waves
from cxaudit.track import compare_cells, wave_cells


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--size", default="default")
    args = ap.parse_args()
    seg = dict(zip(["consumer", "small_business", "corporate"], PLANTED["segments"]["en"], strict=True))
    planted = {("touchpoint", "touchpoint", "tp_delivery"): "up",
               **{(m, "segment", seg["small_business"]): "down" for m in ("nps", "csat", "ces")}}
    null_groups = {seg["consumer"], seg["corporate"]}
    tot = {"planted": 0, "planted_found": 0, "planted_wrong_sign": 0, "null": 0, "null_flagged": 0,
           "null_raw_p_below_alpha": 0, "comparisons": 0, "comparisons_with_fp": 0, "consequence": 0,
           "consequence_flagged": 0}
    per_cell: dict[str, list[int]] = {}
    t0 = time.perf_counter()
    for s in range(args.seeds):
        tmp = Path(tempfile.mkdtemp(prefix="cx-track-bench-"))
        try:
            generate_waves(tmp / "demo", waves=3, size=args.size, seed=100 + s)
            cells = {w: wave_cells(load_audit(tmp / "demo", wave=w)) for w in ("wave1", "wave2", "wave3")}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for a, b in (("wave2", "wave1"), ("wave3", "wave2"), ("wave3", "wave1")):
            tab = compare_cells(cells[a], cells[b])
            tab = tab[tab["comparable"] == "yes"]
            tot["comparisons"] += 1
            fp = 0
            for _, r in tab.iterrows():
                key = (r["metric"], r["cut"], r["group"])
                if key in planted:
                    tot["planted"] += 1
                    ok = r["significant"] and r["direction"] == planted[key]
                    tot["planted_found"] += int(ok)
                    tot["planted_wrong_sign"] += int(r["significant"] and r["direction"] != planted[key])
                    per_cell.setdefault(f"{a}-{b} {'/'.join(key)}", []).append(int(ok))
                elif (r["cut"] == "segment" and r["group"] in null_groups) or (
                        r["metric"] == "touchpoint" and r["group"] != "tp_delivery"):
                    tot["null"] += 1
                    tot["null_flagged"] += int(r["significant"])
                    tot["null_raw_p_below_alpha"] += int(r["p_value"] < 0.05)  # calibration: ~5 % if truly null
                    fp += int(r["significant"])
                else:
                    tot["consequence"] += 1
                    tot["consequence_flagged"] += int(r["significant"])
            tot["comparisons_with_fp"] += int(fp > 0)
        print(f"seed {s}: done ({time.perf_counter() - t0:.0f} s)", flush=True)
    out = {**tot, "seeds": args.seeds, "size": args.size,
           "power": tot["planted_found"] / tot["planted"],
           "false_positive_rate_per_null_cell": tot["null_flagged"] / tot["null"],
           "null_raw_rate_p_below_0.05": tot["null_raw_p_below_alpha"] / tot["null"],
           "familywise_rate": tot["comparisons_with_fp"] / tot["comparisons"],
           "per_planted_cell": {k: sum(v) / len(v) for k, v in sorted(per_cell.items())},
           "seconds": round(time.perf_counter() - t0, 1)}
    Path("bench/out").mkdir(parents=True, exist_ok=True)
    Path("bench/out/track.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
