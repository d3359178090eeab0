"""Issue 19 (scale): each fast path of the notebooks 01-03, 06, 08, 10 and 12 agrees with the direct,
row-by-row computation it replaced, on small frames (the XL demo is only for timing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from cxaudit import closed_loop
from cxaudit.export import write_xlsx

# --- 12 closed loop ------------------------------------------------------------------------------


def test_rating_at_equals_a_lookup_per_row() -> None:
    rng = np.random.default_rng(3)
    vals = rng.integers(1, 11, size=(300, 5)).astype(float)
    vals[rng.random(vals.shape) < 0.4] = np.nan
    vals[7] = np.nan  # a row with no rating at all
    ratings = pd.DataFrame(vals, columns=[f"tp_{i}" for i in range(5)], index=rng.permutation(1000)[:300])
    has = ratings.notna().any(axis=1)
    low = ratings.fillna(np.inf).idxmin(axis=1).where(has)
    direct = [ratings.at[i, c] if isinstance(c, str) else np.nan for i, c in low.items()]
    fast = closed_loop._rating_at(ratings, low)
    np.testing.assert_array_equal(fast, np.asarray(direct, dtype=float))
    assert np.isnan(fast[7]) and np.isfinite(fast).sum() == int(has.sum())
    assert closed_loop._rating_at(ratings.iloc[:0], low.iloc[:0]).shape == (0,)


def test_joined_themes_equal_a_join_per_row() -> None:
    rng = np.random.default_rng(4)
    matrix = pd.DataFrame(rng.random((400, 4)) < 0.3, columns=list("abcd"), index=np.arange(400) * 3)
    names = ["Late", "Rude", "Price", "App"]
    direct = pd.Series(["; ".join(n for k, n in zip("abcd", names, strict=True) if bool(row[k]))
                        for _, row in matrix.iterrows()], index=matrix.index)
    pd.testing.assert_series_equal(closed_loop._joined_themes(matrix, names), direct, check_dtype=False)
    assert closed_loop._joined_themes(matrix[[]], []).eq("").all()


def test_callback_xlsx_reads_back_as_the_openpyxl_workbook(tmp_path: Path) -> None:
    """XlsxWriter (streamed) and cxaudit.export.write_xlsx (openpyxl) give the same cells: text, numbers,
    dates, empty cells; formula-looking text kept as text with its apostrophe; no URL or number conversion."""
    df = pd.DataFrame({
        "response_id": ["R1", "R2", "R3", "R4"],
        "date": pd.to_datetime(["2026-01-02 10:30:00", None, "2026-03-04 00:00:00", "2026-05-06 23:59:59"]),
        "nps": [0.0, 6.0, 3.0, np.nan],
        "touchpoint_rating": [np.nan, 2.0, 10.0, 1.5],
        "comment_redacted": ['=HYPERLINK("http://x")', "http://example.com", "-12.5", "+1 415 [PHONE]"],
        "theme": ["", "Late; Rude", "", "0042"],
        "n": pd.array([1, None, 3, 4], dtype="Int64"),
        "flag": [True, False, True, False],
    }).astype({"response_id": "str", "theme": "str"})
    closed_loop._write_xlsx(df, tmp_path / "fast.xlsx")
    write_xlsx(tmp_path / "ref.xlsx", {"callbacks": df})

    def cells(p: Path) -> list[tuple]:
        rows = load_workbook(p)["callbacks"].iter_rows(values_only=True)
        return [tuple(None if v == "" else v for v in r) for r in rows]

    fast, ref = cells(tmp_path / "fast.xlsx"), cells(tmp_path / "ref.xlsx")
    assert fast == ref
    assert fast[1][4] == "'=HYPERLINK(\"http://x\")" and fast[3][4] == "-12.5" and fast[4][5] == "0042"
    pd.testing.assert_frame_equal(pd.read_excel(tmp_path / "fast.xlsx"), pd.read_excel(tmp_path / "ref.xlsx"))


@pytest.fixture(scope="module")
def small_audit(tmp_path_factory: pytest.TempPathFactory):
    from cxaudit.audit import load_audit
    from cxaudit.demo import generate_demo

    return load_audit(generate_demo(tmp_path_factory.mktemp("scale") / "demo", size="small"))


def test_callbacks_equal_the_row_by_row_list(small_audit) -> None:
    """The callback table against a direct build: a lookup, a theme join and a redaction per row."""
    from cxaudit.text import code_comments, redact_pii

    a = small_audit
    table = closed_loop.callbacks(a).table
    r = a.responses
    nps = pd.to_numeric(r["nps"], errors="coerce")
    sel = r[nps.le(a.config.closed_loop.max_nps).fillna(False).to_numpy(bool)].copy()
    assert len(table) == len(sel) > 20
    tps = [c for c in a.touchpoint_columns if c in sel.columns]
    ratings = sel[tps].apply(pd.to_numeric, errors="coerce")
    low = ratings.fillna(np.inf).idxmin(axis=1).where(ratings.notna().any(axis=1))
    comment = sel["comment"].fillna("").astype(str)
    coding = code_comments(comment.where(comment.str.strip().ne("")).dropna(), closed_loop._codeframe(a))
    cf = closed_loop._codeframe(a)
    complaint = [th.key for th in cf.themes if th.polarity == "complaint" and th.key in coding.matrix.columns]
    lab = {th.key: th.label.get(a.language) or th.label.get("en") or th.key for th in cf.themes}
    theme = {i: "; ".join(lab[k] for k in complaint if bool(row[k])) for i, row in coding.matrix[complaint].iterrows()}
    direct = pd.DataFrame({
        "response_id": sel["response_id"].to_numpy(),
        "touchpoint_rating": [ratings.at[i, c] if isinstance(c, str) else np.nan for i, c in low.items()],
        "theme": [theme.get(i, "") for i in sel.index],
        "comment_redacted": [redact_pii(c) if c else "" for c in comment],
    }).set_index("response_id")
    got = table.set_index("response_id")[direct.columns].loc[direct.index]
    pd.testing.assert_frame_equal(got, direct, check_dtype=False)
    assert got["theme"].ne("").any() and got["touchpoint_rating"].notna().all()


# --- 02 CX metrics -------------------------------------------------------------------------------


def test_holm_equals_statsmodels_and_leaves_gc_unfrozen() -> None:
    import gc

    from statsmodels.stats.multitest import multipletests

    from cxaudit.stats import holm

    p = np.array([0.01, np.nan, 0.04, 0.03, 0.2, 0.001])
    ok = ~np.isnan(p)
    np.testing.assert_array_equal(holm(p)[ok], multipletests(p[ok], method="holm")[1])
    assert np.isnan(holm(p)[1]) and gc.get_freeze_count() == 0


@pytest.mark.parametrize("metric", ["nps", "csat"])
def test_group_vs_rest_equals_a_filter_per_group(small_audit, metric: str) -> None:
    """Every group-vs-rest test against the direct build: the whole frame filtered per group."""
    from cxaudit import scorecard as sc
    from cxaudit.metrics import metric_table, nps
    from cxaudit.stats import nps_difference, two_sample_test

    a = small_audit
    got = sc._group_vs_rest(a, metric)
    r, mb, direct = sc.responses(a), a.config.min_base, []
    for seg in a.config.segments:
        if seg not in r.columns:
            continue
        valid = sc._stated(r, seg)
        valid = valid[valid[metric].notna()]
        for group in valid[seg].drop_duplicates().sort_values():
            inside = (valid[seg] == group).to_numpy(bool)
            if metric == "nps":
                part, rest = valid[inside], valid[~inside]
                if len(part) < mb or len(rest) < mb:
                    continue
                t = nps_difference(nps(part["nps"]), nps(rest["nps"]))
                direct.append((seg, group, t.diff, t.z, t.p_value))
            else:
                side = pd.Series(np.where(inside, "in", "rest"), index=valid.index)
                tab = metric_table(valid.assign(_side=side), "csat", by=["_side"], column="csat",
                                   **sc._kw(a, "csat")).set_index("_side")
                if set(tab.index) != {"in", "rest"} or (tab["n"] < mb).any():
                    continue
                diff, _se, z, p = two_sample_test("csat", tab.loc["in"], tab.loc["rest"])
                direct.append((seg, group, diff, z, p))
    assert len(direct) >= 3
    assert [(g["segment"], g["group"], g["diff"], g["z"], g["p_value"]) for g in got] == direct


# --- 03 journey ----------------------------------------------------------------------------------


def test_journey_cells_equal_a_conversion_per_group(small_audit) -> None:
    """Cells from the ratings and CES converted once equal cells from each group's own columns."""
    from cxaudit import journey

    a = small_audit
    tps = journey.touchpoint_table(a)
    got = journey.journey_cells(a, ("stage", "channel"), tps)
    rated, r, w = tps[tps["column"].notna()], a.responses, journey._weights(a)
    _, _, top_cut, low_cut = journey.rating_scale(a)
    ces = pd.to_numeric(r["ces"], errors="coerce").to_numpy(dtype=float)
    rows = []
    for _, grp in rated.groupby(["stage", "channel"], sort=False):
        x = r[list(grp["column"])].to_numpy(dtype=float)
        used = (~np.isnan(x)).any(axis=1)
        e = journey._pooled(np.where(used, ces, np.nan)[:, None], w, np.inf, -np.inf)
        rows.append({**journey._pooled(x, w, top_cut, low_cut), "effort": e["mean"], "effort_n": e["n"]})
    direct = pd.DataFrame(rows)
    assert len(got) == len(direct) >= 3
    cols = ["n", "n_ratings", "top2", "top2_low", "mean", "mean_high", "low_share", "effort", "effort_n"]
    key = ["n", "n_ratings", "top2"]  # journey_cells sorts by stage: compare as sets of rows
    pd.testing.assert_frame_equal(got[cols].sort_values(key).reset_index(drop=True),
                                  direct[cols].sort_values(key).reset_index(drop=True), check_exact=True)


