"""Personas from data: a latent class model, persona cards, and the omnichannel view per persona.

A persona is a latent class of respondents (Lazarsfeld & Henry 1968; the modern treatment in Collins &
Lanza 2010, *Latent Class and Latent Transition Analysis*). The model is fitted with StepMix
(Morin, Legault, Laliberté et al. 2025, *Journal of Statistical Software*; https://stepmix.readthedocs.io),
one-step estimation, every indicator categorical (multinoulli with missing values: the likelihood of a
respondent uses only the indicators they answered, i.e. full-information maximum likelihood under
missing-at-random).

Indicators (``personas.use`` in audit.yaml; default: every group the data has)
---------------------------------------------------------------------------
``items``     attitude / behaviour questions named in ``personas.items`` (each answer value a category);
``segments``  segment columns (``personas.segments``, default the audit's ``segments``);
``channels``  for each channel, whether the respondent used any touchpoint in it (touchpoint ratings);
``value``     the customer's revenue, in thirds (customers table);
``tenure``    the customer's tenure in months, in thirds (customers table);
``ratings``   (only when named in ``personas.use``) each rated touchpoint's rating in three bands: bottom
              box, middle, top box (NaN when not used);
``themes``    (only when named in ``personas.use``) for the ``MAX_THEMES`` most frequent codeframe themes,
              whether the respondent's comment mentions it (NaN without a comment).

``ratings`` and ``themes`` are opt-in: personas formed from satisfaction would differ in NPS by
construction, so the NPS gap between personas (``personas.nps_gap``) would no longer be a finding.

Identical answer patterns are fitted once with their count as the sample weight (the EM update and the
likelihood are sums over respondents, so this is exact) -- which keeps 200,000 respondents fast.

Number of personas: the solutions with k = ``k_min`` .. ``k_max`` classes are fitted (``n_init`` random
starts each, seeded); the chosen k has the smallest BIC (Schwarz 1978; Nylund, Asparouhov & Muthén
2007 found BIC the best of the information criteria for LCA) among the solutions whose smallest class
holds at least ``min_share`` of the respondents. The search stops after BIC has risen at two
consecutive k. The choice and the table of fits are part of the result (``PersonaModel.selection``).

Cards (:func:`persona_cards`): size with a Wilson interval; share of revenue (customers table); NPS with
its adjusted-Wald interval (Rocks 2016); top drivers: the touchpoints whose rating correlates most with
NPS within the persona (Pearson r, users only, at least ``min_base`` of them -- a bivariate screen, not
the Shapley analysis of the journey section); pain points: touchpoints the persona's users rate in the
bottom box most often; preferred channels: the channels the persona uses most relative to everybody
(lift); top themes: the codeframe themes of the persona's comments; one comment, personal data redacted.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .audit import Audit
from .errors import CxauditError
from .findings import Finding
from .i18n import fmt_num, fmt_pct, t
from .metrics import Z95, MetricResult, nps, wilson
from .stats import DiffTest, holm, nps_difference

__all__ = [
    "SECTION",
    "GROUPS",
    "Indicators",
    "PersonaModel",
    "PersonaResult",
    "indicators",
    "fit_personas",
    "analyse",
    "persona_cards",
    "channel_use",
    "channel_switching",
    "channel_consistency",
    "tobe_channels",
    "persona_findings",
    "persona_of_customers",
    "blocks_model",
    "blocks_cards",
    "blocks_omnichannel",
]

SECTION = "personas"
GROUPS: tuple[str, ...] = ("items", "segments", "channels", "value", "tenure", "ratings", "themes")
#: The groups used when ``personas.use`` is not given (the opt-in ``ratings`` and ``themes`` are not).
DEFAULT_GROUPS: tuple[str, ...] = ("items", "segments", "channels", "value", "tenure")
#: The most frequent themes that become indicators of the ``themes`` group.
MAX_THEMES: int = 8
#: Random starts per k.
N_INIT: int = 2
#: EM stops when the average log-likelihood per respondent changes by less than this. Measured on the
#: demo's planted structure: 1e-3 (scikit-learn's GaussianMixture default) stops too early on 200,000
#: respondents (ARI 0.45 against the planted personas); 1e-4 and 1e-5 both give ARI 0.88, 1e-4 in 60 %
#: of the time (bench/bench_personas.py).
ABS_TOL: float = 1e-4
MAX_ITER: int = 500
#: Severity of a persona's NPS gap to the rest: >= 30 points -> 4, >= 20 -> 3, >= 10 -> 2, else 1.
_SEVERITY_BANDS: tuple[tuple[float, int], ...] = ((30.0, 4), (20.0, 3), (10.0, 2))
SIGNIFICANCE = 0.05


# --- indicators ------------------------------------------------------------------------------------


@dataclass
class Indicators:
    """The model's input: one categorical code column per indicator (NaN = not answered).

    ``meta`` has one row per indicator: ``name, group, source, levels`` (the category values, in code
    order); ``missing`` lists the groups asked for but not available, with what each needs.
    """

    codes: pd.DataFrame
    meta: pd.DataFrame
    missing: list[str] = field(default_factory=list)


def _categorical(s: pd.Series) -> tuple[pd.Series, list[Any]]:
    text = s.astype("string").str.strip()
    text = text.mask(text == "")
    levels = sorted(text.dropna().unique().tolist())
    codes = pd.Series(pd.Categorical(text, categories=levels).codes, index=s.index).astype(float)
    return codes.mask(codes < 0), levels


def _thirds(x: pd.Series) -> tuple[pd.Series, list[Any]]:
    ok = x.dropna()
    if ok.nunique() < 3:
        return pd.Series(np.nan, index=x.index), []
    cuts = np.unique(np.quantile(ok, [1 / 3, 2 / 3]))
    codes = pd.Series(np.searchsorted(cuts, x.to_numpy(dtype=float), side="right"), index=x.index).astype(float)
    edges = [float(ok.min()), *map(float, cuts), float(ok.max())]
    return codes.mask(x.isna()), [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


def _customer_column(audit: Audit, column: str) -> pd.Series | None:
    r = audit.responses
    from .audit import in_memory

    if not in_memory(audit, "customers") or "customer_id" not in r.columns:
        return None
    c = audit.table("customers")
    if column not in c.columns:
        return None
    by_id = pd.to_numeric(c[column], errors="coerce").groupby(c["customer_id"].astype(str)).first()
    return pd.Series(by_id.reindex(r["customer_id"].astype(str)).to_numpy(), index=r.index)


def indicators(audit: Audit) -> Indicators:
    """The indicator codes for the latent class model from what the audit has.

    Groups come from ``personas.use`` (default: all of :data:`GROUPS`); a group without data is left
    out and named in ``missing`` (``items``: no attitude questions in ``personas.items``; ``channels``:
    no touchpoint table or ratings; ``value`` / ``tenure``: no customers table with revenue / tenure).
    An indicator with a single observed value carries no information and is dropped.
    """
    from . import journey

    cfg = audit.config.personas
    r = audit.responses
    use = list(cfg.use) if cfg.use is not None else list(DEFAULT_GROUPS)
    cols: dict[str, pd.Series] = {}
    rows: list[dict[str, Any]] = []
    missing: list[str] = []

    def add(name: str, group: str, source: str, codes: pd.Series, levels: list[Any]) -> None:
        if codes.dropna().nunique() >= 2:
            cols[name] = codes
            rows.append({"name": name, "group": group, "source": source, "levels": levels})

    if "items" in use:
        items = [c for c in cfg.items if c in r.columns]
        if not items:
            missing.append("items")
        for c in items:
            x = pd.to_numeric(r[c].astype("string").str.strip(), errors="coerce")
            levels = sorted(x.dropna().unique().tolist())
            codes = pd.Series(pd.Categorical(x, categories=levels).codes, index=r.index).astype(float)
            add(f"item:{c}", "items", c, codes.mask(codes < 0), levels)
    if "segments" in use:
        segs = [c for c in (cfg.segments if cfg.segments is not None else audit.config.segments) if c in r.columns]
        if not segs:
            missing.append("segments")
        for c in segs:
            codes, levels = _categorical(r[c])
            add(f"segment:{c}", "segments", c, codes, levels)
    if "channels" in use:
        tps = journey.touchpoint_table(audit)
        rated = tps[tps["column"].notna()] if tps is not None else None
        if rated is None or rated.empty:
            missing.append("channels")
        else:
            for ch, grp in rated.groupby("channel", sort=True):
                used = r[list(grp["column"])].notna().any(axis=1).astype(float)
                add(f"channel:{ch}", "channels", str(ch), used, [0, 1])
    for group, column in (("value", "revenue"), ("tenure", "tenure_months")):
        if group not in use:
            continue
        x = _customer_column(audit, column)
        if x is None or x.notna().sum() == 0:
            missing.append(group)
            continue
        codes, levels = _thirds(x)
        add(f"{group}:{column}", group, column, codes, levels)
    if "ratings" in use:
        tps = _touchpoints(audit)
        if tps is None:
            missing.append("ratings")
        else:
            sc = audit.config.scales.touchpoint
            low, top = sc.min + sc.top_box - 1, sc.max - sc.top_box + 1
            for _, tp in tps.iterrows():
                x = pd.to_numeric(r[tp["column"]], errors="coerce")
                band = pd.Series(np.where(x <= low, 0.0, np.where(x >= top, 2.0, 1.0)), index=r.index)
                add(f"rating:{tp['touchpoint']}", "ratings", str(tp["touchpoint"]), band.mask(x.isna()),
                    ["bottom", "middle", "top"])
    if "themes" in use:
        th = _themes(audit)
        if th is None:
            missing.append("themes")
        else:
            wrote = r["comment"].astype("string").str.strip().fillna("").ne("")
            freq = th[wrote].astype(float).mean().sort_values(ascending=False, kind="stable")
            for key in [k for k, v in freq.items() if v > 0][:MAX_THEMES]:
                add(f"theme:{key}", "themes", str(key), th[key].astype(float).where(wrote), [0, 1])
    codes = pd.DataFrame(cols, index=r.index)
    meta = pd.DataFrame(rows, columns=["name", "group", "source", "levels"])
    return Indicators(codes=codes, meta=meta, missing=missing)


# --- the model -------------------------------------------------------------------------------------


@dataclass
class PersonaModel:
    """A fitted latent class model.

    ``labels``: persona 1..k of each respondent (index of the responses), ordered by size (1 = largest);
    ``posterior``: the respondent's probability of that persona; ``selection``: one row per fitted k
    (``k, bic, loglik, n_parameters, smallest_share, admissible, chosen, seconds``); ``reason``:
    ``"bic"`` (smallest BIC overall) or ``"bic_min_size"`` (smallest BIC among solutions whose
    smallest class is large enough; a smaller BIC had a too small class); ``profiles``: per persona,
    indicator and level, the share (``persona, name, level, share, overall``).
    """

    k: int
    labels: pd.Series
    posterior: pd.Series
    selection: pd.DataFrame
    reason: str
    profiles: pd.DataFrame
    n: int
    seed: int
    min_share: float
    seconds: float


def _fit_one(u: pd.DataFrame, w: np.ndarray, k: int, seed: int, n_init: int) -> Any:
    import warnings

    from stepmix import StepMix

    model = StepMix(n_components=k, measurement="categorical_nan", n_init=n_init, random_state=seed,
                    abs_tol=ABS_TOL, max_iter=MAX_ITER, progress_bar=0, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of a random start; the fit is still checked below
        model.fit(u, sample_weight=w)
    return model


def fit_personas(codes: pd.DataFrame, *, k_min: int = 2, k_max: int = 6, min_share: float = 0.05,
                 seed: int = 20261124, n_init: int = N_INIT) -> PersonaModel:
    """Fit k = k_min..k_max latent classes and choose k by BIC with a minimum class size.

    Parameters
    ----------
    codes
        Categorical codes 0..L-1 per indicator, NaN where not answered (:func:`indicators`). Rows with
        no answer at all get no persona (NaN label).
    k_min, k_max
        The range of class counts tried.
    min_share
        The smallest class a solution may have, as a share of the respondents.
    seed
        ``random_state`` of StepMix: the same seed gives the same personas.

    Raises
    ------
    CxauditError
        When no indicator is given, or no solution has all classes of at least ``min_share``.
    """
    if codes.shape[1] == 0:
        raise CxauditError("personas: no indicator to build personas from")
    t0 = time.perf_counter()
    answered = codes.notna().any(axis=1).to_numpy()
    x = codes[answered]
    key = x.fillna(-1.0)
    grouped = key.groupby(list(key.columns), sort=True, dropna=False).size()
    patterns = grouped.index.to_frame(index=False)
    patterns.columns = list(codes.columns)
    w = grouped.to_numpy(dtype=float)
    u = patterns.mask(patterns < 0)
    # each respondent's pattern
    pos = pd.MultiIndex.from_frame(key).map(pd.Series(np.arange(len(patterns)), index=grouped.index))
    row_pattern = np.asarray(pos, dtype=np.int64)
    n = float(w.sum())
    fits: list[dict[str, Any]] = []
    models: dict[int, Any] = {}
    best = np.inf
    rises = 0
    for k in range(k_min, k_max + 1):
        s0 = time.perf_counter()
        m = _fit_one(u, w, k, seed, n_init)
        ll = float(m.score(u, sample_weight=w)) * n
        p = int(m.n_parameters)
        bic = -2.0 * ll + p * np.log(n)
        lab = m.predict(u)
        share = np.bincount(lab, weights=w, minlength=k) / n
        fits.append({"k": k, "bic": bic, "loglik": ll, "n_parameters": p, "smallest_share": float(share.min()),
                     "admissible": bool(share.min() >= min_share), "seconds": time.perf_counter() - s0})
        models[k] = m
        if fits[-1]["admissible"] and bic < best:
            best, rises = bic, 0
        elif len(fits) > 1 and bic > fits[-2]["bic"]:
            rises += 1
            if rises >= 2:
                break
    sel = pd.DataFrame(fits)
    ok = sel[sel["admissible"]]
    if ok.empty:
        raise CxauditError(f"personas: no solution with k = {k_min}..{k_max} has every class at least "
                           f"{min_share:.0%} of the respondents; lower personas.min_share or k_min in audit.yaml")
    k = int(ok.loc[ok["bic"].idxmin(), "k"])
    reason = "bic" if k == int(sel.loc[sel["bic"].idxmin(), "k"]) else "bic_min_size"
    sel["chosen"] = sel["k"] == k
    m = models[k]
    proba = m.predict_proba(u)
    raw = proba.argmax(axis=1)
    size = np.bincount(raw, weights=w, minlength=k)
    order = np.argsort(-size, kind="stable")  # persona 1 = the largest class
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(1, k + 1)
    lab_rows = rank[raw[row_pattern]]
    post_rows = proba.max(axis=1)[row_pattern]
    labels = pd.Series(np.nan, index=codes.index)
    labels[answered] = lab_rows
    posterior = pd.Series(np.nan, index=codes.index)
    posterior[answered] = post_rows
    profiles = _profiles(x, labels[answered].astype(int), k)
    return PersonaModel(k=k, labels=labels, posterior=posterior, selection=sel, reason=reason, profiles=profiles,
                        n=int(answered.sum()), seed=seed, min_share=min_share, seconds=time.perf_counter() - t0)


def _profiles(x: pd.DataFrame, labels: pd.Series, k: int) -> pd.DataFrame:
    rows = []
    for col in x.columns:
        v = x[col]
        ok = v.notna()
        overall = v[ok].value_counts(normalize=True)
        for p in range(1, k + 1):
            vp = v[ok & (labels == p)]
            share = vp.value_counts(normalize=True)
            for level in overall.index:
                rows.append({"persona": p, "name": col, "level": int(level), "share": float(share.get(level, 0.0)),
                             "overall": float(overall[level]), "n": int(len(vp))})
    return pd.DataFrame(rows)


# --- the analysis ----------------------------------------------------------------------------------


@dataclass
class PersonaResult:
    """Everything the personas section shows. ``model`` is None when nothing could be fitted
    (``needs`` says why: ``no_indicators``, ``too_few`` respondents, ``no_solution``)."""

    indicators: Indicators | None
    model: PersonaModel | None
    needs: list[str]
    cards: pd.DataFrame | None = None
    channel_use: pd.DataFrame | None = None
    switching: pd.DataFrame | None = None
    consistency: pd.DataFrame | None = None
    tobe_channels: pd.DataFrame | None = None


def analyse(audit: Audit, *, seed: int | None = None) -> PersonaResult:
    """Indicators, the model, cards and the omnichannel tables (each None when its data is missing)."""
    cfg = audit.config.personas
    if not audit.has("responses"):  # personas come from survey answers; any subset of tables is an audit
        return PersonaResult(None, None, ["no_indicators"])
    ind = indicators(audit)
    needs = list(ind.missing)
    if ind.codes.shape[1] == 0:
        return PersonaResult(ind, None, [*needs, "no_indicators"])
    n = int(ind.codes.notna().any(axis=1).sum())
    if n < max(cfg.k_min, 2) * audit.config.min_base:
        return PersonaResult(ind, None, [*needs, "too_few"])
    try:
        model = fit_personas(ind.codes, k_min=cfg.k_min, k_max=cfg.k_max, min_share=cfg.min_share,
                             seed=audit.config.seed if seed is None else seed)
    except CxauditError:
        return PersonaResult(ind, None, [*needs, "no_solution"])
    res = PersonaResult(ind, model, needs)
    res.cards = persona_cards(audit, model, ind)
    res.channel_use = channel_use(audit, model)
    res.switching = channel_switching(audit, model)
    res.consistency = channel_consistency(audit, model)
    res.tobe_channels = tobe_channels(audit, res.channel_use)
    return res


def _touchpoints(audit: Audit) -> pd.DataFrame | None:
    from . import journey

    tps = journey.touchpoint_table(audit)
    if tps is None:
        return None
    tps = tps[tps["column"].notna()]
    return tps if len(tps) else None


def _feature_label(audit: Audit, ind: Indicators, name: str, level: int, lang: str) -> str:
    meta = ind.meta.set_index("name").loc[name]
    group, source, levels = meta["group"], meta["source"], meta["levels"]
    cfg = audit.config.personas
    if group == "items":
        item = cfg.items.get(source, source)
        lo, hi, v = float(min(levels)), float(max(levels)), float(levels[level])
        if v >= hi - (hi - lo) / 4:
            return item
        if v <= lo + (hi - lo) / 4:
            return t("personas.item_disagree", lang, item=item)
        return t("personas.item_neutral", lang, item=item)
    if group == "segments":
        return audit.config.value_label(source, levels[level], lang)
    if group == "channels":
        key = "personas.uses_channel" if level == 1 else "personas.not_channel"
        return t(key, lang, channel=audit.config.value_label("channel", source, lang, inline=True))
    if group == "ratings":
        key = ("personas.rates_low", "personas.rates_mid", "personas.rates_top")[level]
        return t(key, lang, tp=_tp_label(audit, source))
    if group == "themes":
        from .text import choose_codeframe

        names = {th.key: th.name(lang) for th in choose_codeframe(audit).codeframe.themes}
        return t("personas.mentions" if level == 1 else "personas.not_mentions", lang, theme=names.get(source, source))
    keys = {"value": ("personas.value_low", "personas.value_mid", "personas.value_high"),
            "tenure": ("personas.tenure_low", "personas.tenure_mid", "personas.tenure_high")}[group]
    return t(keys[min(level, 2)], lang)


def distinctive(model: PersonaModel, persona: int, top: int = 2, min_share: float = 0.25) -> pd.DataFrame:
    """The persona's most distinctive features: indicator levels held by at least ``min_share`` of the
    persona, ranked by lift (share in the persona / share overall), one level per indicator."""
    p = model.profiles[(model.profiles["persona"] == persona) & (model.profiles["share"] >= min_share)].copy()
    p["lift"] = p["share"] / p["overall"].where(p["overall"] > 0)
    p = p.sort_values(["lift", "share"], ascending=False, kind="stable").drop_duplicates("name")
    return p.head(top)


def persona_name(audit: Audit, model: PersonaModel, ind: Indicators, persona: int, lang: str) -> str:
    """``personas.names`` from audit.yaml when given, else the two most distinctive features."""
    given = audit.config.personas.names.get(str(persona))
    if given:
        return given
    feats = distinctive(model, persona)
    parts = [_feature_label(audit, ind, r["name"], int(r["level"]), lang) for _, r in feats.iterrows()]
    return " · ".join(parts) if parts else t("personas.persona_n", lang, k=persona)


def persona_of_customers(audit: Audit, model: PersonaModel) -> pd.Series | None:
    """Each customer's persona: that of their most recent response with one (None without customer ids)."""
    r = audit.responses
    if "customer_id" not in r.columns:
        return None
    d = pd.DataFrame({"customer_id": r["customer_id"].astype("string"), "persona": model.labels})
    if "date" in r.columns:
        d["date"] = r["date"]
        d = d.sort_values("date", kind="stable")
    d = d.dropna(subset=["customer_id", "persona"])
    return d.groupby("customer_id")["persona"].last().astype(int)


