"""Benchmark: code 1M open comments (en/ru/pl) and analyse 2M support tickets.

Data are generated here, seeded: comments are 1-2 sentences from the demo's templates (every theme,
inflected forms, both genders) plus a random order number and 0-4 filler words, so most texts are
distinct; tickets follow the demo's channel mix and response-time distributions over 18 months.

Baselines, measured in the same run:
- comments: a plain keyword pass, ``Series.str.contains`` with one case-insensitive regex of the
  codeframe's raw keywords per theme and language (what a consultant would do in a spreadsheet;
  no lemmas, no phrases, no exclusions, no language detection);
- tickets: one ``groupby("channel").median()`` of the first-response time.

Run: ``.venv/bin/python bench/bench_voc.py [--comments N] [--tickets N]``.
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np
import pandas as pd

from cxaudit import text as tx
from cxaudit import tickets as tk
from cxaudit.demo import _COMMENTS, _pool  # the demo's sentence pools (inflected, gendered)

SEED = 20261124


def make_comments(n: int, rng: np.random.Generator) -> tuple[pd.Series, pd.Series]:
    langs = rng.choice(["en", "ru", "pl"], n, p=[0.3, 0.4, 0.3])
    out = np.empty(n, dtype=object)
    filler = {"en": "really just today again order shop please thanks".split(),
              "ru": "очень просто сегодня опять заказ магазин пожалуйста спасибо".split(),
              "pl": "bardzo po prostu dzisiaj znowu zamówienie sklep proszę dziękuję".split()}
    for lang in ("en", "ru", "pl"):
        rows = np.flatnonzero(langs == lang)
        pools = [_pool(v, lang, g) for v in _COMMENTS[lang].values() for g in (0, 1)]
        texts = np.concatenate([p[0] for p in pools])
        first = texts[rng.integers(0, len(texts), len(rows))]
        second = np.where(rng.random(len(rows)) < 0.3, texts[rng.integers(0, len(texts), len(rows))], "")
        order = rng.integers(100_000, 1_000_000, len(rows)).astype(str)
        words = np.asarray(filler[lang], dtype=object)
        k = rng.integers(0, 5, len(rows))
        fill = [" ".join(words[rng.integers(0, len(words), j)]) for j in k]
        out[rows] = [f"{a} {b} #{o} {f}".strip() for a, b, o, f in zip(first, second, order, fill, strict=True)]
    return pd.Series(out), pd.Series(langs)


def make_tickets(n: int, rng: np.random.Generator) -> pd.DataFrame:
    channels = np.array(["phone", "chat", "email", "social", "app"])
    ch = rng.choice(5, n, p=[0.30, 0.25, 0.20, 0.10, 0.15])
    med = np.array([4.0, 6.0, 240.0, 360.0, 45.0])[ch]
    sd = np.array([0.8, 0.8, 0.7, 0.6, 0.8])[ch]
    start = np.datetime64("2025-01-01T00:00:00")
    created = start + rng.integers(0, 547 * 86400, n).astype("timedelta64[s]")
    first_s = np.rint(60 * med * np.exp(sd * rng.standard_normal(n))).astype(np.int64)
    res_s = first_s + np.rint(3600 * 8 * np.exp(1.1 * rng.standard_normal(n))).astype(np.int64)
    first = created + first_s.astype("timedelta64[s]")
    resolved = created + res_s.astype("timedelta64[s]")
    no_first = rng.random(n) < 0.015
    first = np.where(no_first, np.datetime64("NaT"), first)
    resolved = np.where(no_first | (rng.random(n) < 0.06), np.datetime64("NaT"), resolved)
    csat = np.where(rng.random(n) < 0.5, np.nan, rng.integers(1, 6, n).astype(float))
    return pd.DataFrame({
        "ticket_id": np.char.add("T", np.arange(n).astype(str)),
        "customer_id": np.char.add("C", rng.integers(0, n // 4, n).astype(str)),
        "channel": channels[ch],
        "category": rng.choice(["delivery", "billing", "product", "returns", "account", "app"], n),
        "created_at": pd.to_datetime(created), "first_response_at": pd.to_datetime(first),
        "resolved_at": pd.to_datetime(resolved), "csat": csat,
    })


def timed(fn, *a, **k):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t0


def bench_comments(n: int) -> None:
    rng = np.random.default_rng(SEED)
    texts, true_lang = make_comments(n, rng)
    print(f"comments: {n:,} generated, {texts.nunique():,} distinct")
    cf = tx.default_codeframe()
    for lang in cf.languages:  # load the lemma dictionaries outside the timings (one-off, ~10 s in all)
        tx.normalize("x", lang)
    tx.detect_language(["warm up"])

    def baseline() -> pd.DataFrame:
        low = texts.str.lower()
        cols = {}
        for th in cf.themes:
            hit = pd.Series(False, index=texts.index)
            for lang, raw in th.keywords.items():
                words = [w.strip() for r in raw for w in r.split("&")]
                pat = "|".join(re.escape(w.lower()) for w in words)
                hit |= (true_lang == lang) & low.str.contains(pat, regex=True)
            cols[th.key] = hit
        return pd.DataFrame(cols)

    base, t_base = timed(baseline)
    langs, t_lang = timed(tx.detect_language, texts, cf.languages)
    res, t_code = timed(tx.code_comments, texts, cf, langs)
    acc = float((langs == true_lang).mean())
    sub = texts.iloc[: n // 10]
    _, t_red = timed(tx.redact_series, sub)
    _, t_disc = timed(tx.discover_topics, res, texts, seed=SEED)
    print(f"  baseline str.contains keyword pass : {t_base:7.1f} s")
    print(f"  language detection                  : {t_lang:7.1f} s  (accuracy vs truth {acc:.4f})")
    print(f"  codeframe coding (lemma/stem)       : {t_code:7.1f} s")
    total = t_lang + t_code
    print(f"  detection + coding                  : {total:7.1f} s  = {total / t_base:.2f}x the baseline "
          f"({n / total:,.0f} comments/s)")
    print(f"  topic discovery on uncoded          : {t_disc:7.1f} s  ({int((~res.any).sum()):,} comments)")
    print(f"  PII redaction of {len(sub):,} comments   : {t_red:7.1f} s")
    agree = float((base.to_numpy() == res.matrix.to_numpy()).mean())
    print(f"  cell agreement with the baseline    : {agree:.4f} (the baseline misses inflections and phrases)")


def bench_tickets(n: int) -> None:
    rng = np.random.default_rng(SEED + 1)
    raw = make_tickets(n, rng)
    print(f"tickets: {n:,} generated")

    _, t_base = timed(lambda: ((raw["first_response_at"] - raw["created_at"]).dt.total_seconds() / 3600)
                      .groupby(raw["channel"]).median())
    t0 = time.perf_counter()
    tt = tk.prepare(raw)
    cfg = tk.settings()
    tk.volume(tt, "channel"), tk.volume(tt, "category"), tk.monthly(tt)
    first = tk.time_table(tt, "first_response_h")
    tk.time_table(tt, "resolution_h")
    sla = tk.sla_table(tt, cfg)
    rep = tk.repeat_contacts(tt, cfg.repeat_days)
    tk.repeat_table(tt, rep, "channel")
    tk.rising(tt, "category")
    tk.csat_by_channel(tt)
    t_all = time.perf_counter() - t0
    print(f"  baseline groupby median             : {t_base:7.2f} s")
    print(f"  full ticket analysis                : {t_all:7.2f} s  = {t_all / t_base:.1f}x the baseline "
          f"({n / t_all:,.0f} tickets/s)")
    print("  social median first response        : "
          f"{first.set_index('channel').loc['social', 'median']:.2f} h; SLA status "
          f"{sla.set_index('channel').loc['social', 'status']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--comments", type=int, default=1_000_000)
    ap.add_argument("--tickets", type=int, default=2_000_000)
    args = ap.parse_args()
    bench_comments(args.comments)
    bench_tickets(args.tickets)


if __name__ == "__main__":
    main()
