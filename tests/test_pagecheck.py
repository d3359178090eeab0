"""The rendered-page checks (cxaudit.pagecheck) on small PDFs made for them: they must catch a nearly
blank page and text past the margin, and pass a normal page. Needs Poppler (pdftoppm, pdftotext)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cxaudit import pagecheck as pc

pytestmark = pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("pdftotext")),
                                reason="Poppler (poppler-utils) not installed")

PAGE_CSS = "@page { size: A4; margin: 18mm 16mm 16mm 18mm; } body { font: 10pt 'DejaVu Sans'; }"
PARA = "<p>" + " ".join(["Customers rate home delivery lowest of all touchpoints."] * 6) + "</p>"


def _pdf(tmp_path: Path, name: str, body: str) -> Path:
    import weasyprint

    out = tmp_path / f"{name}.pdf"
    weasyprint.HTML(string=f"<html><head><style>{PAGE_CSS}</style></head><body>{body}</body></html>").write_pdf(out)
    return out


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("pagecheck")
    return {
        # page 1 full, page 2: a heading stranded at the top, then a forced break, page 3 full
        "stranded": _pdf(tmp, "stranded", PARA * 12 + '<div style="break-before: page"><h2>Lonely heading'
                         '</h2></div><div style="break-before: page">' + PARA * 12 + "</div>"),
        "fine": _pdf(tmp, "fine", PARA * 16),
        "wide": _pdf(tmp, "wide", PARA + '<table style="width: 185mm"><tr><td>left</td><td style="text-align: right">'
                     "EDGEWORD</td></tr></table>" + PARA * 10),
    }


def test_counts_pages(pdfs: dict[str, Path]) -> None:
    assert pc.page_count(pdfs["stranded"]) == 3
    assert len(pc.page_ink(pdfs["stranded"])) == 3


def test_a_nearly_blank_page_is_caught(pdfs: dict[str, Path]) -> None:
    ink = pc.page_ink(pdfs["stranded"])
    # the stranded heading fills a few percent of the body's height; full pages reach the bottom
    assert ink[1].fill < 0.1 and ink[0].fill > 0.8 and ink[2].fill > 0.8
    assert [p.page for p in pc.nearly_blank_pages(pdfs["stranded"], allowed=())] == [2]


def test_full_pages_pass(pdfs: dict[str, Path]) -> None:
    pages = pc.page_ink(pdfs["fine"])
    # the last page of a document may be short: only the pages before it must be used
    assert pc.nearly_blank_pages(pdfs["fine"], allowed=(len(pages),)) == []
    assert pc.text_beyond_margins(pdfs["fine"], allowed=()) == []


def test_text_past_the_margin_is_caught(pdfs: dict[str, Path]) -> None:
    beyond = pc.text_beyond_margins(pdfs["wide"], allowed=())
    assert [w.text for w in beyond] == ["EDGEWORD"]
    w = beyond[0]
    assert w.page == 1 and w.x1 > w.page_width - pc.RIGHT_MARGIN_PT


def test_jargon_list_catches_method_names_in_three_languages() -> None:
    assert pc.jargon_hits("Differences were tested with Games–Howell (seed 20261124).", "en")
    assert pc.jargon_hits("Set it in audit.yaml under tp_delivery.", "en")
    assert pc.jargon_hits("Интервал Уилсона, поправка Холма", "ru")
    assert pc.jargon_hits("przedział Wilsona, poprawka Holma", "pl")
    # plain wording passes, and a word that only contains a term does not count ("seeds" in "proceeds" no)
    assert pc.jargon_hits("Satisfaction is significantly lower (95 % confidence) in the north; proceeds rose.",
                          "en") == []
    assert pc.jargon_hits("Удовлетворённость значимо ниже (95 % доверия) на севере.", "ru") == []
    # "Wartość p" is jargon, "Wartość Przedział" (a column header: value, interval) is not
    assert pc.jargon_hits("Wskaźnik Wartość Przedział 95%", "pl") == []
    assert pc.jargon_hits("kolumna wartość p = 0,03", "pl")


def test_body_text_is_summary_to_appendix() -> None:
    page = ('<html><body><section class="cx-cover">COVER</section><section id="cx-exec-summary"><h1>Summary</h1>'
            '<script>var seed = 1;</script><p>Body &amp; text</p></section><h1 id="sec-appendix">Appendix</h1>'
            '<p>Games–Howell</p></body></html>')
    assert pc.body_text(page) == "Summary Body & text"


def test_a_heading_at_the_foot_of_a_page_is_caught(tmp_path: Path) -> None:
    """A 12-pt heading pushed to the bottom of page 1 with its text on page 2 is caught; the same heading
    kept with its text (break-after: avoid) is not, nor is a page that ends in body text."""
    h2 = "<h2 style=\"font-size: 12pt; margin: 0{}\">Home delivery drives NPS</h2>"
    # fill page 1 up to a few lines above the footer, then the heading, then a block too tall to fit (the
    # browser's own style keeps headings with what follows: the planted case turns that off)
    filler = '<div style="height: 236mm"></div>'
    block = '<div style="break-inside: avoid">' + PARA * 3 + "</div>"
    stranded = _pdf(tmp_path, "lonely", filler + h2.format("; break-after: auto") + block)
    kept = _pdf(tmp_path, "kept", filler + h2.format("; break-after: avoid")
                + block)
    hits = pc.stranded_headings(stranded, allowed=())
    assert [(w.page, w.text) for w in hits] == [(1, "Home")]
    assert pc.stranded_headings(kept, allowed=()) == []
    assert pc.stranded_headings(_pdf(tmp_path, "plain", PARA * 16), allowed=()) == []


@pytest.mark.parametrize(("lang", "english", "own"), [
    ("ru", "Процессы обслуживания (AS-IS)", "Процессы обслуживания «как есть»"),
    ("pl", "Schematy usług TO-BE", "Schematy usług – stan docelowy"),
])
def test_english_as_is_to_be_is_jargon_in_ru_and_pl(lang: str, english: str, own: str) -> None:
    assert len(pc.jargon_hits(english, lang)) == 1
    assert pc.jargon_hits(own, lang) == []
    assert pc.jargon_hits("AS-IS and TO-BE maps", "en") == []  # the English report keeps its own words
