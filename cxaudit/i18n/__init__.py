"""Report strings per language, and locale-aware number and date formatting.

Each language is a folder of flat YAML files (``en/core.yaml``, ``en/<section>.yaml``, ...) merged into
one catalog; a key may be defined in one file only. The three languages have the same keys (a test
checks). Client-facing text is *only* taken from here, never written in notebooks.

Examples
--------
>>> t("report.toc", "pl")
'Spis treści'
>>> fmt_num(1234.5, "ru", 1)
'1\u00a0234,5'
>>> fmt_num(-12.25, "en", 1)
'−12.2'
"""

from __future__ import annotations

import datetime as _dt
import math
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["LANGUAGES", "t", "catalog", "fmt_num", "fmt_pct", "fmt_int", "fmt_date", "fmt_ci"]

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
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        for k, v in data.items():
            if str(k) in merged:
                raise KeyError(f"i18n key {k!r} defined twice in the {lang} catalog ({entry.name})")
            merged[str(k)] = str(v)
    return merged


def t(key: str, lang: str, /, **fmt: Any) -> str:
    """The string ``key`` in ``lang``, formatted with ``fmt``. A missing key is a bug: KeyError."""
    value = catalog(lang)[key]
    return value.format(**fmt) if fmt else value


_SEP = {"en": (",", "."), "ru": ("\u00a0", ","), "pl": ("\u00a0", ",")}
_MINUS = "\u2212"  # a real minus sign, as typeset reports use


def fmt_num(x: float | None, lang: str, decimals: int = 1, *, sign: bool = False) -> str:
    """Format a number with the locale's thousands separator and decimal mark ("–" for missing)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    thousands, decimal = _SEP[lang]
    s = f"{abs(x):,.{decimals}f}".replace(",", "\x00").replace(".", decimal).replace("\x00", thousands)
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


_MONTHS = {
    "ru": ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря"],
    "pl": ["stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września",
           "października", "listopada", "grudnia"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}


def fmt_date(d: _dt.date, lang: str) -> str:
    """A long date in the locale ("24 November 2026", "24 ноября 2026 г.", "24 listopada 2026")."""
    month = _MONTHS[lang][d.month - 1]
    if lang == "ru":
        return f"{d.day} {month} {d.year}\u00a0г."
    return f"{d.day} {month} {d.year}"
