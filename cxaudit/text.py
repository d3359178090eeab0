"""Open text: personal-data redaction, language detection, codeframe coding, topic discovery,
themes × NPS group and representative quotes.

Pipeline
--------
1. :func:`redact_pii` removes e-mail addresses, phone numbers, Luhn-valid payment-card numbers,
   mod-97-valid IBANs and customer names. Everything this module hands to a notebook output
   (quotes, topic examples) is redacted first; topic discovery runs on redacted text, so a name or
   an address can never become a "top term".
2. :func:`detect_language` labels each comment (``en`` / ``ru`` / ``pl`` or another ISO 639-1 code,
   ``None`` when a text has no letters): Unicode script first (Cyrillic -> the one Cyrillic
   language of the audit; Latin letters only Polish has -> ``pl``), then py3langid -- a
   maintained fork of langid.py (Lui & Baldwin 2012, multinomial naive Bayes over byte n-grams,
   97 languages, the model ships inside the wheel and loads offline).
3. :func:`code_comments` matches a consultant's :class:`Codeframe` (theme -> keywords and phrases
   per language) on *normalised tokens*: every token and every keyword goes through
   ``snowball_stem(simplemma_lemma(token))``. simplemma (Barbaresi 2023, dictionary lemmatiser,
   data in the wheel) maps irregular forms (``пришёл -> прийти``, ``czekałam -> czekać``); the
   Snowball stemmer (Porter 2001; Russian and Polish algorithms of snowballstemmer >= 3.1)
   collapses what the dictionary does not know (``opóźnioną -> opóźn``). Keyword syntax:
   ``word``, ``several words`` (consecutive tokens) and ``a & b`` (both anywhere in the comment).
4. :func:`discover_topics` proposes themes the codeframe misses: TF-IDF (sublinear tf, unigrams
   and bigrams) + NMF (Lee & Seung 1999; ``init="nndsvda"``, Boutsidis & Gallopoulos 2008, seeded)
   on the comments no theme coded, per language, with top terms and redacted example comments.
5. :func:`theme_table` crosses themes with NPS groups: share of comments (Wilson interval), share
   among detractors and promoters with the Newcombe (1998) hybrid-score interval of their
   difference, the detractor *lift* with an interval, Fisher's exact test and Holm's correction.

Examples
--------
>>> redact_pii("Call +48 601 234 567 or mail anna.nowak@example.com")
'Call [PHONE] or mail [EMAIL]'
>>> redact_pii("Card 4111 1111 1111 1111, tracking 1234 5678 9012 3456")
'Card [CARD], tracking 1234 5678 9012 3456'
>>> cf = default_codeframe()
>>> res = code_comments(pd.Series(["Посылку задержали на 5 дней", "Great app, so easy"]), cf)
>>> res.matrix.loc[0, "late_delivery"], res.matrix.loc[1, "easy_app"]
(np.True_, np.True_)
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import norm as _norm
from statsmodels.stats.proportion import confint_proportions_2indep

from . import pii as _pii
from .config import CODEFRAME_INDUSTRIES, STAGES
from .errors import ConfigError, DataError
from .findings import Finding
from .i18n import fmt_ci, fmt_num, fmt_pct, t, value_label
from .metrics import Z95, nps_category, wilson
from .safeyaml import load_yaml, load_yaml_text
from .stats import holm  # Holm (1979) via statsmodels; re-exported

__all__ = [
    "PII_LABELS",
    "Theme",
    "Codeframe",
    "CodingResult",
    "VocResult",
    "DEFAULT_CODEFRAME",
    "luhn_valid",
    "iban_valid",
    "redact_pii",
    "redact_series",
    "pii_labels",
    "customer_names",
    "detect_language",
    "tokenize",
    "normalize",
    "load_codeframe",
    "default_codeframe",
    "code_comments",
    "discover_topics",
    "theme_table",
    "themes_by",
    "themes_by_stage",
    "representative_quotes",
    "analyse_comments",
    "voc_findings",
    "stage_table",
    "channel_wide",
    "themes_figure",
    "language_summary",
    "theme_touchpoints",
    "touchpoint_theme_table",
    "touchpoint_themes",
    "touchpoint_theme_findings",
    "TOUCHPOINT_THEME_MIN_MENTIONS",
    "clean_text",
    "clean_series",
    "distinct_texts",
    "equal_texts",
    "stop_words",
    "NEGATIONS",
    "INDUSTRIES",
    "industry_of",
    "industry_codeframe",
    "suggest_industry",
    "CodeframeChoice",
    "choose_codeframe",
    "COVERAGE_WARNING",
    "coverage",
    "holm",
    "newcombe_diff_ci",
    "katz_rr_ci",
]

# =================================================================================================
# PII redaction
# =================================================================================================

#: Replacement for each kind of personal data (language-neutral; :func:`pii_labels` localises them).
PII_LABELS: dict[str, str] = dict(_pii.LABELS)
_EMAIL = _pii.EMAIL_RE  # also used by clean_text

_WORD_RE = re.compile(r"[^\W\d_]+")
# words, and runs of clause punctuation (they bound the scope of a negation)
_TOKEN_OR_BREAK = re.compile(r"[^\W\d_]+|[.,;:!?…()\[\]\n\u2013\u2014]+")


def luhn_valid(number: str) -> bool:
    """Luhn (mod 10) check of a digit string (ISO/IEC 7812-1, Annex B).

    Examples
    --------
    >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
    (True, False)
    """
    digits = [int(c) for c in number if c.isdigit()]
    if not digits:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters -> 10..35, mod 97 == 1.

    Examples
    --------
    >>> iban_valid("GB82 WEST 1234 5698 7654 32"), iban_valid("GB82 WEST 1234 5698 7654 33")
    (True, False)
    """
    s = re.sub(r"\s", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _name_forms(names: Iterable[str]) -> frozenset[str]:
    """Lower-case name parts of at least three letters (inflected forms are matched by prefix)."""
    out: set[str] = set()
    for name in names:
        if not isinstance(name, str):
            continue
        for part in _WORD_RE.findall(name):
            if len(part) >= 3:
                out.add(part.lower().replace("ё", "е"))
    return frozenset(out)


def _is_name(word: str, forms: frozenset[str]) -> bool:
    if not word[:1].isupper():  # names are written with a capital: "annual" is not "Anna"
        return False
    w = word.lower().replace("ё", "е")
    if w in forms:
        return True
    # inflected forms: Петров -> Петрова/Петровой, Nowak -> Nowakiem, Анна -> Анной (stem: drop a final vowel)
    for cut in range(1, 4):
        if len(w) - cut < 3:
            break
        stem = w[:-cut]
        if stem in forms:
            return True
        for v in "aeiouyаеиоуыэюяąęó":
            if stem + v in forms and len(stem) >= 3:
                return True
    return False


def redact_pii(text: str | None, names: Iterable[str] | None = None, *,
               labels: Mapping[str, str] | None = None) -> str:
    """Replace personal data in ``text`` by labels (``[EMAIL]``, ``[PHONE]``, ``[CARD]``, ``[IBAN]``, ``[ID]``,
    ``[NAME]``).

    What is removed, in this order (a span found by an earlier rule is not looked at again), on the
    NFKC form of the text (full-width and other look-alikes) -- see :mod:`cxaudit.pii` for the rules:

    * e-mail addresses (``local@domain.tld``, Unicode domains allowed);
    * IBANs in any case, kept only when the ISO 13616 mod-97 checksum is 1;
    * payment-card numbers: 13..19 digits in any grouping (spaces, hyphens, dots, slashes), kept
      only when the Luhn checksum holds (ISO/IEC 7812). A 16-digit number that fails it (a
      tracking number) is left alone;
    * national and tax ids (``[ID]``): PESEL, NIP, REGON, INN, SNILS, the Russian passport, UK
      National Insurance and NHS numbers, US SSN -- checksum-validated with python-stdnum where one
      exists;
    * phone numbers with 8..15 digits (ITU-T E.164): international ``+CC ...`` / ``00CC ...``,
      Russian ``8 (912) 345-67-89``, Polish ``601 234 567`` / ``601-234-567`` / ``22 123 45 67``,
      US ``(415) 555-0134`` and UK ``020 7946 0958``;
    * names: every capitalised word equal to a part (three letters or more) of one of ``names``, or
      an inflected form of it (up to three letters changed at the end: ``Петровой``, ``Nowakiem``,
      ``Анной``). Deliberately greedy: redacting a capitalised word that resembles a customer's
      name costs less than leaking a name.

    Parameters
    ----------
    text
        Any text; ``None`` / NaN give ``""``.
    names
        Customer names (e.g. from the customers table, see :func:`customer_names`).
    labels
        Replacements by kind; defaults to :data:`PII_LABELS` (:func:`pii_labels` gives localised ones).

    Examples
    --------
    >>> redact_pii("Звоните 8 (912) 345-67-89, Ольге Петровой", names=["Ольга Петрова"])
    'Звоните [PHONE], [NAME] [NAME]'
    >>> redact_pii("IBAN PL61 1090 1014 0000 0712 1981 2874, order 552753")
    'IBAN [IBAN], order 552753'
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    lab = {**PII_LABELS, **(labels or {})}
    s = _pii.redact(str(text), lab)  # e-mails, IBANs, cards, national/tax ids, phones (cxaudit.pii)
    if names is not None:
        forms = names if isinstance(names, frozenset) else _name_forms(names)
        if forms:
            s = _WORD_RE.sub(lambda m: lab["name"] if _is_name(m.group(0), forms) else m.group(0), s)
    return s


def redact_series(texts: pd.Series, names: Iterable[str] | None = None, *,
                  labels: Mapping[str, str] | None = None) -> pd.Series:
    """:func:`redact_pii` over a Series (each distinct text once)."""
    forms = _name_forms(names) if names is not None else None
    s = texts.fillna("").astype(str)
    uniq = pd.unique(s)
    done = {u: redact_pii(u, forms, labels=labels) for u in uniq}
    return s.map(done)


def pii_labels(lang: str) -> dict[str, str]:
    """The replacement labels in the report language (``voc.pii.<kind>`` in the catalog)."""
    return {k: t(f"voc.pii.{k}", lang) for k in PII_LABELS}


_NAME_COLUMNS = ("name", "full_name", "first_name", "last_name", "surname", "customer_name")


def customer_names(customers: pd.DataFrame | None) -> list[str]:
    """Names from a customers table, if it has a name column (``name``, ``full_name``,
    ``first_name``, ``last_name``, ``surname`` or ``customer_name``); else ``[]``."""
    if customers is None:
        return []
    out: list[str] = []
    for col in _NAME_COLUMNS:
        if col in customers.columns:
            out.extend(str(v) for v in customers[col].dropna().unique())
    return out


# =================================================================================================
# Language detection
# =================================================================================================

_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
_POLISH_ONLY = re.compile(r"[ąćęłńśźżĄĆĘŁŃŚŹŻ]")
_CYRILLIC_LANGS = frozenset({"ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "mn"})
#: A text this long whose best language overall is outside the audit's languages gets that code.
OTHER_LANGUAGE_MIN_LETTERS = 25
OTHER_LANGUAGE_MIN_PROB = 0.95


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


# Letters of Cyrillic alphabets that Russian does not use (uk, be, sr, mk, kk, ...).
_NON_RUSSIAN_CYRILLIC = re.compile(r"[іїєґўјљњћџѓќѕәғқңөұүһІЇЄҐЎЈЉЊЋЏЃЌЅӘҒҚҢӨҰҮҺ]")
# Short function words (Grefenstette 1995: frequent short words identify a language), chosen so that
# none is also a word of the other list ("to", "i", "a", "on" are Polish too).
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and is was were of it my you that with for not have has this but are me we they be been "
                    "would could very at your our there what".split()),
    "pl": frozenset("nie jest sie się na w z ze do mnie bardzo ale juz już tak co jak po za od tylko byl był bylo było "
                    "przez mi czy dla jestem".split()),
}
#: langid reads at most this many characters of a text (its cost grows with the length).
LANGID_MAX_CHARS = 300


def _detect_one(text: str, languages: tuple[str, ...]) -> str | None:
    has_cyr, has_lat = _CYRILLIC.search(text) is not None, _LATIN.search(text) is not None
    if not (has_cyr or has_lat):
        return None
    # count letters only for mixed-script texts (most comments use one script)
    n_cyr = len(_CYRILLIC.findall(text)) if has_cyr else 0
    n_lat = len(_LATIN.findall(text)) if has_lat else 0
    letters = n_cyr + n_lat
    if n_cyr > n_lat:
        candidates = tuple(lang for lang in languages if lang in _CYRILLIC_LANGS)
        if candidates == ("ru",) and not _NON_RUSSIAN_CYRILLIC.search(text):
            return "ru"
    else:
        if "pl" in languages and _POLISH_ONLY.search(text):
            return "pl"
        candidates = tuple(lang for lang in languages if lang not in _CYRILLIC_LANGS)
        if candidates and set(candidates) <= set(_FUNCTION_WORDS):
            words = _WORD_RE.findall(text.lower())
            hits = {lang: sum(w in _FUNCTION_WORDS[lang] for w in words) for lang in candidates}
            best = max(hits, key=lambda k: hits[k])
            if hits[best] >= 2 and all(v == 0 for k, v in hits.items() if k != best):
                return best
    ranking = _identifier().rank(text[:LANGID_MAX_CHARS])
    top, prob = ranking[0]
    if top not in languages and prob >= OTHER_LANGUAGE_MIN_PROB and letters >= OTHER_LANGUAGE_MIN_LETTERS:
        return str(top)
    if not candidates:
        return str(top)
    if len(candidates) == 1:
        return candidates[0]
    for lang, _ in ranking:
        if lang in candidates:
            return str(lang)
    return candidates[0]


def detect_language(texts: pd.Series | Sequence[str], languages: Sequence[str] = ("en", "ru", "pl")) -> pd.Series:
    """Language of each text: one of ``languages``, another ISO 639-1 code, or ``None``.

    Rules, in order (each distinct text is classified once; texts that differ only in their digits
    are one text here, :func:`distinct_texts`, since cleaning removes the numbers):

    0. the text is cleaned first (:func:`clean_text`: URLs, e-mails, @handles, emoji, numbers out);
    1. no letter at all -> ``None``;
    2. mostly Cyrillic letters, ``ru`` the only Cyrillic language of ``languages`` and no letter
       Russian does not use (і ї є ґ ў ј љ ...) -> ``ru``;
    3. Latin text with a letter only Polish uses among the audit languages (ą ć ę ł ń ś ź ż) -> ``pl``;
    4. Latin text, audit languages among en/pl: at least two function words of one language and
       none of the other (short-word method, Grefenstette 1995) -> that language;
    5. otherwise py3langid (langid.py, Lui & Baldwin 2012) on the first 300 characters: its best
       language over all 97 when that is outside ``languages`` with probability >= 0.95 on at least
       25 letters, else the best of the ``languages`` of the text's script.

    Rules 2-4 are exact shortcuts for the audit's own languages (py3langid costs ~0.4 ms for a
    100-character comment); rule 5 keeps foreign comments (``uk``, ``de``, ...) out of the coding.

    Examples
    --------
    >>> detect_language(["Доставка опоздала", "Paczka dotarła za późno", "The parcel was late", "123"]).tolist()
    ['ru', 'pl', 'en', None]
    """
    s = pd.Series(texts) if isinstance(texts, pd.Series) else pd.Series(texts, dtype=object)
    langs = tuple(languages)
    codes, first = distinct_texts(s)  # texts that clean alike (digits aside) are detected once
    reps = pd.Series(s.iloc[first].to_numpy(object), dtype=object).fillna("").astype(str)
    labels = np.array([_detect_one(clean_text(u), langs) for u in reps], dtype=object)
    return pd.Series(labels[codes] if len(codes) else [], index=s.index, dtype=object)


# =================================================================================================
# Tokens and normalisation
# =================================================================================================

# Snowball only where inflection is rich; English Porter/Snowball stems conflate derivations
# (friendly -> friend, delivery -> deliveri vs delivered -> deliv) that the lemma keeps apart.
_STEMMER_NAMES = {"ru": "russian", "pl": "polish"}


@cache
def _stemmer(lang: str) -> Any:
    import snowballstemmer

    name = _STEMMER_NAMES.get(lang)
    return snowballstemmer.stemmer(name) if name else None


@cache
def _lemma_lang(lang: str) -> bool:
    from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

    return lang in SUPPORTED_LANGUAGES


# --- cleaning before language detection, coding and topic discovery ------------------------------

_URL = re.compile(r"(?i)(?:\b(?:https?|ftp)://|\bwww\.)\S+"
                  r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|ru|pl|su|ua|by|kz|uk|eu|de|io|co|me|info|biz|ly|gl|gov)"
                  r"(?:/\S*)?(?![\w.])")
_HANDLE = re.compile(r"(?<![\w@])@[\w.]+")
# emoji and pictographs: symbol blocks, variation selectors, zero-width joiner, regional indicators, skin tones
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\U0001F1E6-\U0001F1FF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF"
                    "\uFE0E\uFE0F\u200D\u20E3\U000E0020-\U000E007F]")
_NUMBER = re.compile(r"\d+(?:[.,:/-]\d+)*")
_SPACES = re.compile(r"\s+")


def clean_text(text: str | None) -> str:
    """Text without what carries no language and no theme: URLs (``https://…``, ``www.…``, bare
    ``domain.tld/path``), e-mail addresses, ``@handles``, emoji and numbers; ``#`` of a hashtag is
    dropped and its word kept. Runs before :func:`detect_language` (a link's Latin letters made
    Cyrillic tweets look Polish), before coding and before topic discovery (no ``http`` topics).

    Examples
    --------
    >>> clean_text("@megafon_ru опять нет связи 😡 https://t.co/Ab12 #связь 3 дня, пишите a@b.pl")
    'опять нет связи связь дня, пишите'
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = _EMAIL.sub(" ", str(text))
    s = _URL.sub(" ", s)
    s = _HANDLE.sub(" ", s)
    s = _EMOJI.sub(" ", s).replace("#", " ")
    s = _NUMBER.sub(" ", s)
    return _SPACES.sub(" ", s).strip().replace(" ,", ",").replace(" .", ".")