def _quote(audit: Audit, model: PersonaModel, mask: pd.Series) -> str | None:
    from .text import redact_pii

    r = audit.responses
    if "comment" not in r.columns:
        return None
    c = r["comment"].astype("string").str.strip()
    ok = mask & c.notna() & c.str.len().between(25, 220)
    if not ok.any():
        return None
    cand = pd.DataFrame({"post": model.posterior[ok], "len": c[ok].str.len()})
    best = cand.sort_values(["post", "len"], ascending=[False, False], kind="stable").index[0]
    return redact_pii(str(c[best]))


def _themes(audit: Audit) -> pd.DataFrame | None:
    from . import text

    r = audit.responses
    if "comment" not in r.columns or r["comment"].notna().sum() == 0:
        return None
    # the audit's codeframe (as the VoC section chooses it, without the coverage search); comments are
    # read in the client's language (language detection is the VoC section's job, and costs seconds)
    cf = text.choose_codeframe(audit).codeframe
    return text.code_comments(r["comment"], cf, langs=pd.Series(audit.config.language, index=r.index)).matrix


def persona_cards(audit: Audit, model: PersonaModel, ind: Indicators) -> pd.DataFrame:
    """One row per persona: the numbers of its card (names and labels are made by :func:`blocks_cards`).

    Columns: ``persona, n, share, share_low, share_high, revenue_share, revenue_n, nps, nps_low, nps_high,
    nps_n, drivers`` (list of (touchpoint, r, n)), ``pains`` (list of (touchpoint, low share, n)),
    ``channels`` (list of (channel, share, lift)), ``themes`` (list of (theme, share, n comments)),
    ``quote``, ``features`` (list of (indicator, level, share, lift)).
    """
    r = audit.responses
    lab = model.labels
    tps = _touchpoints(audit)
    lo_cut = float(audit.config.scales.touchpoint.min + audit.config.scales.touchpoint.top_box - 1)
    cust = persona_of_customers(audit, model)
    revenue = None
    from .audit import in_memory

    if cust is not None and in_memory(audit, "customers") and "revenue" in audit.table("customers").columns:
        c = audit.table("customers")
        rev = pd.to_numeric(c["revenue"], errors="coerce").groupby(c["customer_id"].astype("string")).first()
        rev = rev.reindex(cust.index)
        revenue = pd.DataFrame({"persona": cust, "revenue": rev}).dropna()
    themes = _themes(audit)
    min_base = audit.config.min_base
    rows = []
    for p in range(1, model.k + 1):
        mask = lab == p
        n = int(mask.sum())
        lo, hi = wilson(np.array([n]), np.array([model.n]))
        row: dict[str, Any] = {"persona": p, "n": n, "share": n / model.n, "share_low": float(lo[0]),
                               "share_high": float(hi[0])}
        if revenue is not None and revenue["revenue"].sum() > 0:
            row["revenue_share"] = float(revenue.loc[revenue["persona"] == p, "revenue"].sum() / revenue["revenue"].sum())
            row["revenue_n"] = int((revenue["persona"] == p).sum())
        else:
            row["revenue_share"], row["revenue_n"] = np.nan, 0
        if "nps" in r.columns and r.loc[mask, "nps"].notna().any():
            m = nps(r.loc[mask, "nps"].dropna())
            row |= {"nps": m.value, "nps_low": m.ci_low, "nps_high": m.ci_high, "nps_n": int(m.n)}
        else:
            row |= {"nps": np.nan, "nps_low": np.nan, "nps_high": np.nan, "nps_n": 0}
        drivers, pains, chans = [], [], []
        if tps is not None:
            sub = r[mask]
            for _, tp in tps.iterrows():
                x = sub[tp["column"]].astype(float)
                used = x.notna()
                if used.sum() < min_base:
                    continue
                pains.append((tp["touchpoint"], float((x[used] <= lo_cut).mean()), int(used.sum())))
                if "nps" in r.columns:
                    both = used & sub["nps"].notna()
                    if both.sum() >= min_base and x[both].std() > 0 and sub.loc[both, "nps"].std() > 0:
                        drivers.append((tp["touchpoint"], float(np.corrcoef(x[both], sub.loc[both, "nps"])[0, 1]),
                                        int(both.sum())))
            for ch, grp in tps.groupby("channel", sort=True):
                used_all = r[list(grp["column"])].notna().any(axis=1)
                share_p = float(used_all[mask].mean()) if n else np.nan
                share_all = float(used_all[lab.notna()].mean())
                chans.append((str(ch), share_p, share_p / share_all if share_all > 0 else np.nan))
        row["drivers"] = sorted(drivers, key=lambda d: -d[1])[:3]
        row["pains"] = sorted(pains, key=lambda d: -d[1])[:3]
        row["channels"] = sorted(chans, key=lambda d: -d[2])[:2]
        if themes is not None:
            tm = themes[mask & r["comment"].astype("string").str.strip().fillna("").ne("")]
            if len(tm):
                sh = tm.mean().sort_values(ascending=False, kind="stable")
                row["themes"] = [(str(k), float(v), int(len(tm))) for k, v in sh.head(3).items() if v > 0]
            else:
                row["themes"] = []
        else:
            row["themes"] = []
        row["quote"] = _quote(audit, model, mask)
        feats = distinctive(model, p)
        row["features"] = [(f["name"], int(f["level"]), float(f["share"]), float(f["lift"])) for _, f in feats.iterrows()]
        rows.append(row)
    return pd.DataFrame(rows)


