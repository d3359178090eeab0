"""Open-text coding: normalisation, language detection, the codeframe, planted themes recovered in
the demo (en, ru) and on hand-written Polish comments, themes × NPS statistics against hand
computations and published values, topic discovery and quotes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxaudit.audit import load_audit
from cxaudit.demo import PLANTED, generate_demo
from cxaudit.errors import ConfigError, DataError
from cxaudit.text import (
    analyse_comments,
    code_comments,
    default_codeframe,
    detect_language,
    discover_topics,
    holm,
    katz_rr_ci,
    load_codeframe,
    newcombe_diff_ci,
    normalize,
    representative_quotes,
    theme_table,
    tokenize,
    voc_findings,
)

DATA = Path(__file__).parent / "data" / "voc"
PLANTED_THEMES = ["late_delivery", "phone_wait", "unexpected_fees", "friendly_staff", "easy_app"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = {}
    for lang, size in (("en", "default"), ("ru", "small")):  # default size: enough uncoded comments for discovery
        folder = generate_demo(tmp_path_factory.mktemp(f"demo_{lang}"), size=size, lang=lang)
        audit = load_audit(folder)
        out[lang] = (audit, analyse_comments(audit.responses, lang=lang, touchpoints=audit.table("touchpoints")))
    return out


# --- tokens, normalisation, language ---------------------------------------------------------------


def test_inflected_forms_share_one_normal_form() -> None:
    groups = {
        "ru": [["доставка", "доставки", "доставку", "доставкой"], ["задержали", "задержалась", "задержать"],
               ["ждал", "ждала", "ждать"], ["комиссия", "комиссию", "комиссии"], ["пришёл", "пришла", "прийти"]],
        "pl": [["opłata", "opłaty", "opłatę", "opłat"], ["kurier", "kuriera", "kurierem"],
               ["czekałem", "czekałam", "czekania"], ["infolinia", "infolinii", "infolinię"],
               ["opóźniona", "opóźnioną", "opóźnić"], ["aplikacja", "aplikacji", "aplikację"]],
        "en": [["delay", "delayed", "delays"], ["fee", "fees"], ["wait", "waited", "waiting"]],
    }
    for lang, gs in groups.items():
        for g in gs:
            assert len({normalize(w, lang) for w in g}) == 1, (lang, g, [normalize(w, lang) for w in g])
    # English keeps derivations apart (no Porter stemming): "friendly" is not "friends"
    assert normalize("friendly", "en") != normalize("friends", "en")
    assert tokenize("Посылку задержали на 5 дней, ёлки!") == ["посылку", "задержали", "на", "дней", "елки"]


def test_language_detection() -> None:
    texts = ["Доставка опять задержалась", "Paczka dotarła za późno", "The parcel was late again",
             "Dzieki, wszystko ok", "Доставка затрималася на три дні, і ніхто не відповідав на дзвінки.",
             "Die Lieferung kam drei Tage zu spät und niemand hat sich gemeldet.", "12345 !!!", ""]
    assert detect_language(texts).tolist() == ["ru", "pl", "en", "pl", "uk", "de", None, None]
    # restricted to one Latin language, every Latin text gets it
    assert detect_language(["Great app", "Dobre ceny"], languages=("pl",)).tolist() == ["pl", "pl"]


# --- codeframe --------------------------------------------------------------------------------------


def test_codeframe_syntax_phrase_and_cooccurrence() -> None:
    cf = load_codeframe({"themes": {
        "hold": {"polarity": "complaint", "keywords": {"en": ["on hold"]}},
        "app_easy": {"polarity": "praise", "keywords": {"en": ["app & easy"]}, "exclude": {"en": ["crash"]}},
    }})
    texts = pd.Series(["I was on hold forever", "hold on, I was on the line", "The app is easy",
                       "easy to order, great app", "easy app but it crashes", "the app"])
    m = code_comments(texts, cf, pd.Series(["en"] * 6)).matrix
    assert m["hold"].tolist() == [True, False, False, False, False, False]
    assert m["app_easy"].tolist() == [False, False, True, True, False, False]


@pytest.mark.parametrize(("spec", "key"), [
    ({"themes": {"x": {"polarity": "bad", "keywords": {"en": ["a"]}}}}, "themes.x.polarity"),
    ({"themes": {"x": {"keywords": {}}}}, "themes.x.keywords"),
    ({"themes": {"x": {"keywords": {"en": ["ok", " & late"]}}}}, "themes.x.keywords.en"),
    ({"themes": {"x": {"keywords": {"en": ["a"]}, "stages": ["checkout"]}}}, "themes.x.stages"),
    ({"themes": {"x": {"keywords": {"en": ["a"]}, "keywrods": 1}}}, "themes.x.keywrods"),
    ({"theme": {}}, "themes"),
])
def test_codeframe_errors_name_the_key(spec: dict, key: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_codeframe(spec)
    assert exc.value.key == key


def test_default_codeframe_covers_three_languages() -> None:
    cf = default_codeframe()
    assert set(cf.languages) == {"en", "ru", "pl"}
    assert set(PLANTED_THEMES) <= set(cf.keys)
    assert {th.key for th in cf.themes if th.polarity == "complaint"} >= set(PLANTED["themes"]["complaints"])


# --- planted themes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_planted_themes_recovered_in_demo(demo: dict, lang: str) -> None:
    audit, res = demo[lang]
    text = res.comments["text"]
    for theme, pattern in PLANTED["themes"]["patterns"][lang].items():
        truth = text.str.contains(pattern, case=False, regex=True).to_numpy()
        got = res.coding.matrix[theme].to_numpy()
        recall = (truth & got).sum() / truth.sum()
        precision = (truth & got).sum() / got.sum()
        assert recall >= 0.98 and precision >= 0.98, (theme, recall, precision)
    tab = res.table.set_index("theme")
    for theme in PLANTED["themes"]["complaints"]:
        row = tab.loc[theme]
        assert row["significant"] and row["lift"] > 1.8
        assert row["det_share_of_mentions"] >= PLANTED["themes"]["min_detractor_share"]
        assert row["lift_low"] <= row["lift"] <= row["lift_high"]
    for theme in PLANTED["themes"]["praise"]:
        assert tab.loc[theme, "lift"] < 0.2 and tab.loc[theme, "share_prom"] > 0.2
    findings = {f.id: f for f in voc_findings(res, lang, audit.table("touchpoints"))}
    for theme in PLANTED["themes"]["complaints"]:
        f = findings[f"voc.theme.{theme}"]
        assert f.severity >= 4 and 0 < f.reach < f.value / 100 and f.tags["themes"] == [theme]
    assert not any(k.endswith(("friendly_staff", "easy_app")) for k in findings)
    assert findings["voc.theme.late_delivery"].tags["touchpoints"] == ["tp_delivery", "tp_order_tracking"]
    assert findings["voc.theme.phone_wait"].tags["channels"] == ["phone"]
    assert (res.comments["lang"] == lang).all()


def _score(path: Path) -> tuple[int, int, int, list[str]]:
    df = pd.read_csv(path, keep_default_na=False)
    res = code_comments(df["comment"], default_codeframe())
    assert (res.lang == "pl").all()
    tp = fp = fn = 0
    wrong = []
    for i, row in df.iterrows():
        expected = set(filter(None, row["themes"].split(";")))
        got = {k for k in PLANTED_THEMES if res.matrix.loc[i, k]}
        tp, fp, fn = tp + len(expected & got), fp + len(got - expected), fn + len(expected - got)
        if expected != got:
            wrong.append(row["comment"])
    return tp, fp, fn, wrong


def test_polish_fixture_comments() -> None:
    """42 hand-written Polish comments (inflected, both genders, negatives with the same words)."""
    tp, fp, fn, wrong = _score(DATA / "pl_comments.csv")
    assert (fp, fn) == (0, 0), wrong
    assert tp == 34


def test_polish_holdout_comments() -> None:
    """25 more comments written after the codeframe was tuned on the first set and never used to tune it:
    measured recall 17/19, no false positive (bar fixed before the first run: recall ≥ 0.8, precision ≥ 0.9)."""
    tp, fp, fn, _ = _score(DATA / "pl_holdout.csv")
    assert tp / (tp + fn) >= 0.8
    assert tp / (tp + fp) >= 0.9


# --- statistics --------------------------------------------------------------------------------------


def test_theme_table_against_hand_computation() -> None:
    # 10 detractors (4 mention), 4 passives (1), 6 promoters (0)
    nps = pd.Series([3] * 10 + [7] * 4 + [10] * 6)
    mention = pd.Series([True] * 4 + [False] * 6 + [True] + [False] * 3 + [False] * 6)
    cf = load_codeframe({"themes": {"t": {"polarity": "complaint", "keywords": {"en": ["x"]}}}})
    tab = theme_table(pd.DataFrame({"t": mention}), nps, cf, "en", n_respondents=40).iloc[0]
    assert tab["share"] == 5 / 20 and tab["share_det"] == 0.4 and tab["share_prom"] == 0.0
    assert tab["lift"] == pytest.approx(0.4 / 0.25)             # P(t|det) / P(t)
    assert tab["reach"] == 5 / 40
    # Fisher exact, two-sided, table [[4, 6], [1, 9]] by hand: P(X = k) = C(5,k) C(15,10-k) / C(20,10)
    probs = [math.comb(5, k) * math.comb(15, 10 - k) / math.comb(20, 10) for k in range(6)]
    p_obs = probs[4]
    assert tab["p_value"] == pytest.approx(sum(p for p in probs if p <= p_obs * (1 + 1e-7)))
    # Katz: RR = (4/10)/(1/10) = 4, SE = sqrt(1/4 - 1/10 + 1/1 - 1/10) = sqrt(1.05)
    rr, lo, hi = katz_rr_ci(np.array([4]), np.array([10]), np.array([1]), np.array([10]))
    assert rr[0] == 4 and lo[0] == pytest.approx(4 * math.exp(-1.959964 * math.sqrt(1.05)), rel=1e-6)
    # lift interval = RR interval mapped by 1 / (π + (1 − π)/RR), π = 10/20
    assert tab["lift_low"] == pytest.approx(1 / (0.5 + 0.5 / lo[0]))
    assert tab["lift_high"] == pytest.approx(1 / (0.5 + 0.5 / hi[0]))


def test_newcombe_published_values() -> None:
    # Newcombe (1998) Stat Med 17:873, Table II, method 10: 56/70 − 48/80 -> (0.0524, 0.3339);
    # 9/10 − 3/10 -> (0.1705, 0.8090). R: DescTools::BinomDiffCI(56, 70, 48, 80, method = "score")
    lo, hi = newcombe_diff_ci(np.array([56, 9]), np.array([70, 10]), np.array([48, 3]), np.array([80, 10]))
    assert lo.round(4).tolist() == [0.0524, 0.1705]
    assert hi.round(4).tolist() == [0.3339, 0.8090]


def test_holm_matches_r() -> None:
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") -> 0.03 0.06 0.06 0.02
    assert holm([0.01, 0.04, 0.03, 0.005]).round(4).tolist() == [0.03, 0.06, 0.06, 0.02]
    assert np.isnan(holm([np.nan, 0.01])[0])


# --- discovery, quotes ------------------------------------------------------------------------------


def test_topic_discovery_finds_uncoded_theme_and_is_seeded(demo: dict) -> None:
    _, res = demo["en"]
    again = discover_topics(res.coding, res.comments["text"], seed=20261124)
    pd.testing.assert_frame_equal(res.topics, again)
    # the demo's "website search" complaint is not in the codeframe: discovery proposes it
    assert any({"search", "website"} <= set(" ".join(terms).split()) for terms in res.topics["terms"])
    assert res.topics["n"].sum() <= (~res.coding.any).sum()


def test_quotes_are_redacted_and_typical() -> None:
    cf = load_codeframe({"themes": {"late": {"polarity": "complaint", "keywords": {"en": ["late"]}}}})
    texts = pd.Series(["Parcel late, write to jan.kowalski@example.com", "Late again, call +48 601 234 567",
                       "late late late delivery", "Thanks Anna Nowak", "nothing"])
    coding = code_comments(texts, cf, pd.Series(["en"] * 5))
    quotes = representative_quotes(coding, texts, "late", n=3, names=["Anna Nowak"])
    joined = " ".join(quotes)
    assert len(quotes) == 3 and "@" not in joined and "601" not in joined
    assert "[EMAIL]" in joined and "[PHONE]" in joined


def test_missing_comment_column_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="comment"):
        analyse_comments(pd.DataFrame({"response_id": ["R1"], "nps": [5]}))


def test_doctests_of_the_voc_modules() -> None:
    import doctest

    import cxaudit.text
    import cxaudit.tickets

    for mod in (cxaudit.text, cxaudit.tickets):
        assert doctest.testmod(mod).failed == 0