def clean_series(texts: pd.Series) -> pd.Series:
    """:func:`clean_text` over a Series (each distinct text once)."""
    s = pd.Series(texts).fillna("").astype(str)
    codes, uniques = pd.factorize(s)
    done = np.array([clean_text(u) for u in uniques] + [""], dtype=object)
    return pd.Series(done[codes], index=s.index, dtype=object)


def distinct_texts(texts: pd.Series | Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Texts that read alike for language detection and coding, found once: ``(codes, first)`` with
    ``codes`` the number of each text's group (0, 1, … in order of first appearance) and ``first`` the
    position of each group's first text. Missing values count as ``""``.

    Two texts are in one group when they are equal after every run of ASCII digits is written as one
    ``0`` ("order 552753" and "order 1" are one group). :func:`clean_text` removes every number and
    treats a digit run like any other run of word characters in its e-mail, link and handle
    patterns (no pattern counts digits), so the texts of one group clean -- and therefore tokenise,
    detect and code -- alike; ``tests/test_text_scale.py`` checks that on hand-made cases. Support
    tickets repeat a few templates with order and customer numbers, so at 2M tickets this turns
    millions of texts into a few hundred to code (the masking runs in Arrow, RE2 ``[0-9]+``).

    Examples
    --------
    >>> codes, first = distinct_texts(["Order 12 late", "Order 7 late", None, "Order 7 late!"])
    >>> codes.tolist(), first.tolist()
    ([0, 0, 1, 2], [0, 2, 3])
    """
    codes = _text_codes(texts, mask_digits=True)
    first = np.unique(codes, return_index=True)[1]
    return codes, first.astype(np.int64)


def equal_texts(texts: pd.Series | Sequence[str]) -> np.ndarray:
    """The number of each text (0, 1, … in order of first appearance; equal texts, equal numbers;
    missing values count as ``""``), as ``pd.factorize`` gives it, found in Arrow without a Python
    string per row."""
    return _text_codes(texts, mask_digits=False)


#: Rows converted to Arrow at a time by :func:`distinct_texts` / :func:`equal_texts` (bounds the copies).
TEXT_CHUNK_ROWS = 262_144


def _text_codes(texts: pd.Series | Sequence[str], *, mask_digits: bool) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    s = pd.Series(texts) if isinstance(texts, pd.Series) else pd.Series(texts, dtype=object)
    if not len(s):
        return np.zeros(0, dtype=np.int64)
    local: list[np.ndarray] = []
    dicts: list[Any] = []
    for start in range(0, len(s), TEXT_CHUNK_ROWS):
        part = s.iloc[start:start + TEXT_CHUNK_ROWS]
        try:
            arr = pa.array(part, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # cells that are not text: as str() writes them
            arr = pa.array(part.fillna("").astype(str), type=pa.large_string(), from_pandas=True)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        arr = arr.fill_null("")
        if mask_digits:
            arr = pc.replace_substring_regex(arr, pattern="[0-9]+", replacement="0")
        enc = pc.dictionary_encode(arr)  # values in order of first appearance within the chunk
        local.append(np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64))
        dicts.append(enc.dictionary)
        del arr, enc
    # the chunks' values in order, numbered by first appearance: the numbering of the whole column
    glob = pc.dictionary_encode(pa.concat_arrays(dicts)).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.cumsum([0] + [len(d) for d in dicts[:-1]])
    del dicts
    codes = np.concatenate([glob[off + loc] for off, loc in zip(offsets.tolist(), local, strict=True)])
    pa.default_memory_pool().release_unused()
    return codes


def tokenize(text: str) -> list[str]:
    """Lower-case letter runs (digits and punctuation dropped; Russian ``ё`` read as ``е``).

    Examples
    --------
    >>> tokenize("Посылку задержали на 5 дней, ёлки!")
    ['посылку', 'задержали', 'на', 'дней', 'елки']
    """
    return _WORD_RE.findall(str(text).lower().replace("ё", "е"))


def normalize(token: str, lang: str | None) -> str:
    """``snowball_stem(simplemma_lemma(token))`` for Russian and Polish, the simplemma lemma for English
    and other languages simplemma knows, the lower-case token otherwise.

    Examples
    --------
    >>> normalize("опозданием", "ru"), normalize("opóźnioną", "pl"), normalize("delayed", "en")
    ('опоздан', 'opóźn', 'delay')
    >>> normalize("friendly", "en") != normalize("friends", "en")
    True
    """
    w = token.lower().replace("ё", "е")
    if not lang:
        return w
    if _lemma_lang(lang):
        import simplemma

        w = simplemma.lemmatize(w, lang=lang).lower().replace("ё", "е")
    st = _stemmer(lang)
    return st.stemWord(w) if st is not None else w


def _normalize_phrase(phrase: str, lang: str) -> tuple[str, ...]:
    return tuple(normalize(tok, lang) for tok in tokenize(phrase))


# =================================================================================================
# Codeframe
# =================================================================================================

Polarity = Literal["complaint", "praise", "neutral"]


Entry = tuple[tuple[str, ...], ...]


@cache
def _compile(raw: tuple[str, ...], lang: str) -> tuple[Entry, ...]:
    """Normalise keyword entries for ``lang`` (once per language: loading a lemma dictionary is slow)."""
    return tuple(tuple(_normalize_phrase(p, lang) for p in r.split("&")) for r in raw)


@dataclass(frozen=True)
class Theme:
    """One theme of a codeframe.

    ``keywords`` / ``exclude`` map a language to its raw entries; :meth:`entries` gives them
    normalised: a tuple of alternatives that must *all* occur in the comment (``a & b``), each a
    tuple of normalised tokens that must occur consecutively. Normalisation is lazy, per language.
    """

    key: str
    label: dict[str, str]
    polarity: Polarity
    keywords: dict[str, tuple[str, ...]]
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stages: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    context: dict[str, tuple[str, ...]] = field(default_factory=dict)
    negated_too: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def name(self, lang: str) -> str:
        """The theme's label in ``lang`` (English, then the key, when missing)."""
        return self.label.get(lang) or self.label.get("en") or self.key

    def entries(self, lang: str) -> tuple[Entry, ...]:
        return _compile(self.keywords.get(lang, ()), lang)

    def exclusions(self, lang: str) -> tuple[Entry, ...]:
        return _compile(self.exclude.get(lang, ()), lang)

    def ambiguous_entries(self, lang: str) -> tuple[Entry, ...]:
        return _compile(self.ambiguous.get(lang, ()), lang)

    def context_entries(self, lang: str) -> tuple[Entry, ...]:
        return _compile(self.context.get(lang, ()), lang)

    def negated_too_entries(self, lang: str) -> tuple[Entry, ...]:
        return _compile(self.negated_too.get(lang, ()), lang)


@dataclass(frozen=True)
class Codeframe:
    """A consultant's codeframe: themes with keywords per language."""

    themes: tuple[Theme, ...]
    source: str = ""

    @property
    def keys(self) -> list[str]:
        return [th.key for th in self.themes]

    @property
    def languages(self) -> tuple[str, ...]:
        langs: list[str] = []
        for th in self.themes:
            for lang in th.keywords:
                if lang not in langs:
                    langs.append(lang)
        return tuple(langs)

    def theme(self, key: str) -> Theme:
        for th in self.themes:
            if th.key == key:
                return th
        raise KeyError(f"no theme {key!r} in the codeframe {self.source}")


DEFAULT_CODEFRAME = "codeframe.yaml"
_THEME_KEYS = {"label", "polarity", "keywords", "exclude", "stages", "channels", "touchpoints", "ambiguous", "context",
               "negated_too"}


def _parse_entries(value: Any, file: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(file, key, "expected a list of keywords or phrases (non-empty strings)")
    for raw in value:
        if any(not tokenize(p) for p in raw.split("&")):
            raise ConfigError(file, key, f"keyword {raw!r} has no word in it (letters needed on each side of '&')")
    return tuple(value)


def load_codeframe(source: str | Path | Mapping[str, Any] | None = None) -> Codeframe:
    """Read and validate a codeframe YAML (or an already-parsed mapping); ``None`` -> the default.

    Format::

        themes:
          late_delivery:
            label: {en: Late delivery, ru: Задержка доставки, pl: Opóźniona dostawa}
            polarity: complaint            # complaint | praise | neutral
            stages: [post-purchase]        # journey stages the theme belongs to (optional)
            channels: []                   # touchpoint channels (optional)
            touchpoints: [tp_delivery]     # explicit touchpoint ids (optional)
            keywords:
              en: [late delivery, delay, courier & late]
              ru: [опоздание доставки, задержка]
            exclude:                       # optional, same syntax: vetoes the theme for a comment
              en: [not late]
            ambiguous:                     # optional: keywords with another sense outside the theme,
              pl: [zwrot, oddać]           # counted only when a context entry also occurs
            context:
              pl: [towar, sklep, zamówienie, pieniądze]
            negated_too:                   # optional: keywords that count after a negation word too
              pl: [dodzwonić]              # (the complaint is said with one: "nie mogę się dodzwonić")

    Keywords are normalised like the comments (:func:`normalize`), so any inflected form works.
    A keyword with a negation word (:data:`NEGATIONS`) among the three tokens before it, in the same
    clause, does not count ("not friendly", "nie był miły", "без задержек"), unless the keyword itself
    holds a negation ("not delivered", "nikt nie odbiera").

    Raises
    ------
    ConfigError
        Naming the file and the key (``themes.<theme>.keywords.<lang>``) of a malformed entry.
    """
    if source is None:
        ref = resources.files("cxaudit").joinpath("resources", DEFAULT_CODEFRAME)
        file = f"cxaudit/resources/{DEFAULT_CODEFRAME}"
        data = load_yaml_text(ref.read_text(encoding="utf-8"), file)
    elif isinstance(source, Mapping):
        file, data = "<codeframe>", dict(source)
    else:
        path = Path(source)
        file = str(path)
        if not path.is_file():
            raise ConfigError(file, "", "codeframe file not found")
        data = load_yaml(path)  # size cap, no aliases (cxaudit.safeyaml)
    if not isinstance(data, dict) or not isinstance(data.get("themes"), dict) or not data["themes"]:
        raise ConfigError(file, "themes", "expected a mapping of theme -> {label, polarity, keywords}")
    themes = []
    for key, spec in data["themes"].items():
        where = f"themes.{key}"
        if not isinstance(spec, dict):
            raise ConfigError(file, where, "expected a mapping with label, polarity and keywords")
        unknown = sorted(set(spec) - _THEME_KEYS)
        if unknown:
            raise ConfigError(file, f"{where}.{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(_THEME_KEYS))})")
        polarity = spec.get("polarity", "neutral")
        if polarity not in ("complaint", "praise", "neutral"):
            raise ConfigError(file, f"{where}.polarity", f"expected complaint, praise or neutral, got {polarity!r}")
        kw = spec.get("keywords")
        if not isinstance(kw, dict) or not kw:
            raise ConfigError(file, f"{where}.keywords", "expected a mapping language -> list of keywords")
        keywords = {str(lang): _parse_entries(words, file, f"{where}.keywords.{lang}") for lang, words in kw.items()}
        exclude = {str(lang): _parse_entries(words, file, f"{where}.exclude.{lang}")
                   for lang, words in (spec.get("exclude") or {}).items()}
        ambiguous = {str(lang): _parse_entries(words, file, f"{where}.ambiguous.{lang}")
                     for lang, words in (spec.get("ambiguous") or {}).items()}
        context = {str(lang): _parse_entries(words, file, f"{where}.context.{lang}")
                   for lang, words in (spec.get("context") or {}).items()}
        negated_too = {str(lang): _parse_entries(words, file, f"{where}.negated_too.{lang}")
                       for lang, words in (spec.get("negated_too") or {}).items()}
        for lang in ambiguous:
            if not context.get(lang):
                raise ConfigError(file, f"{where}.context.{lang}",
                                  "ambiguous keywords need context words in the same language (the words "
                                  "that must also occur for them to count)")
        stages = tuple(spec.get("stages") or ())
        bad = [s for s in stages if s not in STAGES]
        if bad:
            raise ConfigError(file, f"{where}.stages", f"unknown stage {bad[0]!r}; expected some of {', '.join(STAGES)}")
        label = spec.get("label") or {}
        if isinstance(label, str):
            label = {"en": label}
        themes.append(Theme(
            key=str(key), label={str(k): str(v) for k, v in label.items()}, polarity=polarity,
            keywords=keywords, exclude=exclude, stages=stages, ambiguous=ambiguous, context=context,
            negated_too=negated_too,
            channels=tuple(spec.get("channels") or ()), touchpoints=tuple(spec.get("touchpoints") or ()),
        ))
    return Codeframe(tuple(themes), source=file)


@cache
def default_codeframe() -> Codeframe:
    """The codeframe shipped in ``cxaudit/resources/codeframe.yaml`` (retail / e-commerce themes)."""
    return load_codeframe(None)


# --- industry packs ------------------------------------------------------------------------------

#: The built-in codeframe packs: ``retail`` is ``resources/codeframe.yaml``; the others are
#: ``resources/codeframes/<industry>.yaml`` with the shared themes of ``codeframes/common.yaml`` they name
#: in ``include:``. Every pack has keywords in en / ru / pl.
INDUSTRIES: tuple[str, ...] = CODEFRAME_INDUSTRIES

#: Words of a free-text ``client.industry`` that name a pack (lower case, matched as whole words).
INDUSTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "retail": ("retail", "e-commerce", "ecommerce", "shop", "shops", "store", "stores", "marketplace", "fmcg",
               "grocery", "fashion", "розница", "ритейл", "магазин", "handel", "sklep"),
    "telecom": ("telecom", "telecoms", "telco", "telecommunications", "mobile", "operator", "isp", "broadband",
                "телеком", "связь", "оператор", "telekomunikacja"),
    "banking": ("bank", "banking", "banks", "finance", "financial", "fintech", "insurance", "insurer", "банк",
                "страхование", "bankowość", "ubezpieczenia"),
    "travel": ("travel", "hospitality", "hotel", "hotels", "airline", "airlines", "aviation", "tourism", "rail",
               "railway", "туризм", "отель", "авиакомпания", "turystyka", "hotelarstwo", "lotnictwo"),
    "saas": ("saas", "software", "it", "app", "apps", "platform", "tech", "по", "oprogramowanie"),
    "public": ("public", "government", "municipal", "council", "administration", "public sector", "госуслуги",
               "государственный", "urząd", "administracja", "publiczne"),
}


def industry_of(text: str | None) -> str | None:
    """The pack a free-text industry names (:data:`INDUSTRY_ALIASES`), or ``None``.

    Examples
    --------
    >>> industry_of("Telecommunications"), industry_of("Retail banking"), industry_of("Mining")
    ('telecom', 'retail', None)
    """
    if not text:
        return None
    low = str(text).strip().lower()
    if low in INDUSTRIES:
        return low
    words = set(re.findall(r"[\w-]+", low))
    for key, aliases in INDUSTRY_ALIASES.items():
        if any((a in words) if " " not in a else (a in low) for a in aliases):
            return key
    return None


@cache
def industry_codeframe(industry: str) -> Codeframe:
    """The built-in codeframe pack of ``industry`` (one of :data:`INDUSTRIES`).

    Raises
    ------
    ConfigError
        For an unknown industry, naming the packs there are.
    """
    if industry not in INDUSTRIES:
        raise ConfigError("audit.yaml", "text.industry",
                          f"unknown codeframe pack {industry!r}; expected one of {', '.join(INDUSTRIES)}")
    if industry == "retail":
        return default_codeframe()
    folder = resources.files("cxaudit").joinpath("resources", "codeframes")
    common = load_yaml_text(folder.joinpath("common.yaml").read_text(encoding="utf-8"),
                            "cxaudit/resources/codeframes/common.yaml")["themes"]
    pack = load_yaml_text(folder.joinpath(f"{industry}.yaml").read_text(encoding="utf-8"),
                          f"cxaudit/resources/codeframes/{industry}.yaml")
    themes = {k: common[k] for k in pack.get("include") or ()}
    themes.update(pack["themes"])
    cf = load_codeframe({"themes": themes})
    return Codeframe(cf.themes, source=f"cxaudit/resources/codeframes/{industry}.yaml")


def suggest_industry(texts: pd.Series, langs: pd.Series | None = None,
                     industries: Sequence[str] = INDUSTRIES) -> pd.DataFrame:
    """Coverage of every built-in pack on these comments: ``industry, n, k, share, ci_low, ci_high``
    (comments with at least one theme of the pack, Wilson interval), the pack coding the most first
    (ties: the order of :data:`INDUSTRIES`). The first row is the suggestion."""
    texts = pd.Series(texts).fillna("").astype(str)
    if langs is None:
        langs = detect_language(texts, ("en", "ru", "pl"))
    rows = []
    n = len(texts)
    for i, ind in enumerate(industries):
        k = int(code_comments(texts, industry_codeframe(ind), langs).any.sum()) if n else 0
        lo, hi = wilson(np.array([float(k)]), np.array([float(max(n, 1))]))
        rows.append({"industry": ind, "order": i, "n": n, "k": k, "share": k / n if n else np.nan,
                     "ci_low": float(lo[0]), "ci_high": float(hi[0])})
    out = pd.DataFrame(rows).sort_values(["k", "order"], ascending=[False, True], kind="stable")
    return out.drop(columns="order").reset_index(drop=True)


@dataclass(frozen=True)
class CodeframeChoice:
    """Which codeframe coded the comments and why (:func:`choose_codeframe`).

    ``how``: ``client_file`` (``codeframe.yaml`` in the client folder), ``config`` (``text.industry``
    in audit.yaml), ``client_industry`` (``client.industry`` names a pack) or ``coverage`` (the pack
    that codes the most comments; ``coverage`` holds every pack's row of :func:`suggest_industry`).
    """

    codeframe: Codeframe
    how: Literal["client_file", "config", "client_industry", "coverage"]
    industry: str | None = None
    coverage: pd.DataFrame | None = None


def choose_codeframe(audit: Any, texts: pd.Series | None = None) -> CodeframeChoice:
    """The codeframe for an audit: the client's ``codeframe.yaml`` if there is one, else the pack named
    by ``text.industry`` in audit.yaml, else the pack ``client.industry`` names (:func:`industry_of`),
    else the pack that codes the most of ``texts`` (:func:`suggest_industry`; retail when there is no
    text)."""
    from .paths import client_side_file

    client_file = client_side_file(audit.dir, "codeframe.yaml")  # inside the client folder, no symbolic link
    if client_file is not None:
        return CodeframeChoice(load_codeframe(client_file), "client_file")
    cfg = getattr(audit, "config", None)
    text_cfg = getattr(cfg, "text", None)
    named = getattr(text_cfg, "industry", None)
    if named:
        return CodeframeChoice(industry_codeframe(str(named)), "config", str(named))
    from_client = industry_of(getattr(getattr(cfg, "client", None), "industry", None))
    if from_client:
        return CodeframeChoice(industry_codeframe(from_client), "client_industry", from_client)
    texts = pd.Series([] if texts is None else texts, dtype=object).fillna("").astype(str).str.strip()
    texts = texts[texts != ""]
    if texts.empty:
        return CodeframeChoice(default_codeframe(), "coverage", "retail", None)
    cov = suggest_industry(texts.reset_index(drop=True))
    best = str(cov["industry"].iloc[0])
    return CodeframeChoice(industry_codeframe(best), "coverage", best, cov)


# =================================================================================================
# Coding
# =================================================================================================


@dataclass
class _Corpus:
    """All comments as one flat array of normalised-token ids (vectorised matching)."""

    n_docs: int
    ids: np.ndarray        # int64 normalised-token id per token position
    doc: np.ndarray        # int64 document of each position
    vocab: dict[tuple[str, str], int]   # (lang, normalised form) -> id
    surface: dict[int, str]             # id -> most frequent surface form
    order: np.ndarray      # argsort(ids)
    sorted_ids: np.ndarray
    clause: np.ndarray | None = None   # int64 clause number of each position (punctuation splits clauses)
    lang_of: np.ndarray | None = None  # language (object) of each document

    def positions(self, term: int) -> np.ndarray:
        lo = np.searchsorted(self.sorted_ids, term, side="left")
        hi = np.searchsorted(self.sorted_ids, term, side="right")
        return self.order[lo:hi]

    def docs_with(self, phrase: tuple[int, ...], negated: np.ndarray | None = None) -> np.ndarray:
        """Documents holding the normalised tokens of ``phrase`` consecutively; with ``negated`` (a
        bool per position: a negation word stands there), an occurrence with a negation word among the
        :data:`NEGATION_WINDOW` tokens before it, in the same clause, does not count."""
        pos = self.positions(phrase[0])
        for k, term in enumerate(phrase[1:], start=1):
            nxt = pos + k
            ok = nxt < len(self.ids)
            pos, nxt = pos[ok], nxt[ok]
            ok = (self.ids[nxt] == term) & (self.doc[nxt] == self.doc[pos])
            pos = pos[ok]
        if negated is not None and len(pos) and self.clause is not None:
            hit = np.zeros(len(pos), dtype=bool)
            for back in range(1, NEGATION_WINDOW + 1):
                prev = pos - back
                ok = prev >= 0
                pp = np.where(ok, prev, 0)
                hit |= ok & negated[pp] & (self.doc[pp] == self.doc[pos]) & (self.clause[pp] == self.clause[pos])
            pos = pos[~hit]
        return np.unique(self.doc[pos])

    def doc_tokens(self) -> list[np.ndarray]:
        bounds = np.searchsorted(self.doc, np.arange(self.n_docs + 1))
        return [self.ids[bounds[i]: bounds[i + 1]] for i in range(self.n_docs)]

    def tokens_of(self, docs: np.ndarray | Sequence[int]) -> list[np.ndarray]:
        """The token ids of the given documents only (``doc_tokens()[d]`` for each ``d``)."""
        docs = np.asarray(docs, dtype=np.int64)
        lo = np.searchsorted(self.doc, docs, side="left")
        hi = np.searchsorted(self.doc, docs, side="right")
        return [self.ids[a:b] for a, b in zip(lo.tolist(), hi.tolist(), strict=True)]

    def has_tokens(self) -> np.ndarray:
        """True for each document with at least one word."""
        return np.bincount(self.doc, minlength=self.n_docs)[: self.n_docs] > 0


def _build_corpus(texts: pd.Series, langs: pd.Series, weights: np.ndarray | None = None) -> _Corpus:
    """The corpus of ``texts`` (one document each). ``weights``: how many rows each document stands
    for (:func:`code_comments` codes each distinct text once); the most frequent surface form of a
    token is counted over the rows, as if every row were a document of its own."""
    lower = clean_series(texts).str.lower().str.replace("ё", "е", regex=False)
    pieces = lower.str.findall(_TOKEN_OR_BREAK)
    plens = pieces.str.len().fillna(0).to_numpy(dtype=np.int64)
    pflat = np.fromiter(itertools.chain.from_iterable(pieces), dtype=object, count=int(plens.sum()))
    is_word = np.fromiter((p[0].isalpha() for p in pflat), dtype=bool, count=len(pflat))
    clause_all = np.cumsum(~is_word)  # a new clause after every punctuation run (ids unique across documents)
    piece_doc = np.repeat(np.arange(len(texts), dtype=np.int64), plens)
    lens = np.bincount(piece_doc[is_word], minlength=len(texts)).astype(np.int64)
    total = int(lens.sum())
    flat = pflat[is_word]
    clause = clause_all[is_word].astype(np.int64)
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), lens)
    lang_codes, lang_uniques = pd.factorize(pd.Series(langs.to_numpy(object)).fillna(""))
    tok_codes, tok_uniques = pd.factorize(flat) if total else (np.zeros(0, np.int64), np.array([], dtype=object))
    pair = np.repeat(lang_codes.astype(np.int64), lens) * max(len(tok_uniques), 1) + tok_codes
    pair_uniques, pair_inverse, pair_counts = np.unique(pair, return_inverse=True, return_counts=True)
    if weights is not None and total:
        w_tok = np.repeat(np.asarray(weights, dtype=np.int64), lens)
        pair_counts = np.bincount(np.ravel(pair_inverse), weights=w_tok, minlength=len(pair_uniques))
        pair_counts = np.rint(pair_counts).astype(np.int64)
    vocab: dict[tuple[str, str], int] = {}
    pair_norm = np.empty(len(pair_uniques), dtype=np.int64)
    best_count: dict[int, int] = {}
    surface: dict[int, str] = {}
    width = max(len(tok_uniques), 1)
    for i, (p, c) in enumerate(zip(pair_uniques.tolist(), pair_counts.tolist(), strict=True)):
        lang = str(lang_uniques[p // width]) or None
        tok = str(tok_uniques[p % width])
        key = (lang or "", normalize(tok, lang))
        nid = vocab.setdefault(key, len(vocab))
        pair_norm[i] = nid
        if c > best_count.get(nid, 0):
            best_count[nid], surface[nid] = c, tok
    ids = pair_norm[pair_inverse] if total else np.zeros(0, np.int64)
    order = np.argsort(ids, kind="stable")
    return _Corpus(len(texts), ids, doc, vocab, surface, order, ids[order], clause,
                   pd.Series(langs.to_numpy(object)).to_numpy(object))


@dataclass
class CodingResult:
    """Output of :func:`code_comments`.

    Attributes
    ----------
    matrix : DataFrame
        One bool column per theme, one row per comment (index of the input).
    lang : Series
        Detected (or given) language per comment.
    keyword_hits : DataFrame
        ``theme, lang, keyword, n`` -- comments each codeframe entry matched (for tuning it).
    """

    matrix: pd.DataFrame
    lang: pd.Series
    keyword_hits: pd.DataFrame
    corpus: _Corpus = field(repr=False)
    #: the corpus document of each row (rows that read alike share one, :func:`distinct_texts`);
    #: ``None``: one document per row
    doc_of: np.ndarray | None = field(default=None, repr=False)

    @property
    def any(self) -> pd.Series:
        """True where at least one theme was coded."""
        return self.matrix.any(axis=1)

    def docs(self, rows: np.ndarray | Sequence[int]) -> np.ndarray:
        """The corpus documents of the given row positions."""
        rows = np.asarray(rows, dtype=np.int64)
        return rows if self.doc_of is None else self.doc_of[rows]

    def tokens(self, rows: np.ndarray | Sequence[int]) -> list[np.ndarray]:
        """The normalised token ids of the given row positions."""
        return self.corpus.tokens_of(self.docs(rows))

    def has_text(self) -> np.ndarray:
        """True for each row with at least one word (after cleaning)."""
        has = self.corpus.has_tokens()
        return has if self.doc_of is None else has[self.doc_of]


#: Words that negate what follows them (``not friendly``, ``nie był miły``, ``не вежливый``, ``no delay``,
#: ``без задержек``), normalised like every token. ``n't`` is tokenised as ``t``.
NEGATIONS: dict[str, tuple[str, ...]] = {
    "en": ("not", "no", "never", "t", "without", "nor", "neither", "nobody", "none", "cannot", "hardly"),
    "ru": ("не", "нет", "ни", "без", "никто", "ничуть", "отнюдь", "нисколько"),
    "pl": ("nie", "ani", "bez", "nikt", "niezbyt", "żaden", "żadnych", "żadnego", "żadne", "brak"),
}
#: A negation word followed by one of these does not negate ("not only", "no one answered": the
#: phrase "no one" is the subject there, not a negation of the verb).
_NOT_A_NEGATION_BEFORE: dict[str, tuple[str, ...]] = {
    "en": ("only", "one", "matter", "doubt"), "ru": ("только", "раз"), "pl": ("tylko", "raz"),
}
#: A negation word counts for this many tokens after it, within the same clause.
NEGATION_WINDOW = 3


@cache
def _negation_forms(lang: str) -> tuple[frozenset[str], frozenset[str]]:
    return (frozenset(normalize(w, lang) for w in NEGATIONS.get(lang, ())),
            frozenset(normalize(w, lang) for w in _NOT_A_NEGATION_BEFORE.get(lang, ())))


def _negated_positions(corpus: _Corpus, lang: str) -> np.ndarray:
    """True at every position holding a negation word of ``lang`` (see :data:`NEGATIONS`)."""
    neg_forms, skip_forms = _negation_forms(lang)
    neg_ids = [i for (lg, form), i in corpus.vocab.items() if lg == lang and form in neg_forms]
    skip_ids = [i for (lg, form), i in corpus.vocab.items() if lg == lang and form in skip_forms]
    out = np.isin(corpus.ids, neg_ids)
    if skip_ids and out.any():
        nxt = np.r_[corpus.ids[1:], -1]
        same = np.r_[corpus.doc[1:] == corpus.doc[:-1], False]
        out &= ~(np.isin(nxt, skip_ids) & same)
    return out


def _entry_has_negation(entry: Entry, lang: str) -> bool:
    neg_forms, _ = _negation_forms(lang)
    return any(tok in neg_forms for phrase in entry for tok in phrase)


def _entry_mask(corpus: _Corpus, lang: str, entry: Entry, negated: np.ndarray | None = None) -> np.ndarray:
    """Documents matching every side of ``entry``. With ``negated`` (see :func:`_negated_positions`),
    a side preceded by a negation word does not match -- unless the entry itself holds a negation word
    (``not delivered``, ``nobody & answer``: then the negation is what the entry looks for)."""
    if negated is not None and _entry_has_negation(entry, lang):
        negated = None
    mask = np.ones(corpus.n_docs, dtype=bool)
    for phrase in entry:
        ids = [corpus.vocab.get((lang, tok)) for tok in phrase]
        if any(i is None for i in ids):
            return np.zeros(corpus.n_docs, dtype=bool)
        hit = np.zeros(corpus.n_docs, dtype=bool)
        hit[corpus.docs_with(tuple(int(i) for i in ids if i is not None), negated)] = True
        mask &= hit
    return mask


def code_comments(texts: pd.Series, codeframe: Codeframe, langs: pd.Series | None = None, *,
                  text_codes: np.ndarray | None = None) -> CodingResult:
    """Code every comment with every theme of ``codeframe`` (multi-label).

    A comment in language L is coded with theme T when one of T's keyword entries for L matches
    its normalised tokens (:func:`normalize`) -- or one of its ``ambiguous`` entries together with one
    of its ``context`` entries -- and none of T's ``exclude`` entries for L does. A match preceded by a
    negation word within :data:`NEGATION_WINDOW` tokens of the same clause does not count (negation
    scope as in NegEx, Chapman et al. 2001, *J Biomed Inform* 34:301: a trigger word and a window of
    following tokens, cut at punctuation). Text is cleaned first (:func:`clean_text`).
    Comments in a language the codeframe does not cover are left uncoded (see ``lang``).

    Each distinct pair (text, language) is coded once and the result copied to its rows; texts that
    differ only in their digits count as one (:func:`distinct_texts`: cleaning removes the numbers).
    The keyword counts (``keyword_hits``) and every share stay counts of rows.

    Parameters
    ----------
    texts
        Comments (missing values count as empty).
    codeframe
        From :func:`load_codeframe`.
    langs
        Language per comment; detected with :func:`detect_language` when omitted.
    text_codes
        ``distinct_texts(texts)[0]`` when the caller has it already.
    """
    texts = pd.Series(texts)
    if langs is None:
        langs = detect_language(texts, codeframe.languages)
    langs = pd.Series(langs, index=texts.index, dtype=object)
    if text_codes is None:
        text_codes = distinct_texts(texts)[0]
    lang_codes, _ = pd.factorize(pd.Series(langs.to_numpy(object)).fillna(""))
    key = np.asarray(text_codes, dtype=np.int64) * (int(lang_codes.max(initial=0)) + 1) + lang_codes
    doc_of, _ = pd.factorize(key)  # documents in order of first appearance (token ids as without grouping)
    doc_of = doc_of.astype(np.int64)
    first = np.unique(doc_of, return_index=True)[1]
    weights = np.bincount(doc_of, minlength=len(first))
    corpus = _build_corpus(pd.Series(texts.iloc[first].to_numpy(object), dtype=object),
                           pd.Series(langs.iloc[first].to_numpy(object), dtype=object), weights)
    lang_arr = langs.iloc[first].to_numpy(object)
    cols: dict[str, np.ndarray] = {}
    hits = []
    negated: dict[str, np.ndarray] = {}
    for th in codeframe.themes:
        mask = np.zeros(corpus.n_docs, dtype=bool)
        for lang in dict.fromkeys([*th.keywords, *th.ambiguous, *th.negated_too]):
            in_lang = lang_arr == lang
            if not in_lang.any():  # no comment in this language: do not even load its dictionary
                continue
            if lang not in negated:
                negated[lang] = _negated_positions(corpus, lang)
            lang_mask = np.zeros(corpus.n_docs, dtype=bool)
            for raw, entry in zip(th.keywords[lang], th.entries(lang), strict=True):
                m = _entry_mask(corpus, lang, entry, negated[lang]) & in_lang
                hits.append({"theme": th.key, "lang": lang, "keyword": raw, "n": int(weights[m].sum())})
                lang_mask |= m
            for raw, entry in zip(th.negated_too.get(lang, ()), th.negated_too_entries(lang), strict=True):
                m = _entry_mask(corpus, lang, entry) & in_lang
                hits.append({"theme": th.key, "lang": lang, "keyword": raw, "n": int(weights[m].sum())})
                lang_mask |= m
            if th.ambiguous.get(lang):
                ctx = np.zeros(corpus.n_docs, dtype=bool)
                for entry in th.context_entries(lang):
                    ctx |= _entry_mask(corpus, lang, entry)
                for raw, entry in zip(th.ambiguous[lang], th.ambiguous_entries(lang), strict=True):
                    m = _entry_mask(corpus, lang, entry, negated[lang]) & in_lang & ctx
                    hits.append({"theme": th.key, "lang": lang, "keyword": raw, "n": int(weights[m].sum())})
                    lang_mask |= m
            for entry in th.exclusions(lang):
                lang_mask &= ~_entry_mask(corpus, lang, entry)
            mask |= lang_mask
        cols[th.key] = mask[doc_of]
    matrix = pd.DataFrame(cols, index=texts.index)
    return CodingResult(matrix, langs, pd.DataFrame(hits, columns=["theme", "lang", "keyword", "n"]), corpus,
                        doc_of)


# =================================================================================================
# Topic discovery
# =================================================================================================

# Function words removed before discovery (normalised like every token). Short lists on purpose:
# TF-IDF's max_df removes whatever else is everywhere.
_STOPWORDS: dict[str, str] = {
    "en": (
        "a an the and or but if then so than too very just also not no nor only own same such that this these "
        "those there here what which who whom whose why how when where all any both each few more most other some "
        "i me my myself we our ours you your yours he him his she her hers it its they them their theirs am is are "
        "was were be been being have has had having do does did doing would should could can will shall may might "
        "must of at by for with about against between into through during before after above below to from up "
        "down in out on off over under again further once as until while because ever never always still even "
        "really much many get got one two three thing things"
    ),
    "ru": (
        "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот "
        "от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять "
        "уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без "
        "будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один "
        "почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после "
        "над больше тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед "
        "иногда лучше чуть том нельзя такой им более всегда конечно всю между очень это весь свой мой ваш наш"
    ),
    "pl": (
        "a aby ach acz aczkolwiek aj albo ale ani aż bardziej bardzo bo bowiem by byli bym być był była było były "
        "będzie będą cali cała cały ci cię ciebie co cokolwiek coś czy czyli daleko dla dlaczego dlatego do dobrze "
        "dokąd dość dużo dwa dwaj dwie dwoje dziś dzisiaj gdy gdyby gdyż gdzie go i ich ile im inny ja ją jak jakiś "
        "jakie jako jakoś je jeden jedna jedno jego jej jemu jest jestem jeszcze jeśli jeżeli już każdy kiedy kilka "
        "kto ktoś która które którego której który których którym którzy ku lat lecz lub ma mają mam mi mimo między "
        "mną mnie mogą moi moim moja moje może można mój mu musi my na nad nam nami nas nasi nasz nasza nasze "
        "natychmiast nawet nic nich nie niego niej niemu nigdy nim nimi niż no o obok od około on ona one oni ono "
        "oraz owszem pan pana pani po pod podczas pomimo ponad ponieważ powinien powinna przed przede przez przy "
        "raz razie roku również się sobie sobą sposób swoje są ta tak taka taki takie także tam te tego tej ten "
        "teraz też to tobą tobie tu tutaj twoi twój ty tych tylko tym u w wam wami was wasz wasza wasze we według "
        "wiele wielu więc wszyscy wszystkich wszystkie wszystko właśnie z za zawsze ze że żeby"
    ),
}


# Words of social-media and survey talk that say nothing about a theme ("okay, like", "RT", link debris).
_CHATTER: dict[str, str] = {
    "en": "okay ok like yeah yes yep lol please thanks thank thx hi hello hey guys rt via amp http https www com "
          "im ive dont didnt cant wont pls plz etc",
    "ru": "ок окей ладно вообще просто типа блин спасибо пожалуйста привет ну вот это вроде короче http https www "
          "com ru rt кстати",
    "pl": "ok okej spoko dzięki dziękuję proszę cześć hej jakby no coś też http https www com pl rt",
}
# English stop lists also hold words that are themes in CX comments ("call", "bill", "system"): keep them.
_CX_WORDS = frozenset("call bill system fire find fill interest detail show part found give move full empty side back top "
                      "bottom front".split())


@cache
def stop_words(lang: str) -> frozenset[str]:
    """Stop words of ``lang`` for topic discovery: for ru and pl the maintained lists of the
    ``stop-words`` package (Alireza Savand, BSD-3-Clause; 421 Russian and 335 Polish words), for en
    scikit-learn's list (Glasgow Information Retrieval Group; without words that name CX themes:
    call, bill, system, ...), each with cxaudit's short list of function words and of social-media
    chatter (okay, like, RT, http). Lower case, ``ё`` read as ``е``.

    Examples
    --------
    >>> {"http", "okay", "like"} <= stop_words("en"), "website" in stop_words("en"), "очень" in stop_words("ru")
    (True, False, True)
    """
    words = set(_STOPWORDS.get(lang, "").split()) | set(_CHATTER.get(lang, "").split())
    if lang == "en":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        words |= set(ENGLISH_STOP_WORDS) - _CX_WORDS
    else:
        from stop_words import LANGUAGE_MAPPING, get_stop_words

        if lang in LANGUAGE_MAPPING:
            words |= set(get_stop_words(lang))
    return frozenset(w.lower().replace("ё", "е") for w in words)


@cache
def _stop_ids_key(lang: str) -> frozenset[str]:
    words = stop_words(lang)
    return frozenset(words) | frozenset(normalize(w, lang) for w in words)


def _docs_as_strings(coding: CodingResult, rows: np.ndarray, lang: str) -> list[str]:
    corpus = coding.corpus
    stop = _stop_ids_key(lang)
    stop_ids = {i for (lg, form), i in corpus.vocab.items() if lg == lang and (form in stop or len(form) < 3)}
    docs = coding.docs(rows)
    uniq, inverse = np.unique(docs, return_inverse=True)  # each document written once
    done = [" ".join(f"t{i}" for i in toks.tolist() if i not in stop_ids) for toks in corpus.tokens_of(uniq)]
    return [done[j] for j in np.ravel(inverse).tolist()]


def _readable_terms(features: list[list[int]], corpus: _Corpus, top: int) -> list[str]:
    """Top terms as text (each token's most frequent surface form), without repeats: a bigram whose two
    words are already listed ("okay, like, okay like") or that repeats one word ("okay okay") is skipped."""
    out: list[str] = []
    seen: set[str] = set()
    for ids in features:
        words = [corpus.surface[i] for i in ids]
        if len(set(words)) < len(words) or (len(words) > 1 and set(words) <= seen):
            continue
        term = " ".join(words)
        if term in out:
            continue
        out.append(term)
        seen.update(words)
        if len(out) == top:
            break
    return out


def _topic_label(features: list[list[int]], corpus: _Corpus, lang: str, n_words: int = 3) -> str:
    """A readable name for a topic: its first ``n_words`` distinct dictionary forms (simplemma lemma
    of each token's most frequent surface form) that are not stop words and have three letters or
    more, in the order of the topic's term weights."""
    import simplemma

    stop = stop_words(lang)
    words: list[str] = []
    for ids in features:
        for i in ids:
            surface = corpus.surface[i]
            lemma = simplemma.lemmatize(surface, lang=lang).lower() if _lemma_lang(lang) else surface
            if lang == "en" and not surface.startswith(lemma):  # simplemma: "thinking" -> "thinke"
                lemma = surface
            if len(lemma) < 3 or lemma in stop or surface in stop or lemma in words:
                continue
            words.append(lemma)
            if len(words) == n_words:
                return ", ".join(words)
    return ", ".join(words)


def discover_topics(coding: CodingResult, texts: pd.Series, *, n_topics: int | None = None, seed: int = 20261124,
                    min_docs: int = 40, top_terms: int = 8, n_examples: int = 3,
                    names: Iterable[str] | None = None, labels: Mapping[str, str] | None = None,
                    only_uncoded: bool = True) -> pd.DataFrame:
    """Topics among the comments no theme coded: TF-IDF + NMF per language.

    For each language with at least ``min_docs`` uncoded comments: TF-IDF (sublinear tf, unigrams
    and bigrams of normalised tokens, stop words out, ``min_df = max(3, 0.5 %)``, ``max_df = 0.5``),
    then NMF with ``init="nndsvda"`` and ``random_state=seed`` (Lee & Seung 1999; Boutsidis &
    Gallopoulos 2008). ``n_topics`` defaults to ``clip(n_docs // 60, 2, 8)``. Each comment goes to its
    heaviest topic (comments with a zero row go nowhere).

    Returns
    -------
    DataFrame
        ``lang, topic, n, share, label, terms, examples``: ``n`` comments assigned, ``share`` of the
        language's uncoded comments, ``label`` two or three readable words naming the topic
        (:func:`_topic_label`), ``terms`` the top terms (most frequent surface form of each normalised
        token; no repeated words, :func:`_readable_terms`), ``examples`` the comments with the largest
        weight -- redacted. Comments are cleaned first (:func:`clean_text`: no links, handles,
        e-mails, emoji, numbers) and stop words (:func:`stop_words`) are left out.
    """
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = pd.Series(texts).reset_index(drop=True)
    corpus = coding.corpus
    langs = coding.lang.reset_index(drop=True)
    pool = ~coding.any.reset_index(drop=True) if only_uncoded else pd.Series(True, index=langs.index)
    pool &= texts.fillna("").astype(str).str.strip() != ""
    forms = _name_forms(names) if names is not None else None
    rows_out = []
    for lang in [lg for lg in pd.unique(langs.dropna()) if lg]:
        rows = np.flatnonzero((pool & (langs == lang)).to_numpy())
        if len(rows) < min_docs:
            continue
        docs = _docs_as_strings(coding, rows, str(lang))
        k = n_topics or int(np.clip(len(rows) // 60, 2, 8))
        vec = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False, ngram_range=(1, 2),
                              sublinear_tf=True, min_df=max(3, int(0.005 * len(rows))), max_df=0.5)
        try:
            x = vec.fit_transform(docs)
        except ValueError:  # nothing left after pruning
            continue
        if x.shape[1] < k:
            continue
        model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=500)
        w = model.fit_transform(x)
        feats = vec.get_feature_names_out()
        assigned = np.where(w.sum(axis=1) > 0, w.argmax(axis=1), -1)
        for j in range(k):
            ranked = [i for i in np.argsort(-model.components_[j]) if model.components_[j, i] > 0]
            terms = _readable_terms([[int(p[1:]) for p in feats[i].split()] for i in ranked], corpus, top_terms)
            label = _topic_label([[int(p[1:]) for p in feats[i].split()] for i in ranked[:top_terms * 2]],
                                 corpus, str(lang))
            members = np.flatnonzero(assigned == j)
            if not len(members):
                continue
            best = members[np.argsort(-w[members, j], kind="stable")]
            examples: list[str] = []
            seen: set[str] = set()
            for r in best:
                txt = str(texts.iloc[rows[r]])
                if txt in seen:
                    continue
                seen.add(txt)
                examples.append(redact_pii(txt, forms, labels=labels))
                if len(examples) == n_examples:
                    break
            rows_out.append({"lang": str(lang), "topic": j + 1, "n": len(members), "share": len(members) / len(rows),
                             "label": label, "terms": terms, "examples": examples})
    out = pd.DataFrame(rows_out, columns=["lang", "topic", "n", "share", "label", "terms", "examples"])
    return out.sort_values(["lang", "n"], ascending=[True, False]).reset_index(drop=True)


# =================================================================================================
# Statistics: themes x NPS group
# =================================================================================================


def newcombe_diff_ci(k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray,
                     z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Interval for p1 − p2 of independent proportions: Newcombe (1998, *Stat Med* 17:873),
    method 10 (hybrid score, from two Wilson intervals). R: ``DescTools::BinomDiffCI(..., method="score")``;
    statsmodels ``confint_proportions_2indep(..., method="newcomb", compare="diff")``, which computes it.

    L = (p1 − p2) − √((p1 − l1)² + (u2 − p2)²),  U = (p1 − p2) + √((u1 − p1)² + (p2 − l2)²).
    """
    k1, n1, k2, n2 = (np.asarray(a, dtype=float) for a in (k1, n1, k2, n2))
    alpha = 2.0 * float(_norm.sf(z))
    with np.errstate(invalid="ignore", divide="ignore"):
        lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff", alpha=alpha)
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def katz_rr_ci(a: np.ndarray, n1: np.ndarray, c: np.ndarray, n2: np.ndarray,
               z: float = Z95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Risk ratio (a/n1)/(c/n2) with the Katz et al. (1978, *Biometrics* 34:469) log interval:
    exp(ln RR ± z·√(1/a − 1/n1 + 1/c − 1/n2)); 0.5 is added to a and c (and 1 to n1, n2) when
    either is zero (Haldane). R: ``epitools::riskratio.wald``. The interval is statsmodels'
    ``confint_proportions_2indep(..., method="log", compare="ratio")``, which has no zero-cell
    correction of its own, on the corrected counts.
    """
    a, n1, c, n2 = (np.asarray(x, dtype=float).copy() for x in (a, n1, c, n2))
    zero = (a == 0) | (c == 0)
    a[zero] += 0.5
    c[zero] += 0.5
    n1[zero] += 1.0
    n2[zero] += 1.0
    alpha = 2.0 * float(_norm.sf(z))
    with np.errstate(invalid="ignore", divide="ignore"):
        rr = (a / n1) / (c / n2)
        lo, hi = confint_proportions_2indep(a, n1, c, n2, method="log", compare="ratio", alpha=alpha)
    return rr, np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def theme_table(matrix: pd.DataFrame, nps: pd.Series, codeframe: Codeframe, lang: str, *,
                n_respondents: int | None = None, alpha: float = 0.05,
                groups: pd.Series | None = None) -> pd.DataFrame:
    """Themes × NPS group (or low / high on another outcome), one row per theme.

    ``groups``: when given, the comparison groups instead of the NPS groups of ``nps``: ``"low"`` plays
    the detractors' part and ``"high"`` the promoters' (:func:`outcome_groups`, issue 13); the ``*_det``
    / ``*_prom`` columns then hold low / high. Without any group (no outcome at all) the comparison
    columns are NaN, ``significant`` is False, and only the shares with their Wilson intervals remain.

    Columns
    -------
    ``theme, label, polarity, n_comments, mentions, share, share_low, share_high`` (share of all
    comments, Wilson interval); ``n_det, k_det, share_det, n_prom, k_prom, share_prom`` (among
    comments of detractors 0–6 / promoters 9–10; ``share_det_low`` ... Wilson bounds); ``diff, diff_low, diff_high`` (share_det −
    share_prom, Newcombe hybrid-score interval); ``lift, lift_low, lift_high``; ``p_value, p_holm,
    significant``; ``det_share_of_mentions``; ``reach`` (mentions / all respondents).

    Lift is the association-rule lift of "detractor" and the theme,
    P(theme | detractor) / P(theme | comment with an NPS answer) = P(detractor | theme) / P(detractor):
    "detractors mention it *lift* times as often as the average commenter". With π the detractor
    share and RR = P(theme | detractor) / P(theme | not detractor), lift = 1 / (π + (1 − π) / RR), a
    monotone function of RR, so the Katz interval of RR maps to the lift interval. The test is
    Fisher's exact test of the 2×2 table theme × detractor (two-sided), Holm-adjusted over themes.
    """
    if groups is None:
        group = nps_category(pd.Series(nps, index=matrix.index))
    else:
        group = pd.Series(np.asarray(groups, dtype=object), index=matrix.index)
    has = group.notna().to_numpy()
    det = group.isin(("detractor", "low")).to_numpy(bool)
    prom = group.isin(("promoter", "high")).to_numpy(bool)
    n = len(matrix)
    rows = []
    for th in codeframe.themes:
        if th.key not in matrix.columns:
            continue
        m = matrix[th.key].to_numpy(bool)
        k = int(m.sum())
        n_det, k_det = int(det.sum()), int((m & det).sum())
        n_prom, k_prom = int(prom.sum()), int((m & prom).sum())
        n_nps, k_nps = int(has.sum()), int((m & has).sum())
        n_non, k_non = n_nps - n_det, k_nps - k_det
        if n_det and n_non:
            _, p = stats.fisher_exact([[k_det, n_det - k_det], [k_non, n_non - k_non]])
            rr, rr_lo, rr_hi = katz_rr_ci(np.array([k_det]), np.array([n_det]), np.array([k_non]), np.array([n_non]))
            pi = n_det / n_nps

            def to_lift(r: float, pi: float = pi) -> float:
                return float(1.0 / (pi + (1 - pi) / r)) if r > 0 else 0.0

            lift = (k_det / n_det) / (k_nps / n_nps) if k_nps else np.nan
            lift_lo, lift_hi = to_lift(float(rr_lo[0])), to_lift(float(rr_hi[0]))
        else:
            p, lift, lift_lo, lift_hi = np.nan, np.nan, np.nan, np.nan
        lo, hi = wilson(np.array([k]), np.array([n]))
        dlo, dhi = newcombe_diff_ci(np.array([k_det]), np.array([n_det]), np.array([k_prom]), np.array([n_prom]))
        glo, ghi = wilson(np.array([k_det, k_prom], dtype=float), np.array([n_det, n_prom], dtype=float))
        rows.append({
            "theme": th.key, "label": th.name(lang), "polarity": th.polarity, "n_comments": n, "mentions": k,
            "share": k / n if n else np.nan, "share_low": float(lo[0]), "share_high": float(hi[0]),
            "n_det": n_det, "k_det": k_det, "share_det": k_det / n_det if n_det else np.nan,
            "share_det_low": float(glo[0]), "share_det_high": float(ghi[0]),
            "n_prom": n_prom, "k_prom": k_prom, "share_prom": k_prom / n_prom if n_prom else np.nan,
            "share_prom_low": float(glo[1]), "share_prom_high": float(ghi[1]),
            "diff": (k_det / n_det - k_prom / n_prom) if n_det and n_prom else np.nan,
            "diff_low": float(dlo[0]), "diff_high": float(dhi[0]),
            "lift": lift, "lift_low": lift_lo, "lift_high": lift_hi, "p_value": p,
            "det_share_of_mentions": k_det / k_nps if k_nps else np.nan,
            "reach": k / n_respondents if n_respondents else (k / n if n else np.nan),
        })
    tab = pd.DataFrame(rows)
    if tab.empty:
        return tab
    tab["p_holm"] = holm(tab["p_value"].to_numpy())
    tab["significant"] = tab["p_holm"] < alpha
    return tab.sort_values(["mentions", "theme"], ascending=[False, True]).reset_index(drop=True)


def themes_by(matrix: pd.DataFrame, groups: pd.Series, themes: Sequence[str] | None = None,
              min_base: int = 30) -> pd.DataFrame:
    """Share of comments mentioning each theme within each group (e.g. the response's ``channel``).

    Long format ``group, theme, n, k, share, ci_low, ci_high, small_base`` (Wilson intervals), plus
    a chi-square test of independence per theme (``p_value``, Pearson; ``p_holm`` over themes).
    """
    g = pd.Series(groups, index=matrix.index)
    keep = g.notna()
    themes = list(themes) if themes is not None else list(matrix.columns)
    rows, pvals = [], {}
    for th in themes:
        m = matrix.loc[keep, th].astype(bool)
        grouped = m.groupby(g[keep], observed=True)
        ct = pd.DataFrame({"n": grouped.size(), "k": grouped.sum()})
        table2 = np.column_stack([ct["n"] - ct["k"], ct["k"]])
        if len(ct) > 1 and ct["k"].sum() > 0 and (ct["n"] - ct["k"]).sum() > 0:
            pvals[th] = float(stats.chi2_contingency(table2)[1])
        else:
            pvals[th] = np.nan
        for grp, row in ct.iterrows():
            nn, kk = int(row["n"]), int(row["k"])
            lo, hi = wilson(np.array([kk]), np.array([nn]))
            rows.append({"group": grp, "theme": th, "n": nn, "k": kk, "share": kk / nn if nn else np.nan,
                         "ci_low": float(lo[0]), "ci_high": float(hi[0]), "small_base": nn < min_base})
    out = pd.DataFrame(rows, columns=["group", "theme", "n", "k", "share", "ci_low", "ci_high", "small_base"])
    adj = dict(zip(pvals, holm(list(pvals.values())), strict=True))
    out["p_value"] = out["theme"].map(pvals)
    out["p_holm"] = out["theme"].map(adj)
    return out


def theme_touchpoints(theme: Theme, touchpoints: pd.DataFrame | None) -> list[str]:
    """Touchpoints a theme belongs to: its explicit ``touchpoints`` present in the client's table,
    else those whose stage is in ``stages`` and (when given) whose channel is in ``channels``."""
    if touchpoints is None or touchpoints.empty:
        return []
    ids = touchpoints["touchpoint"].astype(str)
    explicit = [tp for tp in theme.touchpoints if tp in set(ids)]
    if explicit:
        return explicit
    if not theme.stages and not theme.channels:
        return []
    sel = pd.Series(True, index=touchpoints.index)
    if theme.stages:
        sel &= touchpoints["stage"].astype(str).isin(theme.stages)
    if theme.channels:
        sel &= touchpoints["channel"].astype(str).isin(theme.channels)
    return ids[sel].tolist()


def themes_by_stage(table: pd.DataFrame, codeframe: Codeframe, touchpoints: pd.DataFrame | None) -> pd.DataFrame:
    """Theme -> stage(s) and touchpoint(s) of the journey (from the codeframe and the touchpoints table).

    Columns ``theme, stage, touchpoints`` (touchpoint labels where the table has them), one row per
    (theme, stage); themes with no stage get stage ``None``.
    """
    label = {}
    if touchpoints is not None and "label" in touchpoints.columns:
        label = dict(zip(touchpoints["touchpoint"].astype(str), touchpoints["label"].astype(str), strict=True))
    stage_of = {}
    if touchpoints is not None and not touchpoints.empty:
        stage_of = dict(zip(touchpoints["touchpoint"].astype(str), touchpoints["stage"].astype(str), strict=True))
    rows = []
    for key in table["theme"]:
        th = codeframe.theme(key)
        tps = theme_touchpoints(th, touchpoints)
        stages = list(th.stages) or sorted({stage_of[tp] for tp in tps if tp in stage_of}, key=STAGES.index)
        stage_list: list[str | None] = list(stages) or [None]
        for st in stage_list:
            names = [label.get(tp, tp) for tp in tps if stage_of.get(tp, st) == st or st is None]
            rows.append({"theme": key, "stage": st, "touchpoints": ", ".join(names), "touchpoint_ids": tps})
    return pd.DataFrame(rows, columns=["theme", "stage", "touchpoints", "touchpoint_ids"])


# =================================================================================================
# Quotes
# =================================================================================================


def representative_quotes(coding: CodingResult, texts: pd.Series, theme: str, *, n: int = 3,
                          prefer: pd.Series | None = None, names: Iterable[str] | None = None,
                          labels: Mapping[str, str] | None = None, max_chars: int = 280,
                          sample: int = 3000, seed: int = 20261124, max_overlap: float = 0.6) -> list[str]:
    """The ``n`` comments of ``theme`` closest to the theme's centroid, redacted.

    Distinct comments of the theme (those where ``prefer`` is true first, e.g. detractors for a
    complaint) are represented by TF-IDF vectors of their normalised tokens; the quotes are the
    ones with the highest cosine similarity to the mean vector (a medoid-style choice: typical, not
    extreme), in that order, skipping one whose cosine similarity to a quote already chosen exceeds
    ``max_overlap`` (maximal-marginal-relevance style, Carbonell & Goldstein 1998) unless too few are
    left. At most ``sample`` distinct comments are scored (seeded sample).
    Each quote goes through :func:`redact_pii` and is cut at ``max_chars``.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = pd.Series(texts).reset_index(drop=True)
    m = coding.matrix[theme].reset_index(drop=True).to_numpy(bool)
    rows = np.flatnonzero(m)
    if prefer is not None:
        pref = pd.Series(prefer).reset_index(drop=True).fillna(False).to_numpy(bool)
        if (pref[rows]).sum() >= n:
            rows = rows[pref[rows]]
    if not len(rows):
        return []
    # the first row of each distinct text, in row order (drop_duplicates), found in Arrow; then the seeded
    # sample of their positions; only the sampled texts become Python strings
    codes = equal_texts(texts.iloc[rows].astype(str))
    rows = rows[np.sort(np.unique(codes, return_index=True)[1])]
    pick = pd.Series(np.arange(len(rows)), index=rows)
    if len(pick) > sample:
        pick = pick.sample(sample, random_state=seed).sort_index()
    uniq = pd.Series(texts.iloc[pick.index.to_numpy()].astype(str).to_numpy(), index=pick.index)
    docs = [" ".join(f"t{i}" for i in toks.tolist()) for toks in coding.tokens(uniq.index.to_numpy())]
    forms = _name_forms(names) if names is not None else None
    if len(uniq) <= n:
        chosen = list(uniq.to_numpy())
    else:
        vec = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False)
        try:
            x = vec.fit_transform(docs)
            centroid = np.asarray(x.mean(axis=0)).ravel()
            sim = x @ centroid / (np.linalg.norm(centroid) or 1.0)
            order = np.argsort(-np.asarray(sim).ravel(), kind="stable")
        except ValueError:  # no token at all in these comments
            x = None
            order = np.arange(len(uniq))
        chosen_idx: list[int] = []
        # near-duplicate of a quote already chosen: cosine similarity above max_overlap with one of them
        # (the rows are L2-normalised; one product per chosen quote rather than one per candidate)
        near = np.zeros(len(uniq), dtype=bool)
        for i in order:
            if len(chosen_idx) == n:
                break
            if near[i]:
                continue
            chosen_idx.append(int(i))
            if x is not None and len(chosen_idx) < n:
                near |= (x @ x[int(i)].T).toarray().ravel() > max_overlap
        for i in order:  # too few distinct ones: fill up in order
            if len(chosen_idx) >= n:
                break
            if int(i) not in chosen_idx:
                chosen_idx.append(int(i))
        chosen = [uniq.iloc[i] for i in chosen_idx]
    out = []
    for q in chosen:
        red = redact_pii(q, forms, labels=labels)
        out.append(red if len(red) <= max_chars else red[: max_chars - 1].rstrip() + "…")
    return out


# =================================================================================================
# The section, end to end
# =================================================================================================


@dataclass
class VocResult:
    """Everything the VoC notebook shows about open comments."""

    comments: pd.DataFrame        # response_id, response_row (index in responses), nps, group, channel, lang, text
    coding: CodingResult
    table: pd.DataFrame           # theme_table
    by_stage: pd.DataFrame
    by_channel: pd.DataFrame | None
    quotes: dict[str, list[str]]
    topics: pd.DataFrame
    languages: pd.Series          # comments per language
    n_respondents: int
    codeframe: Codeframe
    #: what the themes are compared on: "nps" (detractors vs promoters), "outcome" (low vs high on the
    #: configured outcome, :mod:`cxaudit.outcome`) or "frequency" (no score at all: shares only)
    basis: str = "nps"
    outcome: Any = None  # the OutcomeInfo of basis "outcome"


def outcome_groups(outcome: Any, frame: pd.DataFrame) -> pd.Series:
    """``"low"`` / ``"high"`` per row of ``frame`` on a non-NPS outcome: high = a good outcome (top box
    of the scale, or a positive label; :func:`cxaudit.outcome.good`), low = the rest; NaN unanswered."""
    from .outcome import good

    g = good(outcome, frame)
    side = pd.Series(np.where(g.eq(1.0), "high", "low"), index=frame.index, dtype=object)
    return side.where(g.notna(), None)


def group_labels(result: VocResult, lang: str) -> tuple[str, str]:
    """The names of the two compared groups in the report: detractors / promoters, or low / high on the
    outcome used ("Satisfied passengers: no" / "…: yes"; "CSAT: below the top box" / "CSAT: top box")."""
    if result.basis != "outcome" or result.outcome is None:
        return t("voc.group_detractor", lang), t("voc.group_promoter", lang)
    from .outcome import short_label

    name = short_label(result.outcome, lang)
    if result.outcome.kind == "binary":
        return t("voc.group_no", lang, name=name), t("voc.group_yes", lang, name=name)
    return t("voc.group_low", lang, name=name), t("voc.group_high", lang, name=name)


def analyse_comments(responses: pd.DataFrame, codeframe: Codeframe | None = None, *, lang: str = "en",
                     touchpoints: pd.DataFrame | None = None, names: Iterable[str] | None = None,
                     channel_column: str | None = "channel", min_base: int = 30, seed: int = 20261124,
                     n_quotes: int = 3, outcome: Any = None) -> VocResult:
    """Code the ``comment`` column of ``responses`` and compute every table of the section.

    ``outcome`` (:func:`cxaudit.outcome.resolve_audit`): themes are compared between detractors and
    promoters when it is NPS (or not given and the responses have NPS answers), between low and high
    on it otherwise (:func:`outcome_groups`); with no score at all only the shares remain
    (``basis = "frequency"``, see :func:`voc_findings`).

    Raises
    ------
    DataError
        When ``responses`` has no ``comment`` column.
    """
    if "comment" not in responses.columns:
        raise DataError("responses", "no 'comment' column; map the open-comment question in inputs.responses.columns",
                        column="comment")
    cf = codeframe or default_codeframe()
    text = responses["comment"].astype("string").fillna("").str.strip()
    keep = text != ""
    comments = pd.DataFrame({"text": text[keep].astype(str).to_numpy()})
    comments["response_id"] = responses.loc[keep, "response_id"].to_numpy() if "response_id" in responses else None
    comments["response_row"] = responses.index[keep.to_numpy(bool)]  # links a comment to its ratings
    comments["nps"] = responses.loc[keep, "nps"].to_numpy() if "nps" in responses else np.nan
    if outcome is not None and outcome.kind == "nps" and outcome.column != "nps":
        comments["nps"] = pd.to_numeric(responses.loc[keep, outcome.column], errors="coerce").to_numpy()
    comments["group"] = nps_category(comments["nps"]).astype(object).to_numpy()
    basis, groups = "nps", None
    if outcome is not None and outcome.kind != "nps":
        basis, groups = "outcome", outcome_groups(outcome, responses.loc[keep]).to_numpy()
        comments["group"] = groups
    elif comments["nps"].isna().all():
        basis = "frequency"
    if channel_column and channel_column in responses.columns:
        comments["channel"] = responses.loc[keep, channel_column].to_numpy()
    comments["lang"] = detect_language(comments["text"], cf.languages).to_numpy()
    coding = code_comments(comments["text"], cf, comments["lang"])
    names_list = list(names) if names is not None else None
    tab = theme_table(coding.matrix, comments["nps"], cf, lang, n_respondents=len(responses), groups=groups)
    quotes = {}
    labels = pii_labels(lang)
    worst, best = ("low", "high") if basis == "outcome" else ("detractor", "promoter")
    for _, row in tab.iterrows():
        th = cf.theme(row["theme"])
        want = worst if th.polarity == "complaint" else best if th.polarity == "praise" else None
        prefer = comments["group"] == want if want else None
        quotes[th.key] = representative_quotes(coding, comments["text"], th.key, n=n_quotes, prefer=prefer,
                                               names=names_list, labels=labels, seed=seed)
    by_channel = None
    if "channel" in comments.columns and comments["channel"].notna().any():
        by_channel = themes_by(coding.matrix, comments["channel"], list(tab["theme"]), min_base=min_base)
    topics = discover_topics(coding, comments["text"], seed=seed, names=names_list, labels=labels)
    return VocResult(
        comments=comments, coding=coding, table=tab, by_stage=themes_by_stage(tab, cf, touchpoints),
        by_channel=by_channel, quotes=quotes, topics=topics,
        languages=comments["lang"].fillna("–").value_counts(), n_respondents=len(responses), codeframe=cf,
        basis=basis, outcome=outcome if basis == "outcome" else None,
    )


#: Complaint themes reported as findings (the most mentioned significant ones).
TOP_COMPLAINTS = 5


def _severity(lift: float, significant: bool) -> int:
    """Severity 1–5 from the detractor lift of a complaint theme: 2 when not significant or
    lift < 1.5; 3 for 1.5 ≤ lift < 2; 4 for 2 ≤ lift < 2.5; 5 for lift ≥ 2.5 (mentioned by detractors
    at least 2.5 times as often as by the average commenter: a reason detractors give for leaving)."""
    if not significant or not np.isfinite(lift) or lift < 1.5:
        return 2
    return 3 if lift < 2.0 else 4 if lift < 2.5 else 5


#: Without any score (``basis = "frequency"``): a complaint theme becomes a finding when the lower
#: bound of its share's Wilson interval is at least this, and at least this many comments mention it.
FREQUENCY_MIN_SHARE = 0.05
FREQUENCY_MIN_MENTIONS = 10
#: Severity of a frequency-based theme finding: how often a theme comes up says nothing about how much
#: it costs (no outcome to compare), so it ranks with the weakest outcome-based ones (:func:`_severity`).
FREQUENCY_SEVERITY = 2


def voc_findings(result: VocResult, lang: str, touchpoints: pd.DataFrame | None = None) -> list[Finding]:
    """``voc.theme.<theme>`` for the :data:`TOP_COMPLAINTS` most mentioned complaint themes whose
    detractor lift is significantly above 1 (Holm-adjusted Fisher test, 5 %).

    On a non-NPS outcome (``result.basis == "outcome"``) the same test compares the low with the high
    group of that outcome, and the title and evidence name the outcome (``outcome_label``). With no
    score at all (``"frequency"``) the themes are ranked by their share of comments: those whose Wilson
    (1927) lower bound is at least :data:`FREQUENCY_MIN_SHARE` (and mentioned at least
    :data:`FREQUENCY_MIN_MENTIONS` times) become findings of severity :data:`FREQUENCY_SEVERITY`,
    labelled as frequency-based (``evidence.basis``), with no lift.

    value = share of comments mentioning the theme (%, Wilson interval), n = comments,
    reach = share of *all* respondents mentioning it (a lower bound: respondents who wrote nothing
    count as unaffected), severity from the lift (:func:`_severity`). Tags: ``themes``, and the
    theme's ``stages``, ``touchpoints`` and ``channels`` from the codeframe and the touchpoints table.
    """
    tab = result.table
    if tab.empty:
        return []
    if result.basis == "frequency":
        sel = tab[(tab["polarity"] == "complaint") & (tab["share_low"] >= FREQUENCY_MIN_SHARE)
                  & (tab["mentions"] >= FREQUENCY_MIN_MENTIONS)]
    else:
        sel = tab[(tab["polarity"] == "complaint") & tab["significant"] & (tab["lift"] > 1)]
    sel = sel.sort_values(["mentions", "theme"], ascending=[False, True]).head(TOP_COMPLAINTS)
    low_name = group_labels(result, lang)[0]
    outcome_label = None
    if result.basis == "outcome":
        from .outcome import label as _outcome_label

        outcome_label = _outcome_label(result.outcome, lang)
    channels_of = {}
    if touchpoints is not None and not touchpoints.empty:
        channels_of = dict(zip(touchpoints["touchpoint"].astype(str), touchpoints["channel"].astype(str), strict=True))
    out = []
    for _, r in sel.iterrows():
        th = result.codeframe.theme(r["theme"])
        tps = theme_touchpoints(th, touchpoints)
        stage_rows = result.by_stage[result.by_stage["theme"] == th.key]
        stages = [s for s in stage_rows["stage"].tolist() if s]
        channels = sorted(set(th.channels) | {channels_of[tp] for tp in tps if tp in channels_of})
        share, ci = fmt_pct(r["share"], lang), fmt_ci(100 * r["share_low"], 100 * r["share_high"], lang, 0)
        if result.basis == "frequency":
            title = t("voc.finding_theme_frequency", lang, theme=th.name(lang), share=share, ci=ci)
            severity = FREQUENCY_SEVERITY
            evidence = {"mentions": int(r["mentions"]), "basis": "frequency",
                        "n_respondents": result.n_respondents, "table": "voc.themes"}
        elif result.basis == "outcome":
            title = t("voc.finding_theme_outcome", lang, theme=th.name(lang), share=share, group=low_name,
                      lift=fmt_num(r["lift"], lang, 1))
            severity = _severity(float(r["lift"]), bool(r["significant"]))
            evidence = {"mentions": int(r["mentions"]), "basis": "outcome", "outcome_label": outcome_label,
                        "share_low_outcome": r["share_det"], "share_high_outcome": r["share_prom"],
                        "lift": r["lift"], "lift_ci": [r["lift_low"], r["lift_high"]], "p_holm": r["p_holm"],
                        "low_share_of_mentions": r["det_share_of_mentions"],
                        "n_respondents": result.n_respondents, "table": "voc.themes"}
        else:
            title = t("voc.finding_theme", lang, theme=th.name(lang), share=share, lift=fmt_num(r["lift"], lang, 1))
            severity = _severity(float(r["lift"]), bool(r["significant"]))
            evidence = {"mentions": int(r["mentions"]), "share_detractors": r["share_det"],
                        "share_promoters": r["share_prom"], "lift": r["lift"], "lift_ci": [r["lift_low"], r["lift_high"]],
                        "p_holm": r["p_holm"], "detractor_share_of_mentions": r["det_share_of_mentions"],
                        "n_respondents": result.n_respondents, "table": "voc.themes"}
        out.append(Finding(
            id=f"voc.theme.{th.key}", section="voc", title=title,
            metric="theme_share", value=100 * float(r["share"]), n=int(r["n_comments"]),
            ci_low=100 * float(r["share_low"]), ci_high=100 * float(r["share_high"]),
            severity=severity, reach=float(min(1.0, r["reach"])),
            unit="%",
            evidence=evidence,
            tags={"themes": [th.key], "stages": stages, "touchpoints": tps, "channels": channels},
        ))
    return out


# =================================================================================================
# Complaint themes x touchpoint ratings (data-driven: who wrote it, and how they rated the touchpoint)
# =================================================================================================

#: A touchpoint x theme pair is tested only with at least this many mentions among its low raters
#: (and at least ``min_base`` low raters and ``min_base`` other raters who left a coded comment).
TOUCHPOINT_THEME_MIN_MENTIONS = 5
#: Cochran's rule: Fisher's exact test when an expected count of the 2x2 table is below this.
_MIN_EXPECTED = 5.0

_TP_THEME_COLUMNS = [
    "touchpoint", "column", "label", "stage", "channel", "theme", "theme_label",
    "n_low", "k_low", "share_low", "share_low_lo", "share_low_hi",
    "n_other", "k_other", "share_other", "share_other_lo", "share_other_hi",
    "lift", "lift_lo", "lift_hi", "test", "p_value", "tested", "p_holm", "significant", "over",
    "lift_mh", "p_cmh", "p_cmh_holm",
]


def _two_prop_p(k1: int, n1: int, k2: int, n2: int) -> tuple[float, str]:
    """Two-sided p of H0: p1 = p2. Pooled two-proportion z-test (Agresti 2013, *Categorical Data
    Analysis* §3.1.3; = ``statsmodels.stats.proportion.proportions_ztest``) when every expected count
    of the 2x2 table is at least 5 (Cochran 1954), else Fisher's exact test."""
    n, k = n1 + n2, k1 + k2
    expected = np.array([n1 * k, n1 * (n - k), n2 * k, n2 * (n - k)], dtype=float) / n
    if expected.min() < _MIN_EXPECTED:
        return float(stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]])[1]), "fisher"
    p = k / n
    se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    z = (k1 / n1 - k2 / n2) / se
    return float(2 * stats.norm.sf(abs(z))), "z"