# --- 10 journey map ------------------------------------------------------------------------------


def test_sub_audit_reads_no_other_table() -> None:
    """A persona's sub-audit replaces the responses and reads no other table of a lazy snapshot."""
    import dataclasses

    from cxaudit import cjm

    reads: list[str] = []
    tables = {"responses": pd.DataFrame({"x": [1, 2, 3]}), "tickets": pd.DataFrame({"t": [1]})}

    class Lazy(dict):
        def __getitem__(self, key):  # counts reads, as cxaudit.audit's snapshot tables read files
            reads.append(key)
            return super().__getitem__(key)

    lazy = Lazy(tables)
    audit = dataclasses.make_dataclass("A", [("tables", object)])(lazy)
    type(audit).responses = property(lambda self: self.tables["responses"])
    sub = cjm.sub_audit(audit, pd.Series([True, False, True]))
    reads.clear()
    assert "tickets" in sub.tables and "events" not in sub.tables and len(sub.tables) == 2
    assert sorted(sub.tables) == ["responses", "tickets"] and reads == []
    assert sub.tables["responses"]["x"].tolist() == [1, 3] and reads == []
    assert sub.tables["tickets"] is tables["tickets"] and reads == ["tickets"]


@pytest.mark.parametrize("dtype", ["str", "string", "object"])
def test_segment_keys_of_text_equal_a_check_per_row(dtype: str) -> None:
    """Segment keys of a text column (blank checked once per distinct value) against the check per row."""
    from cxaudit.stats import NOT_STATED, segment_keys

    vals = pd.Series(["A", None, " ", "B", "", " x ", "Łódź", "\u00a0", np.nan, "\t", "A"] * 4, dtype=dtype,
                     index=np.arange(44) * 3, name="segment")
    blank = [v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) or not str(v).strip()
             for v in vals.astype(object)]
    direct = pd.Series([NOT_STATED if b else v for b, v in zip(blank, vals.astype(object), strict=True)],
                       index=vals.index, dtype=object, name="segment")
    pd.testing.assert_series_equal(segment_keys(vals), direct)
    assert segment_keys(vals).tolist()[:4] == ["A", NOT_STATED, NOT_STATED, "B"]


def test_as_float_equals_to_numeric_of_each_value() -> None:
    """Numeric answers converted directly give the floats pd.to_numeric gives value by value."""
    from cxaudit.metrics import _as_float

    rng = np.random.default_rng(9)
    cases = [pd.Series(rng.integers(0, 11, 500).astype(float)).mask(rng.random(500) < 0.2),
             pd.Series(rng.integers(-5, 11, 50)), np.array([1.5, np.inf, -0.0, np.nan], dtype=np.float32),
             pd.Series([1, None, 3], dtype="Int64"), pd.Series(["7", "x", None, " 3 "], dtype=object),
             pd.Series([True, False]), [1, 2.5, None], np.arange(5, dtype=np.uint8)]
    for v in cases:
        direct = pd.to_numeric(pd.Series(np.asarray(v, dtype=object)), errors="coerce").to_numpy(dtype=float)
        np.testing.assert_array_equal(_as_float(v), direct)