# --- omnichannel -----------------------------------------------------------------------------------


def channel_use(audit: Audit, model: PersonaModel) -> pd.DataFrame | None:
    """Share of each persona's respondents who used a stage's touchpoints in each channel.

    Columns ``persona, stage, stage_order, channel, n, used, share, share_low, share_high`` (Wilson);
    persona 0 is everybody. None without rated touchpoints.
    """
    tps = _touchpoints(audit)
    if tps is None:
        return None
    r = audit.responses
    lab = model.labels
    rows = []
    for (stage, so, ch), grp in tps.groupby(["stage", "stage_order", "channel"], sort=True):
        used = r[list(grp["column"])].notna().any(axis=1)
        for p in range(0, model.k + 1):
            mask = lab.notna() if p == 0 else lab == p
            n, k = int(mask.sum()), int(used[mask].sum())
            lo, hi = wilson(np.array([k]), np.array([max(n, 1)]))
            rows.append({"persona": p, "stage": stage, "stage_order": int(so), "channel": str(ch), "n": n, "used": k,
                         "share": k / n if n else np.nan, "share_low": float(lo[0]), "share_high": float(hi[0])})
    return pd.DataFrame(rows).sort_values(["persona", "stage_order", "channel"], kind="stable").reset_index(drop=True)


