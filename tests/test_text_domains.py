"""Open text outside retail (issue 13, problem 6): industry packs, keywords in the sense that fits
(context words, negation), coverage with a warning, cleaning before language detection and topic
discovery, readable topic labels, the draft codeframe, and precision judged by hand on a domain the
packs were not tuned on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cxaudit.text import (
    INDUSTRIES,
    choose_codeframe,
    clean_text,
    code_comments,
    coverage,
    default_codeframe,
    detect_language,
    discover_topics,
    industry_codeframe,
    industry_of,
    load_codeframe,
    stop_words,
    suggest_industry,
)

DATA = Path(__file__).parent / "data" / "voc"


def _coded(texts: list[str], cf: object, lang: str) -> pd.DataFrame:
    return code_comments(pd.Series(texts), cf, pd.Series([lang] * len(texts))).matrix


# --- precision judged by hand on a domain nobody tuned on --------------------------------------------


def _pairs(df: pd.DataFrame, pack: str) -> set[tuple[str, str]]:
    cf = industry_codeframe(pack)
    m = code_comments(df["comment"], cf).matrix
    return {(df["id"].iloc[i], k) for k in cf.keys for i in range(len(df)) if m[k].iloc[i]}


def test_precision_on_untuned_domain_judged_by_hand() -> None:
    """72 comments written before the packs (commit 8e1916a): 60 hospital / clinic reviews in en/ru/pl and
    12 Polish film reviews. Every (comment, theme) the coder assigns was read and judged by hand
    (holdout_judgements.csv: 1 right, 0 wrong); the test recomputes the coding and fails on a pair nobody
    judged, so a change of the coder or the packs needs a new judgement. Measured: the suggested pack
    (public services) 21/23 = 0.91; the retail pack, with which the film reviews went wrong before,
    9/10 = 0.90 (before this change: 10/20 = 0.50, all 7 film codes but one wrong)."""
    df = pd.read_csv(DATA / "holdout_health_film.csv")
    judged = pd.read_csv(DATA / "holdout_judgements.csv")
    assert len(df) >= 50
    suggested = str(suggest_industry(df["comment"])["industry"].iloc[0])
    for pack in dict.fromkeys([suggested, "retail"]):
        truth = {(r.id, r.theme): int(r.correct) for r in judged[judged["pack"] == pack].itertuples()}
        pairs = _pairs(df, pack)
        unjudged = sorted(pairs - set(truth))
        assert not unjudged, f"read and judge these codes of the {pack} pack: {unjudged}"
        right = sum(truth[p] for p in pairs)
        assert len(pairs) >= 10 and right / len(pairs) >= 0.8, (pack, right, len(pairs))
    # the film reviews get (almost) nothing from any pack: no "Returns" for plot twists, no "staff" for a nice film
    films = df[df["domain"] == "film"].reset_index(drop=True)
    assert (suggest_industry(films["comment"])["k"] <= 1).all()


# --- keywords in the sense that fits -------------------------------------------------------------------


def test_plot_twist_is_not_returns() -> None:
    m = _coded(["Świetny film, zwroty akcji trzymają w napięciu.", "Nieoczekiwany zwrot akcji w finale.",
                "Czekam na zwrot pieniędzy za towar od dwóch tygodni.", "Zwrot w sklepie bez problemu, paragon wystarczył."],
               default_codeframe(), "pl")
    assert m["returns_refunds"].tolist() == [False, False, True, True]


def test_kind_words_about_a_film_are_not_friendly_staff() -> None:
    m = _coded(["Miły film na niedzielne popołudnie.", "Główny bohater bardzo sympatyczny.",
                "Pani z obsługi była bardzo miła.", "Bardzo uprzejmy doradca, polecam."], default_codeframe(), "pl")
    assert m["friendly_staff"].tolist() == [False, False, True, True]
    en = _coded(["A friendly little film.", "The staff were friendly."], default_codeframe(), "en")
    assert en["friendly_staff"].tolist() == [False, True]


@pytest.mark.parametrize(("lang", "text", "theme", "expected"), [
    ("en", "The staff were not friendly at all.", "friendly_staff", False),
    ("en", "Staff wasn't polite.", "friendly_staff", False),
    ("pl", "Lekarz nie był miły, pani w rejestracji też nie.", "friendly_staff", False),
    ("ru", "Персонал не вежливый, консультант не помог.", "friendly_staff", False),
    ("ru", "Сотрудники не очень вежливые.", "friendly_staff", False),
    ("en", "No hidden fees, the price was as listed.", "unexpected_fees", False),
    ("ru", "Доставили без задержек, заказ пришёл вовремя.", "late_delivery", False),
    ("pl", "Nie było żadnych opóźnień, paczka przyszła na czas.", "late_delivery", False),
    # a negation in another clause does not reach the keyword
    ("en", "Not cheap, but the staff were friendly.", "friendly_staff", True),
    # complaints said with a negation still count
    ("pl", "Nie da się dodzwonić na infolinię.", "phone_wait", True),
    ("ru", "Не могу дозвониться уже третий день.", "phone_wait", True),
    ("en", "No one answered the phone for an hour.", "phone_wait", True),
    ("en", "The courier never came, the parcel was not delivered.", "late_delivery", True),
])
def test_negation(lang: str, text: str, theme: str, expected: bool) -> None:
    assert bool(_coded([text], default_codeframe(), lang)[theme].iloc[0]) is expected


def test_context_and_negated_too_in_the_codeframe_syntax() -> None:
    cf = load_codeframe({"themes": {"ret": {"polarity": "complaint", "keywords": {"en": ["refund"]},
                                            "ambiguous": {"en": ["return"]}, "context": {"en": ["shop", "item"]},
                                            "negated_too": {"en": ["get through"]}}}})
    m = _coded(["no refund", "return of the jedi", "return the item", "could not get through", "refund given"], cf, "en")
    assert m["ret"].tolist() == [False, False, True, True, True]
    from cxaudit.errors import ConfigError

    with pytest.raises(ConfigError) as exc:
        load_codeframe({"themes": {"x": {"keywords": {"en": ["a"]}, "ambiguous": {"pl": ["b"]}}}})
    assert exc.value.key == "themes.x.context.pl"


# --- packs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_every_pack_has_three_languages_and_its_keywords_match_themselves(industry: str) -> None:
    cf = industry_codeframe(industry)
    assert set(cf.languages) == {"en", "ru", "pl"} and len(cf.keys) >= 7
    for th in cf.themes:
        assert set(th.label) == {"en", "ru", "pl"}, th.key
        assert {lang for lang in ("en", "ru", "pl") if th.keywords.get(lang) or th.ambiguous.get(lang)} == {"en", "ru", "pl"}
        for lang, kws in th.keywords.items():
            hit = _coded([k.replace("&", " , ") for k in kws], cf, lang)[th.key]
            assert hit.all(), (industry, th.key, lang, [k for k, h in zip(kws, hit, strict=True) if not h])


TELECOM_TWEETS = [
    "@megafon_ru опять нет связи второй день https://t.co/AbCdEf1234",
    "@beeline_ru интернет не работает с утра, скорость никакая http://vk.cc/xyzXYZ",
    "RT @tele2_rus: Акция! Подробнее на www.tele2.ru/promo?utm_source=twitter",
    "@mts_support когда починят? связь пропадает каждые 10 минут 😡 https://t.co/x1Y2z3W4v5",
    "@megafon_ru списали деньги за подписку без согласия, верните! https://t.co/Qq11",
    "Мтс подняли тариф уже второй раз за год @mts_ru https://t.co/Zz99",
]


def test_cyrillic_tweets_with_links_and_handles_are_russian() -> None:
    """Before: the Latin letters of links and handles outnumbered the Cyrillic ones and the tweets were
    detected as Polish (all six here gave 'pl' with the code of commit 8e1916a)."""
    assert detect_language(TELECOM_TWEETS).tolist() == ["ru"] * len(TELECOM_TWEETS)
    assert clean_text(TELECOM_TWEETS[3]) == "когда починят? связь пропадает каждые минут"


def test_pack_choice_config_client_industry_and_coverage(tmp_path: Path) -> None:
    class Cfg:
        def __init__(self, industry: str | None, client_industry: str | None) -> None:
            self.text = type("T", (), {"industry": industry})()
            self.client = type("C", (), {"industry": client_industry})()

    class Audit:
        def __init__(self, industry: str | None, client_industry: str | None) -> None:
            self.dir = tmp_path
            self.config = Cfg(industry, client_industry)

    assert choose_codeframe(Audit("banking", "Retail"), TELECOM_TWEETS).industry == "banking"
    chosen = choose_codeframe(Audit(None, "Telecommunications"), TELECOM_TWEETS)
    assert (chosen.how, chosen.industry) == ("client_industry", "telecom")
    by_cov = choose_codeframe(Audit(None, None), TELECOM_TWEETS)
    assert (by_cov.how, by_cov.industry) == ("coverage", "telecom")
    assert by_cov.coverage["k"].iloc[0] > by_cov.coverage["k"].iloc[1]
    assert industry_of("Mining") is None
    (tmp_path / "codeframe.yaml").write_text("themes:\n  x: {keywords: {en: [y]}}\n", encoding="utf-8")
    assert choose_codeframe(Audit("banking", None), TELECOM_TWEETS).how == "client_file"


# --- coverage --------------------------------------------------------------------------------------------


def test_coverage_per_language_warns_under_threshold() -> None:
    """The Polish film reviews coded with the retail pack: 2 % coded before, no warning; now the share is
    reported per language and flagged under 30 %."""
    df = pd.read_csv(DATA / "holdout_health_film.csv")
    films = df.loc[df["domain"] == "film", "comment"].tolist()
    shop = ["Kurier spóźnił się dwa dni z paczką.", "Infolinia: czekałam 40 minut na połączenie.",
            "Zwrot pieniędzy za towar trwał miesiąc."]
    texts = pd.Series(films + shop + ["The parcel was late again."] + ["Доставка задержалась на неделю, посылка в пути."])
    cf = default_codeframe()
    cov = coverage(code_comments(texts, cf), cf).set_index("lang")
    assert cov.loc["pl", "n"] == 15 and cov.loc["pl", "k"] == 4     # 3 shop comments + 1 film (picture quality)
    assert cov.loc["pl", "low"] and not cov.loc["en", "low"] and not cov.loc["ru", "low"]
    assert cov.loc["all", "n"] == 17 and cov.loc["all", "k"] == 6
    assert cov.loc["pl", "ci_low"] < 4 / 15 < cov.loc["pl", "ci_high"]


# --- topics ----------------------------------------------------------------------------------------------


def test_topics_without_links_or_stop_words_and_with_readable_labels() -> None:
    base = [
        "@user{i} ну вот опять это кино https://t.co/a{i}b сериал финал сериала разочаровал, сценарий слабый",
        "@fan{i} актёр играет отлично, режиссёр молодец, фильм понравился http://bit.ly/{i}x",
        "RT @kino{i}: сериал сезон финал сценарий так себе https://t.co/{i}zz",
        "@club{i} фильм актёр режиссёр премьера в кино очень понравился 👍 www.kino.ru/{i}",
    ]
    texts = pd.Series([b.format(i=i) for i in range(30) for b in base])
    cf = default_codeframe()
    coding = code_comments(texts, cf)
    assert (coding.lang == "ru").all()
    topics = discover_topics(coding, texts, min_docs=40)
    assert len(topics) >= 2
    stop = stop_words("ru")
    for terms, label in zip(topics["terms"], topics["label"], strict=True):
        words = " ".join(terms).split()
        assert not {"http", "https", "co", "bit", "ly", "www", "rt", "kino", "user"} & set(words), terms
        assert not stop & set(words), terms
        lab = [w.strip() for w in label.split(",")]
        assert 2 <= len(lab) <= 3 and len(set(lab)) == len(lab) and not stop & set(lab), label
        for t in terms:  # no "okay, okay like": a bigram never repeats words already listed before it
            assert len(set(t.split())) == len(t.split())


# --- the draft codeframe ---------------------------------------------------------------------------------


def test_codeframe_suggest_writes_a_draft_and_never_the_codeframe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cxaudit.cli import main

    home = tmp_path / "home"
    client = home / "data" / "films"
    client.mkdir(parents=True)
    rows = []
    base = ["Świetny film, aktorzy grają znakomicie, scenariusz dopracowany.",
            "Serial się dłuży, kolejny sezon to strata czasu, scenariusz słaby.",
            "Muzyka i zdjęcia piękne, reżyser zrobił świetną robotę.",
            "Aktorzy sztuczni, dialogi słabe, fabuła przewidywalna, szkoda czasu."]
    for i in range(25):
        for j, b in enumerate(base):
            rows.append(f"R{i}_{j},2025-01-{1 + i % 28:02d},{(i + j) % 11},\"{b}\"")
    (client / "r.csv").write_text("response_id,date,nps,comment\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (client / "audit.yaml").write_text("client: {name: Films, language: pl}\ninputs:\n  responses: {file: r.csv}\n",
                                       encoding="utf-8")
    own = "themes:\n  mine: {keywords: {pl: [film]}}\n"
    monkeypatch.setenv("CXAUDIT_HOME", str(home))
    res = CliRunner().invoke(main, ["codeframe", "suggest", "films"])
    assert res.exit_code == 0, res.output
    draft = client / "codeframe.draft.yaml"
    cf = load_codeframe(draft)
    topics = [th for th in cf.themes if th.key.startswith("topic_pl_")]
    assert topics and all(th.polarity == "neutral" and th.keywords["pl"] for th in topics)
    assert not (client / "codeframe.yaml").exists()
    # with a codeframe.yaml present, it is the base and stays untouched
    (client / "codeframe.yaml").write_text(own, encoding="utf-8")
    res = CliRunner().invoke(main, ["codeframe", "suggest", "films"])
    assert res.exit_code == 0, res.output
    assert (client / "codeframe.yaml").read_text(encoding="utf-8") == own
    assert "mine" in load_codeframe(draft).keys


# --- themes compared on the survey's outcome when there is no NPS (issue 13 follow-up) --------------


def _outcome_survey() -> tuple[pd.DataFrame, object]:
    """200 respondents, a binary outcome; planted: 40 of the 80 not satisfied write about late delivery,
    6 of the 120 satisfied do; everyone else writes a comment that codes nothing."""
    from cxaudit.config import AuditConfig

    sat = ["not satisfied"] * 80 + ["satisfied"] * 120
    text = (["The delivery was late again"] * 40 + ["Nothing to add"] * 40
            + ["The delivery was late again"] * 6 + ["Nothing to add"] * 114)
    r = pd.DataFrame({"response_id": range(1, 201), "sat": sat, "comment": text})
    cfg = AuditConfig.model_validate({"client": {"name": "A"}, "inputs": {"responses": {"file": "r.csv"}},
                                      "outcome": {"column": "sat", "positive": ["satisfied"], "label": "Happy flyers"}})
    return r, cfg


def test_themes_compared_low_vs_high_on_a_binary_outcome() -> None:
    from scipy.stats import fisher_exact

    from cxaudit.outcome import resolve
    from cxaudit.text import analyse_comments, group_labels, voc_findings

    r, cfg = _outcome_survey()
    res = analyse_comments(r, default_codeframe(), lang="en", outcome=resolve(cfg, r), names=[])
    assert res.basis == "outcome"
    row = res.table.set_index("theme").loc["late_delivery"]
    assert (row["n_det"], row["k_det"], row["n_prom"], row["k_prom"]) == (80, 40, 120, 6)
    assert row["lift"] == pytest.approx((40 / 80) / (46 / 200))  # P(theme | low) / P(theme), by hand
    assert row["p_value"] == pytest.approx(fisher_exact([[40, 40], [6, 114]])[1])
    low, high = group_labels(res, "en")
    assert (low, high) == ("Happy flyers: no", "Happy flyers: yes")
    found = {f.id: f for f in voc_findings(res, "en")}
    f = found["voc.theme.late_delivery"]
    assert f.severity == 4  # lift 2.17: 2 <= lift < 2.5
    assert "Happy flyers: no" in f.title and "detractor" not in f.title.casefold()
    assert f.evidence["basis"] == "outcome" and "Happy flyers" in f.evidence["outcome_label"]
    assert "detractor_share_of_mentions" not in f.evidence
    assert f.evidence["low_share_of_mentions"] == pytest.approx(40 / 46)


def test_scale_outcome_groups_and_nps_unchanged() -> None:
    from cxaudit.outcome import OutcomeInfo
    from cxaudit.text import analyse_comments, outcome_groups

    csat = OutcomeInfo("csat", "scale", "csat", 1, 5, 2)  # top-2 box: 4-5 is high
    g = outcome_groups(csat, pd.DataFrame({"csat": [5, 4, 3, 1, None]}))
    assert g.tolist() == ["high", "high", "low", "low", None]
    # NPS as the outcome gives exactly the detractor / promoter table it gave before
    r = pd.DataFrame({"response_id": range(6), "nps": [0, 3, 6, 8, 9, 10],
                      "comment": ["delivery late", "delivery late", "ok", "ok", "ok", "delivery late"]})
    nps = OutcomeInfo("nps", "nps", "nps", 0, 10)
    a = analyse_comments(r, default_codeframe(), lang="en", outcome=nps, names=[]).table
    b = analyse_comments(r, default_codeframe(), lang="en", names=[]).table
    pd.testing.assert_frame_equal(a, b)
    row = a.set_index("theme").loc["late_delivery"]
    assert (row["n_det"], row["k_det"], row["n_prom"], row["k_prom"]) == (3, 2, 2, 1)


def test_without_any_score_themes_are_findings_by_frequency() -> None:
    from statsmodels.stats.proportion import proportion_confint

    from cxaudit.text import FREQUENCY_SEVERITY, analyse_comments, voc_findings

    text = ["The delivery was late again"] * 30 + ["Hidden fees at checkout"] * 4 + ["Nothing to add"] * 66
    r = pd.DataFrame({"response_id": range(100), "comment": text})
    res = analyse_comments(r, default_codeframe(), lang="en", names=[])
    assert res.basis == "frequency"
    assert not res.table["significant"].any() and res.table["lift"].isna().all()
    found = voc_findings(res, "en")
    assert [f.id for f in found] == ["voc.theme.late_delivery"]  # fees: 4 mentions, under the minimum of 10
    f = found[0]
    lo, hi = proportion_confint(30, 100, method="wilson")
    assert (f.value, f.n, f.severity) == (pytest.approx(30.0), 100, FREQUENCY_SEVERITY)
    assert (f.ci_low, f.ci_high) == (pytest.approx(100 * lo), pytest.approx(100 * hi))
    assert f.evidence["basis"] == "frequency" and "frequency" in f.title


def test_theme_found_without_nps_gets_no_invented_nps_impact() -> None:
    """A theme finding with no NPS behind it (frequency-based here) becomes a recommendation whose
    impact is not in NPS points: the enabler model, not the overall-detractor-share assumption."""
    from cxaudit.recommend import impact_text, recommend
    from cxaudit.text import analyse_comments, voc_findings

    r = pd.DataFrame({"response_id": range(100),
                      "comment": ["The delivery was late again"] * 30 + ["Nothing to add"] * 70})
    found = voc_findings(analyse_comments(r, default_codeframe(), lang="en", names=[]), "en")
    recs = [x for x in recommend(found) if any(e["id"] == "voc.theme.late_delivery" for e in x.evidence)]
    assert recs and all(x.impact_model == "none" and x.impact_nps == 0.0 for x in recs)
    assert "NPS" not in impact_text(recs[0], "en")
