"""Tests of :mod:`cxaudit.personas`: planted personas recovered, stability over seeds, the BIC choice with
a minimum class size, the pattern compression, survey-only audits, findings and the rules they feed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from cxaudit import load_audit
from cxaudit import personas as P
from cxaudit.demo import PLANTED, generate_demo, persona_labels


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The default-size English demo (5,000 responses): the size the Must-show numbers are for."""
    out = generate_demo(tmp_path_factory.mktemp("personas") / "demo", size="default", lang="en", seed=7)
    audit = load_audit(out)
    raw = pd.read_csv(out / "responses.csv", keep_default_na=False, na_values=[""])
    truth = pd.Series(persona_labels(raw, 7), index=raw["Response ID"])
    truth = truth[~truth.index.duplicated()].reindex(audit.responses["response_id"].astype(str)).to_numpy()
    return audit, truth


@pytest.fixture(scope="module")
def result(demo):
    return P.analyse(demo[0])


def test_demo_plants_documented_personas(demo):
    audit, truth = demo
    spec = PLANTED["personas"]
    assert len(spec["keys"]) == 4 and set(spec["columns"]) <= set(audit.responses.columns)
    # every planted persona is common enough to be found, and its attitude means are as documented
    shares = np.bincount(truth, minlength=4) / len(truth)
    assert shares.min() > 0.1
    for k, key in enumerate(spec["keys"]):
        for col, mean in spec["attitude_means"][key].items():
            got = pd.to_numeric(audit.responses.loc[truth == k, col], errors="coerce").mean()
            assert abs(got - mean) < 0.25, (key, col, got, mean)
    # the persona follows the existing answers (channel, NPS group): the documented traits hold in the data
    from cxaudit.metrics import nps

    r = audit.responses
    b = spec["keys"].index(spec["expected"]["lowest_nps"])
    assert (r.loc[truth == b, "channel"] == "phone").mean() > 0.7  # "about 80 % answered by phone"
    planted_nps = [nps(r.loc[truth == k, "nps"].dropna()).value for k in range(4)]
    assert int(np.argmin(planted_nps)) == b
    rest = nps(r.loc[truth != b, "nps"].dropna()).value
    assert 10 <= rest - planted_nps[b] <= 30, (rest, planted_nps[b])


def test_planted_personas_recovered(demo, result):
    """Must show: ARI >= 0.8 against the planted labels; BIC picks the planted four."""
    _, truth = demo
    m = result.model
    assert m.k == 4 and m.reason == "bic"
    ok = m.labels.notna().to_numpy()
    assert ok.mean() > 0.99
    ari = adjusted_rand_score(truth[ok], m.labels[ok].astype(int))
    assert ari >= 0.8, ari
    sel = m.selection.set_index("k")
    assert sel.loc[4, "bic"] < sel.loc[3, "bic"] and sel.loc[4, "bic"] < sel.loc[5, "bic"]


def test_stable_over_five_seeds(demo, result):
    """Must show: ARI >= 0.9 between the solutions of 5 seeds (k fixed at the chosen 4)."""
    audit, _ = demo
    ind = result.indicators
    sols = [P.fit_personas(ind.codes, k_min=4, k_max=4, seed=s).labels for s in range(5)]
    ok = sols[0].notna()
    for s in sols[1:]:
        assert adjusted_rand_score(sols[0][ok], s[ok]) >= 0.9


def test_pattern_compression_is_exact():
    """Fitting unique answer patterns with their counts gives the likelihood of fitting every row."""
    from stepmix import StepMix

    rng = np.random.default_rng(3)
    z = rng.integers(0, 2, 400)
    x = pd.DataFrame({f"v{j}": np.where(rng.random(400) < np.where(z == 1, 0.8, 0.2), 1.0, 0.0) for j in range(4)})
    x.iloc[::17, 1] = np.nan
    m = P.fit_personas(x, k_min=2, k_max=2, seed=1, n_init=3)
    full = StepMix(n_components=2, measurement="categorical_nan", n_init=3, random_state=1, abs_tol=1e-8,
                   max_iter=2000, progress_bar=0, verbose=0).fit(x)
    assert m.selection.loc[0, "bic"] == pytest.approx(full.bic(x), rel=1e-4)


