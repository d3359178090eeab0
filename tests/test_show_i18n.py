"""Catalogs agree across languages; numbers are formatted per locale; display blocks are escaped.

Expected strings are written out by hand with their characters named: U+00A0 (no-break space) is
the thousands separator and the space before "%" in ru/pl; U+2212 is the minus sign.
"""

from __future__ import annotations

import datetime as dt
import re
import string

import pandas as pd
import pytest

from cxaudit import show
from cxaudit.config import AuditConfig
from cxaudit.i18n import (
    CODED_COLUMNS,
    LANGUAGES,
    catalog,
    fmt_ci,
    fmt_date,
    fmt_int,
    fmt_month,
    fmt_num,
    fmt_pct,
    fmt_period,
    t,
    value_label,
)

NBSP = "\u00a0"
MINUS = "\u2212"
XSS = "<script>alert(1)</script>"


def _placeholders(text: str) -> set[str]:
    """Field names of a str.format template (raises ValueError on a stray brace)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# --- catalogs ------------------------------------------------------------------------------------


def test_languages():
    assert LANGUAGES == ("en", "ru", "pl")


@pytest.mark.parametrize("lang", ["ru", "pl"])
def test_catalog_keys_identical(lang):
    en, other = set(catalog("en")), set(catalog(lang))
    assert other - en == set(), f"keys only in {lang}.yaml"
    assert en - other == set(), f"keys missing from {lang}.yaml"


@pytest.mark.parametrize("lang", ["ru", "pl"])
def test_catalog_placeholders_identical(lang):
    en, other = catalog("en"), catalog(lang)
    diff = {k: (_placeholders(en[k]), _placeholders(other[k])) for k in en if _placeholders(en[k]) != _placeholders(other[k])}
    assert diff == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_formats_with_its_placeholders(lang):
    for key, text in catalog(lang).items():
        fields = _placeholders(text)
        out = t(key, lang, **{f: f"<{f}>" for f in fields}) if fields else t(key, lang)
        assert "{" not in out and "}" not in out, key
        assert out.strip(), f"{lang}:{key} is empty"


def test_catalog_sanity():
    assert t("report.toc", "en") == "Contents"
    assert t("report.toc", "pl") == "Spis treści"
    assert t("report.toc", "ru") == "Содержание"
    assert t("report.small_base", "en", min=30) == "Base below 30: interpret with caution."
    with pytest.raises(KeyError):
        t("no.such.key", "en")
    with pytest.raises(KeyError, match="unknown report language 'de'"):
        catalog("de")


# --- number formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "1,234,567.9"), ("ru", f"1{NBSP}234{NBSP}567,9"), ("pl", f"1{NBSP}234{NBSP}567,9")],
)
def test_fmt_num_separators(lang, expected):
    assert fmt_num(1234567.89, lang, 1) == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", f"{MINUS}1,234.57"), ("ru", f"{MINUS}1{NBSP}234,57"), ("pl", f"{MINUS}1{NBSP}234,57")],
)
def test_fmt_num_real_minus_sign(lang, expected):
    out = fmt_num(-1234.567, lang, 2)
    assert out == expected
    assert "-" not in out  # never the hyphen-minus U+002D


def test_fmt_num_details():
    assert fmt_num(0.5, "en", 0) == "0"  # round half to even, as Python's format
    assert fmt_num(-0.04, "en", 1) == "0.0"  # rounds to zero: no "−0.0"
    assert fmt_num(3.25, "ru", 1, sign=True) == "+3,2"
    assert fmt_num(-3.25, "ru", 1, sign=True) == f"{MINUS}3,2"
    assert fmt_num(0.0, "pl", 1, sign=True) == "0,0"
    assert fmt_num(None, "en") == "–"
    assert fmt_num(float("nan"), "ru") == "–"
    assert fmt_int(12345, "en") == "12,345"
    assert fmt_int(12345, "pl") == f"12{NBSP}345"


@pytest.mark.parametrize(
    ("lang", "d0", "d1"),
    [("en", "42%", "42.4%"), ("ru", f"42{NBSP}%", f"42,4{NBSP}%"), ("pl", f"42{NBSP}%", f"42,4{NBSP}%")],
)
def test_fmt_pct(lang, d0, d1):
    # share 0.4237 -> 42.37 % -> "42" (0 decimals), "42.4" / "42,4" (1 decimal)
    assert fmt_pct(0.4237, lang) == d0
    assert fmt_pct(0.4237, lang, 1) == d1
    assert fmt_pct(None, lang) == "–"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", f"[{MINUS}12.3; 45.7]"), ("ru", f"[{MINUS}12,3; 45,7]"), ("pl", f"[{MINUS}12,3; 45,7]")],
)
def test_fmt_ci(lang, expected):
    assert fmt_ci(-12.34, 45.67, lang, 1) == expected


def test_fmt_ci_scaled_and_missing():
    # shares .305742 / .863156 × 100 with 0 decimals -> [31; 86]
    assert fmt_ci(0.305742, 0.863156, "pl", 0, scale=100) == "[31; 86]"
    assert fmt_ci(None, None, "en") == "[–; –]"


def test_fmt_date():
    d = dt.date(2026, 11, 24)
    assert fmt_date(d, "en") == "24 November 2026"
    assert fmt_date(d, "ru") == f"24 ноября 2026{NBSP}г."
    assert fmt_date(d, "pl") == "24 listopada 2026"
    # a datetime, a pandas Timestamp or an ISO string give the same (the churn window is a Timestamp)
    for same in (dt.datetime(2026, 11, 24, 15, 30), pd.Timestamp("2026-11-24 15:30"), "2026-11-24"):
        assert fmt_date(same, "ru") == f"24 ноября 2026{NBSP}г."


@pytest.mark.parametrize(("lang", "nov", "may"), [("en", "Nov", "May"), ("ru", "ноя", "май"), ("pl", "lis", "maj")])
def test_fmt_month(lang, nov, may):
    for m in ("2025-11", dt.date(2025, 11, 3), pd.Timestamp("2025-11-30"), pd.Period("2025-11", "M")):
        assert fmt_month(m, lang) == f"{nov}{NBSP}2025"
    assert fmt_month("2026-05", lang) == f"{may}{NBSP}2026"
    assert fmt_month("not a month", lang) == "not a month" and fmt_month("2025-13", lang) == "2025-13"


def test_fmt_period():
    assert fmt_period("2025-11", "ru") == f"ноя{NBSP}2025"
    # ISO weeks as pandas writes them: within a month, across months, across years
    assert fmt_period("2025-11-03/2025-11-09", "ru") == f"3–9{NBSP}ноя{NBSP}2025"
    assert fmt_period("2025-10-27/2025-11-02", "en") == f"27{NBSP}Oct – 2{NBSP}Nov{NBSP}2025"
    assert fmt_period("2025-12-29/2026-01-04", "pl") == f"29{NBSP}gru{NBSP}2025 – 4{NBSP}sty{NBSP}2026"
    assert fmt_period(str(pd.Period("2025-11-05", "W")), "en") == f"3–9{NBSP}Nov{NBSP}2025"
    assert fmt_period("2025-11-03", "pl") == "3 listopada 2025"
    assert fmt_period("Q4", "en") == "Q4" and fmt_period(None, "en") == "–"


# --- coded values from the data ----------------------------------------------------------------------


def test_one_channel_catalog():
    """Channel names live in one place (values.yaml): no section catalog names a channel itself."""
    for lang in LANGUAGES:
        own = [k for k in catalog(lang) if re.match(r"^(journey|voc|tobe|metrics|quality)\.channel\.", k)]
        assert own == [], own
        assert value_label("channel", "app", lang) == value_label("channel", "APP ", lang)


@pytest.mark.parametrize(
    ("lang", "app", "social", "email"),
    [("en", "Mobile app", "Social media", "E-mail"), ("ru", "Мобильное приложение", "Соцсети", "Электронная почта"),
     ("pl", "Aplikacja mobilna", "Media społecznościowe", "E-mail")],
)
def test_value_label_channels(lang, app, social, email):
    assert value_label("channel", "app", lang) == app
    assert value_label("channel", "social", lang) == social
    # other ways the data writes a channel
    assert value_label("channel", "E-mail", lang) == email == value_label("channel", "mail", lang)
    assert value_label("sla_channel", "Facebook", lang) == social
    # inside a sentence: as the catalog writes it (lower case except names and acronyms)
    assert value_label("channel", "social", lang, inline=True) == social[0].lower() + social[1:]
    assert value_label("channel", "sms", lang, inline=True) == "SMS" == value_label("channel", "sms", lang)
    # unknown codes and columns that are not coded: the value as in the data
    assert value_label("channel", "kiosk", lang) == "kiosk"
    assert value_label("region", "app", lang) == "app"
    assert value_label("channel", None, lang) == value_label("channel", float("nan"), lang) == "–"


def test_value_label_languages_and_client_labels():
    assert value_label("lang", "ru", "ru") == "Русский" and value_label("lang", "ru", "ru", inline=True) == "русский"
    assert value_label("language", "pl", "en") == "Polish" == value_label("language", "pl", "en", inline=True)
    assert value_label("lang", "pl", "pl") == "Polski" and value_label("lang", "xx", "pl") == "xx"
    assert set(CODED_COLUMNS.values()) == {"channel", "language", "stage"}
    # the client's labels (audit.yaml value_labels) win over the catalog, for any column
    labels = {"app": "Northwind App", "North": "Północ"}
    assert value_label("channel", "app", "pl", labels=labels) == "Northwind App"
    assert value_label("channel", "app", "pl", labels=labels, inline=True) == "Northwind App"
    assert value_label("region", "North", "pl", labels=labels) == "Północ"
    assert value_label("channel", "site", "pl", labels=labels) == "Strona internetowa"


# the nine default stages as the report has always named them (journey, VoC and TO-BE alike)
STAGE_NAMES = {
    "en": ["Awareness", "Consideration", "Interest", "Intent", "Purchase", "Post-purchase", "Retention", "Advocacy",
           "Loyalty"],
    "ru": ["Осведомлённость", "Рассмотрение", "Интерес", "Намерение", "Покупка", "После покупки", "Удержание",
           "Рекомендации", "Лояльность"],
    "pl": ["Świadomość", "Rozważanie", "Zainteresowanie", "Zamiar zakupu", "Zakup", "Po zakupie", "Utrzymanie",
           "Polecanie", "Lojalność"],
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_one_stage_catalog(lang):
    """Stage names live in one place (values.yaml, value.stage.<id>), named by value_label for every
    section: the journey notebook, VoC and the TO-BE texts and journey map (recommend.tag_label)."""
    from cxaudit.config import STAGES
    from cxaudit.recommend import tag_label

    assert [k for k in catalog(lang) if re.match(r"^[a-z_]+\.stage\.", k) and not k.startswith("value.")] == []
    assert sorted(k.removeprefix("value.stage.") for k in catalog(lang) if k.startswith("value.stage.")) \
        == sorted(STAGES)
    assert [value_label("stage", s, lang) for s in STAGES] == STAGE_NAMES[lang]
    assert [tag_label("stages", s, lang) for s in STAGES] == STAGE_NAMES[lang]
    assert value_label("stages", " Post-Purchase", lang) == STAGE_NAMES[lang][5]
    assert value_label("stage", "post-purchase", lang, inline=True) == catalog(lang)["value.stage.post-purchase"]
    # a custom stage keeps its id (tag_label makes an id readable); a missing one is a dash
    assert value_label("stage", "unboxing", lang) == "unboxing" and value_label("stage", None, lang) == "–"
    assert tag_label("stages", "after_sale", lang) == "after sale"
    # the client's own names (audit.yaml value_labels.stage) win
    cfg = AuditConfig.model_validate({"client": {"name": "Acme"}, "inputs": {"responses": {"file": "r.csv"}},
                                      "value_labels": {"stage": {"retention": "Renewal"}}})
    assert cfg.value_label("stage", "retention", lang) == "Renewal"
    assert cfg.value_label("stage", "loyalty", lang) == STAGE_NAMES[lang][8]


def test_config_value_labels():
    cfg = AuditConfig.model_validate({
        "client": {"name": "Acme", "language": "ru"}, "inputs": {"responses": {"file": "r.csv"}},
        "value_labels": {"channel": {"app": "Приложение «Акме»"}, "region": {1: "Север", 2: "Юг"}},
    })
    assert cfg.value_labels["region"] == {"1": "Север", "2": "Юг"}  # YAML numbers are text in the data
    assert cfg.value_label("channel", "app", "ru") == "Приложение «Акме»"
    assert cfg.value_label("channel", "chat", "ru") == "Чат"
    assert cfg.value_label("region", "2", "ru") == "Юг" and cfg.value_label("region", "3", "ru") == "3"
    plain = AuditConfig.model_validate({"client": {"name": "Acme"}, "inputs": {"responses": {"file": "r.csv"}}})
    assert plain.value_labels == {} and plain.value_label("channel", "store", "pl") == "Sklep"


# --- display blocks ------------------------------------------------------------------------------


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": [XSS, "North", "South"],
            "n": [12, 250, 31],
            "value": [-3.25, 1234.5, 40.0],
            "lo": [-20.0, 1200.0, 30.0],
            "hi": [15.5, 1260.0, 50.0],
            "small_base": [True, False, False],
        }
    )


def _cols() -> list[show.Col]:
    return [
        show.Col("segment", XSS),  # a header that is not a catalog key is shown as given
        show.Col("n", "metrics.col_n", "int"),
        show.Col("value", "metrics.col_value", "num1"),
        show.Col("lo", "metrics.col_ci", "ci1", hi="hi"),
    ]


def test_table_html_escapes_cells_and_headers(frame):
    html = show.table_html(frame, _cols(), "en", caption=f"cap {XSS}", table_id='x" onload="y')
    assert "<script" not in html.lower()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert html.count(escaped) == 3  # header, data cell, caption
    assert f"<th class=\"cx-txt\">{escaped}</th>" in html
    assert f"<td class=\"cx-txt\">{escaped}</td>" in html
    assert 'id="x&quot; onload=&quot;y"' in html


def test_table_html_small_base_rows(frame):
    html = show.table_html(frame, _cols(), "en")
    rows = re.findall(r"<tr([^>]*)>", html.split("<tbody>", 1)[1])
    assert rows == [' class="cx-small-base"', "", ""]
    # a frame without the flag column, or small_base=None: no row is marked
    assert "cx-small-base" not in show.table_html(frame.drop(columns="small_base"), _cols(), "en")
    assert "cx-small-base" not in show.table_html(frame, _cols(), "en", small_base=None)


def test_table_html_formats_per_locale(frame):
    en = show.table_html(frame, _cols(), "en")
    assert f"<td class=\"cx-num\">{MINUS}3.2</td>" in en  # -3.25 -> half-even on the binary value
    assert "<td class=\"cx-num\">1,234.5</td>" in en
    assert f"[{MINUS}20.0; 15.5]" in en
    ru = show.table_html(frame, _cols(), "ru")
    assert f"<td class=\"cx-num\">1{NBSP}234,5</td>" in ru
    assert f"[1{NBSP}200,0; 1{NBSP}260,0]" in ru
    assert f">{t('metrics.col_n', 'ru')}</th>" in ru  # header from the ru catalog


def test_table_html_period_column():
    frame = pd.DataFrame({"period": ["2025-11", "2025-12"], "n": [1, 2]})
    html = show.table_html(frame, [show.Col("period", "metrics.col_period", "period"), show.Col("n", "metrics.col_n", "int")],
                           "pl")
    assert f'<td class="cx-txt">lis{NBSP}2025</td>' in html and f'<td class="cx-txt">gru{NBSP}2025</td>' in html
    assert f'<th class="cx-txt">{t("metrics.col_period", "pl")}</th>' in html
    assert "2025-11" not in html


def test_table_html_missing_values(frame):
    frame.loc[1, ["segment", "value"]] = [None, float("nan")]
    html = show.table_html(frame, _cols(), "pl")
    row = html.split("<tbody>", 1)[1].split("</tr>")[1]
    assert row.count(">–</td>") == 2


def test_heading_id_is_stable():
    a = show.heading("NPS by segment", "cx_metrics").data
    b = show.heading("NPS by segment", "cx_metrics").data
    c = show.heading("NPS by region", "cx_metrics").data
    ident = re.search(r'id="([^"]+)"', a).group(1)
    assert a == b
    assert re.fullmatch(r"sub-cx_metrics-[0-9a-f]{8}", ident)
    assert re.search(r'id="([^"]+)"', c).group(1) != ident
    # same text under another section -> another id
    assert re.search(r'id="([^"]+)"', show.heading("NPS by segment", "data_quality").data).group(1) != ident


def test_heading_and_paragraph_escape():
    assert "&lt;script&gt;" in show.heading(XSS, "x").data and "<script" not in show.heading(XSS, "x").data
    assert show.paragraph(XSS).data == f'<p class="cx-text">{"&lt;script&gt;alert(1)&lt;/script&gt;"}</p>'
    assert "<script" not in show.note(XSS).data


def test_section_heading_from_catalog():
    html = show.section("data_quality", "ru").data
    assert html == f'<h1 class="cx-section" id="sec-data_quality">{t("section.data_quality", "ru")}</h1>'


def test_ci_pct_keeps_a_decimal_when_whole_percents_would_hide_the_width():
    # Wilson interval of 4,805 answered of 4,905: [97.54 %; 98.37 %] -> whole percents "[98; 98]"
    df = pd.DataFrame({"lo": [0.97536, 0.40], "hi": [0.98374, 0.50]})
    html = show.table_html(df, [show.Col("lo", "x", "ci_pct", hi="hi")], "en")
    assert "[97.5; 98.4]" in html  # narrow: one decimal
    assert "[40; 50]" in html  # wide: whole percents as before
