"""The fast paths of the VoC section at scale (issue 19) against the direct computation on small,
hand-made frames: each distinct text coded / detected once and mapped back, text numbers found in
Arrow chunk by chunk, the quotes' near-duplicate check, the tickets' month and channel labels and
repeat contacts. Every test compares with the row-by-row (or the former pandas) computation."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from cxaudit import text as tx
from cxaudit import tickets as tk

# texts where digits sit in e-mails, links, handles, numbers with separators, words, other scripts
TRICKY = [
    "Order 552753 is late", "Order 1 is late", "order #12-34/5 late, really.", "anna.nowak72@example.com wrote",
    "a1@b2.pl a@b.pl", "see https://shop.example.com/o/12345?x=9 now", "www.shop24.pl/zamowienie/77 nie działa",
    "shop24.com/a1 broken", "@user_123 hi @u.9", "3.5 stars, 10:30 call at 8/12", "abc123def 12abc",
    "тариф 300 руб., звонил 2 раза", "Zamówienie 9 nie dotarło!!! 😡 2x", "١٢٣ Arabic-Indic 45 mixed ١2",
    "A 1.2 b", "12 , 34 . 56", "x-1-2-y", "#123 #abc1", "tel. +48 601 234 567", "",
]


def _mask(s: str) -> str:
    return re.sub("[0-9]+", "0", s)


def test_clean_text_reads_any_digit_run_alike() -> None:
    """The grouping of :func:`distinct_texts` rests on this: cleaning gives the same text whatever the
    ASCII digits are (hand-made cases, then 3,000 seeded random strings of the risky characters)."""
    for s in TRICKY:
        assert tx.clean_text(s) == tx.clean_text(_mask(s)), s
    rng = np.random.default_rng(19)
    parts = ["1", "23", "456", "0", "a", "b", "Ж", "ą", " ", ".", ",", "-", "/", ":", "@", "#", "_", "+", "'",
             "http://", "www.", ".com", ".pl", "x@y", "١", "😡", "!", "\n"]
    for _ in range(3000):
        s = "".join(rng.choice(parts, int(rng.integers(1, 14))))
        assert tx.clean_text(s) == tx.clean_text(_mask(s)), repr(s)


def test_distinct_and_equal_texts_against_factorize(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    values = np.array(["Order 12 late", "Order 7 late", "Order 7 late!", "", None, "b 33", "b 4"], dtype=object)
    for chunk in (1, 3, 1000):
        monkeypatch.setattr(tx, "TEXT_CHUNK_ROWS", chunk)
        for n in (0, 1, 9, 200):
            s = pd.Series(values[rng.integers(0, len(values), n)], dtype=object)
            plain = s.fillna("")
            assert tx.equal_texts(s).tolist() == pd.factorize(plain)[0].tolist()
            codes, first = tx.distinct_texts(s)
            masked = plain.map(_mask)
            assert codes.tolist() == pd.factorize(masked)[0].tolist()
            assert first.tolist() == sorted(masked.drop_duplicates().index.tolist())
            if n:  # Arrow-backed strings give the same numbers
                assert tx.equal_texts(s.astype("string")).tolist() == pd.factorize(plain)[0].tolist()


def test_detect_language_grouped_equals_one_by_one() -> None:
    texts = pd.Series(TRICKY + ["The parcel 12 was late and the courier was rude", "Посылка 5 опоздала",
                                "The parcel 99 was late and the courier was rude"], index=range(100, 123))
    got = tx.detect_language(texts)
    assert got.index.tolist() == texts.index.tolist()
    assert got.tolist() == [tx.detect_language([t]).iloc[0] for t in texts]


def _comments() -> tuple[pd.Series, pd.Series]:
    rows = [
        ("The delivery 123 was late, not friendly staff", "en"), ("The delivery 9 was late, not friendly staff", "en"),
        ("Staff were friendly, delivery on time", "en"), ("I waited 40 minutes on the phone", "en"),
        ("I waited 5 minutes on the phone", "en"), ("Hidden fee 20 EUR on my bill!", "en"),
        ("Доставка опоздала на 3 дня", "ru"), ("Доставка опоздала на 12 дня", "ru"), ("Не вежливый персонал", "ru"),
        ("Kurier spóźnił się 2 dni", "pl"), ("Kurier spóźnił się 2 dni", "pl"), ("Nie był miły", "pl"),
        ("", None), ("12345", None), ("The delivery 123 was late, not friendly staff", "pl"),  # same text, other language
    ]
    texts = pd.Series([r[0] for r in rows], index=np.arange(len(rows)) * 3 + 5)
    return texts, pd.Series([r[1] for r in rows], index=texts.index, dtype=object)


def test_code_comments_grouped_equals_one_by_one() -> None:
    """Coding each distinct (text, language) once and copying the result to its rows gives the matrix
    and the keyword counts of coding every comment alone."""
    texts, langs = _comments()
    cf = tx.default_codeframe()
    got = tx.code_comments(texts, cf, langs)
    assert got.matrix.index.tolist() == texts.index.tolist()
    assert len(got.corpus.ids) < sum(len(tx.tokenize(tx.clean_text(t))) for t in texts)  # fewer documents coded
    hits = pd.Series(0, index=pd.MultiIndex.from_frame(got.keyword_hits[["theme", "lang", "keyword"]]))
    for i, (idx, text) in enumerate(texts.items()):
        one = tx.code_comments(pd.Series([text], index=[idx]), cf, pd.Series([langs.iloc[i]], index=[idx], dtype=object))
        assert one.matrix.loc[idx].tolist() == got.matrix.loc[idx].tolist(), text
        for _, h in one.keyword_hits.iterrows():
            hits[(h["theme"], h["lang"], h["keyword"])] += h["n"]
        assert got.tokens([i])[0].size == one.corpus.ids.size
    assert got.matrix.to_numpy().sum() > 5  # the frame does code something
    assert got.keyword_hits["n"].tolist() == hits.tolist()
    assert got.has_text().tolist() == [bool(tx.tokenize(tx.clean_text(t))) for t in texts]


def test_corpus_counts_surface_forms_over_rows() -> None:
    """The vocabulary (ids) and each token's most frequent surface form are those of a corpus with one
    document per row: the grouped corpus counts each document as often as it occurs."""
    texts = pd.Series(["parcel late", "my parcel", "parcels 1", "parcels 2", "parcels 33"])
    langs = pd.Series(["en"] * len(texts), dtype=object)
    full = tx._build_corpus(texts, langs)
    got = tx.code_comments(texts, tx.default_codeframe(), langs).corpus
    assert got.n_docs == 3 and full.n_docs == 5
    assert got.vocab == full.vocab
    assert got.surface == full.surface
    # "parcels" in 3 rows (one document), "parcel" in 2 rows (two documents): counted over the rows
    assert got.surface[got.vocab[("en", tx.normalize("parcels", "en"))]] == "parcels"


def _quotes_reference(coding: tx.CodingResult, texts: pd.Series, theme: str, *, n: int, sample: int,
                      seed: int, max_overlap: float = 0.6) -> list[str]:
    """The former implementation: drop_duplicates on the text, one overlap product per candidate."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = pd.Series(texts).reset_index(drop=True)
    rows = np.flatnonzero(coding.matrix[theme].to_numpy(bool))
    uniq = pd.Series(texts.iloc[rows].astype(str).to_numpy(), index=rows).drop_duplicates()
    if len(uniq) > sample:
        uniq = uniq.sample(sample, random_state=seed).sort_index()
    docs = [" ".join(f"t{i}" for i in toks.tolist()) for toks in coding.tokens(uniq.index.to_numpy())]
    if len(uniq) <= n:
        return [tx.redact_pii(q) for q in uniq]
    x = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False).fit_transform(docs)
    centroid = np.asarray(x.mean(axis=0)).ravel()
    order = np.argsort(-np.asarray(x @ centroid / (np.linalg.norm(centroid) or 1.0)).ravel(), kind="stable")
    chosen: list[int] = []
    for i in order:
        if len(chosen) == n:
            break
        if chosen and (x[chosen] @ x[i].T).toarray().ravel().max() > max_overlap:
            continue
        chosen.append(int(i))
    for i in order:
        if len(chosen) >= n:
            break
        if int(i) not in chosen:
            chosen.append(int(i))
    return [tx.redact_pii(uniq.iloc[i]) for i in chosen]