def test_min_class_size_overrides_bic():
    """Three classes, one of 2 %: BIC wants 3, a 5 % minimum class size makes it 2, and says why."""
    rng = np.random.default_rng(11)
    sizes = (2940, 2940, 120)
    probs = (0.05, 0.95, 0.5)
    rows = []
    for size, p, off in zip(sizes, probs, (0, 0, 1), strict=True):
        block = (rng.random((size, 6)) < p).astype(float)
        if off:  # the small class: a pattern of its own
            block = np.tile([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], (size, 1))
            flip = rng.random(block.shape) < 0.03
            block[flip] = 1 - block[flip]
        rows.append(block)
    x = pd.DataFrame(np.vstack(rows), columns=[f"v{j}" for j in range(6)])
    free = P.fit_personas(x, k_min=2, k_max=3, min_share=0.01, seed=2)
    assert free.k == 3 and free.reason == "bic"
    held = P.fit_personas(x, k_min=2, k_max=3, min_share=0.05, seed=2)
    assert held.k == 2 and held.reason == "bic_min_size"
    assert not held.selection.set_index("k").loc[3, "admissible"]


def test_cards_and_channel_model(demo, result):
    audit, _ = demo
    cards = result.cards
    assert len(cards) == 4 and cards["n"].sum() == result.model.n
    assert cards["revenue_share"].sum() == pytest.approx(1.0)
    assert (cards["nps_low"] < cards["nps"]).all() and (cards["nps"] < cards["nps_high"]).all()
    assert all(c["quote"] is None or "@" not in c["quote"] for _, c in cards.iterrows())
    # the store persona (largest store-lover share) prefers the store channel
    store = int(cards.loc[[any(f[0] == "item:att_store" and f[1] == 4 for f in fs) for fs in cards["features"]],
                          "persona"].iloc[0])
    assert cards.set_index("persona").loc[store, "channels"][0][0] == "store"
    tb = result.tobe_channels
    assert set(tb["stage"]) == set(audit.config.stages) and set(tb["persona"]) == {0, 1, 2, 3, 4}
    assert tb.loc[tb["lead"] == "email", "sla_hours"].eq(24.0).all()
    html = P.card_html(audit, result, store, "ru")
    assert "Персона" in html and "<script" not in html
    # a channel is shown as preferred only with a lift of at least 1.1; otherwise the card says none stands out
    for p, chans in zip(cards["persona"], cards["channels"], strict=True):
        stands = max(c[2] for c in chans) >= P.PREFERRED_LIFT
        assert ("none stands out" in P.card_html(audit, result, int(p), "en")) == (not stands)
    # response-time standards in the report's words (phone 0.25 h, e-mail 24 h)
    text = " ".join(getattr(b, "data", "") for b in P.blocks_omnichannel(audit, result, "en"))
    assert "answer within 15 min" in text and "answer within 24.0 h" in text and "0.25 h" not in text