def _mantel_haenszel(low: np.ndarray, theme: np.ndarray, strata: np.ndarray) -> tuple[float, float]:
    """Mantel–Haenszel risk ratio of the theme for low vs other raters within strata (NPS groups),
    RR_MH = Σ a_i·n0_i/N_i / Σ c_i·n1_i/N_i (Rothman, Greenland & Lash 2008, *Modern Epidemiology*
    eq. 15-20), and the Cochran–Mantel–Haenszel χ² test without continuity correction (Mantel &
    Haenszel 1959): χ² = (Σ a_i − E a_i)² / Σ n1_i n0_i m1_i m0_i / (N_i² (N_i − 1)), 1 df. Answers
    "is the theme over-represented among low raters *of the same NPS group*?" — i.e. beyond the
    general dissatisfaction that low ratings and complaints share."""
    num = den = dev = var = 0.0
    low, theme = np.asarray(low, dtype=bool), np.asarray(theme, dtype=bool)
    codes = pd.factorize(strata)[0] if not np.issubdtype(np.asarray(strata).dtype, np.integer) else np.asarray(strata)
    if not len(codes):
        return np.nan, np.nan
    # the 2x2 counts of every stratum at once; strata in order of first appearance (as pd.unique)
    size = int(codes.max()) + 1
    n_s = np.bincount(codes, minlength=size)
    n1_s = np.bincount(codes, weights=low, minlength=size)
    a_s = np.bincount(codes, weights=low & theme, minlength=size)
    c_s = np.bincount(codes, weights=~low & theme, minlength=size)
    _, first = np.unique(codes, return_index=True)
    for k in codes[np.sort(first)].tolist():
        n_all = float(n_s[k])
        n1, n0 = float(n1_s[k]), float(n_s[k] - n1_s[k])
        a, c = float(a_s[k]), float(c_s[k])
        m1 = a + c
        if n_all < 2 or n1 == 0 or n0 == 0:
            continue
        num += a * n0 / n_all
        den += c * n1 / n_all
        dev += a - n1 * m1 / n_all
        var += n1 * n0 * m1 * (n_all - m1) / (n_all**2 * (n_all - 1))
    rr = num / den if den > 0 else np.nan
    p = float(stats.chi2.sf(dev**2 / var, 1)) if var > 0 else np.nan
    return rr, p


