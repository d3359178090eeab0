"""Benchmark: the persona model (:func:`cxaudit.personas.fit_personas`) on 200,000 respondents.

Respondents are drawn with the demo's planted persona structure (``cxaudit.demo.PLANTED["personas"]``:
four personas whose odds depend on the response channel, segment and NPS group, four 1-5 attitude items with 3 %
item non-response), and coded as the personas section codes the demo: six categorical indicators
(four items, segment, channel). Timed:

* ``fit_personas`` as the section runs it: k = 2..6, two random starts each, answer patterns fitted once
  with their counts as weights, k chosen by BIC with a 5 % minimum class size;
* the baseline, in the same process: one StepMix fit of the chosen k on every row (no pattern
  compression), which is what a plain ``StepMix(...).fit(X)`` costs, against the same fit on the
  unique patterns with weights (seconds, EM iterations, seconds per iteration, log-likelihood, ARI);
* the same search on the demo's default size (5,000 respondents).

The adjusted Rand index against the planted labels is reported for each.

Usage::

    .venv/bin/python bench/bench_personas.py [--n 200000] [--baseline-n 5000] [--seed 7]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from cxaudit import demo
from cxaudit.personas import ABS_TOL, MAX_ITER, fit_personas

#: Shares of promoters, passives, detractors and no valid answer in the default demo's responses.
NPS_GROUP_SHARES: tuple[float, ...] = (0.393, 0.359, 0.228, 0.020)


def sample(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Indicator codes and planted personas of ``n`` respondents (the demo's generative model)."""
    rng = np.random.default_rng(seed)
    ch = rng.choice(len(demo._RESPONSE_CHANNELS), n, p=demo._RESPONSE_CHANNEL_SHARES)
    sg = rng.choice(3, n, p=demo._SEGMENT_SHARES)
    # NPS group (promoter, passive, detractor, none) with the default demo's shares
    ng = rng.choice(4, n, p=NPS_GROUP_SHARES)
    odds = (np.asarray(demo._PERSONA_PRIOR)[None, :] * demo._PERSONA_CHANNEL[:, ch].T * demo._PERSONA_SEGMENT[:, sg].T
            * demo._PERSONA_NPS[:, ng].T)
    p = odds / odds.sum(axis=1, keepdims=True)
    label = np.minimum((p.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1), 3)
    k = len(demo._ATTITUDES)
    items = np.clip(np.rint(demo._ATTITUDE_MEANS[label] + demo._ATTITUDE_NOISE * rng.standard_normal((n, k))), 1, 5) - 1
    items[rng.random((n, k)) < demo._ATTITUDE_MISSING] = np.nan
    codes = pd.DataFrame(items, columns=[f"item:{c}" for c in demo._ATTITUDES])
    codes["segment:segment"] = sg.astype(float)
    codes["segment:channel"] = ch.astype(float)
    return codes, label


def run(n: int, seed: int) -> dict[str, float]:
    codes, truth = sample(n, seed)
    t0 = time.perf_counter()
    m = fit_personas(codes, seed=seed)
    secs = time.perf_counter() - t0
    ok = m.labels.notna().to_numpy()
    ari = adjusted_rand_score(truth[ok], m.labels[ok].astype(int))
    patterns = int(codes.fillna(-1).drop_duplicates().shape[0])
    return {"n": n, "patterns": patterns, "k": m.k, "seconds": secs, "ari": ari,
            "per_k": "; ".join(f"k={r.k}: {r.seconds:.1f}s" for r in m.selection.itertuples()), "codes": codes,
            "truth": truth, "chosen": m.k}


def one_fit(codes: pd.DataFrame, truth: np.ndarray, k: int, seed: int, compress: bool) -> str:
    """One StepMix fit of k classes (two random starts), on every row or on the unique answer patterns
    with their counts as weights: seconds, EM iterations, seconds per iteration, log-likelihood, ARI."""
    from stepmix import StepMix

    x, w = codes, None
    if compress:
        key = codes.fillna(-1.0)
        g = key.groupby(list(key.columns), sort=True).size()
        x = g.index.to_frame(index=False)
        x.columns = list(codes.columns)
        x = x.mask(x < 0)
        w = g.to_numpy(dtype=float)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = StepMix(n_components=k, measurement="categorical_nan", n_init=2, random_state=seed, abs_tol=ABS_TOL,
                        max_iter=MAX_ITER, progress_bar=0, verbose=0).fit(x, sample_weight=w)
    secs = time.perf_counter() - t0
    ll = model.score(codes) * len(codes)
    it = max(int(getattr(model, "n_iter_", 1)), 1)
    return (f"{'patterns' if compress else 'all rows':>8}: {secs:6.1f} s, {it} EM iterations ({secs / it:.3f} s each; "
            f"2 starts), log-likelihood {ll:,.0f}, ARI {adjusted_rand_score(truth, model.predict(codes)):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--baseline-n", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    small = run(args.baseline_n, args.seed)
    print(f"{small['n']:>8,} respondents, {small['patterns']:,} patterns: k={small['k']} in {small['seconds']:.1f} s "
          f"({small['per_k']}), ARI {small['ari']:.3f}")
    big = run(args.n, args.seed)
    print(f"{big['n']:>8,} respondents, {big['patterns']:,} patterns: k={big['k']} in {big['seconds']:.1f} s "
          f"({big['per_k']}), ARI {big['ari']:.3f}")
    print(f"one fit of k={big['chosen']} on {big['n']:,} respondents, same seed and tolerance:")
    print("  baseline " + one_fit(big["codes"], big["truth"], big["chosen"], args.seed, compress=False))
    print("  section  " + one_fit(big["codes"], big["truth"], big["chosen"], args.seed, compress=True))


if __name__ == "__main__":
    main()
