"""Where the report puts its pages (issue 14, length and the tracking report's appendix): fast tests on
small hand-made notebooks, no chain run. The page counts of the demo are in ``test_report_pages.py``."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from cxaudit import show
from cxaudit.i18n import t
from cxaudit.report import BRIEF_SECTIONS, build_report


def _cell(html: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data={"text/html": html})])


def _run_with_maps(run_dir: Path, lang: str) -> Path:
    """A run of two sections: TO-BE (one paragraph) and the journey maps (all customers, one persona)."""
    everybody = t("cjm.map_heading", lang, who=t("cjm.everybody", lang))
    persona = t("cjm.map_heading", lang, who=t("cjm.persona", lang, k=1, name="Online"))
    nb = nbformat.v4.new_notebook(cells=[
        _cell(show.section("to_be", lang).data), _cell("<p>the plan</p>"),
        _cell(show.section("journey_map", lang).data),
        _cell(f'<div class="cx-landscape">{show.heading(everybody, "journey_map").data}<p>overall map</p></div>'),
        _cell(f'<div class="cx-landscape">{show.heading(persona, "journey_map").data}<p>persona map</p></div>'),
        _cell('<div class="cx-landscape"><p>persona canvas</p></div>'),
    ])
    (run_dir / "notebooks").mkdir(parents=True)
    (run_dir / "findings").mkdir()
    nbformat.write(nb, run_dir / "notebooks" / "07_to_be.ipynb")
    return run_dir


@pytest.mark.parametrize("lang", ["en", "ru", "pl"])
def test_full_edition_keeps_the_overall_maps_in_the_body_and_persona_maps_in_the_appendix(tmp_path: Path,
                                                                                       lang: str) -> None:
    run_dir = _run_with_maps(tmp_path / "run", lang)
    text = build_report(run_dir, client_name="X", lang=lang, formats=("html",))["html"].read_text("utf-8")
    body = text[:text.index('id="sec-appendix"')]
    supporting = text[text.index('id="sec-supporting"'):]
    assert "overall map" in body and "the plan" in body
    assert "persona map" not in body and "persona canvas" not in body
    assert "persona map" in supporting and "persona canvas" in supporting  # the canvas goes with its persona


def test_brief_edition_is_the_summary_and_the_to_be_plan(tmp_path: Path) -> None:
    assert BRIEF_SECTIONS == ("to_be",)
    run_dir = _run_with_maps(tmp_path / "run", "en")
    text = build_report(run_dir, client_name="X", lang="en", formats=("html",),
                        edition="brief")["html"].read_text("utf-8")
    assert "the plan" in text and "overall map" not in text and "persona map" not in text
    # the cover says which sections the full report adds, the journey maps among them
    assert t("section.journey_map", "en") in text[:text.index('class="cx-body"')]


@pytest.mark.parametrize("lang", ["ru", "pl"])
def test_no_english_as_is_to_be_in_section_and_map_names(lang: str) -> None:
    for key in ("section.processes", "section.blueprints", "section.to_be", "section.journey_map"):
        assert "AS-IS" not in t(key, lang) and "TO-BE" not in t(key, lang), key
    for key in ("cjm.asis_title", "cjm.tobe_title", "cjm.needs_tobe"):
        text = t(key, lang, who="x")
        assert "AS-IS" not in text and "TO-BE" not in text, key
    assert t("cjm.asis_title", lang, who="x") != t("cjm.tobe_title", lang, who="x")


@pytest.mark.slow  # writes two survey waves and renders the tracking report
def test_tracking_report_has_its_own_appendix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """track_client (two small waves, HTML only): the appendix explains the tracking method, not the
    audit's formulas, bases and TO-BE assumptions; the page header is the tracking report's."""
    from cxaudit.demo import generate_waves
    from cxaudit.track import track_client

    monkeypatch.setenv("CXAUDIT_HOME", str(tmp_path))
    generate_waves(tmp_path / "data" / "demo", waves=2, size="small")
    run = track_client("demo", lang="pl", formats=("html",))
    text = run.outputs["html"].read_text(encoding="utf-8")
    appendix = text[text.index('id="sec-appendix"'):]
    assert t("track.appendix", "pl") in appendix
    for key in ("track.method_measures_heading", "track.method_tests_heading", "track.method_plan_heading"):
        assert t(key, "pl") in appendix, key
    assert "Holma" in appendix and "Fishera" in appendix
    for key in ("report.appendix", "report.method_formulas", "report.method_bases", "report.method_assumptions"):
        assert t(key, "pl") not in appendix, key
    top_left = re.search(r"@top-left \{ content: ([^;]*);", text).group(1)
    assert t("track.deck_title", "pl") in top_left and t("report.title", "pl") not in top_left


def test_an_amount_wraps_before_its_currency_never_inside_it() -> None:
    """The ru targets table printed "572 758 533 RU B": in table cells the currency code is kept whole and
    the space before it may break; the number keeps its no-break group separators; text outside cells
    is left alone."""
    from cxaudit.report import _amount_breaks

    cell = '<td class="cx-num">572\u00a0758\u00a0533\u00a0RUB</td>'
    assert _amount_breaks(cell) == '<td class="cx-num">572\u00a0758\u00a0533 <span class="cx-nw">RUB</span></td>'
    assert _amount_breaks("<td>9,3\u00a0mln\u00a0zł</td>") == '<td>9,3\u00a0mln <span class="cx-nw">zł</span></td>'
    assert _amount_breaks("<p>5\u00a0RUB</p>") == "<p>5\u00a0RUB</p>"
    assert _amount_breaks("<td>n\u00a0=\u00a0120</td>") == "<td>n\u00a0=\u00a0120</td>"


def test_brief_note_is_printed_under_the_contents_not_in_the_summary(tmp_path: Path) -> None:
    """The ru brief's summary ran to two pages: the note on what the brief leaves out is printed on the
    contents page (a short list in the brief), and only shown on screen under the headline figures."""
    run_dir = _run_with_maps(tmp_path / "run", "ru")
    text = build_report(run_dir, client_name="X", lang="ru", formats=("html",),
                        edition="brief")["html"].read_text("utf-8")
    toc = text[text.index('class="cx-toc"'):text.index('id="cx-exec-summary"')]
    summary = text[text.index('id="cx-exec-summary"'):text.index('class="cx-body"')]
    assert 'class="cx-edition-note cx-print-only"' in toc and t("section.journey_map", "ru") in toc
    assert 'class="cx-edition-note cx-screen-only"' in summary
    css = text[:text.index("</head>")]
    assert re.search(r"@media print \{\s*\.cx-screen-only \{ display: none; \}", css)
    assert re.search(r"@media screen \{ \.cx-print-only \{ display: none; \} \}", css)


@pytest.mark.parametrize("name", ["Online", "Wolę załatwiać sprawy sam online · nie „Ważna jest dla mnie osobista "
                                  "porada” · Telefon · Sklep"])
def test_a_journey_map_title_ends_inside_its_figure(name: str) -> None:
    """The pl persona maps printed their title past the page margin: a long title is set smaller."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cxaudit.cjm import A4_LANDSCAPE, _title_size

    for key in ("cjm.asis_title", "cjm.tobe_title", "cjm.canvas_title"):
        title = t(key, "pl", who=t("cjm.persona", "pl", k=1, name=name))
        fig = plt.figure(figsize=A4_LANDSCAPE)
        text = fig.suptitle(title, x=0.01, y=0.975, ha="left", fontsize=_title_size(title), fontweight="bold")
        fig.canvas.draw()
        box = text.get_window_extent()
        plt.close(fig)
        assert box.x1 <= fig.bbox.x1, (key, box.x1, fig.bbox.x1)
        assert _title_size(title) == 13 or len(title) > 96