def touchpoint_theme_table(result: VocResult, responses: pd.DataFrame, touchpoints: pd.DataFrame, *,
                           low_cut: float, lang: str, min_base: int = 30,
                           min_mentions: int = TOUCHPOINT_THEME_MIN_MENTIONS, alpha: float = 0.05) -> pd.DataFrame:
    """Complaint themes among a touchpoint's low raters vs its other raters.

    Base: respondents who left a comment coded with at least one theme and rated the touchpoint.
    *Low raters* gave it ``<= low_cut`` (the bottom box of the touchpoint scale,
    :func:`cxaudit.journey.rating_scale`: 1–2 on 1–5); *other raters* gave it more. For every
    complaint theme of the codeframe (praise and neutral themes stay out) and every touchpoint with a
    rating column:

    * ``share_low = k_low / n_low`` and ``share_other = k_other / n_other`` with Wilson intervals;
    * ``lift = share_low / share_other`` (a risk ratio) with the Katz log interval (:func:`katz_rr_ci`);
    * ``p_value``: pooled two-proportion z-test, or Fisher's exact test when an expected count is
      below 5 (``test``: ``z`` / ``fisher``), see :func:`_two_prop_p`;
    * ``tested``: only pairs with ``k_low >= min_mentions``, ``n_low >= min_base`` and
      ``n_other >= min_base``; ``p_holm``: Holm's step-down over *all* tested touchpoint × theme
      pairs (one family); ``significant = p_holm < alpha``; ``over``: significant with lift > 1;
    * ``lift_mh``, ``p_cmh``, ``p_cmh_holm``: the same comparison within NPS groups
      (:func:`_mantel_haenszel`; respondents without an NPS answer left out; Holm over the same
      family). A pair significant overall but not within NPS groups says "unhappy customers
      complain", not "this touchpoint's low raters complain about this in particular".

    ``touchpoints`` needs ``touchpoint, column, label, stage`` (``channel`` optional), as
    :func:`cxaudit.journey.touchpoint_table` gives it. Rows are sorted: over-represented first by
    ``p_holm``, then the rest.
    """
    com = result.comments
    if "response_row" not in com.columns:
        raise DataError("responses", "comments are not linked to their responses (response_row missing)",
                        column="comment")
    coded = result.coding.any.to_numpy(bool)
    rows_idx = com["response_row"].to_numpy()[coded]
    matrix = result.coding.matrix.loc[coded]
    group = com["group"].to_numpy(object)[coded]
    strata = np.where(pd.isna(group), "", group).astype(str)
    has_group = strata != ""
    strata_codes = pd.factorize(strata)[0]  # integers: each Mantel-Haenszel call counts with bincount
    themes = [th for th in result.codeframe.themes if th.polarity == "complaint" and th.key in matrix.columns]
    out = []
    for _, tp in touchpoints.iterrows():
        col = tp.get("column")
        if col is None or pd.isna(col) or col not in responses.columns:
            continue
        r = pd.to_numeric(responses.loc[rows_idx, col], errors="coerce").to_numpy(float)
        rated = ~np.isnan(r)
        low = rated & (r <= low_cut)
        other = rated & (r > low_cut)
        n_low, n_other = int(low.sum()), int(other.sum())
        for th in themes:
            m = matrix[th.key].to_numpy(bool)
            k_low, k_other = int((m & low).sum()), int((m & other).sum())
            tested = k_low >= min_mentions and n_low >= min_base and n_other >= min_base
            p, test = (_two_prop_p(k_low, n_low, k_other, n_other) if tested else (np.nan, ""))
            rr, rr_lo, rr_hi = (katz_rr_ci(np.array([k_low]), np.array([n_low]), np.array([k_other]),
                                           np.array([n_other])) if n_low and n_other else ([np.nan],) * 3)
            if tested:
                sel = rated & has_group
                rr_mh, p_cmh = _mantel_haenszel(low[sel], m[sel], strata_codes[sel])
            else:
                rr_mh, p_cmh = np.nan, np.nan
            (l_lo, o_lo), (l_hi, o_hi) = wilson(np.array([k_low, k_other], float), np.array([n_low, n_other], float))
            out.append({
                "touchpoint": str(tp["touchpoint"]), "column": col, "label": str(tp.get("label") or tp["touchpoint"]),
                "stage": tp.get("stage"), "channel": tp.get("channel"), "theme": th.key, "theme_label": th.name(lang),
                "n_low": n_low, "k_low": k_low, "share_low": k_low / n_low if n_low else np.nan,
                "share_low_lo": float(l_lo), "share_low_hi": float(l_hi),
                "n_other": n_other, "k_other": k_other, "share_other": k_other / n_other if n_other else np.nan,
                "share_other_lo": float(o_lo), "share_other_hi": float(o_hi),
                "lift": (k_low / n_low) / (k_other / n_other) if n_low and k_other else np.nan,
                "lift_lo": float(rr_lo[0]), "lift_hi": float(rr_hi[0]),
                "test": test, "p_value": p, "tested": tested, "lift_mh": rr_mh, "p_cmh": p_cmh,
            })
    tab = pd.DataFrame(out)
    if tab.empty:
        return pd.DataFrame(columns=_TP_THEME_COLUMNS)
    tab["p_holm"] = holm(tab["p_value"].to_numpy(float))
    tab["p_cmh_holm"] = holm(tab["p_cmh"].to_numpy(float))
    tab["significant"] = tab["p_holm"] < alpha
    tab["over"] = tab["significant"] & (tab["lift"] > 1)
    tab = tab.sort_values(["over", "p_holm", "lift"], ascending=[False, True, False], na_position="last", kind="stable")
    tab.attrs.update(low_cut=low_cut, min_base=min_base, min_mentions=min_mentions, alpha=alpha,
                     n_coded=int(coded.sum()), n_tested=int(tab["tested"].sum()))
    return tab[_TP_THEME_COLUMNS].reset_index(drop=True)


