"""Checks of a rendered report PDF, page by page: nearly blank pages and text beyond the margins.

Two measurements, both from Poppler's command-line tools (Debian ``poppler-utils``):

* **ink** (:func:`page_ink`): each page is rasterised in grey by ``pdftoppm`` at a low resolution; a
  pixel darker than :data:`DARK` counts as ink. For the body area (the page less its header and footer
  bands) we measure the share of inked pixels and how far down the page the ink reaches (the last
  inked row, as a share of the body's height). A page whose ink stops in the top :data:`MIN_FILL` of
  the body, or whose ink share is below :data:`MIN_INK`, is *nearly blank*: a stranded heading, a
  note alone at the top of a page, a table pushed to the next page leaving the previous one empty.
* **text positions** (:func:`words`): ``pdftotext -bbox`` gives every word with its box in PDF points.
  A word that starts left of the left margin or ends right of the right margin (less a tolerance) has
  been pushed past the margin -- by a table too wide for the page, most often. (Poppler leaves out a
  word drawn wholly beyond the paper's edge; such a table is caught by its words in the margin.)

The cover (page 1) has no margins by design and is left out of both checks; section divider pages
can be named in ``allowed``.

Examples
--------
>>> report = nearly_blank_pages("report.pdf")  # doctest: +SKIP
>>> report  # doctest: +SKIP
[]
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PageInk", "Word", "page_ink", "nearly_blank_pages", "words", "text_beyond_margins", "JARGON", "jargon_hits", "body_text",
           "page_count", "stranded_headings", "DARK", "MIN_FILL", "MIN_INK", "HEADING_MIN_PT"]

#: Grey level (0 black .. 255 white) below which a pixel counts as ink.
DARK = 200
#: A page whose ink ends in the top this share of the body area is nearly blank (the review that
#: counted 7 nearly blank pages in the full demo report counted pages less than 40 % used).
MIN_FILL = 0.4
#: A page with less than this share of inked pixels in its body area is nearly blank.
MIN_INK = 0.004
#: The body area as shares of the page (x0, y0, x1, y1): the A4 page less the header and footer bands
#: (the report's @page margins are 18 mm top and 16 mm bottom of 297 mm).
BODY = (0.0, 0.061, 1.0, 0.946)
#: The report's @page side margins in points (18 mm left, 16 mm right; report.css).
LEFT_MARGIN_PT = 18 / 25.4 * 72
RIGHT_MARGIN_PT = 16 / 25.4 * 72


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise FileNotFoundError(f"{tool} not found: install Poppler (Debian package poppler-utils)")
    return path


@dataclass(frozen=True)
class PageInk:
    """Ink on one page: ``share`` of inked pixels in the body area, ``fill`` the last inked row as a share
    of the body's height (0 when the body is empty)."""

    page: int
    share: float
    fill: float


