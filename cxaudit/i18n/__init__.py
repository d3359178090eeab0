"""Report strings per language, and locale-aware number and date formatting.

Each language is a folder of flat YAML files (``en/core.yaml``, ``en/<section>.yaml``, ...) merged into
one catalog; a key may be defined in one file only. The three languages have the same keys (a test
checks). Client-facing text is *only* taken from here, never written in notebooks.

Coded values from the data (a channel ``app``, a language ``ru``, a journey stage ``post-purchase``) are
shown through :func:`value_label`, the one place that names them (catalog ``values.yaml``:
``value.channel.<code>``, ``value.language.<code>``, ``value.stage.<id>``); labels the client gives in
``audit.yaml`` (``value_labels``) win.
Dates and months: :func:`fmt_date` ("24 ноября 2026 г."), :func:`fmt_month` ("ноя 2025"),
:func:`fmt_period` (a ``YYYY-MM`` month or a ``YYYY-MM-DD/YYYY-MM-DD`` week label as pandas writes it).
Month names are written out here rather than taken from Babel, which is not a dependency of the
package (only of JupyterLab's server), and whose Russian abbreviations ("нояб.") differ from the
report's house style.

Examples
--------
>>> t("report.toc", "pl")
'Spis treści'
>>> fmt_num(1234.5, "ru", 1)
'1\u00a0234,5'
>>> fmt_num(-12.25, "en", 1)
'−12.2'
>>> value_label("channel", "app", "ru"), value_label("channel", "app", "ru", inline=True)
('Мобильное приложение', 'мобильное приложение')
>>> value_label("channel", "app", "en", labels={"app": "Northwind app"}), value_label("lang", "pl", "en")
('Northwind app', 'Polish')
>>> value_label("stage", "post-purchase", "ru"), value_label("stage", "unboxing", "pl")
('После покупки', 'unboxing')
>>> fmt_month("2025-11", "ru"), fmt_month("2025-11", "pl"), fmt_month("2025-11", "en")
('ноя\xa02025', 'lis\xa02025', 'Nov\xa02025')
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import get_month_names
from babel.numbers import NumberPattern, parse_pattern

from ..safeyaml import load_yaml_text

__all__ = [
    "LANGUAGES",
    "t",
    "catalog",
    "fmt_num",
    "fmt_pct",
    "fmt_int",
    "fmt_date",
    "fmt_month",
    "fmt_period",
    "fmt_ci",
    "fmt_p",
    "CODED_COLUMNS",
    "CHANNEL_ALIASES",
    "value_label",
]

LANGUAGES = ("en", "ru", "pl")


@cache
def catalog(lang: str) -> dict[str, str]:
    """The whole catalog of ``lang`` as a flat dict."""
    if lang not in LANGUAGES:
        raise KeyError(f"unknown report language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    merged: dict[str, str] = {}
    folder = resources.files("cxaudit.i18n").joinpath(lang)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = load_yaml_text(entry.read_text(encoding="utf-8"), f"cxaudit/i18n/{lang}/{entry.name}") or {}
        for k, v in data.items():
            if str(k) in merged:
                raise KeyError(f"i18n key {k!r} defined twice in the {lang} catalog ({entry.name})")
            merged[str(k)] = str(v)
    return merged


def t(key: str, lang: str, /, **fmt: Any) -> str:
    """The string ``key`` in ``lang``, formatted with ``fmt``. A missing key is a bug: KeyError."""
    value = catalog(lang)[key]
    return value.format(**fmt) if fmt else value


#: Babel locale per report language (British English: "24 November 2026", not "November 24, 2026").
_LOCALE = {"en": "en_GB", "ru": "ru", "pl": "pl"}
_MINUS = "\u2212"  # a real minus sign, as typeset reports use


def fmt_p(p: float | None, lang: str, *, prefix: bool = False) -> str:
    """The one p-value format of the project: three decimals in the locale's number format, "< 0.001"
    below that (a no-break space after "<"), "–" when missing; ``prefix=True`` gives "p = 0.012" /
    "p < 0.001".

    >>> fmt_p(0.0123, "en"), fmt_p(0.0004, "pl"), fmt_p(0.0123, "ru", prefix=True), fmt_p(None, "en")
    ('0.012', '<\xa00,001', 'p\xa0=\xa00,012', '–')
    """
    if p is None or not math.isfinite(float(p)):
        return "–"
    text = "<\u00a0" + fmt_num(0.001, lang, 3) if p < 0.001 else fmt_num(float(p), lang, 3)
    if not prefix:
        return text
    return "p\u00a0" + (text if p < 0.001 else "=\u00a0" + text)


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(_LOCALE[lang])


@cache
def _pattern(decimals: int) -> NumberPattern:
    # parsed once: ~25 µs a number instead of ~45 µs through format_decimal (bench: 50k numbers)
    return parse_pattern("#,##0" + ("." + "0" * decimals if decimals > 0 else ""))


def fmt_num(x: float | None, lang: str, decimals: int = 1, *, sign: bool = False) -> str:
    """Format a number with the locale's thousands separator and decimal mark ("–" for missing), by
    Babel (CLDR number symbols); a typographic minus sign, "+" with ``sign=True``.

    The float goes to Babel as its exact binary value, so it rounds (half to even on the exact value)
    exactly as Python's own ``format`` does: 2.675 -> "2.67" in every language.

    >>> fmt_num(12345.678, "en"), fmt_num(12345.678, "ru", 2), fmt_num(-0.56, "pl", 0), fmt_num(3, "en", sign=True)
    ('12,345.7', '12\\xa0345,68', '−1', '+3.0')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    s = _pattern(decimals).apply(decimal.Decimal(abs(float(x))), _locale(lang))
    if round(x, decimals) < 0:
        return _MINUS + s
    return ("+" + s) if sign and round(x, decimals) > 0 else s