def test_findings_feed_rules_that_name_the_persona(demo, result):
    from cxaudit.recommend import recommend

    audit, truth = demo
    # On the default demo the planted phone-first advice seekers are found with both findings, and the
    # TO-BE rules make recommendations that name them (PLANTED["personas"]["expected"]).
    spec = PLANTED["personas"]
    ok = result.model.labels.notna().to_numpy()
    fitted = result.model.labels[ok].astype(int).to_numpy()
    b = spec["keys"].index(spec["expected"]["lowest_nps"])
    pb = int(pd.Series(fitted[truth[ok] == b]).mode()[0])  # the fitted persona of the planted one
    real = P.persona_findings(audit, result, "en")
    ids = {f.id for f in real}
    assert f"personas.nps_gap.{pb}" in ids
    assert f"personas.lead_channel.{pb}.retention" in ids
    gap_f = next(f for f in real if f.id == f"personas.nps_gap.{pb}")
    assert gap_f.value >= 10 and gap_f.ci_low > 0 and gap_f.evidence["p_holm"] < 0.05
    lead_f = next(f for f in real if f.id == f"personas.lead_channel.{pb}.retention")
    assert lead_f.tags["channels"] == ["phone"] and lead_f.evidence["everybody_lead"] == "email"
    named = [r for r in recommend(real) if str(pb) in r.tags.get("personas", [])]
    assert {r.rule for r in named} >= {"personas_nps_gap", "personas_lead_channel"}
    # its impact is a segment's gap: persona share × gap × 30 % closed (not the touchpoint low-rater model)
    rg = next(r for r in named if r.rule == "personas_nps_gap")
    assert rg.impact_model == "segment_gap"
    assert rg.impact_nps == pytest.approx(gap_f.reach * gap_f.value * 0.3)
    assert all(gap_f.evidence["persona_label"] in r.action("en") for r in named if r.rule == "personas_lead_channel")
    # Persona 4 moving to the phone at the intent stage (90 % against 48 % on the site) is one more.
    cu = result.channel_use.copy()
    cu.loc[(cu["persona"] == 4) & (cu["stage"] == "intent") & (cu["channel"] == "phone"), "share"] = 0.9
    res = dataclasses.replace(result, channel_use=cu, tobe_channels=P.tobe_channels(audit, cu))
    fs = P.persona_findings(audit, res, "en")
    lead = [f for f in fs if f.id.startswith("personas.lead_channel.") and f.id.endswith(".intent")]
    assert [f.id for f in lead] == ["personas.lead_channel.4.intent"]
    assert lead[0].tags == {"personas": ["4"], "stages": ["intent"], "channels": ["phone"]}
    assert lead[0].value == pytest.approx(90.0) and lead[0].evidence["sla_hours"] == 0.25
    for f in lead:
        assert f.tags["personas"] and f.evidence["persona_label"] and 0 <= f.value <= 100
    recs = recommend(fs)
    rec = next(r for r in recs if r.rule == "personas_lead_channel")
    assert lead[0].evidence["persona_label"] in rec.action("en")
    every_lead = [f for f in fs if f.id.startswith("personas.lead_channel.")]
    assert set(rec.tags["personas"]) == {f.tags["personas"][0] for f in every_lead} == {"4", str(pb)}
    # an NPS-gap finding becomes a recommendation that names the persona in every language
    from cxaudit.findings import Finding

    gap = Finding(id="personas.nps_gap.2", section="personas", title="x", metric="nps_gap_persona", value=12.0,
                  n=400, severity=3, reach=0.2, evidence={"persona_label": "Price first", "diff": -12.0, "share": 0.2},
                  tags={"personas": ["2"], "touchpoints": ["tp_delivery"]})
    r = next(r for r in recommend([gap]) if r.rule == "personas_nps_gap")
    for lang in ("en", "ru", "pl"):
        assert "Price first" in r.title(lang)


def test_survey_only_audit(demo):
    """No touchpoints, customers or tickets: personas are still made, and each part says what it needed."""
    audit, _ = demo
    only = dataclasses.replace(audit, tables={"responses": audit.responses})
    res = P.analyse(only)
    assert res.model is not None and res.cards is not None
    assert res.channel_use is None and res.switching is None and res.tobe_channels is None
    assert res.cards["revenue_share"].isna().all()
    blocks = P.blocks_omnichannel(only, res, "pl")
    assert any("tabeli punktów styku" in b.data for b in blocks)
    # nothing at all to build personas from
    cfg = only.config.model_copy(update={"personas": only.config.personas.model_copy(update={"use": ["value"]})})
    none = P.analyse(dataclasses.replace(only, config=cfg))
    assert none.model is None and none.needs == ["value", "no_indicators"]
    assert [b.data for b in P.blocks_model(only, none, "en")][-1].count("Personas need") == 1