def channel_switching(audit: Audit, model: PersonaModel) -> pd.DataFrame | None:
    """Channel switching within one journey, per persona: among customers with a repeat contact (a
    second ticket within the repeat window, ``tickets.repeat_days``), the share whose repeat came in
    another channel than the contact before it (Wilson interval). Persona 0 is everybody. None without
    tickets or customer ids."""
    from .tickets import settings

    if not audit.has("tickets"):
        return None
    cust = persona_of_customers(audit, model)
    tk = audit.table("tickets")
    if cust is None or "customer_id" not in tk.columns or "created_at" not in tk.columns:
        return None
    days = settings(audit.config).repeat_days
    d = tk[["customer_id", "channel", "created_at"]].dropna().copy()
    d["customer_id"] = d["customer_id"].astype("string")
    d = d.sort_values(["customer_id", "created_at"], kind="stable")
    same = d["customer_id"].eq(d["customer_id"].shift())
    gap = (d["created_at"] - d["created_at"].shift()).dt.total_seconds() / 86400
    repeat = same & (gap <= days)
    switch = repeat & d["channel"].ne(d["channel"].shift())
    per = pd.DataFrame({"customer_id": d["customer_id"], "repeat": repeat, "switch": switch}).groupby("customer_id").any()
    per["persona"] = cust.reindex(per.index)
    after = _after_response(audit, model, d, days)
    rows = []
    for p in range(0, model.k + 1):
        sub = per[per["persona"].notna()] if p == 0 else per[per["persona"] == p]
        n, k = int(sub["repeat"].sum()), int(sub["switch"].sum())
        lo, hi = wilson(np.array([k]), np.array([max(n, 1)]))
        row = {"persona": p, "customers": int(len(sub)), "n": n, "switched": k, "share": k / n if n else np.nan,
               "share_low": float(lo[0]) if n else np.nan, "share_high": float(hi[0]) if n else np.nan}
        if after is not None:
            a = after if p == 0 else after[after["persona"] == p]
            rn, rk = int(len(a)), int(a["other"].sum())
            rlo, rhi = wilson(np.array([rk]), np.array([max(rn, 1)]))
            row |= {"resp_n": rn, "resp_switched": rk, "resp_share": rk / rn if rn else np.nan,
                    "resp_low": float(rlo[0]) if rn else np.nan, "resp_high": float(rhi[0]) if rn else np.nan}
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["repeat_days"] = days
    return out