def fmt_int(x: int | float | None, lang: str) -> str:
    return fmt_num(x, lang, 0)


def fmt_pct(share: float | None, lang: str, decimals: int = 0) -> str:
    """A share 0..1 as a percentage string ("42%" / "42 %" per locale)."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    space = "" if lang == "en" else "\u00a0"
    return f"{fmt_num(100 * share, lang, decimals)}{space}%"


def fmt_ci(low: float | None, high: float | None, lang: str, decimals: int = 1, scale: float = 1.0) -> str:
    """An interval as "[a; b]" (";" so decimal commas stay readable)."""
    return f"[{fmt_num(None if low is None else low * scale, lang, decimals)}; " \
           f"{fmt_num(None if high is None else high * scale, lang, decimals)}]"


@cache
def _months(lang: str) -> tuple[str, ...]:
    """Short month names for month labels: Babel's (CLDR) stand-alone abbreviation cut to three letters
    without its dot, as a calendar header (ru "ноя", "сен", pl "lis", en "Nov"), short enough for a
    chart axis."""
    names = get_month_names("abbreviated", context="stand-alone", locale=_locale(lang))
    return tuple(names[m].rstrip(".")[:3] for m in range(1, 13))


def _as_date(d: Any) -> _dt.date:
    """A date from a ``date`` / ``datetime`` / pandas ``Timestamp`` or an ISO string ("2025-11-03")."""
    if isinstance(d, str):
        return _dt.date.fromisoformat(d.strip()[:10])
    if hasattr(d, "year") and hasattr(d, "month") and hasattr(d, "day"):
        return _dt.date(int(d.year), int(d.month), int(d.day))
    raise TypeError(f"expected a date, got {d!r}")


def fmt_date(d: _dt.date | str | Any, lang: str) -> str:
    """A long date in the locale by Babel ("24 November 2026", "24 ноября 2026 г.", "24 listopada 2026"),
    with a no-break space before the Russian "г.".

    ``d``: a ``date``, ``datetime``, pandas ``Timestamp`` or an ISO date string."""
    return _babel_date(_as_date(d), format="long", locale=_locale(lang)).replace("\u202f", "\u00a0")


_YM = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})$")


def fmt_month(m: str | _dt.date | Any, lang: str) -> str:
    """A calendar month as a short label: "ноя 2025", "lis 2025", "Nov 2025" (no-break space).

    ``m``: a ``YYYY-MM`` string (how the report's tables key months), a date / ``Timestamp`` or a
    monthly pandas ``Period``. Anything else is returned as text, unchanged."""
    if isinstance(m, str):
        hit = _YM.match(m.strip())
        if not hit:
            return m
        year, month = int(hit.group(1)), int(hit.group(2))
    elif hasattr(m, "year") and hasattr(m, "month"):
        year, month = int(m.year), int(m.month)
    else:
        return str(m)
    if not 1 <= month <= 12:
        return str(m)
    return f"{_months(lang)[month - 1]}\u00a0{year}"


def fmt_period(p: Any, lang: str) -> str:
    """A period label of a trend table in the locale: a month (``2025-11`` -> "ноя 2025"), an ISO
    week as pandas writes it (``2025-11-03/2025-11-09`` -> "3–9 ноя 2025", "29 дек 2025 – 4 янв 2026"
    across a year) or a day (``2025-11-03`` -> :func:`fmt_date`). Anything else: as text."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    s = str(p).strip()
    if _YM.match(s):
        return fmt_month(s, lang)
    week = _WEEK.match(s)
    if week:
        a, b = (_dt.date.fromisoformat(x) for x in week.groups())
        mb = f"{_months(lang)[b.month - 1]}\u00a0{b.year}"
        if a.year != b.year:
            return f"{a.day}\u00a0{_months(lang)[a.month - 1]}\u00a0{a.year} – {b.day}\u00a0{mb}"
        if a.month != b.month:
            return f"{a.day}\u00a0{_months(lang)[a.month - 1]} – {b.day}\u00a0{mb}"
        return f"{a.day}–{b.day}\u00a0{mb}"
    if re.match(r"^\d{4}-\d{2}-\d{2}$", s):
        return fmt_date(s, lang)
    return s


# --- coded values from the data ---------------------------------------------------------------------

#: Column names whose values are codes the catalog names (``value.<kind>.<code>``), and their kind.
CODED_COLUMNS: dict[str, str] = {
    "channel": "channel", "channels": "channel", "sla_channel": "channel",
    "lang": "language", "language": "language", "languages": "language",
    "stage": "stage", "stages": "stage",
}
#: Other ways client data writes a channel (lower case) -> the channel code. :mod:`cxaudit.tickets`
#: maps ticket channels to their expected response times through it too.
CHANNEL_ALIASES: dict[str, str] = {
    "telephone": "phone", "call": "phone", "calls": "phone", "voice": "phone", "call centre": "phone",
    "call center": "phone", "телефон": "phone", "telefon": "phone",
    "live chat": "chat", "messenger": "chat", "whatsapp": "chat", "telegram": "chat", "чат": "chat", "czat": "chat",
    "e-mail": "email", "mail": "email", "почта": "email",
    "social media": "social", "facebook": "social", "instagram": "social", "twitter": "social", "x": "social",
    "vk": "social", "соцсети": "social",
    "mobile app": "app", "in-app": "app", "приложение": "app", "aplikacja": "app",
    "web": "site", "website": "site", "сайт": "site", "strona": "site", "strona internetowa": "site",
    "shop": "store", "магазин": "store", "sklep": "store",
}


def value_label(column: str, value: Any, lang: str, *, labels: Mapping[str, Any] | None = None,
                inline: bool = False) -> str:
    """A value of the data column ``column`` as the report shows it, in ``lang``.

    In order: the client's label for the value (``labels``: value -> label, from ``value_labels`` in
    ``audit.yaml``; see :meth:`cxaudit.config.AuditConfig.value_label`); for a coded column
    (:data:`CODED_COLUMNS`: channels, languages, journey stages) the catalog's name of the code
    (``value.<kind>.<code>``, channels also through :data:`CHANNEL_ALIASES`); otherwise the value itself
    (a custom stage keeps its id). Catalog names are
    capitalised for a table cell or a label; ``inline=True`` gives them as inside a sentence
    ("соцсети", "social media"). A missing value is "–".
    """
    try:
        missing = value is None or bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):  # pandas.NA
        missing = True
    if missing:
        return "–"
    text = str(value)
    if labels:
        for key in (text, text.strip()):
            if key in labels and labels[key] is not None:
                return str(labels[key])
    kind = CODED_COLUMNS.get(column)
    if kind is None:
        return text
    code = text.strip().lower()
    names = catalog(lang)
    name = names.get(f"value.{kind}.{code}")
    if name is None and kind == "channel":
        name = names.get(f"value.channel.{CHANNEL_ALIASES.get(code, code)}")
    if name is None:
        return text
    return name if inline else name[:1].upper() + name[1:]
