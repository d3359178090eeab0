"""Personal data in any text that reaches an output: find it, replace it by a label.

:func:`redact` is the one redaction routine; :func:`cxaudit.text.redact_pii` adds customer names on
top of it, and :func:`redact_value` (cached) is what :func:`cxaudit.show.escape` and the figure
renderer (:mod:`cxaudit.plots`) apply to every value they show: segment values, labels, quotes,
finding titles, axis labels.

Detection runs on a normalised copy of the text and replaces the matching spans of the original:

* every character is put in Unicode NFKC form (full-width ``＠`` and ``４１１１`` become ``@`` and
  ``4111``; UAX #15) and format characters (category ``Cf``: zero-width space, soft hyphen, ...)
  are dropped, so look-alikes and hidden separators do not hide a number. Whitespace is kept as it
  is, so the non-breaking thousands separator of a formatted amount (``123 456 789``) is never
  read as a phone number; text that is not redacted is returned unchanged.

What is found, in this order (a span taken by an earlier kind is not looked at again):

========  ==============================================================================================
kind      rule (checksum from python-stdnum where one exists)
========  ==============================================================================================
email     ``local@domain.tld`` (Unicode domains allowed)
iban      2 letters, 2 check digits, 11-30 letters/digits, any case, optionally in groups of four;
          ISO 13616 mod-97 (``stdnum.iban``)
card      13-19 digits grouped by spaces, hyphens, dots or slashes in any way; Luhn, ISO/IEC 7812-1
          (``stdnum.luhn``)
id        national and tax identifiers of the three report languages' countries:

          * PESEL (PL, 11 digits, date of birth + weighted checksum; ``stdnum.pl.pesel``);
          * SNILS (RU, 11 digits, ``123-456-789 01`` or plain; mod-101 check number, Pension Fund of
            Russia rules; numbers up to 001-001-998 carry no check and are not matched);
          * INN (RU, 12 digits for a person; ``stdnum.ru.inn``); REGON (PL, 14 digits;
            ``stdnum.pl.regon``);
          * NIP (PL, 10 digits, ``123-456-32-18`` / ``123-45-63-218`` or plain; ``stdnum.pl.nip``),
            INN (RU, 10 digits, of a company), REGON (PL, 9 digits), US SSN without dashes, UK NHS
            number (10 digits, mod 11; ``stdnum.gb.nhs``): with one of their names within 30
            characters before them (``NIP``, ``ИНН``, ``REGON``, ``SSN``, ``NHS`` ...): a 9- or
            10-digit number passes one of these checksums by chance one time in ten, and order or
            customer numbers have that length;
          * US SSN ``123-45-6789`` (``stdnum.us.ssn``: area, group and serial rules; no checksum
            exists);
          * UK National Insurance number ``QQ 12 34 56 C`` (HMRC NIM39110 prefix rules; no checksum);
          * Russian passport ``45 06 123456`` (series + number; no checksum exists): after
            ``паспорт`` / ``passport`` / ``серия``.
phone     8-15 digits (ITU-T E.164): ``+CC ...``, ``00CC ...``, Russian ``8 (912) 345-67-89``,
          Polish ``601 234 567`` / ``22 123 45 67``, US ``(415) 555-0134``, UK ``020 7946 0958``
========  ==============================================================================================

Examples
--------
>>> redact("PESEL 44051401359, NIP 123-456-32-18, СНИЛС 112-233-445 95")
'PESEL [ID], NIP [ID], СНИЛС [ID]'
>>> redact("order 44051401358 of 12.01.2025, 1 234,50 zł")
'order 44051401358 of 12.01.2025, 1 234,50 zł'
>>> redact("mail ｊａｎ＠ｅｘａｍｐｌｅ．ｃｏｍ, card 4111.1111.1111.1111")
'mail [EMAIL], card [CARD]'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum.gb import nhs as _nhs
from stdnum.pl import nip as _nip
from stdnum.pl import pesel as _pesel
from stdnum.pl import regon as _regon
from stdnum.ru import inn as _inn
from stdnum.us import ssn as _ssn

__all__ = ["LABELS", "KINDS", "normalize", "find", "redact", "redact_value", "snils_valid", "nino_valid"]

#: Replacement for each kind (language-neutral; :func:`cxaudit.text.pii_labels` localises them).
LABELS: dict[str, str] = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "card": "[CARD]",
    "iban": "[IBAN]",
    "id": "[ID]",
    "name": "[NAME]",
}
KINDS: tuple[str, ...] = ("email", "iban", "card", "id", "phone")

# --- normalisation --------------------------------------------------------------------------------


def normalize(text: str) -> tuple[str, list[int]]:
    """NFKC per character, format characters dropped, whitespace kept; and for each character of
    the result the index of the original character it came from.

    Examples
    --------
    >>> normalize("a\\u200b＠１")
    ('a@1', [0, 2, 3])
    """
    out: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(text):
        if c.isascii():
            out.append(c)
            origin.append(i)
            continue
        if unicodedata.category(c) == "Cf":  # zero-width space / joiner, soft hyphen, bidi marks
            continue
        n = c if c.isspace() else unicodedata.normalize("NFKC", c)
        out.append(n)
        origin.extend([i] * len(n))
    return "".join(out), origin


# --- checksums stdnum does not have ------------------------------------------------------------------


def snils_valid(number: str) -> bool:
    """Russian SNILS check number: digits 1-9 weighted 9..1; the sum (if < 100), 0 (if 100 or 101),
    else the sum mod 101 (a remainder of 100 is 0). Defined for numbers above 001-001-998.

    Examples
    --------
    >>> snils_valid("112-233-445 95"), snils_valid("112-233-445 96")
    (True, False)
    """
    d = re.sub(r"\D", "", number)
    if len(d) != 11 or int(d[:9]) <= 1001998:
        return False
    s = sum(int(c) * w for c, w in zip(d[:9], range(9, 0, -1), strict=True))
    check = s if s < 100 else 0 if s in (100, 101) else s % 101
    return (check if check != 100 else 0) == int(d[9:])


_NINO = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})[ ]?(\d{2})[ ]?(\d{2})[ ]?(\d{2})[ ]?([A-Da-d])(?![A-Za-z0-9])")
_NINO_BAD_PREFIX = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}


def nino_valid(text: str) -> bool:
    """UK National Insurance number format (HMRC NIM39110): no D, F, I, Q, U, V in the prefix, no O
    as its second letter, none of BG GB NK KN TN NT ZZ; suffix A-D. There is no checksum.

    Examples
    --------
    >>> nino_valid("QQ 12 34 56 C"), nino_valid("AB123456C"), nino_valid("GB123456A")
    (False, True, False)
    """
    m = _NINO.fullmatch(text.strip())
    if not m:
        return False
    p = m.group(1).upper()
    return (p[0] not in "DFIQUV" and p[1] not in "DFIQUVO" and p not in _NINO_BAD_PREFIX)


# --- patterns ----------------------------------------------------------------------------------------

EMAIL_RE = _EMAIL = re.compile(r"(?<![\w.+'-])[\w.%+'-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])")
_SEP = r"[ \t.\-/\u00a0\u202f]"
_CARD = re.compile(rf"(?<![\d+])\d(?:{_SEP}?\d){{12,60}}(?!\d)")
_DIGITS = re.compile(r"\d+")
# a run of digits, possibly grouped by single spaces or hyphens (ids are matched on its digits)
_NUMBER = re.compile(r"(?<![\w+.,/-])\d(?:[ -]?\d){7,16}(?![\w/]|[.,]\d)")
_SSN_DASHED = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
_RU_PASSPORT = re.compile(
    r"(?i)(?:паспорт\w*|passport|серия|series)\D{0,20}?(?<!\d)"
    r"(\d{2}[ ]?\d{2}[ ]?(?:(?:№|номер|number|no\.?)[ ]?)?\d{6})(?!\d)")
# a passport number of 9 digits (UK, US; no checksum exists) after "passport" / "paszport"
_PASSPORT9 = re.compile(r"(?i)(?:passport|paszport|паспорт)\w*\D{0,20}?(?<!\d)(\d{9})(?!\d)")
# names of identifiers: a 9/10-digit number counts only after its own name (within 30 characters)
_CONTEXT_NIP = re.compile(r"(?i)\bnip\b|numer identyfikacji podatkowej|tax id|\btin\b")
_CONTEXT_INN = re.compile(r"(?i)\bинн\b|\binn\b|идентификационн\w* номер налог")
_CONTEXT_NHS = re.compile(r"(?i)\bnhs\b")
_CONTEXT_REGON = re.compile(r"(?i)\bregon\b")
_CONTEXT_SSN = re.compile(r"(?i)\bssn\b|social security")
_PHONE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,5}\))?(?:[ .-]?\d{1,5}){1,6}(?!\d)"),
    re.compile(r"(?<!\d)00\d{1,3}(?:[ .-]?\d{1,5}){2,6}(?!\d)"),
    re.compile(r"(?<![\d+])8[ -]?\(?\d{3}\)?[ -]?\d{3}[ -]?\d{2}[ -]?\d{2}(?!\d)"),
    re.compile(r"(?<![\d+])(?:\(\d{3}\)[ ]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\d)"),
    re.compile(r"(?<![\d+])0\d{2,4}[ ]\d{3,4}[ ]?\d{3,4}(?!\d)"),
    re.compile(r"(?<![\d+])[1-9]\d{2}[ -]\d{3}[ -]\d{3}(?![\d])"),
    re.compile(r"(?<![\d+])[1-9]\d[ -]\d{3}[ -]\d{2}[ -]\d{2}(?!\d)"),
)

Span = tuple[int, int]


def _email(s: str) -> list[Span]:
    return [m.span() for m in _EMAIL.finditer(s)]


def _iban_spans(s: str) -> list[Span]:
    out: list[Span] = []
    for m in _IBAN.finditer(s):
        start = m.start()
        chars = [i for i in range(m.start(), m.end()) if s[i] != " "]
        for k in range(len(chars), 14, -1):  # shrink from the right until the checksum holds
            if _iban.is_valid(s[start: chars[k - 1] + 1]):
                out.append((start, chars[k - 1] + 1))
                break
    return out


def _card_ok(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and _luhn.is_valid(digits)


def _card_spans(s: str) -> list[Span]:
    out: list[Span] = []
    for m in _CARD.finditer(s):
        if _card_ok(re.sub(r"\D", "", m.group(0))):
            out.append(m.span())
            continue
        # inside a longer run: the longest valid run of whole digit groups ("order 123456 4111 1111 ...")
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in _DIGITS.finditer(m.group(0))]
        best: Span | None = None
        for i in range(len(groups)):
            for j in range(len(groups) - 1, i - 1, -1):
                a, b = groups[i][0], groups[j][1]
                if _card_ok(re.sub(r"\D", "", s[a:b])):
                    if best is None or b - a > best[1] - best[0]:
                        best = (a, b)
                    break
        if best is not None:
            out.append(best)
    return out


def _near(pattern: re.Pattern[str], s: str, start: int) -> bool:
    return bool(pattern.search(s[max(0, start - 30): start]))


def _id_ok(digits: str, s: str, start: int) -> bool:
    n = len(digits)
    if n == 11:
        return _pesel.is_valid(digits) or snils_valid(digits)
    if n == 12:
        return _inn.is_valid(digits)
    if n == 14:
        return _regon.is_valid(digits)
    if n == 10:
        return ((_nip.is_valid(digits) and _near(_CONTEXT_NIP, s, start))
                or (_inn.is_valid(digits) and _near(_CONTEXT_INN, s, start))
                or (_nhs.is_valid(digits) and _near(_CONTEXT_NHS, s, start)))
    if n == 9:
        return ((_regon.is_valid(digits) and _near(_CONTEXT_REGON, s, start))
                or (_ssn.is_valid(digits) and _near(_CONTEXT_SSN, s, start)))
    return False


def _id_spans(s: str) -> list[Span]:
    out: list[Span] = []
    for m in _NUMBER.finditer(s):
        digits = re.sub(r"\D", "", m.group(0))
        if _id_ok(digits, s, m.start()):
            out.append(m.span())
            continue
        # a shorter run of whole groups inside (e.g. "NIP 123-456-32-18 12" or an id after a date)
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in _DIGITS.finditer(m.group(0))]
        for i in range(len(groups)):
            done = False
            for j in range(len(groups) - 1, i - 1, -1):
                a, b = groups[i][0], groups[j][1]
                if _id_ok(re.sub(r"\D", "", s[a:b]), s, a):
                    out.append((a, b))
                    done = True
                    break
            if done:
                break
    out += [m.span() for m in _SSN_DASHED.finditer(s) if _ssn.is_valid(m.group(0))]
    out += [m.span() for m in _NINO.finditer(s) if nino_valid(m.group(0))]
    out += [m.span(1) for m in _RU_PASSPORT.finditer(s)]
    out += [m.span(1) for m in _PASSPORT9.finditer(s)]
    return out


def _phone_spans(s: str) -> list[Span]:
    out: list[Span] = []
    for pat in _PHONE_PATTERNS:
        for m in pat.finditer(s):
            if 8 <= sum(c.isdigit() for c in m.group(0)) <= 15:
                out.append(m.span())
    return out


_FINDERS: dict[str, Callable[[str], list[Span]]] = {
    "email": _email, "iban": _iban_spans, "card": _card_spans, "id": _id_spans, "phone": _phone_spans,
}


def find(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` of every piece of personal data in ``text`` (indices into ``text``),
    sorted, without overlaps (an earlier kind in :data:`KINDS` wins)."""
    norm, origin = normalize(text)
    taken: list[tuple[int, int, str]] = []
    for kind in KINDS:
        for a, b in _FINDERS[kind](norm):
            if any(a < tb and ta < b for ta, tb, _ in taken):
                continue
            taken.append((a, b, kind))
    out = []
    for a, b, kind in sorted(taken):
        start, end = origin[a], origin[b - 1] + 1
        out.append((start, end, kind))
    return out


def redact(text: Any, labels: Mapping[str, str] | None = None) -> str:
    """``text`` with every span :func:`find` returns replaced by its label (adjacent spans of one
    kind become one label). ``None`` gives ``""``; other values are converted with ``str``."""
    if text is None:
        return ""
    s = str(text)
    if not any(ch.isdigit() or ch == "@" or not ch.isascii() for ch in s):
        return s  # nothing to find: no digit, no '@', no look-alike
    spans = find(s)
    if not spans:
        return s
    lab = {**LABELS, **(labels or {})}
    parts: list[str] = []
    at = 0
    for start, end, kind in spans:
        if start < at:  # NFKC expansion mapped two spans onto one original character
            continue
        parts.append(s[at:start])
        if not (parts[-1] == "" and len(parts) > 1 and parts[-2] == lab[kind]):
            parts.append(lab[kind])
        at = end
    parts.append(s[at:])
    return "".join(parts)


@lru_cache(maxsize=65536)
def redact_value(text: str) -> str:
    """:func:`redact` with the default labels, cached: for display code that sees the same segment
    values and labels many times."""
    return redact(text)