def _after_response(audit: Audit, model: PersonaModel, tickets: pd.DataFrame, days: int) -> pd.DataFrame | None:
    """Survey answers about a contact in one channel followed by a ticket of the same customer within
    ``days``: one row per such answer with ``persona`` and ``other`` (some ticket of that window came
    through another channel than the answer's). None without a ``channel`` column, dates or customer ids
    in the responses."""
    r = audit.responses
    if not {"channel", "date", "customer_id"} <= set(r.columns):
        return None
    a = pd.DataFrame({"rid": np.arange(len(r)), "customer_id": r["customer_id"].astype("string"),
                      "date": r["date"], "rch": r["channel"].astype("string").str.strip().str.lower(),
                      "persona": model.labels.to_numpy()}).dropna(subset=["customer_id", "date", "rch", "persona"])
    t = tickets.rename(columns={"channel": "tch"})
    m = a.merge(t, on="customer_id", how="inner")
    dt = (m["created_at"] - m["date"]).dt.total_seconds() / 86400
    m = m[(dt >= 0) & (dt <= days)]
    if m.empty:
        return pd.DataFrame(columns=["persona", "other"])
    m = m.assign(other=m["tch"].astype("string").str.strip().str.lower() != m["rch"])
    return m.groupby("rid").agg(persona=("persona", "first"), other=("other", "any")).reset_index(drop=True)


def channel_consistency(audit: Audit, model: PersonaModel) -> pd.DataFrame | None:
    """Consistency across channels per persona and stage: the top-box share of the stage's ratings in
    each channel (users with at least ``min_base`` ratings) and the spread best − worst in points.
    Columns ``persona, stage, stage_order, channels, best, worst, spread, n_min``; only stages served by
    at least two channels. Persona 0 is everybody. None without rated touchpoints."""
    tps = _touchpoints(audit)
    if tps is None:
        return None
    r = audit.responses
    sc = audit.config.scales.touchpoint
    top = float(sc.max - sc.top_box + 1)
    rows = []
    for (stage, so), st in tps.groupby(["stage", "stage_order"], sort=True):
        if st["channel"].nunique() < 2:
            continue
        for p in range(0, model.k + 1):
            mask = model.labels.notna() if p == 0 else model.labels == p
            shares: dict[str, float] = {}
            ns: dict[str, int] = {}
            for ch, grp in st.groupby("channel", sort=True):
                x = r.loc[mask, list(grp["column"])].to_numpy(dtype=float).ravel()
                x = x[~np.isnan(x)]
                if len(x) >= audit.config.min_base:
                    shares[str(ch)], ns[str(ch)] = float((x >= top).mean()), len(x)
            if len(shares) < 2:
                continue
            best, worst = max(shares, key=shares.__getitem__), min(shares, key=shares.__getitem__)
            rows.append({"persona": p, "stage": stage, "stage_order": int(so), "channels": len(shares), "best": best,
                         "worst": worst, "best_share": shares[best], "worst_share": shares[worst],
                         "spread": 100 * (shares[best] - shares[worst]), "n_min": min(ns.values())})
    return pd.DataFrame(rows) if rows else None


def tobe_channels(audit: Audit, use: pd.DataFrame | None) -> pd.DataFrame | None:
    """The TO-BE channel model: for each persona and stage the lead channel (the one the persona uses
    most at that stage today) with the response-time standard of that channel (``tickets.sla_hours``,
    defaults in :data:`cxaudit.tickets.DEFAULT_SLA_HOURS`; None for a channel without a standard, e.g.
    the website or a store). Columns ``persona, stage, stage_order, lead, share, second, sla_hours``."""
    from .tickets import settings

    if use is None or use.empty:
        return None
    sla = settings(audit.config).sla_hours
    rows = []
    for (p, stage, so), g in use.groupby(["persona", "stage", "stage_order"], sort=True):
        g = g.sort_values(["share", "channel"], ascending=[False, True], kind="stable")
        lead = g.iloc[0]
        rows.append({"persona": int(p), "stage": stage, "stage_order": int(so), "lead": lead["channel"],
                     "share": float(lead["share"]), "second": g.iloc[1]["channel"] if len(g) > 1 else None,
                     "sla_hours": sla.get(str(lead["channel"]))})
    return pd.DataFrame(rows).sort_values(["persona", "stage_order"], kind="stable").reset_index(drop=True)


