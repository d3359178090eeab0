"""The coded fast paths of cxaudit.process / cxaudit.bpmn (issue 19) against direct computations.

The references below are the straightforward pandas versions (a sorted copy of the events table,
string columns, ``groupby`` with Python functions) that the module used before it was made to run
an 11M-step log: on random small logs with ties (equal timestamps, equal counts), missing values,
channels in mixed case and more than ten activities (so that codes sort differently as numbers and
as text), every table must come out identical. Tie-breaking is also checked on a log worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxaudit import bpmn, process

T0 = pd.Timestamp("2025-03-01 09:00")


# --- the direct computations (reference) ---------------------------------------------------------------


def ref_prepare(ev: pd.DataFrame) -> dict:
    ok = ev["case_id"].notna() & ev["activity"].notna() & ev["timestamp"].notna()
    ev = ev[ok.to_numpy()]
    case_codes, cases = pd.factorize(ev["case_id"].astype("string"), sort=False)
    ts = pd.to_datetime(ev["timestamp"]).to_numpy("datetime64[ns]").astype("int64")
    order = np.lexsort((np.arange(len(ev)), ts, case_codes))
    fr = ev.iloc[order].reset_index(drop=True)
    case = case_codes[order]
    act, acts = pd.factorize(fr["activity"].astype("string"), sort=False)
    ts = ts[order]
    first = np.ones(len(fr), dtype=bool)
    first[1:] = case[1:] != case[:-1]
    wait = np.full(len(fr), np.nan)
    wait[1:] = (ts[1:] - ts[:-1]) / 3.6e12
    wait[first] = np.nan
    return {"frame": fr, "case": case, "act": act, "cases": pd.Index(cases), "activities": pd.Index(acts),
            "wait": wait, "first": first}


def ref_start_end(r: dict) -> tuple[pd.Series, pd.Series]:
    last = np.ones(len(r["case"]), dtype=bool)
    last[:-1] = r["case"][:-1] != r["case"][1:]
    names = r["activities"]
    return (pd.Series(names[r["act"][r["first"]]].astype(str)).value_counts(),
            pd.Series(names[r["act"][last]].astype(str)).value_counts())


def ref_variant_counts(r: dict) -> tuple[list[list[int]], np.ndarray]:
    keys = pd.Series(r["act"]).groupby(r["case"], sort=False).agg(tuple)
    vc = keys.value_counts()
    seqs = sorted(vc.index, key=lambda s: (-vc[s], s))  # most frequent, then codes as numbers
    return [list(s) for s in seqs], np.array([vc[s] for s in seqs])


def ref_activity_department(r: dict) -> dict[str, str]:
    fr = r["frame"]
    out = {}
    for i, a in enumerate(r["activities"].astype(str)):
        d = fr.loc[r["act"] == i, "department"].dropna().astype(str)
        if not len(d):
            out[a] = ""
            continue
        n = d.value_counts()
        out[a] = sorted(n.index[n == n.max()])[0]
    return out


def ref_handovers(r: dict) -> pd.DataFrame:
    d = r["frame"]["department"].astype("string").to_numpy()
    nxt = ~r["first"][1:]
    a, b, case = d[:-1][nxt], d[1:][nxt], r["case"][1:][nxt]
    known = ~(pd.isna(a) | pd.isna(b))
    diff = known.copy()  # (the old code compared a != b on every pair: pd.NA made it raise)
    diff[known] = a[known] != b[known]
    df = pd.DataFrame({"from_department": a[diff], "to_department": b[diff], "case": case[diff]})
    g = df.groupby(["from_department", "to_department"], sort=True)
    out = pd.DataFrame({"transitions": g.size(), "cases": g["case"].nunique()}).reset_index()
    out["case_share"] = out["cases"] / len(r["cases"])
    return out.sort_values(["cases", "from_department", "to_department"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)


def ref_case_columns(r: dict) -> pd.DataFrame:
    fr = r["frame"]
    out = pd.DataFrame(index=range(len(r["cases"])))
    for c in ("customer_id", "ticket_id", "channel"):
        s = pd.Series(fr[c].astype("string").to_numpy()).groupby(r["case"], sort=False).first()
        out[c] = s.reindex(range(len(r["cases"]))).to_numpy()
    d = pd.Series(fr["department"].astype("string").to_numpy())
    out["departments"] = d.groupby(r["case"], sort=False).agg(lambda s: sorted(set(s.dropna()))).to_numpy()
    return out


def ref_asis_path(r: dict, owner: str, channel: str = "") -> tuple[list[tuple[str, str]], str, int]:
    fr = r["frame"]
    dep = fr["department"].astype("string")
    hit = (dep == owner).fillna(False).to_numpy()
    if channel:
        same = (fr["channel"].astype("string").str.lower() == channel.lower()).fillna(False).to_numpy()
        if (hit & same).any():
            hit &= same
    cases = pd.unique(r["case"][hit])
    if not len(cases):
        return [], "", 0
    sub = pd.DataFrame({"case": r["case"], "act": r["act"], "dep": dep.to_numpy()})
    sub = sub[sub["case"].isin(cases)]
    keys = sub.groupby("case", sort=False)["act"].agg(lambda s: ",".join(map(str, s)))
    top = keys.value_counts().sort_index().sort_values(ascending=False, kind="stable").index[0]
    first_case = keys.index[keys == top][0]
    steps = sub[sub["case"] == first_case]
    seen: set[int] = set()
    path = []
    for a, d in zip(steps["act"], steps["dep"], strict=True):
        if a not in seen:
            seen.add(a)
            path.append((str(r["activities"][a]), "" if pd.isna(d) else str(d)))
    first_dep = sub.groupby("case", sort=False)["dep"].first().dropna()
    return path, str(first_dep.value_counts().index[0]) if len(first_dep) else "", len(cases)


# --- random logs with ties -----------------------------------------------------------------------------------


def random_log(seed: int, n_cases: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    acts = [f"Step {i:02d}" for i in range(13)]
    deps = ["Ops", "CS", "Logistics", "Billing"]
    rows = []
    for i in range(n_cases):
        ch = rng.choice(["Phone", "phone", "chat", "Email", None])
        cust = f"K{rng.integers(0, 30)}"
        t = 0
        for j in range(int(rng.integers(1, 7))):
            t += int(rng.integers(0, 3))  # equal times within a case: the file order decides
            a = acts[int(rng.integers(0, 4))] if rng.random() < 0.7 else acts[int(rng.integers(0, 13))]
            rows.append({"case_id": f"c{i:03d}", "activity": a, "timestamp": T0 + pd.Timedelta(hours=t),
                         "department": None if rng.random() < 0.1 else deps[int(rng.integers(0, 4))],
                         "channel": ch, "customer_id": None if (j == 0 and rng.random() < 0.3) else cust,
                         "ticket_id": f"T{i:03d}" if rng.random() < 0.9 else None})
    ev = pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    ev.loc[ev.index[:2], "timestamp"] = pd.NaT  # dropped, counted
    return ev


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_coded_log_equals_the_direct_computation(seed: int) -> None:
    ev = random_log(seed)
    r = ref_prepare(ev)
    log = process.prepare(ev)
    pd.testing.assert_frame_equal(log.frame, r["frame"])
    assert log.case.tolist() == r["case"].tolist() and log.act.tolist() == r["act"].tolist()
    assert list(log.cases) == list(r["cases"]) and list(log.activities) == list(r["activities"])
    np.testing.assert_array_equal(log.wait_h, r["wait"])
    assert log.dropped == {"missing_value": 2}
    s, e = process.start_end(log)
    rs, re_ = ref_start_end(r)
    pd.testing.assert_series_equal(s, rs)
    pd.testing.assert_series_equal(e, re_)
    seqs, counts = process._variant_counts(log)
    rseqs, rcounts = ref_variant_counts(r)
    assert seqs == rseqs and counts.tolist() == rcounts.tolist()
    v = process.variants(log, top=1000)
    assert v["cases"].sum() == len(log.cases) and v.attrs["n_variants"] == len(rseqs)
    assert process._activity_department(log).to_dict() == ref_activity_department(r)
    hv = process.handovers(log)
    pd.testing.assert_frame_equal(hv, ref_handovers(r), check_dtype=False)
    cases = process.case_table(log)
    ref = ref_case_columns(r)
    for c in ("customer_id", "ticket_id", "channel"):
        assert [None if x is pd.NA else x for x in cases[c]] == [None if x is pd.NA else x for x in ref[c]], c
        assert cases[c].dtype == ref[c].dtype
    assert cases["departments"].tolist() == ref["departments"].tolist()
    n_h = pd.Series(ref_handovers(r)["transitions"]).sum()
    assert cases["handovers"].sum() == n_h
    rep = pd.Series(r["act"]).groupby(r["case"]).apply(lambda s: s.duplicated().any())
    assert cases["has_loop"].tolist() == rep.tolist()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_asis_path_equals_the_direct_computation(seed: int) -> None:
    ev = random_log(seed, n_cases=60)
    r = ref_prepare(ev)
    an = process.ProcessPaths(process.prepare(ev))
    for owner in ["Ops", "CS", "Logistics", "Billing", "Nobody"]:
        for ch in ["", "phone", "PHONE", "chat", "email", "fax"]:
            assert bpmn._asis_path(an, owner, ch) == ref_asis_path(r, owner, ch), (owner, ch)


def test_ties_break_as_worked_out_by_hand() -> None:
    """Eleven activities a00..a10 first seen in case 'w' (codes 0..10, all in department Other). Cases x1,
    x2 go a01 -> a10 and y1, y2 go a01 -> a02, every one through the owner 'Own': two variants with 2
    cases each. The blueprint's path takes the variant whose codes joined by commas sort first as text
    ("1,10" < "1,2"), drawn from its first case x1; the front department is the first department of
    each case, Front1 (x1, y2) and Front2 (x2, y1) tied at 2: the one seen first (x1's), Front1. The
    variants table instead ranks ties by the codes as numbers: [a01, a02] before [a01, a10]."""
    rows = [("w", f"a{i:02d}", i, "Other") for i in range(11)]
    rows += [("x1", "a01", 0, "Front1"), ("x1", "a10", 1, "Own"), ("x2", "a01", 0, "Front2"), ("x2", "a10", 1, "Own"),
             ("y1", "a01", 0, "Front2"), ("y1", "a02", 1, "Own"), ("y2", "a01", 0, "Front1"), ("y2", "a02", 1, "Own")]
    ev = pd.DataFrame({"case_id": [x[0] for x in rows], "activity": [x[1] for x in rows],
                       "timestamp": [T0 + pd.Timedelta(hours=x[2]) for x in rows], "department": [x[3] for x in rows]})
    log = process.prepare(ev)
    assert bpmn._asis_path(process.ProcessPaths(log), "Own") == ([("a01", "Front1"), ("a10", "Own")], "Front1", 4)
    v = process.variants(log, top=3)
    assert v["variant"].tolist()[:2] == [["a01", "a02"], ["a01", "a10"]] and v["cases"].tolist()[:2] == [2, 2]
    # an activity seen as often in two departments belongs to the one whose name sorts first
    ev2 = pd.DataFrame({"case_id": ["p", "p", "q", "q"], "activity": ["Open", "Fix", "Open", "Fix"],
                        "timestamp": [T0, T0 + pd.Timedelta(hours=1)] * 2, "department": ["Z", "B", "Z", "A"]})
    lp = process.rework_loops(process.prepare(ev2), min_cases=1).set_index("activity")
    assert lp.loc["Fix", "department"] == "A" and lp.loc["Open", "department"] == "Z"
    # handovers: most cases first, then the department names: (Z, A) and (Z, B) have one case each
    hv = process.handovers(process.prepare(ev2))
    assert hv[["from_department", "to_department"]].values.tolist() == [["Z", "A"], ["Z", "B"]]


def test_file_order_breaks_equal_times_without_a_copy() -> None:
    """Two steps of a case at the same time keep the file order; ``frame`` is rebuilt from the table
    given (no sorted copy is held) and the table itself is left as it was."""
    ev = pd.DataFrame({"case_id": ["k", "k", "k"], "activity": ["B", "A", "C"],
                       "timestamp": [T0 + pd.Timedelta(hours=1), T0 + pd.Timedelta(hours=1), T0]})
    before = ev.copy()
    log = process.prepare(ev)
    assert [str(log.activities[a]) for a in log.act] == ["C", "B", "A"]
    assert log.frame["activity"].tolist() == ["C", "B", "A"] and log.source is ev
    pd.testing.assert_frame_equal(ev, before)


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_inductive_miner_on_variants_equals_the_full_log(noise: float) -> None:
    """discover_inductive hands pm4py the variants with their counts and weights the replay of each
    variant by its cases; pm4py on the full log (every case, as before) must give the same tree, log
    fitness and share of fitting cases, also with IMf's noise filter, where rare variants do not fit.
    Redaction is applied to each distinct name: the same as redacting every step first."""
    from test_process import _pm4py_or_skip

    _pm4py_or_skip()
    import pm4py

    from cxaudit.text import redact_pii

    rng = np.random.default_rng(5)
    pool = ["abcd", "acbd", "abcd", "aed", "abd", "aebd", "acd"]
    seqs = [pool[int(i)] for i in rng.choice(len(pool), size=120, p=[.3, .25, .2, .15, .05, .03, .02])]
    rows = [(f"k{i:03d}", f"step {a}" if a != "e" else "call 555-123-4567", j) for i, s in enumerate(seqs)
            for j, a in enumerate(s)]
    ev = pd.DataFrame({"case_id": [r[0] for r in rows], "activity": [r[1] for r in rows],
                       "timestamp": [T0 + pd.Timedelta(hours=r[2]) for r in rows]}).sample(frac=1.0, random_state=1)
    _, s = process.discover_inductive(ev, noise_threshold=noise, redact=redact_pii)
    red = ev.assign(activity=ev["activity"].map(redact_pii))
    assert "call 555-123-4567" not in set(red["activity"])
    log = process.prepare(red)
    df = pd.DataFrame({"case:concept:name": np.asarray(log.cases.astype(str))[log.case],
                       "concept:name": np.asarray(log.activities.astype(str))[log.act],
                       "time:timestamp": pd.Timestamp("2000-01-01", tz="UTC")
                       + pd.to_timedelta(np.arange(log.n_events), unit="s")})
    tree = pm4py.discover_process_tree_inductive(df, noise_threshold=noise)
    net, im, fm = pm4py.convert_to_petri_net(tree)
    fit = pm4py.fitness_token_based_replay(df, net, im, fm)
    assert s.tree == str(tree)
    assert s.fitness == fit["log_fitness"] and s.fit_cases == fit["perc_fit_traces"] / 100.0
    assert (s.n_events, s.n_cases, s.n_activities) == (len(ev), 120, len(set(red["activity"])))
    if noise:
        assert s.fit_cases < 1.0  # the filter left rare behaviour out: the weighting is exercised


def test_unique_rows_equals_numpy_unique() -> None:
    """The hashed distinct rows (variants, department sets) are numpy.unique(axis=0)'s three arrays."""
    rng = np.random.default_rng(3)
    for width, high in [(1, 3), (4, 12), (9, 3000)]:
        mat = rng.integers(-1, high, size=(5000, width)).astype(np.int32)
        mat[rng.random(5000) < 0.5] = mat[0]  # many equal rows
        got = process._unique_rows(mat)
        want = np.unique(mat, axis=0, return_inverse=True, return_counts=True)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, np.asarray(w).reshape(g.shape))