def test_representative_quotes_match_the_direct_choice() -> None:
    base = ["The delivery was late again", "Delivery late, courier rude", "late delivery, no call from the courier",
            "My parcel delivery was very late", "Delivery came two days late and the box was damaged",
            "The courier was late and did not ring", "delivery late late late"]
    rng = np.random.default_rng(3)
    texts = pd.Series([f"{base[j]} (order {k}) mail jan{k}@example.com" if k % 3 else base[j]
                       for j, k in zip(rng.integers(0, len(base), 120), rng.integers(0, 40, 120), strict=True)])
    coding = tx.code_comments(texts, tx.default_codeframe(), pd.Series(["en"] * len(texts), dtype=object))
    theme = "late_delivery"
    assert coding.matrix[theme].sum() > 50
    for n, sample in ((3, 3000), (3, 12), (5, 7), (2, 1)):
        got = tx.representative_quotes(coding, texts, theme, n=n, sample=sample, seed=11)
        assert got == _quotes_reference(coding, texts, theme, n=n, sample=sample, seed=11), (n, sample)
        assert not any("@example.com" in q for q in got)  # redacted


def _repeat_reference(tickets: pd.DataFrame, days: int) -> pd.Series:
    """The former pandas implementation (sort by the values, shift within the group)."""
    keys = ["customer_id", "category"] if "category" in tickets.columns else ["customer_id"]
    df = tickets[keys + ["created_at"]].copy()
    df["_pos"] = np.arange(len(df))
    df = df.sort_values(keys + ["created_at"], kind="stable")
    prev = df.groupby(keys, observed=True, dropna=False)["created_at"].shift(1)
    gap = (df["created_at"] - prev).dt.total_seconds() / 86400.0
    flag = (gap <= days) & df["customer_id"].notna()
    out = np.zeros(len(df), dtype=bool)
    out[df["_pos"].to_numpy()] = flag.fillna(False).to_numpy(bool)
    return pd.Series(out, index=tickets.index, name="repeat")