# --- findings --------------------------------------------------------------------------------------


def _severity(gap: float) -> int:
    for cut, level in _SEVERITY_BANDS:
        if gap >= cut:
            return level
    return 1


def persona_findings(audit: Audit, res: PersonaResult, lang: str) -> list[Finding]:
    """Findings ``personas.nps_gap.<k>``: a persona whose NPS is significantly below the rest.

    Two-sample NPS z-test (R package NPS, ``nps.test``) of each persona against all other respondents,
    Holm-adjusted over the personas; a finding when p_holm < 0.05, the gap is positive and the persona
    has at least ``min_base`` respondents. Tags: ``personas`` (its number), and -- so that the TO-BE
    rules can serve the persona where it hurts -- its worst touchpoint (``touchpoints``, ``stages``)
    and its preferred channels (``channels``). ``evidence["persona_label"]`` names it;
    ``evidence["diff"]`` is the persona's NPS minus the rest's (negative), which the ``segment_gap``
    impact model reads as a segment's gap (``evidence["gap"]`` would mean the low raters of a touchpoint).
    """
    if res.model is None or res.cards is None or "nps" not in audit.responses.columns:
        return []
    assert res.indicators is not None  # analyse() sets indicators and cards whenever it sets model
    r = audit.responses
    tps = _touchpoints(audit)
    stage_of = dict(zip(tps["touchpoint"], tps["stage"], strict=True)) if tps is not None else {}
    label_of = dict(zip(tps["touchpoint"], tps["label"], strict=True)) if tps is not None else {}
    tests: list[tuple[MetricResult, MetricResult, DiffTest] | None] = []
    for p in range(1, res.model.k + 1):
        a = r.loc[res.model.labels == p, "nps"].dropna()
        b = r.loc[(res.model.labels != p) & res.model.labels.notna(), "nps"].dropna()
        if len(a) < audit.config.min_base or len(b) < audit.config.min_base:
            tests.append(None)
            continue
        ma, mb = nps(a), nps(b)
        tests.append((ma, mb, nps_difference(mb, ma)))
    p_adj = holm([np.nan if x is None else x[2].p_value for x in tests])
    out = []
    for i, x in enumerate(tests):
        if x is None or not (p_adj[i] < SIGNIFICANCE) or x[2].diff <= 0:
            continue
        ma, mb, test = x
        p = i + 1
        card = res.cards.set_index("persona").loc[p]
        name = persona_name(audit, res.model, res.indicators, p, lang)
        tags: dict[str, list[str]] = {"personas": [str(p)]}
        ev: dict[str, Any] = {"persona": p, "persona_label": name, "nps": ma.value, "nps_rest": mb.value,
                              "diff": -float(test.diff), "n_rest": int(mb.n), "p_value": test.p_value, "p_holm": float(p_adj[i]),
                              "share": float(card["share"]), "table": "personas.cards",
                              "test": "two-sample NPS z-test (R NPS::nps.test), Holm over personas"}
        if card["pains"]:
            tp = card["pains"][0][0]
            tags["touchpoints"], ev["touchpoint_label"] = [str(tp)], str(label_of.get(tp, tp))
            ev["low_share"] = card["pains"][0][1]
            if tp in stage_of:
                tags["stages"] = [str(stage_of[tp])]
        if card["channels"]:
            tags["channels"] = [c[0] for c in card["channels"]]
        out.append(Finding(
            id=f"personas.nps_gap.{p}", section=SECTION,
            title=t("personas.finding_nps_gap", lang, persona=name, gap=fmt_num(test.diff, lang, 1),
                    nps=fmt_num(ma.value, lang, 1, sign=True), rest=fmt_num(mb.value, lang, 1, sign=True),
                    share=fmt_pct(card["share"], lang)),
            metric="nps_gap_persona", value=float(test.diff), n=int(ma.n),
            ci_low=float(test.diff - Z95 * test.se), ci_high=float(test.diff + Z95 * test.se),
            severity=_severity(float(test.diff)), reach=float(card["share"]), unit="", evidence=ev, tags=tags,
        ))
    return out + channel_findings(audit, res, lang)


#: A persona's lead channel at a stage becomes a finding when it uses it this much (share points) more
#: than the channel that leads for everybody.
LEAD_MARGIN: float = 0.10


def channel_findings(audit: Audit, res: PersonaResult, lang: str) -> list[Finding]:
    """Findings ``personas.lead_channel.<k>.<stage>``: the TO-BE channel model differs for a persona.

    For a persona and stage, the persona's most-used channel differs from the one most used by
    everybody, and the persona uses it at least :data:`LEAD_MARGIN` (share points) more than that
    channel, on at least ``min_base`` respondents. A design fact for the TO-BE, not a defect: severity 2,
    reach = the persona's share; ``value`` = the persona's share using its lead channel (Wilson interval).
    Tags: ``personas``, ``stages``, ``channels`` (the persona's lead channel).
    """
    if res.model is None or res.tobe_channels is None or res.channel_use is None:
        return []
    assert res.indicators is not None and res.cards is not None  # analyse() sets indicators and cards whenever it sets model
    tb = res.tobe_channels.set_index(["persona", "stage"])
    cu = res.channel_use.set_index(["persona", "stage", "channel"])
    sla = {s: h for s, h in zip(res.tobe_channels["lead"], res.tobe_channels["sla_hours"], strict=True)}
    out = []
    for p in range(1, res.model.k + 1):
        name = None
        for stage in res.tobe_channels.loc[res.tobe_channels["persona"] == p, "stage"]:
            mine, every = tb.loc[(p, stage)], tb.loc[(0, stage)]
            if mine["lead"] == every["lead"]:
                continue
            u = cu.loc[(p, stage, mine["lead"])]
            other = cu.loc[(p, stage, every["lead"])]
            if u["n"] < audit.config.min_base or u["share"] - other["share"] < LEAD_MARGIN:
                continue
            name = name or persona_name(audit, res.model, res.indicators, p, lang)
            share_p = float(res.cards.set_index("persona").loc[p, "share"])
            ch = audit.config.value_label("channel", mine["lead"], lang, inline=True)
            ev = {"persona": p, "persona_label": name, "stage": stage, "lead": mine["lead"], "channel_label": ch,
                  "everybody_lead": every["lead"], "share_everybody_lead": float(other["share"]),
                  "sla_hours": sla.get(mine["lead"]), "persona_share": share_p, "table": "personas.tobe_channels"}
            out.append(Finding(
                id=f"personas.lead_channel.{p}.{stage}", section=SECTION,
                title=t("personas.finding_lead_channel", lang, persona=name, channel=ch,
                        stage=audit.config.value_label("stage", stage, lang), share=fmt_pct(u["share"], lang),
                        other=audit.config.value_label("channel", every["lead"], lang, inline=True),
                        other_share=fmt_pct(other["share"], lang)),
                metric="channel_use", value=100 * float(u["share"]), n=int(u["n"]), ci_low=100 * float(u["share_low"]),
                ci_high=100 * float(u["share_high"]), severity=2, reach=share_p, unit="%", evidence=ev,
                tags={"personas": [str(p)], "stages": [str(stage)], "channels": [str(mine["lead"])]},
            ))
    return out


