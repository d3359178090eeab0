"""Key-driver analysis (cxaudit.drivers) against published references and independent computations.

References
----------
- R relaimpo (Grömping 2006, JSS 17(1)) on R's built-in ``swiss`` data (47 provinces, 1888; values
  typed in below from R's ``datasets::swiss``)::

      library(relaimpo)
      calc.relimp(lm(Fertility ~ ., data = swiss), type = "lmg")
      # Proportion of variance explained by model: 70.67%
      #                        lmg
      # Agriculture      0.05709122
      # Examination      0.17117303
      # Education        0.26013468
      # Catholic         0.10557015
      # Infant.Mortality 0.11276592

  The 70.67% is R's ``summary(lm(Fertility ~ ., swiss))`` "Multiple R-squared: 0.7067". The lmg
  values are quoted to 13 digits (R² 0.706735001593) as printed by ``calc.relimp`` in a public test
  suite; the JSS paper's printed table could not be retrieved here, so every value is also checked
  against an independent brute-force LMG below (all 2^p OLS fits with ``numpy.linalg.lstsq`` and,
  for p = 4, the literal average over all p! orders).
- R rwa (martinctc/rwa) README example on R's ``mtcars``::

      rwa(mtcars, outcome = "mpg", predictors = c("cyl", "disp", "hp", "gear"), applysigns = TRUE)
      # $rsquare 0.7791896
      #   Variables Raw.RelWeight Rescaled.RelWeight Sign
      # 1       cyl     0.2284797           29.32274    -
      # 2      disp     0.2221469           28.50999    -
      # 3        hp     0.2321744           29.79691    -
      # 4      gear     0.0963886           12.37037    +

  and the package's "regression methods" vignette, ``rwa_multiregress(mtcars, "mpg",
  c("cyl", "disp", "hp", "wt"))``: 0.2096904, 0.1883043, 0.1799590, 0.2706812.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pandas as pd
import pytest

from cxaudit.drivers import (
    MAX_SHAPLEY_DRIVERS,
    correlation_matrix,
    importance_performance,
    relative_importance,
    relative_weights,
    shapley_values,
    subset_r2,
)
from cxaudit.errors import MetricError

# R datasets::swiss (Mosteller & Tukey 1977, pp. 549-551)
# fmt: off
SWISS = [  # Fertility, Agriculture, Examination, Education, Catholic, Infant.Mortality
    (80.2, 17, 15, 12, 9.96, 22.2),  # Courtelary
    (83.1, 45.1, 6, 9, 84.84, 22.2),  # Delemont
    (92.5, 39.7, 5, 5, 93.4, 20.2),  # Franches-Mnt
    (85.8, 36.5, 12, 7, 33.77, 20.3),  # Moutier
    (76.9, 43.5, 17, 15, 5.16, 20.6),  # Neuveville
    (76.1, 35.3, 9, 7, 90.57, 26.6),  # Porrentruy
    (83.8, 70.2, 16, 7, 92.85, 23.6),  # Broye
    (92.4, 67.8, 14, 8, 97.16, 24.9),  # Glane
    (82.4, 53.3, 12, 7, 97.67, 21),  # Gruyere
    (82.9, 45.2, 16, 13, 91.38, 24.4),  # Sarine
    (87.1, 64.5, 14, 6, 98.61, 24.5),  # Veveyse
    (64.1, 62, 21, 12, 8.52, 16.5),  # Aigle
    (66.9, 67.5, 14, 7, 2.27, 19.1),  # Aubonne
    (68.9, 60.7, 19, 12, 4.43, 22.7),  # Avenches
    (61.7, 69.3, 22, 5, 2.82, 18.7),  # Cossonay
    (68.3, 72.6, 18, 2, 24.2, 21.2),  # Echallens
    (71.7, 34, 17, 8, 3.3, 20),  # Grandson
    (55.7, 19.4, 26, 28, 12.11, 20.2),  # Lausanne
    (54.3, 15.2, 31, 20, 2.15, 10.8),  # La Vallee
    (65.1, 73, 19, 9, 2.84, 20),  # Lavaux
    (65.5, 59.8, 22, 10, 5.23, 18),  # Morges
    (65, 55.1, 14, 3, 4.52, 22.4),  # Moudon
    (56.6, 50.9, 22, 12, 15.14, 16.7),  # Nyone
    (57.4, 54.1, 20, 6, 4.2, 15.3),  # Orbe
    (72.5, 71.2, 12, 1, 2.4, 21),  # Oron
    (74.2, 58.1, 14, 8, 5.23, 23.8),  # Payerne
    (72, 63.5, 6, 3, 2.56, 18),  # Paysd'enhaut
    (60.5, 60.8, 16, 10, 7.72, 16.3),  # Rolle
    (58.3, 26.8, 25, 19, 18.46, 20.9),  # Vevey
    (65.4, 49.5, 15, 8, 6.1, 22.5),  # Yverdon
    (75.5, 85.9, 3, 2, 99.71, 15.1),  # Conthey
    (69.3, 84.9, 7, 6, 99.68, 19.8),  # Entremont
    (77.3, 89.7, 5, 2, 100, 18.3),  # Herens
    (70.5, 78.2, 12, 6, 98.96, 19.4),  # Martigwy
    (79.4, 64.9, 7, 3, 98.22, 20.2),  # Monthey
    (65, 75.9, 9, 9, 99.06, 17.8),  # St Maurice
    (92.2, 84.6, 3, 3, 99.46, 16.3),  # Sierre
    (79.3, 63.1, 13, 13, 96.83, 18.1),  # Sion
    (70.4, 38.4, 26, 12, 5.62, 20.3),  # Boudry
    (65.7, 7.7, 29, 11, 13.79, 20.5),  # La Chauxdfnd
    (72.7, 16.7, 22, 13, 11.22, 18.9),  # Le Locle
    (64.4, 17.6, 35, 32, 16.92, 23),  # Neuchatel
    (77.6, 37.6, 15, 7, 4.97, 20),  # Val de Ruz
    (67.6, 18.7, 25, 7, 8.65, 19.5),  # ValdeTravers
    (35, 1.2, 37, 53, 42.34, 18),  # V. De Geneve
    (44.7, 46.6, 16, 29, 50.43, 18.2),  # Rive Droite
    (42.8, 27.7, 22, 29, 58.33, 19.3),  # Rive Gauche
]

# R datasets::mtcars (Henderson & Velleman 1981), the columns used here
MTCARS = [  # mpg, cyl, disp, hp, wt, gear
    (21, 6, 160, 110, 2.62, 4),  # Mazda RX4
    (21, 6, 160, 110, 2.875, 4),  # Mazda RX4 Wag
    (22.8, 4, 108, 93, 2.32, 4),  # Datsun 710
    (21.4, 6, 258, 110, 3.215, 3),  # Hornet 4 Drive
    (18.7, 8, 360, 175, 3.44, 3),  # Hornet Sportabout
    (18.1, 6, 225, 105, 3.46, 3),  # Valiant
    (14.3, 8, 360, 245, 3.57, 3),  # Duster 360
    (24.4, 4, 146.7, 62, 3.19, 4),  # Merc 240D
    (22.8, 4, 140.8, 95, 3.15, 4),  # Merc 230
    (19.2, 6, 167.6, 123, 3.44, 4),  # Merc 280
    (17.8, 6, 167.6, 123, 3.44, 4),  # Merc 280C
    (16.4, 8, 275.8, 180, 4.07, 3),  # Merc 450SE
    (17.3, 8, 275.8, 180, 3.73, 3),  # Merc 450SL
    (15.2, 8, 275.8, 180, 3.78, 3),  # Merc 450SLC
    (10.4, 8, 472, 205, 5.25, 3),  # Cadillac Fleetwood
    (10.4, 8, 460, 215, 5.424, 3),  # Lincoln Continental
    (14.7, 8, 440, 230, 5.345, 3),  # Chrysler Imperial
    (32.4, 4, 78.7, 66, 2.2, 4),  # Fiat 128
    (30.4, 4, 75.7, 52, 1.615, 4),  # Honda Civic
    (33.9, 4, 71.1, 65, 1.835, 4),  # Toyota Corolla
    (21.5, 4, 120.1, 97, 2.465, 3),  # Toyota Corona
    (15.5, 8, 318, 150, 3.52, 3),  # Dodge Challenger
    (15.2, 8, 304, 150, 3.435, 3),  # AMC Javelin
    (13.3, 8, 350, 245, 3.84, 3),  # Camaro Z28
    (19.2, 8, 400, 175, 3.845, 3),  # Pontiac Firebird
    (27.3, 4, 79, 66, 1.935, 4),  # Fiat X1-9
    (26, 4, 120.3, 91, 2.14, 5),  # Porsche 914-2
    (30.4, 4, 95.1, 113, 1.513, 5),  # Lotus Europa
    (15.8, 8, 351, 264, 3.17, 5),  # Ford Pantera L
    (19.7, 6, 145, 175, 2.77, 5),  # Ferrari Dino
    (15, 8, 301, 335, 3.57, 5),  # Maserati Bora
    (21.4, 4, 121, 109, 2.78, 4),  # Volvo 142E
]
# fmt: on

SWISS_X = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]


def _swiss() -> pd.DataFrame:
    return pd.DataFrame(SWISS, columns=["Fertility", *SWISS_X])


def _mtcars() -> pd.DataFrame:
    return pd.DataFrame(MTCARS, columns=["mpg", "cyl", "disp", "hp", "wt", "gear"])


def _ols_r2(y: np.ndarray, x: np.ndarray) -> float:
    """R² of an OLS fit with intercept, by least squares (independent of the correlation route)."""
    design = np.column_stack([np.ones(len(y)), x])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta
    return 1.0 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum())


def _brute_lmg(df: pd.DataFrame, outcome: str, drivers: list[str]) -> np.ndarray:
    """LMG by refitting OLS on every subset (the definition, no shortcut)."""
    y = df[outcome].to_numpy(float)
    p = len(drivers)
    r2 = {(): 0.0}
    for k in range(1, p + 1):
        for s in itertools.combinations(range(p), k):
            r2[s] = _ols_r2(y, df[[drivers[i] for i in s]].to_numpy(float))
    phi = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for k in range(p):
            for s in itertools.combinations(others, k):
                w = math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p)
                phi[j] += w * (r2[tuple(sorted((*s, j)))] - r2[s])
    return phi


# --- published references ----------------------------------------------------------------------------


def test_shapley_reproduces_relaimpo_lmg_on_swiss() -> None:
    res = relative_importance(_swiss(), "Fertility", SWISS_X, method="shapley")
    lmg = [0.0570912207681, 0.1711730289002, 0.2601346786244, 0.1055701503735, 0.1127659229265]
    assert res.loc[SWISS_X, "importance"].to_numpy() == pytest.approx(lmg, abs=1e-6)
    assert res.loc[SWISS_X, "importance"].to_numpy() == pytest.approx(lmg, abs=1e-11)  # in fact to 1e-11
    assert res.attrs["r2"] == pytest.approx(0.706735001593, abs=1e-11)
    assert round(100 * res.attrs["r2"], 2) == 70.67  # "Proportion of variance explained by model: 70.67%"
    # rela = TRUE (shares of R²)
    rela = [8.07816517357, 24.2202563216, 36.80795178364, 14.93772773891, 15.95589898228]
    assert res.loc[SWISS_X, "share"].to_numpy() == pytest.approx(rela, abs=1e-6)
    assert list(res.index) == ["Education", "Examination", "Infant.Mortality", "Catholic", "Agriculture"]
    assert res["rank"].tolist() == [1, 2, 3, 4, 5]
    # signs of the lm coefficients: Agriculture -0.172, Examination -0.258, Education -0.871,
    # Catholic +0.104, Infant.Mortality +1.077 (summary(lm(Fertility ~ ., swiss)))
    assert res.loc[SWISS_X, "sign"].tolist() == [-1, -1, -1, 1, 1]
    assert res.attrs["n"] == 47 and res.attrs["missing"] == "pairwise" and res.attrs["method"] == "shapley"


def test_shapley_equals_brute_force_ols_over_all_subsets() -> None:
    # swiss: 31 OLS fits
    res = relative_importance(_swiss(), "Fertility", SWISS_X)
    assert res.loc[SWISS_X, "importance"].to_numpy() == pytest.approx(_brute_lmg(_swiss(), "Fertility", SWISS_X),
                                                                      abs=1e-12)
    # correlated random data, 7 drivers: 127 OLS fits
    rng = np.random.default_rng(11)
    x = rng.normal(size=(300, 7)) @ rng.normal(size=(7, 7))
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(7)])
    df["y"] = x @ rng.normal(size=7) + 3 * rng.normal(size=300)
    names = [f"x{i}" for i in range(7)]
    res = relative_importance(df, "y", names)
    assert res.loc[names, "importance"].to_numpy() == pytest.approx(_brute_lmg(df, "y", names), abs=1e-12)
    assert res["importance"].sum() == pytest.approx(_ols_r2(df["y"].to_numpy(), x), abs=1e-12)


def test_shapley_is_the_average_over_all_orders() -> None:
    """LMG's own definition (Lindeman, Merenda & Gold 1980): the sequential R² gain of a driver,
    averaged over all p! orders of entry. p = 4 on mtcars: 24 orders."""
    df = _mtcars()
    names = ["cyl", "disp", "hp", "gear"]
    y = df["mpg"].to_numpy(float)
    gains = np.zeros(4)
    orders = list(itertools.permutations(range(4)))
    for order in orders:
        before = 0.0
        for k, j in enumerate(order):
            now = _ols_r2(y, df[[names[i] for i in order[: k + 1]]].to_numpy(float))
            gains[j] += now - before
            before = now
    res = relative_importance(df, "mpg", names)
    assert res.loc[names, "importance"].to_numpy() == pytest.approx(gains / len(orders), abs=1e-12)


def test_relative_weights_reproduce_the_rwa_mtcars_examples() -> None:
    res = relative_importance(_mtcars(), "mpg", ["cyl", "disp", "hp", "gear"], method="relative_weights")
    names = ["cyl", "disp", "hp", "gear"]
    assert res.loc[names, "importance"].to_numpy() == pytest.approx([0.2284797, 0.2221469, 0.2321744, 0.0963886],
                                                                    abs=1e-6)
    assert res.loc[names, "share"].to_numpy() == pytest.approx([29.32274, 28.50999, 29.79691, 12.37037], abs=1e-5)
    assert res.attrs["r2"] == pytest.approx(0.7791896, abs=1e-6)
    assert res.loc[names, "sign"].tolist() == [-1, -1, -1, 1]  # rwa's Sign column: - - - +
    vignette = relative_importance(_mtcars(), "mpg", ["cyl", "disp", "hp", "wt"], method="relative_weights")
    assert vignette.loc[["cyl", "disp", "hp", "wt"], "importance"].to_numpy() == pytest.approx(
        [0.2096904, 0.1883043, 0.1799590, 0.2706812], abs=1e-6)


def test_relative_weights_by_the_textbook_steps() -> None:
    """Johnson (2000), step by step on swiss with numpy's SVD (not eigh): the orthogonal counterparts
    Z = U Vᵀ of the standardised X, Λ = the regression of X on Z, β = the regression of y on Z."""
    df = _swiss()
    x = df[SWISS_X].to_numpy(float)
    xs = (x - x.mean(0)) / x.std(0, ddof=1)
    y = df["Fertility"].to_numpy(float)
    ys = (y - y.mean()) / y.std(ddof=1)
    u, _, vt = np.linalg.svd(xs, full_matrices=False)
    z = u @ vt * np.sqrt(len(y) - 1)  # orthonormal columns scaled to unit variance
    lam = np.linalg.lstsq(z, xs, rcond=None)[0]
    beta = np.linalg.lstsq(z, ys, rcond=None)[0]
    eps = (lam**2).T @ (beta**2)
    res = relative_importance(df, "Fertility", SWISS_X, method="relative_weights")
    assert res.loc[SWISS_X, "importance"].to_numpy() == pytest.approx(eps, abs=1e-12)
    assert res.attrs["r2"] == pytest.approx(_ols_r2(y, x), abs=1e-12)


def test_two_drivers_by_hand() -> None:
    """r12 = 0.5, ry1 = 0.6, ry2 = 0.4: R² = (0.36 + 0.16 − 2·0.6·0.4·0.5) / (1 − 0.25) = 0.28 / 0.75.
    Driver 1 adds 0.36 first and R² − 0.16 second: LMG₁ = ½ (0.36 + 0.28/0.75 − 0.16)."""
    rxx, rxy = np.array([[1.0, 0.5], [0.5, 1.0]]), np.array([0.6, 0.4])
    r2 = 0.28 / 0.75
    assert subset_r2(rxx, rxy) == pytest.approx([0.0, 0.36, 0.16, r2], abs=1e-15)
    assert shapley_values(rxx, rxy) == pytest.approx([0.5 * (0.36 + r2 - 0.16), 0.5 * (0.16 + r2 - 0.36)], abs=1e-15)
    # uncorrelated drivers: both methods give each its squared correlation
    assert shapley_values(np.eye(3), np.array([0.5, 0.3, 0.1])) == pytest.approx([0.25, 0.09, 0.01], abs=1e-15)
    eps, r2u = relative_weights(np.eye(3), np.array([0.5, 0.3, 0.1]))
    assert eps == pytest.approx([0.25, 0.09, 0.01], abs=1e-15) and r2u == pytest.approx(0.35)


def test_subset_table_matches_direct_solves_for_every_subset() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=(9, 9))
    cov = a @ a.T + 9 * np.eye(9)
    d = np.sqrt(np.diag(cov))
    corr = cov / np.outer(d, d)
    rxx, rxy = corr[:8, :8], corr[:8, 8]
    table = subset_r2(rxx, rxy)
    for mask in range(1 << 8):
        s = [j for j in range(8) if mask >> j & 1]
        direct = float(rxy[s] @ np.linalg.solve(rxx[np.ix_(s, s)], rxy[s])) if s else 0.0
        assert table[mask] == pytest.approx(direct, abs=1e-13)


# --- missing data and weights --------------------------------------------------------------------------


def test_pairwise_correlations_equal_pandas_pairwise_complete() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5))
    x[rng.random(x.shape) < 0.3] = np.nan
    corr, counts = correlation_matrix(x)
    frame = pd.DataFrame(x)
    assert corr == pytest.approx(frame.corr().to_numpy(), abs=1e-12)  # pandas: pairwise complete obs
    assert counts == pytest.approx(frame.notna().astype(int).T.dot(frame.notna().astype(int)).to_numpy())


def test_missing_is_explicit_pairwise_or_listwise() -> None:
    df = _swiss()
    df.loc[[0, 5, 9], "Catholic"] = np.nan
    df.loc[[2, 5], "Education"] = np.nan
    df.loc[[7], "Fertility"] = np.nan  # rows without the outcome are never used
    lw = relative_importance(df, "Fertility", SWISS_X, missing="listwise")
    ref = relative_importance(df.dropna(), "Fertility", SWISS_X)
    assert lw.loc[SWISS_X, "importance"].to_numpy() == pytest.approx(ref.loc[SWISS_X, "importance"].to_numpy(),
                                                                     abs=1e-12)
    assert lw.attrs["missing"] == "listwise" and lw.attrs["n"] == 42  # rows 0, 2, 5, 7, 9 dropped
    pw = relative_importance(df, "Fertility", SWISS_X, missing="pairwise")
    assert pw.attrs["missing"] == "pairwise" and pw.attrs["n"] == 46 and pw.attrs["min_pair_n"] == 42
    assert pw.loc["Catholic", "n"] == 43 and pw.loc["Agriculture", "n"] == 46
    c = df.drop(index=7)[["Fertility", *SWISS_X]].corr()  # pairwise-complete correlations
    assert pw.loc[SWISS_X, "r"].to_numpy() == pytest.approx(c.loc[SWISS_X, "Fertility"].to_numpy(), abs=1e-12)


def test_nullable_and_boolean_columns_are_read_as_numbers() -> None:
    df = _swiss()
    ref = relative_importance(df.dropna(), "Fertility", SWISS_X)
    nullable = df.assign(Examination=df["Examination"].astype("Int64"), Education=df["Education"].astype("Int64"))
    nullable.loc[3, "Education"] = pd.NA
    got = relative_importance(nullable, "Fertility", SWISS_X, missing="listwise")
    assert got.attrs["n"] == 46
    assert relative_importance(nullable.drop(index=3), "Fertility", SWISS_X)["importance"].to_numpy() == pytest.approx(
        relative_importance(df.drop(index=3), "Fertility", SWISS_X)["importance"].to_numpy(), abs=1e-15)
    flag = df.assign(Catholic=df["Catholic"] > 50)
    assert relative_importance(flag, "Fertility", SWISS_X).loc["Catholic", "n"] == 47
    assert ref.attrs["n"] == 47


def test_integer_weights_equal_repeated_rows() -> None:
    df = _swiss()
    w = 1 + np.arange(len(df)) % 3
    weighted = relative_importance(df, "Fertility", SWISS_X, weights=w)
    repeated = relative_importance(df.loc[df.index.repeat(w)], "Fertility", SWISS_X)
    assert weighted.loc[SWISS_X, "importance"].to_numpy() == pytest.approx(
        repeated.loc[SWISS_X, "importance"].to_numpy(), abs=1e-12)
    assert weighted.attrs["weighted"] and weighted.attrs["n_eff"] == pytest.approx(w.sum() ** 2 / (w**2).sum())
    by_name = relative_importance(df.assign(w=w), "Fertility", SWISS_X, weights="w")
    assert by_name["importance"].to_numpy() == pytest.approx(weighted["importance"].to_numpy(), abs=1e-15)


# --- bootstrap and the noise test ------------------------------------------------------------------------


def _noise_data() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = 400
    x = rng.normal(size=(n, 3))
    df = pd.DataFrame(x, columns=["strong", "weak", "none"])
    df["y"] = 1.0 * x[:, 0] + 0.35 * x[:, 1] + rng.normal(size=n)
    return df


def test_bootstrap_is_seeded_and_the_noise_test_separates_real_from_null_drivers() -> None:
    df = _noise_data()
    a = relative_importance(df, "y", ["strong", "weak", "none"], bootstrap=150, seed=7)
    b = relative_importance(df, "y", ["strong", "weak", "none"], bootstrap=150, seed=7)
    pd.testing.assert_frame_equal(a, b)
    c = relative_importance(df, "y", ["strong", "weak", "none"], bootstrap=150, seed=8)
    assert not np.allclose(a["ci_low"], c["ci_low"])
    assert a.attrs["n_boot_used"] == 150 and a.attrs["bootstrap"] == 150
    real = ["strong", "weak"]
    assert (a.loc[real, "ci_low"] <= a.loc[real, "importance"]).all()
    assert (a.loc[real, "importance"] <= a.loc[real, "ci_high"]).all()
    assert (a.loc[real, "share_ci_low"] <= a.loc[real, "share"]).all()
    assert a.loc["strong", "significant"] and a.loc["weak", "significant"]
    assert not a.loc["none", "significant"]  # a predictor with no effect does not beat random noise
    assert a.loc["none", "p_noise"] > 0.05 and a.loc["strong", "p_noise"] == 0.0
    # the null driver's percentile interval "excludes zero" (it even lies above the estimate): weights
    # are bounded at zero, so that criterion would call everything significant (rwa issue #26)
    assert a.loc["none", "ci_low"] > 0


def test_bootstrap_with_relative_weights() -> None:
    df = _noise_data()
    res = relative_importance(df, "y", ["strong", "weak", "none"], method="relative_weights", bootstrap=100, seed=1)
    assert res.index[0] == "strong" and res.loc["strong", "significant"] and not res.loc["none", "significant"]


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"drivers": ["Agriculture", "Nope"]}, "column 'Nope' not found"),
        ({"drivers": []}, "no drivers given"),
        ({"drivers": ["Agriculture", "Agriculture"]}, "listed twice"),
        ({"drivers": ["Agriculture", "Fertility"]}, "outcome 'Fertility' is also listed"),
        ({"method": "dominance"}, "method 'dominance' unknown; expected one of shapley, relative_weights"),
        ({"missing": "mean"}, "missing='mean' unknown"),
        ({"bootstrap": -1}, "bootstrap must be an integer >= 0"),
        ({"level": 95}, "level must lie strictly between 0 and 1, got 95"),
        ({"weights": "Nope"}, "column 'Nope' not found"),
        ({"weights": np.ones(3)}, "weights have length 3; expected one per row"),
        ({"weights": -np.ones(47)}, "must be >= 0"),
    ],
)
def test_bad_arguments_name_what_is_wrong(kwargs: dict, message: str) -> None:
    args = {"data": _swiss(), "outcome": "Fertility", "drivers": SWISS_X, **kwargs}
    with pytest.raises(MetricError, match=re.escape(message)):
        relative_importance(**args)


def test_bad_data_names_the_column() -> None:
    df = _swiss()
    with pytest.raises(MetricError, match="column 'Catholic' has non-numeric value 'many'; expected numbers"):
        relative_importance(df.assign(Catholic=["many"] + list(df["Catholic"][1:])), "Fertility", SWISS_X)
    with pytest.raises(MetricError, match="column 'Education' is constant"):
        relative_importance(df.assign(Education=5.0), "Fertility", SWISS_X)
    twin = df.assign(Twin=2 * df["Education"] + 1)
    with pytest.raises(MetricError, match=r"not positive definite .*'Education'.*'Twin'|'Twin'.*'Education'"):
        relative_importance(twin, "Fertility", [*SWISS_X, "Twin"])
    sparse = df.copy()
    sparse.loc[2:, "Catholic"] = np.nan
    with pytest.raises(MetricError, match="'Catholic' .* 2 "):
        relative_importance(sparse, "Fertility", SWISS_X)
    many = pd.DataFrame(np.random.default_rng(0).normal(size=(60, MAX_SHAPLEY_DRIVERS + 2)))
    many.columns = [f"x{i}" for i in range(many.shape[1])]
    with pytest.raises(MetricError, match=f"expected at most {MAX_SHAPLEY_DRIVERS} drivers"):
        relative_importance(many, "x0", list(many.columns[1:]))
    assert len(relative_importance(many, "x0", list(many.columns[1:]), method="relative_weights")) == 25


# --- importance–performance ----------------------------------------------------------------------------


def test_importance_performance_quadrants_at_the_means() -> None:
    imp = pd.Series({"a": 40.0, "b": 35.0, "c": 5.0, "d": 20.0})  # mean 25
    perf = pd.Series({"a": 0.3, "b": 0.7, "c": 0.4, "d": 0.8})  # mean 0.55
    ipa = importance_performance(imp, perf)
    assert ipa["quadrant"].to_dict() == {"a": "concentrate_here", "b": "keep_up", "c": "low_priority",
                                         "d": "possible_overkill"}
    assert ipa.attrs["importance_cut"] == 25.0 and ipa.attrs["performance_cut"] == pytest.approx(0.55)
    med = importance_performance(imp, perf, split="median")  # medians 27.5 and 0.55
    assert med.attrs["importance_cut"] == 27.5
    with pytest.raises(MetricError, match="split='mode' unknown"):
        importance_performance(imp, perf, split="mode")  # type: ignore[arg-type]