def test_repeat_contacts_equal_the_sorted_pandas_computation() -> None:
    rng = np.random.default_rng(5)
    n = 400
    created = pd.Series(pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
                        + pd.to_timedelta(rng.integers(0, 3, n) * 6, unit="h"))
    created[rng.random(n) < 0.05] = pd.NaT
    cust = pd.Series(rng.choice(["c1", "c2", "c3", "c4", None], n), dtype=object)
    cat = pd.Series(rng.choice(["billing", "delivery", None], n), dtype=object)
    tickets = pd.DataFrame({"customer_id": cust, "category": cat, "created_at": created}, index=rng.permutation(n) + 10)
    for days in (0, 3, 7):
        got = tk.repeat_contacts(tickets, days)
        pd.testing.assert_series_equal(got, _repeat_reference(tickets, days))
        assert got.sum() > 0
        no_cat = tickets.drop(columns="category")
        pd.testing.assert_series_equal(tk.repeat_contacts(no_cat, days), _repeat_reference(no_cat, days))
    # hand check: same customer and category 2 days apart -> the second is a repeat; 9 days apart -> not
    hand = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "category": ["x", "x", "x", "x"],
                         "created_at": pd.to_datetime(["2025-01-01", "2025-01-03", "2025-01-12", "2025-01-02"])})
    assert tk.repeat_contacts(hand, 7).tolist() == [False, True, False, False]