# --- presentation ----------------------------------------------------------------------------------


def _needs_notes(needs: Sequence[str], lang: str) -> list[Any]:
    from . import show

    keys = {"items": "personas.needs_items", "segments": "personas.needs_segments",
            "channels": "personas.needs_channels", "value": "personas.needs_value",
            "tenure": "personas.needs_tenure", "no_indicators": "personas.needs_indicators",
            "too_few": "personas.needs_more", "no_solution": "personas.needs_solution",
            "ratings": "personas.needs_ratings", "themes": "personas.needs_themes"}
    return [show.note(t(keys[k], lang)) for k in needs if k in keys]


def blocks_model(audit: Audit, res: PersonaResult, lang: str) -> list[Any]:
    """The model paragraph (what went in, how k was chosen) and the table of fits."""
    from . import show

    out: list[Any] = list(_needs_notes(res.needs, lang))
    if res.model is None:
        return out
    assert res.indicators is not None  # analyse() sets indicators and cards whenever it sets model
    m = res.model
    names = {"items": "personas.group_items", "segments": "personas.group_segments",
             "channels": "personas.group_channels", "value": "personas.group_value", "tenure": "personas.group_tenure",
             "ratings": "personas.group_ratings", "themes": "personas.group_themes"}
    groups = [t(names[g], lang) for g in GROUPS if g in set(res.indicators.meta["group"])]
    out.append(show.paragraph(t("personas.model_text", lang, n=fmt_num(m.n, lang, 0), groups=", ".join(groups),
                                k=m.k, min_share=fmt_pct(m.min_share, lang))))
    out.append(show.note(t("personas.reason_bic" if m.reason == "bic" else "personas.reason_min_size", lang, k=m.k)))
    sel = m.selection.assign(chosen_mark=lambda d: np.where(d["chosen"], "✔", ""),
                             small_mark=lambda d: np.where(d["admissible"], "", t("personas.too_small", lang)))
    out.append(show.table(sel, [show.Col("k", "personas.col_k", "int"), show.Col("bic", "personas.col_bic", "num0"),
                                show.Col("smallest_share", "personas.col_smallest", "pct"),
                                show.Col("small_mark", "personas.col_admissible", "text"),
                                show.Col("chosen_mark", "personas.col_chosen", "text")], lang))
    return out


def _tp_label(audit: Audit, tp: str) -> str:
    tps = _touchpoints(audit)
    if tps is not None and tp in set(tps["touchpoint"]):
        return str(tps.set_index("touchpoint").loc[tp, "label"])
    return tp.removeprefix("tp_").replace("_", " ")


#: A card lists a channel as preferred when the persona uses it at least this many times as often as everybody.
PREFERRED_LIFT: float = 1.1


def card_html(audit: Audit, res: PersonaResult, p: int, lang: str) -> str:
    """One persona card as escaped HTML (a ``<div class="cx-persona">`` with a definition list)."""
    from .show import escape
    from .text import choose_codeframe

    if res.model is None or res.indicators is None or res.cards is None:
        raise ValueError("card_html needs a fitted persona model (PersonaResult from analyse() with a model)")
    card = res.cards.set_index("persona").loc[p]
    name = persona_name(audit, res.model, res.indicators, p, lang)
    fr = {th.key: th.name(lang) for th in choose_codeframe(audit).codeframe.themes}

    def item(key: str, value: str) -> str:
        return f"<dt>{escape(t(key, lang))}</dt><dd>{escape(value)}</dd>"

    parts = [item("personas.card_size", t("personas.size_text", lang, n=fmt_num(card["n"], lang, 0),
                                            share=fmt_pct(card["share"], lang),
                                            lo=fmt_pct(card["share_low"], lang), hi=fmt_pct(card["share_high"], lang)))]
    parts.append(item("personas.card_revenue", fmt_pct(card["revenue_share"], lang) if not pd.isna(card["revenue_share"])
                      else t("personas.not_measured", lang)))
    parts.append(item("personas.card_nps", t("personas.nps_text", lang, nps=fmt_num(card["nps"], lang, 1, sign=True),
                                             lo=fmt_num(card["nps_low"], lang, 1), hi=fmt_num(card["nps_high"], lang, 1),
                                             n=fmt_num(card["nps_n"], lang, 0))
                      if not pd.isna(card["nps"]) else t("personas.not_measured", lang)))
    feats = [_feature_label(audit, res.indicators, f[0], f[1], lang) + f" ({fmt_pct(f[2], lang)})" for f in card["features"]]
    parts.append(item("personas.card_features", "; ".join(feats) or t("personas.not_measured", lang)))
    none = t("personas.not_measured", lang)
    parts.append(item("personas.card_drivers", "; ".join(f"{_tp_label(audit, d[0])} (r = {fmt_num(d[1], lang, 2)})"
                                                          for d in card["drivers"]) or none))
    parts.append(item("personas.card_pains", "; ".join(t("personas.pain_text", lang, tp=_tp_label(audit, d[0]),
                                                         share=fmt_pct(d[1], lang)) for d in card["pains"]) or none))
    # a channel is "preferred" when the persona uses it at least PREFERRED_LIFT times as often as everybody
    preferred = [c for c in card["channels"] if not pd.isna(c[2]) and c[2] >= PREFERRED_LIFT]
    parts.append(item("personas.card_channels", "; ".join(
        t("personas.channel_text", lang, channel=audit.config.value_label("channel", c[0], lang), share=fmt_pct(c[1], lang),
          lift=fmt_num(c[2], lang, 1)) for c in preferred)
        or (t("personas.no_channel_stands_out", lang) if card["channels"] else none)))
    parts.append(item("personas.card_themes", "; ".join(f"{fr.get(th[0], th[0])} ({fmt_pct(th[1], lang)})"
                                                        for th in card["themes"]) or none))
    quote = f'<blockquote class="cx-quote">{escape(card["quote"])}</blockquote>' if card["quote"] else ""
    return (f'<div class="cx-persona"><h3>{escape(t("personas.persona_n", lang, k=p))}: {escape(name)}</h3>'
            f'<dl>{"".join(parts)}</dl>{quote}</div>')