def _pgm(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    magic, width, height, _maxval, pixels = data.split(maxsplit=4)
    if magic != b"P5":
        raise ValueError(f"{path}: not a binary PGM image")
    return int(width), int(height), pixels


def page_ink(pdf: str | Path, *, dpi: int = 30, box: tuple[float, float, float, float] = BODY) -> list[PageInk]:
    """Ink share and fill of every page of ``pdf`` (rasterised by ``pdftoppm -gray``)."""
    exe = _need("pdftoppm")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([exe, "-r", str(dpi), "-gray", str(pdf), f"{tmp}/p"], check=True, capture_output=True)
        images = sorted(Path(tmp).glob("p-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        out = []
        for i, img in enumerate(images, start=1):
            width, height, px = _pgm(img)
            x0, y0, x1, y1 = (int(box[0] * width), int(box[1] * height), int(box[2] * width), int(box[3] * height))
            dark = 0
            last = -1
            for y in range(y0, y1):
                row = px[y * width + x0: y * width + x1]
                n = sum(1 for b in row if b < DARK)
                if n:
                    dark += n
                    last = y - y0
            total = (x1 - x0) * (y1 - y0)
            out.append(PageInk(i, dark / total if total else 0.0, (last + 1) / (y1 - y0) if last >= 0 else 0.0))
    return out


def nearly_blank_pages(pdf: str | Path, *, allowed: Iterable[int] = (1,), min_fill: float = MIN_FILL,
                       min_ink: float = MIN_INK) -> list[PageInk]:
    """Pages other than ``allowed`` (1-based; the cover by default) whose ink stops in the top
    ``min_fill`` of the body or whose ink share is below ``min_ink``."""
    skip = set(allowed)
    return [p for p in page_ink(pdf) if p.page not in skip and (p.fill < min_fill or p.share < min_ink)]


@dataclass(frozen=True)
class Word:
    """One word of the PDF's text layer with its box in points (origin top-left)."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    page_width: float
    page_height: float


_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.DOTALL)
_WORD = re.compile(r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>',
                   re.DOTALL)


def words(pdf: str | Path) -> list[Word]:
    """Every word of ``pdf`` with its position (``pdftotext -bbox``)."""
    exe = _need("pdftotext")
    out = subprocess.run([exe, "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    result = []
    for i, m in enumerate(_PAGE.finditer(out), start=1):
        w, h = float(m.group(1)), float(m.group(2))
        for wm in _WORD.finditer(m.group(3)):
            result.append(Word(i, float(wm.group(1)), float(wm.group(2)), float(wm.group(3)), float(wm.group(4)),
                               html.unescape(wm.group(5)), w, h))
    return result


def page_count(pdf: str | Path) -> int:
    """Number of pages (``pdfinfo``)."""
    exe = _need("pdfinfo")
    out = subprocess.run([exe, str(pdf)], check=True, capture_output=True, text=True).stdout
    m = re.search(r"^Pages:\s+(\d+)", out, re.MULTILINE)
    if m is None:
        raise ValueError(f"{pdf}: pdfinfo reports no page count")
    return int(m.group(1))


#: Running header and page footer: above / below these shares of the page height.
HEADER_SHARE, FOOTER_SHARE = 0.06, 0.945


def _words_by_page(pdf: str | Path, allowed: Iterable[int]) -> dict[int, list[Word]]:
    """The PDF's words grouped by page, leaving out the ``allowed`` pages."""
    skip = set(allowed)
    by_page: dict[int, list[Word]] = {}
    for w in words(pdf):
        if w.page not in skip:
            by_page.setdefault(w.page, []).append(w)
    return by_page


def text_beyond_margins(pdf: str | Path, *, left: float = LEFT_MARGIN_PT, right: float = RIGHT_MARGIN_PT,
                        tolerance: float = 3.0, allowed: Iterable[int] = (1,)) -> list[Word]:
    """Words (not on ``allowed`` pages: the cover by default) that start left of the left margin or end
    right of the right margin by more than ``tolerance`` points.

    Each page's margins are read from its running header when it has one (the header's first word starts
    at the left margin and its last word ends at the right margin, whatever the page's size and
    orientation: a landscape page has its own); else ``left`` and ``right`` (points) are used.
    """
    out = []
    for page_words in _words_by_page(pdf, allowed).values():
        width, height = page_words[0].page_width, page_words[0].page_height
        header = [w for w in page_words if w.y1 < HEADER_SHARE * height]
        lo = min((w.x0 for w in header), default=left)
        hi = max((w.x1 for w in header), default=width - right)
        if not (lo < width / 3 and hi > 2 * width / 3):  # no header on both sides: the report's own margins
            lo, hi = left, width - right
        out += [w for w in page_words if w.x0 < lo - tolerance or w.x1 > hi + tolerance]
    return out


#: The report's headings are set at 12 pt and more (``h1``, ``h2``); their word boxes are at least this tall
#: (points), body text, tables, notes and chart labels (at most 10.5 pt) are shorter.
HEADING_MIN_PT = 13.5


def stranded_headings(pdf: str | Path, *, min_height: float = HEADING_MIN_PT, allowed: Iterable[int] = (1,)
                      ) -> list[Word]:
    """Headings left at the foot of a page: a line of words at least ``min_height`` points tall that
    starts at the page's left margin (a heading; text inside a figure is set elsewhere) with no text below
    it in the page's body (between the running header and the footer), so that what it heads starts on
    the next page. Returns the heading's first word per such page (not on ``allowed`` pages: the cover by
    default). The left margin is where the running header starts, else the leftmost word of the body."""
    out = []
    for page_words in _words_by_page(pdf, allowed).values():
        height = page_words[0].page_height
        body = [w for w in page_words if w.y0 > HEADER_SHARE * height and w.y1 < FOOTER_SHARE * height]
        if not body:
            continue
        header = [w for w in page_words if w.y1 < HEADER_SHARE * height]
        left = min(w.x0 for w in header or body)
        last = max(w.y1 for w in body)
        line = sorted((w for w in body if w.y1 > last - 2.0), key=lambda w: w.x0)
        if line and abs(line[0].x0 - left) <= 3.0 and all(w.y1 - w.y0 >= min_height for w in line):
            out.append(line[0])
    return out


# --- plain language --------------------------------------------------------------------------------

#: Words that belong in the methodology appendix only: method, test and package names, seeds, column
#: names and config keys (matched case-insensitively as whole words / exact fragments, per language;
#: the English list applies to every language, since names leak untranslated).
JARGON: dict[str, tuple[str, ...]] = {
    "en": ("Games-Howell", "Games–Howell", "χ²", "chi-square", "chi-squared", "Cronbach", "Mantel", "Haenszel",
           "seed", "audit.yaml", "tp_", "date =", "pingouin", "statsmodels", "scikit", "sklearn", "Holm",
           "Shapley", "LMG", "Kaplan", "Meier", "Cox", "logistic regression", "p-value", "p =", "p_holm", "NMF",
           "TF-IDF", "R package", "cxaudit", "run id", "1 − Π", "Fisher", "z-test", "Poisson", "quasi-Poisson",
           "papermill", "nbconvert", "parquet", ".yaml", "dataframe", "odds ratio", "Wilson", "Newcombe",
           "bootstrap", "Kruskal", "Mann-Whitney", "ANOVA", "Welch", "t-test", "Spearman", "Pearson",
           "regression", "config"),
    "ru": ("хи-квадрат", "Кронбах", "Мантел", "Хенсзел", "сид", "зерно генератора", "Холм", "Шепли", "Каплан",
           "Кокс", "логистическ", "Фишер", "Пуассон", "Уилсон", "Вилсон", "Ньюкомб", "бутстрэп", "Краскел",
           "Манн", "Уэлч", "Спирмен", "Пирсон", "регресси", "отношение шансов", "p-значени",
           # English consultancy labels left in Russian text: «как есть» / «как должно быть»
           "AS-IS", "TO-BE"),
    "pl": ("chi-kwadrat", "Cronbacha", "ziarno", "Holma", "Shapleya", "Kaplana", "Coxa", "logistyczn", "Fishera",
           "Poissona", "Wilsona", "Newcombe'a", "bootstrap", "Kruskala", "Welcha", "Spearmana", "Pearsona",
           "regresj", "iloraz szans", "wartość p",
           # English consultancy labels left in Polish text: „stan obecny” / „stan docelowy”
           "AS-IS", "TO-BE"),
}


def jargon_hits(text: str, lang: str) -> list[str]:
    """The :data:`JARGON` terms (English plus ``lang``'s) found in ``text``, each with a little context."""
    terms = JARGON["en"] + (JARGON[lang] if lang != "en" else ())
    hits = []
    for term in terms:
        # whole words where the term starts/ends with a letter; exact fragments otherwise (tp_, p =, χ²)
        left = r"(?<!\w)" if term[0].isalnum() else ""
        # whole words for English terms and phrases; single ru/pl words are stems (any ending)
        right = r"(?!\w)" if term[-1].isalnum() and (term in JARGON["en"] or " " in term) else ""
        for m in re.finditer(left + re.escape(term) + right, text, re.IGNORECASE):
            hits.append(f"{term}: …{text[max(0, m.start() - 40): m.end() + 40]}…")
    return hits


def body_text(report_html: str) -> str:
    """The visible text of a rendered report from the executive summary up to the methodology appendix
    (the client's reading: cover, contents and appendix left out), whitespace collapsed."""
    start = report_html.find('id="cx-exec-summary"')
    end = report_html.find('id="sec-appendix"')
    if end >= 0:
        end = report_html.rfind("<", 0, end)  # the appendix heading's own tag
    part = report_html[start if start >= 0 else 0: end if end >= 0 else len(report_html)]
    part = re.sub(r"<(script|style)\b.*?</\1>", " ", part, flags=re.IGNORECASE | re.DOTALL)
    part = re.sub(r"<img\b[^>]*>", " ", part, flags=re.IGNORECASE)  # figures: their alt text is checked apart
    part = re.sub(r"<[^>]+>", " ", part[part.find(">") + 1:] if start >= 0 else part)
    return " ".join(html.unescape(part).split())
