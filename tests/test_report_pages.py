"""The rendered demo report, page by page (issue 14): length of both editions, no nearly blank page, no
text past the margins, no method / package / column jargon in the body, an answer-first summary.

One chain run on the small English demo (the shared ``small_demo_run``); the brief edition is rendered
from the same run. Russian and Polish: ``tests/test_report_i18n.py::test_no_jargon_in_the_body``.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from cxaudit import pagecheck as pc
from cxaudit.report import build_report

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("pdftotext")),
                                 reason="Poppler (poppler-utils) not installed")]

#: Issue 14: the full edition at most 35 pages before its appendix, the brief at most 8 pages.
MAX_FULL_BODY_PAGES = 35
MAX_BRIEF_PAGES = 8


@pytest.fixture(scope="module")
def editions(small_demo_run, tmp_path_factory: pytest.TempPathFactory):
    result, folder = small_demo_run
    run_dir = result.run_dir
    brief = {"pdf": result.outputs.get("brief-pdf"), "html": result.outputs.get("brief-html")}
    if not (brief["pdf"] and brief["html"]):  # the shared run is read-only: render the brief from a copy
        from cxaudit.config import load_config

        copy = tmp_path_factory.mktemp("brief") / run_dir.name
        shutil.copytree(run_dir, copy)
        cfg = load_config(folder / "audit.yaml", check_files=False)
        brief = build_report(copy, client_name=cfg.client.name, lang="en", edition="brief",
                             branding=cfg.client.branding)
    return {"full": {"pdf": run_dir / "report.pdf", "html": (run_dir / "report.html").read_text(encoding="utf-8")},
            "brief": {"pdf": brief["pdf"], "html": brief["html"].read_text(encoding="utf-8")}}


def _page_texts(pdf) -> list[str]:
    n = pc.page_count(pdf)
    return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], check=True,
                           capture_output=True, text=True).stdout for i in range(1, n + 1)]


def _first_page_of(texts: list[str], title: str) -> int:
    """1-based number of the first page after the contents that carries ``title`` (running header or heading)."""
    return next(i for i, t in enumerate(texts, start=1) if i > 2 and title in t)


def _head(text: str) -> str:
    """The running header of a page: its first two lines of text (client · title, then the section)."""
    return " ".join([ln for ln in text.splitlines() if ln.strip()][:2])


def _section_pages(texts: list[str], titles: list[str]) -> int:
    """Pages whose running header names one of ``titles`` (the section a page belongs to)."""
    return sum(1 for t in texts[2:] if any(title in _head(t) for title in titles))


def test_length_of_both_editions(editions) -> None:
    """Issue 14: full edition at most 35 pages before the appendix, brief at most 8 pages, every page
    counted (the journey maps of all customers are in the body, the persona maps in the supporting
    analyses after the methodology appendix; the brief is the summary and the TO-BE plan)."""
    full = _page_texts(editions["full"]["pdf"])
    body = _first_page_of(full, "Appendix: methodology") - 1
    brief = _page_texts(editions["brief"]["pdf"])
    print(f"full edition: {len(full)} pages, {body} before the appendix; brief edition: {len(brief)} pages")
    assert body <= MAX_FULL_BODY_PAGES
    assert len(brief) <= MAX_BRIEF_PAGES
    # the length was not bought by leaving things out: the journey maps of all customers are in the body,
    # the persona maps after the appendix
    assert _section_pages(full[:body], ["Customer journey maps"]) >= 2
    supporting = _first_page_of(full, "Appendix: supporting analyses")
    assert any("Journey map: persona" in t for t in full[supporting - 1:])
    assert not any("Journey map: persona" in t for t in full[2:body])  # after the cover and contents


@pytest.mark.parametrize("edition", ["full", "brief"])
def test_no_nearly_blank_page(editions, edition: str) -> None:
    pdf = editions[edition]["pdf"]
    texts = _page_texts(pdf)
    # allowed: the cover, the contents, the last page of the document (a report may end short) and the
    # last page before a part that starts on a new page (the appendices and the data-quality section)
    starts_page = ("Appendix: methodology", "Appendix: supporting analyses", "Data quality")
    heads = [_head(t) for t in texts]
    allowed = {1, 2, len(texts)} | {i for i in range(2, len(texts))
                                    if any(s in heads[i] and s not in heads[i - 1] for s in starts_page)}
    # and a page before a change of page size (a section that turns to landscape opens on its own page)
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", str(len(texts)), str(pdf)], check=True,
                          capture_output=True, text=True).stdout
    sizes = re.findall(r"^Page\s+\d+ size:\s+([\d.]+ x [\d.]+)", info, re.MULTILINE)
    allowed |= {i for i in range(1, len(sizes)) if sizes[i] != sizes[i - 1]}
    blank = pc.nearly_blank_pages(pdf, allowed=allowed)
    assert blank == [], [(p.page, round(p.fill, 2), " ".join(texts[p.page - 1].split())[:120]) for p in blank]


@pytest.mark.parametrize("edition", ["full", "brief"])
def test_no_text_beyond_the_margins(editions, edition: str) -> None:
    beyond = pc.text_beyond_margins(editions[edition]["pdf"])
    assert beyond == [], [(w.page, w.text, round(w.x0), round(w.x1)) for w in beyond[:20]]


@pytest.mark.parametrize("edition", ["full", "brief"])
def test_no_jargon_in_the_body(editions, edition: str) -> None:
    hits = pc.jargon_hits(pc.body_text(editions[edition]["html"]), "en")
    assert hits == []


def test_answer_first_summary_and_front_matter(editions) -> None:
    text = editions["full"]["html"]
    summary = text[text.index('id="cx-exec-summary"'): text.index('class="cx-body"')]
    assert re.search(r'<p class="cx-answer">The biggest problem for customers: ', summary)
    tiles = re.findall(r'<div class="cx-kpi cx-kpi-(\w+)">', summary)
    assert tiles == ["nps", "csat", "churn", "revenue"]
    assert summary.count('<tr class="cx-exec-rec"') == 3
    assert summary.count('class="cx-finding') >= 3 and 'src="data:image/svg+xml;base64,' in summary
    # internal (staff, KPI) findings never outrank the customer problem they explain
    first = re.search(r'data-finding-id="([^"]+)"', summary).group(1)
    assert not first.startswith("employees.")
    cover = text[text.index('class="cx-cover"'): text.index('class="cx-toc"')]
    assert "Confidential" in cover and "Version" in cover
    body = text[text.index('id="cx-exec-summary"'): text.index('id="sec-appendix"')]
    assert "Prepared with cxaudit" not in body and "Prepared with cxaudit" in text[text.index('id="sec-appendix"'):]


def test_figures_are_svg_with_alt_text(editions) -> None:
    text = editions["full"]["html"]
    imgs = re.findall(r"<img\b[^>]*>", text)
    figures = [i for i in imgs if "data:image/svg+xml" in i]
    assert len(figures) >= 10 and not any("data:image/png" in i for i in imgs)
    assert all(re.search(r'alt="[^"]{4,}"', i) for i in figures)