def blocks_cards(audit: Audit, res: PersonaResult, lang: str) -> list[Any]:
    """One card per persona (HTML)."""
    from IPython.display import HTML

    if res.model is None or res.cards is None:
        return []
    return [HTML(card_html(audit, res, p, lang)) for p in range(1, res.model.k + 1)]


def _persona_header(audit: Audit, res: PersonaResult, p: int, lang: str) -> str:
    if p == 0:
        return t("personas.everybody", lang)
    return f"{t('personas.persona_n', lang, k=p)}"


def blocks_omnichannel(audit: Audit, res: PersonaResult, lang: str) -> list[Any]:
    """Channel use per stage and persona, switching, consistency and the TO-BE channel model."""
    from . import show
    from .i18n import value_label
    from .tickets import fmt_hours

    out: list[Any] = []
    if res.model is None:
        return out
    if res.channel_use is None:
        out.append(show.note(t("personas.needs_channels", lang)))
        return out
    k = res.model.k
    cu = res.channel_use
    stage = lambda s: value_label("stage", s, lang)  # noqa: E731
    chan = lambda c: audit.config.value_label("channel", c, lang)  # noqa: E731
    wide = cu.pivot_table(index=["stage_order", "stage", "channel"], columns="persona", values="share").reset_index()
    wide["stage_label"] = [stage(s) for s in wide["stage"]]
    wide["channel_label"] = [chan(c) for c in wide["channel"]]
    cols = [show.Col("stage_label", "personas.col_stage"), show.Col("channel_label", "personas.col_channel")]
    for p in range(0, k + 1):
        wide[f"p{p}"] = wide[p]
        cols.append(show.Col(f"p{p}", _persona_header(audit, res, p, lang), "pct"))
    out.append(show.heading(t("personas.channel_use_heading", lang), SECTION))
    out.append(show.paragraph(t("personas.channel_use_text", lang)))
    out.append(show.table(wide, cols, lang))
    out.append(show.heading(t("personas.switching_heading", lang), SECTION))
    if res.switching is None:
        out.append(show.note(t("personas.needs_tickets", lang)))
    else:
        sw = res.switching.copy()
        sw["who"] = [_persona_header(audit, res, int(p), lang) for p in sw["persona"]]
        out.append(show.paragraph(t("personas.switching_text", lang, days=res.switching.attrs.get("repeat_days", 7))))
        cols = [show.Col("who", "personas.col_persona"), show.Col("customers", "personas.col_customers", "int"),
                show.Col("n", "personas.col_repeat", "int"),
                show.Col("share", "personas.col_switched", "pct", lo="share_low", hi="share_high")]
        if "resp_n" in sw.columns:
            cols += [show.Col("resp_n", "personas.col_after_survey", "int"),
                     show.Col("resp_share", "personas.col_after_survey_other", "pct", lo="resp_low", hi="resp_high")]
        out.append(show.table(sw, cols, lang))
    out.append(show.heading(t("personas.consistency_heading", lang), SECTION))
    if res.consistency is None or res.consistency.empty:
        out.append(show.note(t("personas.consistency_none", lang)))
    else:
        cs = res.consistency.copy()
        cs["who"] = [_persona_header(audit, res, int(p), lang) for p in cs["persona"]]
        cs["stage_label"] = [stage(s) for s in cs["stage"]]
        cs["best_label"] = [chan(c) for c in cs["best"]]
        cs["worst_label"] = [chan(c) for c in cs["worst"]]
        out.append(show.paragraph(t("personas.consistency_text", lang)))
        out.append(show.table(cs, [show.Col("who", "personas.col_persona"), show.Col("stage_label", "personas.col_stage"),
                                   show.Col("best_label", "personas.col_best"), show.Col("best_share", "personas.col_best_share", "pct"),
                                   show.Col("worst_label", "personas.col_worst"),
                                   show.Col("worst_share", "personas.col_worst_share", "pct"),
                                   show.Col("spread", "personas.col_spread", "num0")], lang))
    if res.tobe_channels is not None:
        tb = res.tobe_channels[res.tobe_channels["persona"] > 0]
        wide = tb.pivot_table(index=["stage_order", "stage"], columns="persona", values="lead", aggfunc="first").reset_index()
        wide["stage_label"] = [stage(s) for s in wide["stage"]]
        cols = [show.Col("stage_label", "personas.col_stage")]
        for p in range(1, k + 1):
            sla = tb[tb["persona"] == p].set_index("stage")["sla_hours"]
            wide[f"p{p}"] = [
                chan(c) + (f" ({t('personas.sla_text', lang, h=fmt_hours(float(sla.get(s)), lang))})"
                           if sla.get(s) is not None and not pd.isna(sla.get(s)) else "")
                for s, c in zip(wide["stage"], wide[p], strict=True)]
            cols.append(show.Col(f"p{p}", _persona_header(audit, res, p, lang)))
        out.append(show.heading(t("personas.tobe_heading", lang), SECTION))
        out.append(show.paragraph(t("personas.tobe_text", lang)))
        out.append(show.table(wide, cols, lang))
    return out


PERSONAS_FILE = "personas.json"


def save(audit: Audit, res: PersonaResult, run_dir: Any, lang: str) -> Any:
    """Write ``<run_dir>/artifacts/personas.json`` for the journey map: each response's persona (by
    ``response_id``) and the personas' names in the run's language. Nothing when there is no model."""
    import json
    from pathlib import Path

    if res.model is None:
        return None
    assert res.indicators is not None  # analyse() sets indicators and cards whenever it sets model
    out = Path(run_dir) / "artifacts"
    out.mkdir(parents=True, exist_ok=True)
    r = audit.responses
    ids = r["response_id"].astype(str) if "response_id" in r.columns else pd.Series(r.index.astype(str), index=r.index)
    ok = res.model.labels.notna()
    payload = {"k": res.model.k,
               "names": {str(p): persona_name(audit, res.model, res.indicators, p, lang) for p in range(1, res.model.k + 1)},
               "labels": dict(zip(ids[ok], res.model.labels[ok].astype(int).tolist(), strict=True))}
    path = out / PERSONAS_FILE
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


def load(audit: Audit, run_dir: Any) -> tuple[pd.Series, dict[int, str]] | None:
    """The personas the personas section saved in this run: (persona per response, name per persona)."""
    import json
    from pathlib import Path

    path = Path(run_dir) / "artifacts" / PERSONAS_FILE
    if not path.is_file():
        return None
    d = json.loads(path.read_text(encoding="utf-8"))
    r = audit.responses
    ids = r["response_id"].astype(str) if "response_id" in r.columns else pd.Series(r.index.astype(str), index=r.index)
    labels = pd.Series(ids.map(d["labels"]).to_numpy(dtype=float), index=r.index)
    return labels, {int(k): v for k, v in d["names"].items()}
