"""The query engine (cxaudit.engine) gives the numbers of the pandas path, on DuckDB and on PySpark.

One generated data set with planted values (seeded): responses (NPS / CSAT / CES, segments with
missing keys, dates over several months, weights), customers (churn planted exactly per segment,
tenure and delayed entry), tickets (response times with planted medians), comments (theme flags),
an event log (a planted process). Each engine result is compared with the package's in-memory
function to 1e-9 and with the planted value where there is one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight

from cxaudit import engine, metrics, process, tickets
from cxaudit import text as cxtext

TOL = 1e-9


def _responses(rng: np.random.Generator, n: int = 3000) -> pd.DataFrame:
    seg = rng.choice(np.array(["north", "south", "west"], dtype=object), n)
    seg[rng.random(n) < 0.03] = None
    nps = rng.integers(0, 11, n).astype(float)
    nps[rng.random(n) < 0.05] = np.nan
    csat = rng.integers(1, 6, n).astype(float)
    ces = rng.integers(1, 8, n).astype(float)
    dates = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 180, n), unit="D")
    return pd.DataFrame({"nps": nps, "csat": csat, "ces": ces, "segment": seg, "date": dates,
                         "tier": rng.choice(np.array(["gold", "basic"], dtype=object), n),
                         "weight": rng.uniform(0.5, 2.0, n)})


#: Planted churn: exactly these many churned customers out of these many per segment.
PLANTED_CHURN = {"a": (400, 120), "b": (300, 30), "c": (250, 100)}


def _customers(rng: np.random.Generator) -> pd.DataFrame:
    parts = []
    for seg, (n, k) in PLANTED_CHURN.items():
        flag = np.zeros(n, dtype=bool)
        flag[:k] = True
        rng.shuffle(flag)
        entry = np.round(rng.uniform(0, 24, n), 1)
        exit_ = entry + np.round(rng.exponential(18 if seg != "c" else 8, n), 1) + 0.1
        parts.append(pd.DataFrame({"segment": seg, "churned": flag, "t_entry": entry, "t_exit": exit_,
                                   "band": rng.choice(np.array(["low", "high"], dtype=object), n),
                                   "revenue": rng.gamma(2.0, 300.0, n)}))
    out = pd.concat(parts, ignore_index=True)
    out.loc[::97, "band"] = None  # a missing key is left out, in both paths
    return out


#: Planted ticket response times: channel -> scale of an exponential (median = scale · ln 2).
PLANTED_TICKETS = {"email": 20.0, "chat": 1.0, "phone": 4.0}


def _tickets(rng: np.random.Generator) -> pd.DataFrame:
    parts = []
    for ch, scale in PLANTED_TICKETS.items():
        n = 4001 if ch == "email" else 1500
        x = rng.exponential(scale, n)
        x[rng.random(n) < 0.1] = np.nan  # unanswered
        parts.append(pd.DataFrame({"channel": ch, "first_response_h": x}))
    return pd.concat(parts, ignore_index=True)


def _comments(rng: np.random.Generator, n: int = 2000) -> pd.DataFrame:
    grp = rng.choice(np.array(["app", "web", "shop"], dtype=object), n)
    price = rng.random(n) < np.where(grp == "shop", 0.5, 0.1)  # planted: price complaints in shops
    return pd.DataFrame({"channel": grp, "price": price, "wait": rng.random(n) < 0.2})


def _events() -> pd.DataFrame:
    """A planted process: 60 cases a→b→c, 30 cases a→c, 10 cases a→b→b→c (a loop)."""
    rows = []
    t0 = pd.Timestamp("2025-03-01")
    case = 0
    for path, count in ((["a", "b", "c"], 60), (["a", "c"], 30), (["a", "b", "b", "c"], 10)):
        for _ in range(count):
            case += 1
            for i, act in enumerate(path):
                rows.append({"case_id": f"c{case}", "activity": act,
                             "timestamp": t0 + pd.Timedelta(hours=case * 24 + i * (1 + case % 5))})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=7).reset_index(drop=True)


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(20261204)
    return {"responses": _responses(rng), "customers": _customers(rng), "tickets": _tickets(rng),
            "comments": _comments(rng), "events": _events()}


@pytest.fixture(scope="module")
def duck(data):
    con = engine.connect({"backend": "duckdb", "options": {"threads": 1}})
    return con, {name: con.create_table(name, frame) for name, frame in data.items()}


def _same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], cols: list[str]) -> None:
    """Equal keys row by row and every numeric column to TOL (NaN where the other is NaN)."""
    a = a.sort_values(keys, kind="stable").reset_index(drop=True)
    b = b.sort_values(keys, kind="stable").reset_index(drop=True)
    assert len(a) == len(b) > 0
    for k in keys:
        assert a[k].astype(str).tolist() == b[k].astype(str).tolist(), k
    for c in cols:
        x, y = a[c].to_numpy(float), b[c].to_numpy(float)
        assert np.array_equal(np.isnan(x), np.isnan(y)), c
        np.testing.assert_allclose(x[~np.isnan(x)], y[~np.isnan(y)], rtol=TOL, atol=TOL, err_msg=c)


CUBE_COLS = ["n", "value", "ci_low", "ci_high", "promoters", "detractors", "mean", "easy", "sd"]


def check_cube(t, df: pd.DataFrame, weight: str | None) -> None:
    ref = metrics.metric_cube(df, by=["segment", "tier"], period="M", weight=weight)
    got = engine.metric_cube(t, by=["segment", "tier"], period="M", weight=weight)
    _same(got, ref, ["metric", "dimension", "group", "period"], CUBE_COLS)
    a = got.sort_values(["metric", "dimension", "group", "period"]).reset_index(drop=True)
    b = ref.sort_values(["metric", "dimension", "group", "period"]).reset_index(drop=True)
    assert a["small_base"].tolist() == b["small_base"].tolist()


def check_churn(t, df: pd.DataFrame) -> None:
    cols = ["n", "churned", "churn_rate", "ci_low", "ci_high", "retention_rate", "retention_ci_low",
            "retention_ci_high"]
    got = engine.churn_table(t, ["segment"])
    _same(got, metrics.churn_table(df, ["segment"]), ["segment"], cols)
    for seg, (n, k) in PLANTED_CHURN.items():  # the planted counts, exactly
        row = got[got["segment"] == seg].iloc[0]
        assert (row["n"], row["churned"]) == (n, k)
    _same(engine.churn_table(t, ["segment", "band"]), metrics.churn_table(df, ["segment", "band"]),
          ["segment", "band"], cols)
    total = engine.churn_table(t)
    ref = metrics.churn_table(df)
    np.testing.assert_allclose(total[cols].to_numpy(float), ref[cols].to_numpy(float), rtol=TOL, atol=TOL)


def check_quantiles(t, df: pd.DataFrame) -> None:
    cols = ["n", "n_done", "share_done", "median", "median_low", "median_high", "p90", "p90_low", "p90_high", "mean"]
    got = engine.time_quantiles(t, "first_response_h", "channel")
    _same(got, tickets.time_table(df, "first_response_h", "channel"), ["channel"], cols)
    assert got["channel"].tolist() == ["chat", "phone", "email"]  # sorted by median, like the pandas table
    for ch, scale in PLANTED_TICKETS.items():  # the planted medians, within their own intervals' reach
        row = got[got["channel"] == ch].iloc[0]
        assert abs(row["median"] / (scale * np.log(2)) - 1) < 0.12


def test_duckdb_metric_cube(duck, data):
    check_cube(duck[1]["responses"], data["responses"], None)
    check_cube(duck[1]["responses"], data["responses"], "weight")


def test_duckdb_metric_table_week(duck, data):
    got = engine.metric_table(duck[1]["responses"], "nps", by=["segment"], period="W")
    ref = metrics.metric_table(data["responses"], "nps", by=["segment"], period="W")
    _same(got, ref, ["segment", "period"], ["n", "value", "ci_low", "ci_high", "promoters", "detractors"])


def test_duckdb_churn_tables(duck, data):
    check_churn(duck[1]["customers"], data["customers"])


def test_duckdb_ticket_quantiles(duck, data):
    check_quantiles(duck[1]["tickets"], data["tickets"])


def test_duckdb_survival_life_table(duck, data):
    df = data["customers"]
    lt = engine.life_table(duck[1]["customers"], ["segment"], time="t_exit", event="churned", entry="t_entry")
    times = pd.concat([df[["segment", "t_exit"]].set_axis(["segment", "time"], axis=1),
                       df[["segment", "t_entry"]].set_axis(["segment", "time"], axis=1)])
    assert len(lt) == len(times.drop_duplicates())  # one row per distinct (group, time), not per customer
    for seg in PLANTED_CHURN:
        part = df[df["segment"] == seg]
        sf = SurvfuncRight(part["t_exit"].to_numpy(float), part["churned"].to_numpy(float),
                           entry=part["t_entry"].to_numpy(float))
        km = engine.kaplan_meier(lt[lt["segment"] == seg])
        np.testing.assert_allclose(km["time"], sf.surv_times, rtol=TOL)
        np.testing.assert_allclose(km["n_risk"], sf.n_risk, rtol=TOL)
        np.testing.assert_allclose(km["surv"], sf.surv_prob, rtol=TOL, atol=TOL)
        se = np.asarray(sf.surv_prob_se, float)
        ok = np.isfinite(se)
        s = km["surv"].to_numpy()
        half = metrics.Z95 * se[ok] / (s[ok] * np.abs(np.log(s[ok])))
        np.testing.assert_allclose(km["ci_low"].to_numpy()[ok], np.exp(-np.exp(np.log(-np.log(s[ok])) + half)),
                                   rtol=1e-8)
        assert km["events"].sum() == PLANTED_CHURN[seg][1]
    # without delayed entry: the curve of SurvfuncRight without entry
    lt0 = engine.life_table(duck[1]["customers"], time="t_exit", event="churned")
    sf0 = SurvfuncRight(df["t_exit"].to_numpy(float), df["churned"].to_numpy(float))
    km0 = engine.kaplan_meier(lt0, delayed_entry=False)
    np.testing.assert_allclose(km0["surv"], sf0.surv_prob, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(km0["n_risk"], sf0.n_risk, rtol=TOL)


def test_duckdb_logrank_and_exposure(duck, data):
    """The log-rank test from the engine's life tables = statsmodels survdiff on the rows (with and
    without delayed entry); churn per 12 months from person-time = churn.exposure_rates. Segment c
    has the planted shorter lifetimes, so the test rejects."""
    from statsmodels.duration.survfunc import survdiff

    from cxaudit import churn

    df = data["customers"]
    t = duck[1]["customers"]
    lt = engine.life_table(t, ["segment"], time="t_exit", event="churned", entry="t_entry")
    chi2, p, dof = engine.logrank(lt, "segment")
    ref = survdiff(df["t_exit"].to_numpy(float), df["churned"].to_numpy(float), df["segment"].to_numpy(object),
                   entry=df["t_entry"].to_numpy(float))
    assert dof == 2
    assert chi2 == pytest.approx(ref[0], rel=TOL)
    # survdiff's p is 1 − cdf (0.0 this far out); the engine's is the survival function of the same χ²
    assert p == pytest.approx(float(stats.chi2.sf(ref[0], 2)), rel=1e-7)
    assert p < 1e-6
    lt0 = engine.life_table(t, ["segment"], time="t_exit", event="churned")
    ref0 = survdiff(df["t_exit"].to_numpy(float), df["churned"].to_numpy(float), df["segment"].to_numpy(object))
    assert engine.logrank(lt0, "segment", delayed_entry=False)[0] == pytest.approx(ref0[0], rel=TOL)
    frame = df.assign(churned=df["churned"].astype(int))
    frame.loc[::41, "t_entry"] = np.nan  # no entry: counted, adds no months (as in churn.exposure_rates)
    t2 = duck[0].create_table("expo", frame, overwrite=True)
    _same(engine.exposure_table(t2, "segment"), churn.exposure_rates(frame, "segment"), ["segment"],
          ["n", "events", "exposure_months", "hazard", "period_churn", "ci_low", "ci_high"])
    total = engine.exposure_table(t2)
    ref_total = churn.exposure_rates(frame)
    np.testing.assert_allclose(total[["n", "events", "exposure_months", "period_churn", "ci_low", "ci_high"]]
                               .to_numpy(float),
                               ref_total[["n", "events", "exposure_months", "period_churn", "ci_low", "ci_high"]]
                               .to_numpy(float), rtol=TOL)


def test_duckdb_theme_counts(duck, data):
    df = data["comments"]
    got = engine.theme_counts(duck[1]["comments"], ["price", "wait"], "channel")
    ref = cxtext.themes_by(df[["price", "wait"]], df["channel"])
    _same(got, ref, ["theme", "group"], ["n", "k", "share", "ci_low", "ci_high"])
    shop = got[(got["theme"] == "price") & (got["group"] == "shop")].iloc[0]
    assert shop["ci_low"] < 0.5 < shop["ci_high"]  # planted 50 %


def test_duckdb_edge_counts(duck, data):
    got = engine.edge_counts(duck[1]["events"])
    ref = process.directly_follows(process.prepare(data["events"]))
    _same(got, ref, ["source", "target"], ["transitions", "cases", "case_share", "wait_median_h", "wait_p90_h"])
    planted = {("a", "b"): (70, 70), ("b", "c"): (70, 70), ("a", "c"): (30, 30), ("b", "b"): (10, 10)}
    assert {(r.source, r.target): (r.transitions, r.cases) for r in got.itertuples()} == planted


def test_duckdb_crossproducts(duck, data):
    df = data["responses"]
    cols = ["nps", "csat", "ces"]
    cp = engine.crossproducts(duck[1]["responses"], cols)
    complete = df[cols].dropna().to_numpy(float)
    assert cp.n == len(complete)
    np.testing.assert_allclose(cp.xtx, complete.T @ complete, rtol=TOL)
    np.testing.assert_allclose(engine.correlation_from_crossproducts(cp).to_numpy(), np.corrcoef(complete.T),
                               rtol=1e-9, atol=1e-12)
    w = df.loc[df[cols].notna().all(axis=1), "weight"].to_numpy()
    cpw = engine.crossproducts(duck[1]["responses"], cols, weight="weight")
    np.testing.assert_allclose(cpw.xtx, complete.T @ (complete * w[:, None]), rtol=TOL)
    assert cpw.n == pytest.approx(w.sum(), rel=TOL)


def test_drivers_from_engine_crossproducts(duck):
    """Key drivers from the engine's sufficient statistics (n, Σx, X'X), never the rows: the same
    correlation matrix, R² and Shapley shares as :mod:`cxaudit.drivers` on the rows (listwise), and
    the planted model y = 0.5·x1 + 0.3·x2 + 0·x3 + e (independent unit-variance drivers, Var e = 0.66:
    R² = 0.34 in the population)."""
    from cxaudit import drivers

    rng = np.random.default_rng(42)
    n = 20_000
    x = rng.standard_normal((n, 3))
    y = 0.5 * x[:, 0] + 0.3 * x[:, 1] + rng.normal(0, np.sqrt(0.66), n)
    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "y": y})
    frame.loc[::50, "x3"] = np.nan  # incomplete rows are left out (listwise), in both paths
    t = duck[0].create_table("drv", frame, overwrite=True)
    cp = engine.crossproducts(t, ["x1", "x2", "x3", "y"])
    corr = engine.correlation_from_crossproducts(cp).to_numpy()
    ref, counts = drivers.correlation_matrix(frame.to_numpy(float), missing="listwise")
    np.testing.assert_allclose(corr, ref, rtol=1e-9, atol=1e-12)
    assert cp.n == counts[0, 0] == n - len(frame.loc[::50])
    shares = drivers.shapley_values(corr[:3, :3], corr[:3, 3])
    np.testing.assert_allclose(shares, drivers.shapley_values(ref[:3, :3], ref[:3, 3]), rtol=1e-9, atol=1e-12)
    assert shares.sum() == pytest.approx(0.34, abs=0.02)
    np.testing.assert_allclose(shares, [0.25, 0.09, 0.0], atol=0.02)  # β² of independent drivers


def test_duckdb_rule_counts(duck, data):
    t = duck[1]["customers"]
    got = engine.rule_counts(t, {"missing_band": t["band"].isnull(), "short": t["t_exit"] < 1.0})
    df = data["customers"]
    assert got["missing_band"] == df["band"].isna().sum()
    assert got["short"] == (df["t_exit"] < 1.0).sum()
    assert got["rows"] == len(df)


def test_bad_input_is_one_line(duck):
    t = duck[0].create_table("bad", pd.DataFrame({"nps": [3.0, 11.0], "churned": [0, 2]}))
    with pytest.raises(metrics.MetricError, match="value 11 outside the scale 0–10"):
        engine.metric_table(t, "nps")
    with pytest.raises(metrics.MetricError, match="must be true/false"):
        engine.churn_table(t)
    with pytest.raises(metrics.MetricError, match="column 'segment' not found"):
        engine.churn_table(t, ["segment"])
    with pytest.raises(engine.EngineError, match="unknown backend 'oracle9'"):
        engine.connect("oracle9")
    with pytest.raises(engine.EngineError, match="no table 'nowhere'"):
        engine.source(duck[0], "nowhere")


def test_parquet_dataset_out_of_core(tmp_path, data):
    """A folder of Parquet files is one table, read in place."""
    df = data["customers"]
    folder = tmp_path / "customers"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(df)), 3)):
        df.iloc[part].to_parquet(folder / f"part-{i}.parquet")
    con = engine.connect()
    t = engine.source(con, folder)
    _same(engine.churn_table(t, ["segment"]), metrics.churn_table(df, ["segment"]), ["segment"],
          ["n", "churned", "ci_low", "ci_high"])


@pytest.mark.slow
def test_pyspark_same_numbers(data, tmp_path):
    """PySpark in local mode (Java 17; the extra 'spark') gives the pandas numbers too, reading the
    tables from Parquet files as it would a client's dataset."""
    pytest.importorskip("pyspark", reason="the optional extra 'spark' (pip install -e '.[spark]') is not installed")
    con = engine.connect({"backend": "pyspark", "options": {"master": "local[1]"}})
    tabs = {}
    for name in ("responses", "customers", "tickets", "events"):
        data[name].to_parquet(tmp_path / f"{name}.parquet")
        tabs[name] = engine.source(con, tmp_path / f"{name}.parquet")
    check_cube(tabs["responses"], data["responses"], None)
    check_churn(tabs["customers"], data["customers"])
    check_quantiles(tabs["tickets"], data["tickets"])
    # survival life table, the drivers' cross-products and the process map's edges on Spark too
    df = data["customers"]
    lt = engine.life_table(tabs["customers"], ["segment"], time="t_exit", event="churned", entry="t_entry")
    part = df[df["segment"] == "c"]
    sf = SurvfuncRight(part["t_exit"].to_numpy(float), part["churned"].to_numpy(float),
                       entry=part["t_entry"].to_numpy(float))
    np.testing.assert_allclose(engine.kaplan_meier(lt[lt["segment"] == "c"])["surv"], sf.surv_prob, rtol=TOL, atol=TOL)
    cols = ["nps", "csat", "ces"]
    complete = data["responses"][cols].dropna().to_numpy(float)
    np.testing.assert_allclose(engine.crossproducts(tabs["responses"], cols).xtx, complete.T @ complete, rtol=TOL)
    _same(engine.edge_counts(tabs["events"]), process.directly_follows(process.prepare(data["events"])),
          ["source", "target"], ["transitions", "cases", "case_share", "wait_median_h", "wait_p90_h"])