def touchpoint_themes(audit: Any, result: VocResult, lang: str, *,
                      min_mentions: int = TOUCHPOINT_THEME_MIN_MENTIONS, alpha: float = 0.05) -> pd.DataFrame:
    """:func:`touchpoint_theme_table` for an :class:`~cxaudit.audit.Audit`: touchpoints, labels and
    stages from :func:`cxaudit.journey.touchpoint_table` (rating columns without a touchpoint row
    get their column name and no stage), the low box from :func:`cxaudit.journey.rating_scale`
    (``audit.config.scales.touchpoint``), the base from ``audit.config.min_base``."""
    from .journey import rating_scale, touchpoint_table

    tps = touchpoint_table(audit)
    cols = list(audit.touchpoint_columns)
    mapped = set() if tps is None else set(tps["column"].dropna())
    unmapped = [c for c in cols if c not in mapped]
    if unmapped or tps is None:
        extra = pd.DataFrame({"touchpoint": unmapped, "column": unmapped,
                              "label": [c.removeprefix("tp_") for c in unmapped],
                              "stage": [None] * len(unmapped), "channel": [None] * len(unmapped)})
        tps = extra if tps is None else pd.concat([tps, extra], ignore_index=True)
    _, _, _, low_cut = rating_scale(audit)
    return touchpoint_theme_table(result, audit.responses, tps, low_cut=low_cut, lang=lang,
                                  min_base=audit.config.min_base, min_mentions=min_mentions, alpha=alpha)