def test_prepare_labels_per_distinct_value_equal_per_row() -> None:
    created = pd.to_datetime(pd.Series(["2025-01-31 23:59", "2025-02-01 00:00", None, "2024-12-05 08:00"]))
    tickets = pd.DataFrame({"ticket_id": ["1", "2", "3", "4"], "channel": ["Telephone", "chat", "E-mail", "chat"],
                            "created_at": created, "first_response_at": created + pd.Timedelta(hours=2)})
    got = tk.prepare(tickets)
    pd.testing.assert_series_equal(got["month"], tickets["created_at"].dt.strftime("%Y-%m"), check_names=False)
    pd.testing.assert_series_equal(got["sla_channel"], tickets["channel"].astype(str).map(tk._canonical_channel),
                                   check_names=False)
    assert got["sla_channel"].tolist()[1] == "chat"
    assert "month" not in tickets.columns  # the input is not changed


def test_ticket_languages_detected_per_group_equal_per_text() -> None:
    texts = ["Order 552753 has not arrived yet.", "Order 1 has not arrived yet.", "Заказ 77 не пришёл",
             "Zamówienie 12 nie dotarło", "Order 9 has not arrived yet.", "١٢ order 3.4 late"]
    tickets = pd.DataFrame({"ticket_id": [str(i) for i in range(len(texts))], "channel": ["chat"] * len(texts),
                            "created_at": pd.to_datetime(["2025-01-01"] * len(texts)), "text": texts})
    got = tk.ticket_themes(tickets, tx.default_codeframe(), n_quotes=0)
    assert got is not None
    direct = [tx.detect_language(pd.Series([t]).str.replace(r"\d+", " ", regex=True)).iloc[0] for t in texts]
    assert got.tickets["lang"].tolist() == direct
    assert got.tickets["lang"].tolist()[:4] == ["en", "en", "ru", "pl"]


def _mh_reference(low: np.ndarray, theme: np.ndarray, strata: np.ndarray) -> tuple[float, float]:
    """The former loop: one boolean selection per stratum."""
    from scipy import stats

    num = den = dev = var = 0.0
    for s in pd.unique(strata):
        sel = strata == s
        lo, th = low[sel], theme[sel]
        n_all = float(sel.sum())
        n1, n0 = float(lo.sum()), float((~lo).sum())
        a, c = float((lo & th).sum()), float((~lo & th).sum())
        m1 = a + c
        if n_all < 2 or n1 == 0 or n0 == 0:
            continue
        num += a * n0 / n_all
        den += c * n1 / n_all
        dev += a - n1 * m1 / n_all
        var += n1 * n0 * m1 * (n_all - m1) / (n_all**2 * (n_all - 1))
    return (num / den if den > 0 else np.nan), (float(stats.chi2.sf(dev**2 / var, 1)) if var > 0 else np.nan)


def test_mantel_haenszel_counts_equal_the_loop() -> None:
    rng = np.random.default_rng(11)
    for n in (1, 5, 60, 500):
        strata = rng.choice(["passive", "detractor", "promoter"], n)
        low, theme = rng.random(n) < 0.3, rng.random(n) < 0.4
        want = _mh_reference(low, theme, strata)
        for given in (strata, pd.factorize(strata)[0]):  # labels, or integer codes as the table passes them
            got = tx._mantel_haenszel(low, theme, given)
            assert np.array_equal(np.array(got), np.array(want), equal_nan=True), (n, got, want)
    # hand check, one stratum: a=3 of n1=4 low, c=1 of n0=4 other -> RR = (3*4/8) / (1*4/8) = 3
    assert tx._mantel_haenszel(np.array([1, 1, 1, 1, 0, 0, 0, 0], bool), np.array([1, 1, 1, 0, 1, 0, 0, 0], bool),
                               np.zeros(8, int))[0] == 3.0


def test_detractor_share_among_arrow_ids() -> None:
    """Ids and groups as Arrow strings (as the tables are read) give the counts of the plain lists."""
    g = pd.Series(["detractor", "promoter", "passive", "detractor"], index=pd.Index(["a", "b", "c", "d"], dtype="str"))
    ids = pd.Series(["a", "a", "b", "c", "z", None, "d"], dtype="str")
    got = tk.detractor_share_among(ids, g)
    assert (got["k"], got["n"], got["customers"]) == (2, 4, 5)
    assert got == tk.detractor_share_among(["a", "a", "b", "c", "z", "d"], pd.Series(g.to_numpy(), index=list("abcd")))