def test_the_journey_map_section_opens_on_its_landscape_page(tmp_path: Path) -> None:
    """Its heading and introduction were printed alone on a portrait page before the maps: now they are
    on the first landscape page, with the map of all customers (a small PDF of the hand-made run)."""
    import shutil
    import subprocess

    if not shutil.which("pdftotext"):
        pytest.skip("Poppler (poppler-utils) not installed")
    run_dir = _run_with_maps(tmp_path / "run", "en")
    out = build_report(run_dir, client_name="X", lang="en", formats=("html", "pdf"))
    text = out["html"].read_text("utf-8")
    assert re.search(r'<div class="cx-cell [^"]*cx-opens-landscape[^"]*">\s*<div class="cx-output cx-html[^"]*">\s*'
                     r'<h1 class="cx-section" id="sec-journey_map"', text)
    assert re.search(r'class="cx-output cx-html [^"]*cx-first-landscape[^"]*">\s*<div class="cx-landscape">', text)
    from cxaudit import pagecheck as pc

    heading = t("section.journey_map", "en")
    for page in range(1, pc.page_count(out["pdf"]) + 1):
        words = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(out["pdf"]), "-"],
                               check=True, capture_output=True, text=True).stdout
        if heading in words and "overall map" in words:
            break
    else:
        raise AssertionError("the journey-map heading and the map of all customers are on different pages")
    info = subprocess.run(["pdfinfo", "-f", str(page), "-l", str(page), str(out["pdf"])], check=True,
                          capture_output=True, text=True).stdout
    w, h = map(float, re.search(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert w > h  # landscape


def test_a_heading_and_its_short_introduction_keep_with_the_table(tmp_path: Path) -> None:
    """The ru TO-BE printed 'Цели и финансовое обоснование' and its one-line introduction at the foot of a
    page and the table on the next: both outputs are kept with what follows; the table is not."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", data={"text/html": html})
        for html in (show.section("to_be", "ru").data, show.heading("Цели", "to_be").data,
                     '<p class="cx-text">Куда план приведёт метрики.</p>', "<table><tr><td>1</td></tr></table>",
                     '<p class="cx-text">После таблицы.</p>')])])
    (tmp_path / "run" / "notebooks").mkdir(parents=True)
    (tmp_path / "run" / "findings").mkdir()
    nbformat.write(nb, tmp_path / "run" / "notebooks" / "07_to_be.ipynb")
    text = build_report(tmp_path / "run", client_name="X", lang="ru", formats=("html",))["html"].read_text("utf-8")
    kept = re.findall(r'<div class="cx-output cx-html [^"]*cx-keep-with-next[^"]*">\s*<(\w+)', text)
    assert kept == ["h2", "p"]
    assert "После таблицы" in text