def test_channel_switching_hand_counted(demo):
    """Three customers, counted by hand: repeat tickets within 7 days in another channel, and survey
    answers followed within 7 days by a ticket in another channel than the answer's."""
    from types import SimpleNamespace

    audit, _ = demo
    ts = pd.Timestamp
    r = pd.DataFrame({"response_id": ["R1", "R2", "R3"], "customer_id": ["C1", "C2", "C3"],
                      "date": [ts("2025-01-01"), ts("2025-01-01"), ts("2025-01-01")], "channel": ["app", "phone", "email"],
                      "nps": [5.0, 9.0, 8.0]})
    tk = pd.DataFrame({"ticket_id": list("abcde"), "customer_id": ["C1", "C1", "C2", "C2", "C3"],
                       "channel": ["phone", "chat", "phone", "email", "email"],
                       "created_at": [ts("2025-01-03"), ts("2025-01-05"), ts("2025-01-02"), ts("2025-01-20"),
                                      ts("2024-12-30")]})
    tiny = dataclasses.replace(audit, tables={"responses": r, "tickets": tk})
    model = SimpleNamespace(labels=pd.Series([1.0, 1.0, 2.0]), k=2)
    sw = P.channel_switching(tiny, model).set_index("persona")
    # C1: b follows a within 2 days in another channel; C2's second ticket is 18 days later; C3 has one
    assert sw.loc[0, ["customers", "n", "switched"]].tolist() == [3, 1, 1]
    assert sw.loc[1, ["customers", "n", "switched"]].tolist() == [2, 1, 1]
    assert sw.loc[2, ["customers", "n", "switched"]].tolist() == [1, 0, 0]
    # R1 (app) -> phone and chat within 7 days: another channel; R2 (phone) -> phone: same; R3's ticket came before
    assert sw.loc[0, ["resp_n", "resp_switched"]].tolist() == [2, 1]
    assert sw.loc[1, ["resp_n", "resp_switched"]].tolist() == [2, 1]
    assert sw.loc[2, "resp_n"] == 0 and np.isnan(sw.loc[2, "resp_share"])


def test_opt_in_rating_and_theme_indicators(demo):
    """``ratings`` and ``themes`` enter the model only when named in personas.use; bands and mentions are
    counted by hand from the ratings and the comments."""
    audit, _ = demo
    r = audit.responses
    cfg = audit.config.personas
    default = P.indicators(dataclasses.replace(audit, config=audit.config.model_copy(
        update={"personas": cfg.model_copy(update={"use": None})})))
    assert not set(default.meta["group"]) & {"ratings", "themes"}
    opt = dataclasses.replace(audit, config=audit.config.model_copy(
        update={"personas": cfg.model_copy(update={"use": ["items", "ratings", "themes"]})}))
    ind = P.indicators(opt)
    assert ind.missing == []
    x = pd.to_numeric(r["tp_delivery"], errors="coerce")
    band = ind.codes["rating:tp_delivery"]
    # 1-5 scale, top box 2: 1-2 bottom, 3 middle, 4-5 top; not used -> not answered
    assert band.isna().sum() == x.isna().sum()
    assert [(band == b).sum() for b in (0, 1, 2)] == [(x <= 2).sum(), (x == 3).sum(), (x >= 4).sum()]
    themes = [c for c in ind.codes.columns if c.startswith("theme:")]
    assert 1 <= len(themes) <= P.MAX_THEMES
    wrote = r["comment"].astype("string").str.strip().fillna("").ne("")
    assert (ind.codes[themes[0]].notna() == wrote).all()
    assert ind.codes[themes[0]].mean() >= ind.codes[themes[-1]].mean()  # the most frequent first
    assert P._feature_label(opt, ind, "rating:tp_delivery", 0, "ru") == "низко оценивает: Home delivery"  # the client file's label
    assert P._feature_label(opt, ind, themes[0], 1, "en").startswith("writes about ")