def touchpoint_theme_findings(table: pd.DataFrame, lang: str, n_respondents: int) -> list[Finding]:
    """``voc.touchpoint_theme.<touchpoint>.<theme>`` for every pair of :func:`touchpoint_theme_table`
    whose theme is significantly over-represented among the touchpoint's low raters (Holm, ``over``).

    value = share of the low raters' coded comments mentioning the theme (%, Wilson interval),
    n = those low raters; reach = low raters mentioning it / all respondents (a lower bound);
    severity from the lift within NPS groups (:func:`_severity` of ``lift_mh``: the part specific to
    the touchpoint), 2 when that is not significant (``p_cmh_holm >= alpha``: the theme comes with
    dissatisfaction in general). Evidence: the other raters' share, lift with its interval, test, p,
    p_holm, and the NPS-group-adjusted lift and p (``lift_mh``, ``p_cmh_holm``).
    Tags: ``touchpoints``, ``themes``, ``stages``, ``channels``.
    """
    out: list[Finding] = []
    if table.empty:
        return out
    for _, r in table[table["over"]].iterrows():
        stage = r["stage"] if isinstance(r["stage"], str) and r["stage"] else None
        channel = r["channel"] if isinstance(r["channel"], str) and r["channel"] else None
        out.append(Finding(
            id=f"voc.touchpoint_theme.{r['touchpoint']}.{r['theme']}", section="voc",
            title=t("voc.finding_touchpoint_theme", lang, touchpoint=r["label"], theme=r["theme_label"],
                    share=fmt_pct(r["share_low"], lang), other=fmt_pct(r["share_other"], lang),
                    lift=fmt_num(r["lift"], lang, 1)),
            metric="theme_share_low_raters", value=100 * float(r["share_low"]), n=int(r["n_low"]),
            ci_low=100 * float(r["share_low_lo"]), ci_high=100 * float(r["share_low_hi"]),
            # not over-represented within NPS groups: it comes with dissatisfaction in general -> severity 2
            severity=_severity(float(r["lift_mh"]), bool(r["p_cmh_holm"] < table.attrs.get("alpha", 0.05))),
            reach=float(min(1.0, r["k_low"] / n_respondents)) if n_respondents else 0.0, unit="%",
            evidence={"k_low": int(r["k_low"]), "n_other": int(r["n_other"]), "k_other": int(r["k_other"]),
                      "share_other": float(r["share_other"]), "lift": float(r["lift"]),
                      "lift_ci": [float(r["lift_lo"]), float(r["lift_hi"])], "test": r["test"],
                      "p": float(r["p_value"]), "p_holm": float(r["p_holm"]),
                      "lift_within_nps_groups": float(r["lift_mh"]), "p_cmh_holm": float(r["p_cmh_holm"]),
                      "low_box": f"<= {table.attrs.get('low_cut')}", "rating_column": r["column"],
                      "table": "voc.touchpoint_themes"},
            tags={"touchpoints": [r["touchpoint"]], "themes": [r["theme"]], "stages": [stage] if stage else [],
                  "channels": [channel] if channel else []},
        ))
    return out