def test_discover_inductive_takes_the_prepared_log() -> None:
    from test_process import _pm4py_or_skip

    _pm4py_or_skip()
    ev = random_log(7, n_cases=40)
    _, a = process.discover_inductive(ev)
    _, b = process.discover_inductive(process.prepare(ev))
    assert a == b


@pytest.mark.parametrize("csat", ["float", "int", "object"])
def test_case_table_takes_missing_values_from_the_ticket_as_map_does(csat: str) -> None:
    """customer, channel and CSAT missing from a case are taken from its ticket: the same values and
    types as ``Series.map`` of the ticket table by ticket id (duplicate tickets: the first row)."""
    ev = random_log(8)
    rng = np.random.default_rng(8)
    ids = [f"T{i:03d}" for i in range(0, 90)] + ["T001", "T002"]
    tk = pd.DataFrame({"ticket_id": ids, "customer_id": [None if rng.random() < 0.2 else f"K{i}" for i in range(92)],
                       "channel": [None if rng.random() < 0.2 else "chat" for _ in range(92)],
                       "csat": rng.integers(1, 6, 92)})
    tk["csat"] = tk["csat"].astype(float) if csat == "float" else tk["csat"].astype(object) if csat == "object" \
        else tk["csat"]
    log = process.prepare(ev)
    got = process.case_table(log, tk)
    ref = process.case_table(log)
    key = tk.drop_duplicates("ticket_id")
    key = key.set_index(key["ticket_id"].astype("string"))
    for c in ("customer_id", "channel", "csat"):
        m = ref["ticket_id"].map(key[c])
        want = ref[c].fillna(m) if c in ref.columns else m
        pd.testing.assert_series_equal(got[c], want, check_names=False)
    assert got["csat"].notna().sum() > 50 and (got["customer_id"] != ref["customer_id"]).any()


def test_paths_read_the_tickets_only_when_the_cases_are_asked_for() -> None:
    """ProcessPaths (what notebook 11 builds): the blueprints' log without the analysis; the case table
    (and with it the tickets) only on first use, then kept; the same table as case_table."""
    ev = random_log(9)
    tk = pd.DataFrame({"ticket_id": [f"T{i:03d}" for i in range(80)], "channel": ["chat"] * 80})
    calls: list[int] = []

    def tickets() -> pd.DataFrame:
        calls.append(1)
        return tk

    log = process.prepare(ev)
    paths = process.ProcessPaths(log, tickets)
    assert bpmn._asis_path(paths, "Ops", "phone")[2] > 0 and calls == []
    pd.testing.assert_frame_equal(paths.cases, process.case_table(log, tk))
    assert paths.cases is paths.cases and calls == [1]