# =================================================================================================
# Report helpers
# =================================================================================================


def stage_table(result: VocResult, lang: str) -> pd.DataFrame:
    """Per journey stage: the themes linked to it, their touchpoints, and the comments mentioning any
    of them (``n``, ``k``, ``share`` with a Wilson interval). Stages in journey order."""
    rows = []
    bs = result.by_stage
    n = len(result.comments)
    for st in [*STAGES, None]:
        part = bs[bs["stage"].isna()] if st is None else bs[bs["stage"] == st]
        if part.empty:
            continue
        keys = list(dict.fromkeys(part["theme"]))
        k = int(result.coding.matrix[keys].any(axis=1).sum())
        lo, hi = wilson(np.array([float(k)]), np.array([float(n)]))
        tps = list(dict.fromkeys(tp for s in part["touchpoints"] for tp in s.split(", ") if tp))
        rows.append({
            "stage": value_label("stage", st, lang) if st else t("voc.stage_none", lang),
            "themes": ", ".join(result.codeframe.theme(key).name(lang) for key in keys),
            "touchpoints": ", ".join(tps), "n": n, "k": k, "share": k / n if n else np.nan,
            "ci_low": float(lo[0]), "ci_high": float(hi[0]),
        })
    return pd.DataFrame(rows)


def channel_wide(result: VocResult, polarity: str = "complaint") -> pd.DataFrame:
    """Themes of one polarity by the response's channel, wide: one row per channel with ``n`` and
    ``<theme>``, ``<theme>_lo``, ``<theme>_hi`` shares (Wilson)."""
    if result.by_channel is None:
        return pd.DataFrame()
    keys = [th.key for th in result.codeframe.themes if th.polarity == polarity and th.key in set(result.table["theme"])]
    long = result.by_channel[result.by_channel["theme"].isin(keys)]
    if long.empty:
        return pd.DataFrame()
    wide = long.pivot(index="group", columns="theme", values="share")
    lo = long.pivot(index="group", columns="theme", values="ci_low").add_suffix("_lo")
    hi = long.pivot(index="group", columns="theme", values="ci_high").add_suffix("_hi")
    n = long.groupby("group")["n"].first().rename("n")
    out = pd.concat([n, wide, lo, hi], axis=1).reset_index().rename(columns={"group": "channel"})
    out["small_base"] = long.groupby("group")["small_base"].first().to_numpy()
    return out.sort_values("n", ascending=False).reset_index(drop=True)


def themes_figure(table: pd.DataFrame, lang: str, groups: tuple[str, str] | None = None) -> Any:
    """Horizontal bars: share of detractors' and promoters' comments (or of the low and high group of
    another outcome, named by ``groups``, :func:`group_labels`) mentioning each theme, with Wilson 95 %
    intervals; with no group at all (no score), the share of all comments."""
    import matplotlib.pyplot as plt

    from .plots import PALETTE, takeaway_title

    tab = table.iloc[::-1]
    y = np.arange(len(tab))
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * len(tab) + 1.4))
    low, high = groups or (t("voc.group_detractor", lang), t("voc.group_promoter", lang))
    bars: tuple[tuple[float, str, str, str, float], ...] = (
        (0.2, "det", PALETTE["detractor"], low, 0.38), (-0.2, "prom", PALETTE["promoter"], high, 0.38))
    no_groups = not len(tab) or int(tab["n_det"].max()) + int(tab["n_prom"].max()) == 0
    if no_groups:
        tab = tab.assign(k_all=tab["mentions"], n_all=tab["n_comments"])
        bars = ((0.0, "all", PALETTE["promoter"], t("voc.group_all", lang), 0.6),)
    for off, key, colour, label, height in bars:
        k, n = tab[f"k_{key}"].to_numpy(float), tab[f"n_{key}"].to_numpy(float)
        share = np.divide(k, n, out=np.zeros_like(k), where=n > 0)
        lo, hi = wilson(k, n)
        err = np.vstack([share - np.nan_to_num(lo), np.nan_to_num(hi) - share]) * 100
        # light bars, dark whiskers drawn over them: the part of an interval inside a bar stays visible
        ax.barh(y + off, share * 100, height=height, color=colour, alpha=0.45,
                label=f"{label} (n = {fmt_num(float(n.max()) if len(n) else 0, lang, 0)})")
        ax.errorbar(share * 100, y + off, xerr=np.maximum(err, 0), fmt="none", ecolor="#1b1b1b", capsize=2.5,
                    lw=1.1, zorder=3)
    ax.set_yticks(y, tab["label"].tolist())
    ax.set_xlabel(t("voc.axis_share", lang))
    title = (t("voc.themes_figure_share", lang) if no_groups else
             t("voc.themes_figure", lang) if groups is None else t("voc.themes_figure_groups", lang, low=low, high=high))
    if not no_groups and len(tab):  # the takeaway: the theme that separates the two groups most
        det = np.divide(tab["k_det"].to_numpy(float), tab["n_det"].to_numpy(float),
                        out=np.zeros(len(tab)), where=tab["n_det"].to_numpy(float) > 0)
        prom = np.divide(tab["k_prom"].to_numpy(float), tab["n_prom"].to_numpy(float),
                         out=np.zeros(len(tab)), where=tab["n_prom"].to_numpy(float) > 0)
        i = int(np.argmax(np.abs(det - prom)))
        title = t("voc.themes_takeaway", lang, theme=str(tab["label"].iloc[i]), a=fmt_pct(det[i], lang), low=low,
                  b=fmt_pct(prom[i], lang), high=high)
    takeaway_title(ax, title)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    plt.close(fig)
    return fig


def language_summary(result: VocResult, lang: str) -> str:
    """"English 1,203 (61%), Russian 12 (1%), …" for the report: each language named in ``lang``
    (:func:`cxaudit.i18n.value_label`; a code the catalog does not know stays a code), codes outside the
    codeframe's languages grouped as "other"."""
    n = len(result.comments)
    parts = []
    counts = result.comments["lang"].where(result.comments["lang"].isin(result.codeframe.languages), "other")
    for code, k in counts.value_counts().items():
        name = t("voc.lang_other", lang) if code == "other" else value_label("language", code, lang, inline=True)
        parts.append(f"{name} {fmt_num(k, lang, 0)} ({fmt_pct(k / n, lang)})")
    return ", ".join(parts)


# =================================================================================================
# Coverage: how much of the text the codeframe codes
# =================================================================================================

#: Below this share of comments coded with at least one theme, a language gets a warning.
COVERAGE_WARNING = 0.30


def coverage(coding: CodingResult, codeframe: Codeframe, *, threshold: float = COVERAGE_WARNING) -> pd.DataFrame:
    """Share of comments coded with at least one theme, per language of the codeframe.

    Columns ``lang, n, k, share, ci_low, ci_high, low``: comments in that language (``n``), coded
    (``k``), ``share = k / n`` with a Wilson 95 % interval, ``low = share < threshold``. A last row
    ``lang = "all"`` covers every comment with text, including those in languages the codeframe has
    no keywords for (never coded; they are counted, not warned about per language). A low coverage
    says the codeframe does not fit the text (another industry pack, or a client codeframe from
    ``cxaudit codeframe suggest``), and that the theme shares describe only the coded part.
    """
    langs = coding.lang.reset_index(drop=True)
    coded = coding.any.reset_index(drop=True).to_numpy(bool)
    has_text = coding.has_text()
    rows = []
    for lang in codeframe.languages:
        sel = (langs == lang).to_numpy(bool) & has_text
        if sel.any():
            rows.append((lang, int(sel.sum()), int((coded & sel).sum())))
    rows.append(("all", int(has_text.sum()), int((coded & has_text).sum())))
    out = pd.DataFrame(rows, columns=["lang", "n", "k"])
    lo, hi = wilson(out["k"].to_numpy(float), out["n"].to_numpy(float))
    out["share"] = np.where(out["n"] > 0, out["k"] / out["n"].clip(lower=1), np.nan)
    out["ci_low"], out["ci_high"] = lo, hi
    out["low"] = (out["share"] < threshold) & (out["n"] > 0)
    out.attrs["threshold"] = threshold
    return out


#: Catalog key of each pack's name in the report.
INDUSTRY_LABEL_KEYS: dict[str, str] = {
    "retail": "voc.industry_retail", "telecom": "voc.industry_telecom", "banking": "voc.industry_banking",
    "travel": "voc.industry_travel", "saas": "voc.industry_saas", "public": "voc.industry_public",
}


def industry_name(industry: str, lang: str) -> str:
    """The pack's name in ``lang`` (e.g. "telecom", "банки и страхование")."""
    return t(INDUSTRY_LABEL_KEYS[industry], lang)


def codeframe_note(choice: CodeframeChoice, lang: str) -> str:
    """One sentence for the report: which codeframe coded the comments and why."""
    if choice.how == "client_file":
        return t("voc.codeframe_client", lang)
    name = industry_name(choice.industry or "retail", lang)
    cov = choice.coverage
    if choice.how == "coverage" and cov is not None and len(cov) > 1:
        return t("voc.codeframe_suggested", lang, industry=name, share=fmt_pct(float(cov["share"].iloc[0]), lang),
                 next=industry_name(str(cov["industry"].iloc[1]), lang),
                 next_share=fmt_pct(float(cov["share"].iloc[1]), lang))
    return t("voc.codeframe_config", lang, industry=name)


def coverage_blocks(cov: pd.DataFrame, lang: str, language_label: Any = None) -> list[Any]:
    """Display blocks of :func:`coverage`: a note, the table (language, comments, coded, share with
    interval) and one warning per language under the threshold. ``language_label(code, lang)`` names a
    language (default :func:`cxaudit.i18n.value_label` of kind ``language``)."""
    from . import show
    from .show import Col

    def name(code: str) -> str:
        if code == "all":
            return t("voc.all_languages", lang)
        if language_label is not None:
            return str(language_label(code, lang))
        return value_label("language", code, lang, inline=True)

    tab = cov.assign(lang_name=[name(c) for c in cov["lang"]])
    out: list[Any] = [show.note(t("voc.coverage_note", lang)),
                      show.table(tab, [Col("lang_name", "voc.col_lang"), Col("n", "voc.col_mentions", "int"),
                                       Col("k", "voc.col_coded", "int"),
                                       Col("share", "voc.col_share", "pct", lo="ci_low", hi="ci_high")],
                                 lang, small_base=None)]
    thr = cov.attrs.get("threshold", COVERAGE_WARNING)
    for _, r in cov[cov["low"] & (cov["lang"] != "all")].iterrows():
        out.append(show.note(t("voc.coverage_low", lang, share=fmt_pct(float(r["share"]), lang), lang=name(r["lang"]),
                               k=fmt_num(int(r["k"]), lang, 0), n=fmt_num(int(r["n"]), lang, 0),
                               threshold=fmt_pct(thr, lang))))
    return out


# =================================================================================================
# A draft codeframe from the discovered topics (`cxaudit codeframe suggest CLIENT`)
# =================================================================================================

DRAFT_CODEFRAME = "codeframe.draft.yaml"


def _theme_spec(th: Theme) -> dict[str, Any]:
    spec: dict[str, Any] = {"label": dict(th.label), "polarity": th.polarity}
    for key in ("stages", "channels", "touchpoints"):
        if getattr(th, key):
            spec[key] = list(getattr(th, key))
    for key in ("keywords", "ambiguous", "context", "negated_too", "exclude"):
        val = getattr(th, key)
        if val:
            spec[key] = {lang: list(v) for lang, v in val.items()}
    return spec


def _slug(text: str) -> str:
    import unicodedata

    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_.lower()).strip("_")[:40]


def draft_codeframe(texts: pd.Series, base: Codeframe, *, base_name: str = "", names: Iterable[str] | None = None,
                    seed: int = 20261124, min_docs: int = 20, max_keywords: int = 8) -> tuple[str, dict[str, Any]]:
    """A codeframe YAML for the consultant to edit: the themes of ``base`` that code at least one of
    ``texts``, then one theme per topic that :func:`discover_topics` finds among the texts no theme
    codes (label = the topic's readable words, keywords = its top terms, polarity neutral, examples
    redacted in a comment above it). The text loads with :func:`load_codeframe` as it is.

    Returns the YAML text and a summary (``n``, ``coded``, ``kept_themes``, ``topics``).
    """
    import yaml

    texts = pd.Series(texts).fillna("").astype(str).str.strip()
    texts = texts[texts != ""].reset_index(drop=True)
    langs = detect_language(texts, base.languages)
    coding = code_comments(texts, base, langs)
    topics = discover_topics(coding, texts, seed=seed, min_docs=min_docs, names=names)
    kept = [th for th in base.themes if bool(coding.matrix[th.key].any())]
    themes: dict[str, Any] = {th.key: _theme_spec(th) for th in kept}
    notes: dict[str, list[str]] = {}
    for _, tp in topics.iterrows():
        lang = str(tp["lang"])
        words = [w.strip() for w in str(tp["label"]).split(",") if w.strip()]
        kws: list[str] = []
        for term in [*words, *tp["terms"]]:
            if term not in kws and tokenize(term):
                kws.append(term)
        if not kws:
            continue
        key = f"topic_{lang}_{_slug('_'.join(words[:2])) or tp['topic']}"
        while key in themes:
            key += "_2"
        themes[key] = {"label": {lang: str(tp["label"])}, "polarity": "neutral",
                       "keywords": {lang: kws[:max_keywords]}}
        notes[key] = [f"discovered topic: {int(tp['n'])} uncoded comments in {lang} ({100 * float(tp['share']):.0f} %)",
                      *[f"  e.g. {ex[:150]}" for ex in tp["examples"]]]
    n, k = len(texts), int(coding.any.sum())
    head = [
        "# Draft codeframe written by `cxaudit codeframe suggest` -- edit it, then save it as codeframe.yaml",
        "# beside audit.yaml (this draft is never read by a run).",
        f"# {n} texts; the {base_name or 'built-in'} codeframe coded {k} ({100 * k / n if n else 0:.0f} %).",
        f"# Its {len(kept)} themes that matched are kept below; after them, one theme per topic discovered among the",
        "# uncoded texts: rename the key and the label (add en / ru / pl), set polarity (complaint | praise |",
        "# neutral) and stages, keep the keywords that name the theme, move words with another sense to",
        "# `ambiguous` with `context` words, delete topics that are not a theme.",
        "# Syntax: word | several words | a & b (both in the comment); exclude / ambiguous + context / negated_too.",
        "",
        "themes:",
    ]
    body: list[str] = []
    for key, spec in themes.items():
        for line in notes.get(key, []):
            body.append("  # " + line.replace("\n", " "))
        dumped = yaml.safe_dump({key: spec}, allow_unicode=True, sort_keys=False, width=110, default_flow_style=None)
        body.extend("  " + line for line in dumped.rstrip("\n").split("\n"))
    text = "\n".join(head + body) + "\n"
    load_codeframe(load_yaml_text(text, DRAFT_CODEFRAME))  # the draft must load as it is
    return text, {"n": n, "coded": k, "kept_themes": [th.key for th in kept], "topics": [k for k in themes if k in notes]}


def write_codeframe_draft(audit: Any) -> tuple[Path, dict[str, Any]]:
    """Write ``data/CLIENT/codeframe.draft.yaml`` (:func:`draft_codeframe`) from the audit's comments
    (else its ticket texts), based on the codeframe a run would use (:func:`choose_codeframe`). Never
    touches ``codeframe.yaml``.

    Raises
    ------
    DataError
        When the audit has no comment or ticket text.
    """
    texts = None
    if audit.has("responses") and "comment" in audit.responses.columns:
        texts = audit.responses["comment"]
    if (texts is None or not texts.astype("string").str.strip().fillna("").ne("").any()) and audit.has("tickets"):
        texts = ticket_text(audit.table("tickets"))
    if texts is None or not pd.Series(texts).astype("string").str.strip().fillna("").ne("").any():
        raise DataError("responses", "no open comments (responses: comment) and no ticket texts to draft a codeframe from",
                        column="comment")
    choice = choose_codeframe(audit, texts)
    base_name = "client's" if choice.how == "client_file" else f"{choice.industry} pack"
    names = customer_names(audit.tables.get("customers"))
    text, summary = draft_codeframe(texts, choice.codeframe, base_name=base_name, names=names,
                                    seed=getattr(audit.config, "seed", 20261124))
    out = Path(audit.dir) / DRAFT_CODEFRAME
    out.write_text(text, encoding="utf-8")
    summary.update(path=str(out), base=base_name, how=choice.how)
    return out, summary


# --- ticket texts (coded with the same codeframe; used by cxaudit.tickets) -------------------------

#: Columns of the tickets table that hold free text, joined by :func:`ticket_text`.
TEXT_COLUMNS: tuple[str, ...] = ("subject", "text", "description", "body", "message")


def ticket_text(tickets: pd.DataFrame) -> pd.Series | None:
    """The free text of each ticket: the :data:`TEXT_COLUMNS` present, joined by a line break
    (empty parts skipped; ``""`` for a ticket without text). ``None`` when the table has none of them."""
    cols = [c for c in TEXT_COLUMNS if c in tickets.columns]
    if not cols:
        return None
    parts = [tickets[c].astype("string").fillna("").str.strip() for c in cols]
    out = parts[0]
    for p in parts[1:]:
        sep = pd.Series(np.where((out != "") & (p != ""), "\n", ""), index=out.index, dtype="string")
        out = out + sep + p
    return out.astype(str)
