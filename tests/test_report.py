"""The client report: merge rules, self-containment, escaping, language, PDF pages."""

from __future__ import annotations

import base64
import io
import re
import time
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from cxaudit.config import Branding
from cxaudit.findings import Finding, write_findings
from cxaudit.paths import TEMPLATES_DIR
from cxaudit.report import build_report, merge_notebooks, sanitize_output_html

pytestmark = pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning")

CLIENT = "Acme & Sons <Bank>"
SECTION_1 = ("sec-data_quality", "Data quality")
SECTION_2 = ("sec-cx_metrics", "Customer experience metrics")
SUB_1 = ("sub-cx_metrics-2", "NPS by segment")
TABLE_MARKER = "TABLE_CELL_MARKER"


def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.bar(["a", "b"], [1, 2])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _html(text: str) -> object:
    return new_output("display_data", data={"text/html": text, "text/plain": "<IPython.core.display.HTML>"})


def _notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def _make_run(run_dir: Path, png: str) -> Path:
    params = new_code_cell("client = 'demo'\nPARAM_DEFAULT_VALUE = 'zzz'", metadata={"tags": ["parameters"]})
    injected = new_code_cell(
        "client = 'acme'\nINJECTED_VALUE_MARKER = 42",
        metadata={"tags": ["injected-parameters"]},
        outputs=[_html("<p>INJECTED_OUTPUT</p>")],
    )
    code = new_code_cell(
        "SECRET_CODE_MARKER = 1\nprint('STDOUT_MARKER')",
        execution_count=3,
        outputs=[
            new_output("stream", name="stdout", text="STDOUT_MARKER\n"),
            new_output("stream", name="stderr", text="STDERR_MARKER\n"),
            new_output("execute_result", data={"text/plain": "PLAIN_ONLY_MARKER"}, execution_count=3),
        ],
    )
    analyst = new_code_cell(
        "show_debug()", metadata={"tags": ["analyst"]}, outputs=[_html("<p>ANALYST_ONLY</p>")]
    )
    error = new_code_cell(
        "1/0",
        outputs=[new_output("error", ename="ZeroDivisionError", evalue="ERROR_MARKER", traceback=["ERROR_MARKER"])],
    )
    nb1 = _notebook([
        params,
        injected,
        new_markdown_cell("MARKDOWN_NARRATION: analyst notes"),
        new_code_cell("display(section)", outputs=[_html(
            f'<h1 class="cx-section" id="{SECTION_1[0]}">{SECTION_1[1]}</h1>'
            '<p class="cx-note">Rows used 1 200 of 1 250.</p>')]),
        code,
        analyst,
        error,
        new_code_cell("display(table)", outputs=[_html(
            '<table class="cx-table"><thead><tr><th>Table</th><th class="cx-num">Rows</th></tr></thead>'
            f'<tbody><tr><td>{TABLE_MARKER}</td><td class="cx-num">1,250</td></tr>'
            '<tr><td class="cx-small-base">small group</td><td class="cx-num">12</td></tr></tbody></table>'
        )]),
    ])
    nb2 = _notebook([
        new_code_cell("display(section)", outputs=[_html(
            f'<h1 class="cx-section" id="{SECTION_2[0]}">{SECTION_2[1]}</h1>')]),
        new_code_cell("display(sub)", outputs=[_html(f'<h2 class="cx-sub" id="{SUB_1[0]}">{SUB_1[1]}</h2>')]),
        new_code_cell("fig", outputs=[new_output(
            "display_data", data={"image/png": png, "text/plain": "<Figure size 300x200>"}
        )]),
        new_code_cell("sneaky()", outputs=[_html(
            '<p>kept text</p><script src="https://cdn.example.com/x.js"></script>'
            '<img src="https://tracker.example.com/p.png" alt="">'
            '<a href="http://example.com/">external link</a>'
        )]),
    ])
    (run_dir / "notebooks").mkdir(parents=True)
    nbformat.write(nb1, run_dir / "notebooks" / "01_data_quality.ipynb")
    nbformat.write(nb2, run_dir / "notebooks" / "02_cx_metrics.ipynb")

    write_findings(run_dir, "01_data_quality", [
        Finding(id="dq.excluded", section="data_quality", title="4% of responses were excluded",
                metric="excluded_share", value=4.0, n=1250, severity=2, reach=0.04),
        Finding(id="dq.xss", section="data_quality", title="<script>alert(1)</script>", metric="x",
                value=1.25, n=10, severity=1, reach=0.01),
    ])
    write_findings(run_dir, "02_cx_metrics", [
        Finding(id="cx.nps", section="cx_metrics", title="NPS is +12", metric="nps", value=12.345, n=1234,
                ci_low=5.12, ci_high=18.75, severity=3, reach=0.6),
        Finding(id="cx.ces", section="cx_metrics", title="Effort is high in the app", metric="ces", value=3.25,
                n=400, ci_low=3.1, ci_high=3.4, severity=5, reach=0.9),
    ])
    return run_dir


@pytest.fixture(scope="module")
def png() -> str:
    return _png()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, png: str) -> dict:
    run_dir = _make_run(tmp_path_factory.mktemp("run"), png)
    t0 = time.perf_counter()
    paths = build_report(
        run_dir, client_name=CLIENT, lang="en", branding=Branding(primary_color="#123456"),
        period=(date(2026, 1, 1), date(2026, 3, 31)), run_id="20260101T000000Z-abc123",
        report_date=date(2026, 4, 2),
    )
    elapsed = time.perf_counter() - t0
    return {"run_dir": run_dir, "paths": paths, "html": paths["html"].read_text(encoding="utf-8"),
            "elapsed": elapsed}


class _Refs(HTMLParser):
    """Every tag name, every src/href value and every url(...) in style attributes / elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "xlink:href", "action", "poster"):
                self.urls.append(value or "")
            if name == "style":
                self.urls += re.findall(r"url\(([^)]*)\)", value or "")
            if name == "id":
                self.ids.add(value or "")

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += re.findall(r"url\(([^)]*)\)", data)
            self.urls += re.findall(r"@import\s+([^;]+)", data)


def _refs(text: str) -> _Refs:
    p = _Refs()
    p.feed(text)
    return p


# --- HTML -----------------------------------------------------------------------------------------


def test_returns_both_paths(rendered: dict) -> None:
    run_dir = rendered["run_dir"]
    assert rendered["paths"] == {"html": run_dir / "report.html", "pdf": run_dir / "report.pdf"}
    assert rendered["elapsed"] < 15


def test_html_has_cover_toc_summary_and_sections(rendered: dict) -> None:
    text = rendered["html"]
    assert '<html lang="en">' in text
    # cover
    assert "Customer experience audit" in text
    assert "Prepared for" in text
    assert "Acme &amp; Sons &lt;Bank&gt;" in text
    assert "2 April 2026" in text
    assert "1 January 2026 – 31 March 2026" in text
    assert "--cx-primary: #123456" in text
    # TOC: links to the executive summary and every section / sub-section, in document order
    refs = _refs(text)
    toc = text[text.index('class="cx-toc"'): text.index('class="cx-exec"')]
    hrefs = re.findall(r'href="#([^"]+)"', toc)
    # issue 14: data quality qualifies the data and is not a finding: it follows the methodology appendix
    assert hrefs[:3] == ["cx-exec-summary", SECTION_2[0], SUB_1[0]]
    # then the methodology appendix and its sub-sections (with every finding and the run's details)
    assert hrefs[3:] == ["sec-appendix", "sub-appendix-1", "sub-appendix-2", "sub-appendix-3", "sub-appendix-5",
                         "sub-appendix-6", SECTION_1[0]]
    assert all(h in refs.ids for h in hrefs)
    for _, title in (SECTION_1, SECTION_2, SUB_1):
        assert title in toc
    # order in the document: cover < toc < summary < sections < appendix < data quality < the script
    positions = [text.index(s) for s in ('class="cx-cover"', 'class="cx-toc"', 'id="cx-exec-summary"',
                                         f'id="{SECTION_2[0]}"', 'id="sec-appendix"', f'id="{SECTION_1[0]}"',
                                         'id="cx-report-js"')]
    assert positions == sorted(positions)
    # section content survives
    assert TABLE_MARKER in text
    assert "Rows used 1 200 of 1 250." in text
    assert "data:image/png;base64," in text
    assert "kept text" in text
    assert "Prepared with cxaudit" in text and "20260101T000000Z-abc123" in text


def test_exec_summary_in_priority_order(rendered: dict) -> None:
    text = rendered["html"]
    summary = text[text.index('id="cx-exec-summary"'): text.index('class="cx-body"')]
    order = re.findall(r'data-finding-id="([^"]+)"', summary)
    # priorities: ces 4.5, nps 1.8; data-quality notes are not key findings (issue 14: they are in the appendix)
    assert order == ["cx.ces", "cx.nps"]
    assert "12.3" in summary and "1,234" in summary and "[5.1; 18.8]" in summary
    # answer first: the top customer problem in one sentence
    assert '<p class="cx-answer">The biggest problem for customers: Effort is high in the app.</p>' in summary
    appendix = text[text.index('id="sec-appendix"'):]
    assert appendix.index("Effort is high in the app") < appendix.index("4% of responses were excluded")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in appendix


def test_html_drops_everything_not_for_the_client(rendered: dict) -> None:
    text = rendered["html"]
    for marker in ("SECRET_CODE_MARKER", "STDOUT_MARKER", "STDERR_MARKER", "PLAIN_ONLY_MARKER", "ERROR_MARKER",
                   "ANALYST_ONLY", "INJECTED_VALUE_MARKER", "INJECTED_OUTPUT", "PARAM_DEFAULT_VALUE",
                   "MARKDOWN_NARRATION", "'acme'", "In&nbsp;[", "In [", "Out[", "jp-InputPrompt"):
        assert marker not in text, marker


def test_html_is_self_contained_and_escaped(rendered: dict) -> None:
    text = rendered["html"]
    refs = _refs(text)
    # one script only: the template's own (sortable tables, issue 14), with no URL; none from notebooks
    assert refs.tags.count("script") == 1 and "link" not in refs.tags and "iframe" not in refs.tags
    js = (TEMPLATES_DIR / "cxreport" / "report.js").read_text(encoding="utf-8")
    assert text.lower().count("<script") == 1 and f'<script id="cx-report-js">{js}</script>' in text
    assert "http" not in js and "fetch" not in js and "XMLHttpRequest" not in js
    assert "<link" not in text.lower()
    for url in refs.urls:
        u = url.strip().strip("'\"").lower()
        assert not u.startswith(("http:", "https:", "//")), url
        assert u.startswith(("#", "data:")), url
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", text, re.IGNORECASE)
    assert ".linenos" not in text and "--jp-" not in text  # neither Pygments nor JupyterLab CSS
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_language_ru(tmp_path: Path, png: str) -> None:
    run_dir = _make_run(tmp_path / "run", png)
    paths = build_report(run_dir, client_name="ООО «Ромашка»", lang="ru", formats=["html"],
                         report_date=date(2026, 11, 24))
    assert set(paths) == {"html"} and not (run_dir / "report.pdf").exists()
    text = paths["html"].read_text(encoding="utf-8")
    assert '<html lang="ru">' in text
    assert "Содержание" in text and "Резюме для руководства" in text and "24 ноября 2026" in text
    summary = text[text.index('id="cx-exec-summary"'): text.index('class="cx-body"')]
    assert "12,3" in summary and "3,2" in summary and "[5,1; 18,8]" in summary
    assert "1\u00a0234" in summary and "60\u00a0%" in summary
    assert "Стр." in text  # page label for print


def test_no_findings_and_bad_format(tmp_path: Path, png: str) -> None:
    run_dir = _make_run(tmp_path / "run", png)
    for f in (run_dir / "findings").glob("*.json"):
        f.unlink()
    text = build_report(run_dir, client_name="X", lang="pl", formats=("html",))["html"].read_text("utf-8")
    assert "To uruchomienie nie dało żadnych wniosków." in text
    with pytest.raises(ValueError, match="docx"):
        build_report(run_dir, client_name="X", lang="en", formats=("html", "docx"))
    with pytest.raises(ValueError, match="language"):
        build_report(run_dir, client_name="X", lang="de", formats=("html",))


def test_logo_is_inlined(tmp_path: Path, png: str) -> None:
    run_dir = _make_run(tmp_path / "run", png)
    logo = tmp_path / "logo.png"
    logo.write_bytes(base64.b64decode(png))
    text = build_report(run_dir, client_name="X", lang="en", logo_path=logo, formats=("html",))["html"].read_text()
    assert f'class="cx-cover-logo" src="data:image/png;base64,{png[:40]}' in text


def test_merge_keeps_only_client_outputs(rendered: dict) -> None:
    nb = merge_notebooks(sorted((rendered["run_dir"] / "notebooks").glob("*.ipynb")))
    assert all(c.cell_type == "code" and c.source == "" and c.outputs for c in nb.cells)
    for cell in nb.cells:
        for out in cell.outputs:
            assert out.output_type == "display_data"
            assert set(out.data) <= {"text/html", "image/png"} and len(out.data) == 1
    assert len({c.id for c in nb.cells}) == len(nb.cells)


def test_sanitize_output_html() -> None:
    clean, changed = sanitize_output_html(
        '<div onclick="x()" style="background: url(https://x.org/a.png)">t</div>'
        '<style>@import url("https://x.org/a.css"); td { color: red }</style><link rel="stylesheet" href="a.css">'
    )
    assert changed == 1
    assert clean == "<div>t</div>"  # style elements go whole (see tests/test_sanitize.py)
    same, changed = sanitize_output_html('<p class="cx-note"><a href="#sec-x">x</a> 5 &lt; 6</p>')
    assert changed == 0 and same == '<p class="cx-note"><a href="#sec-x">x</a> 5 &lt; 6</p>'


def test_long_and_wide_tables_may_break_across_pages(tmp_path: Path) -> None:
    rows = "".join(f"<tr><td>r{i}</td>" + "<td>1</td>" * 10 + "</tr>" for i in range(30))
    nb = _notebook([
        new_code_cell("big", outputs=[_html(f"<table><tbody>{rows}</tbody></table>")]),
        new_code_cell("small", outputs=[_html("<table><tr><td>a</td><td>1</td></tr></table>")]),
    ])
    nbformat.write(nb, tmp_path / "01_x.ipynb")
    merged = merge_notebooks([tmp_path / "01_x.ipynb"])
    assert merged.cells[0].outputs[0].metadata["cxaudit"]["classes"] == "cx-long cx-wide"
    assert "cxaudit" not in merged.cells[1].outputs[0].metadata
    text = build_report(tmp_path, client_name="X", lang="en", formats=("html",),
                        notebooks=[tmp_path / "01_x.ipynb"])["html"].read_text("utf-8")
    assert 'class="cx-output cx-html cx-long cx-wide"' in text


# --- PDF ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_pages(rendered: dict) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(str(rendered["paths"]["pdf"]))
    return [page.extract_text() or "" for page in reader.pages]


def test_pdf_file(rendered: dict, pdf_pages: list[str]) -> None:
    assert rendered["paths"]["pdf"].read_bytes()[:5] == b"%PDF-"
    # cover, contents, executive summary, two sections
    assert len(pdf_pages) >= 5


def test_pdf_cover(pdf_pages: list[str]) -> None:
    cover = " ".join(pdf_pages[0].split())
    assert "Customer experience audit" in cover
    assert "Acme & Sons <Bank>" in cover
    assert "Page" not in cover  # no page number on the cover


def test_pdf_toc_has_page_numbers(pdf_pages: list[str]) -> None:
    toc_page = next(p for p in pdf_pages if "Contents" in p)
    flat = " ".join(toc_page.split())
    pages = {}
    for title in ("Executive summary", SECTION_1[1], SECTION_2[1], SUB_1[1]):
        m = re.search(re.escape(title) + r"[\s.]*?(\d+)", flat)
        assert m, (title, flat)
        pages[title] = int(m.group(1))
    # data quality follows the methodology appendix (issue 14)
    assert 3 <= pages["Executive summary"] < pages[SECTION_2[1]] <= pages[SUB_1[1]] < pages[SECTION_1[1]]
    # the numbers are right: the section title is on the page the TOC names
    assert SECTION_2[1] in pdf_pages[pages[SECTION_2[1]] - 1]


def test_pdf_page_numbers_on_content_pages(pdf_pages: list[str]) -> None:
    total = len(pdf_pages)
    for i, text in enumerate(pdf_pages[1:], start=2):
        assert f"Page {i} / {total}" in text, (i, text[-200:])


# --- executive summary with recommendations, commentary, methodology appendix ----------------------


def _tobe_run(run_dir: Path, png: str) -> Path:
    """The report fixture's run plus what notebook 07 writes: tobe.json with recommendations, targets,
    methodology data and (hostile) consultant commentary."""
    from cxaudit.recommend import recommend, save_tobe, targets

    _make_run(run_dir, png)
    fs = [
        Finding(id="cx_metrics.nps.overall", section="cx_metrics", title="NPS is +12", metric="nps", value=12.345,
                n=1234, ci_low=5.12, ci_high=18.75, severity=3, reach=0.25, unit="pts",
                evidence={"promoters": 0.37, "detractors": 0.25}),
        Finding(id="tickets.sla.social", section="voc", title="Social media answers in 6 h", metric="hours",
                value=6.0, n=300, severity=4, reach=0.2, unit="h", tags={"channels": ["social"]}),
        Finding(id="employees.kpi_no_cx.Logistics", section="employees", title="Logistics KPIs ignore CX",
                metric="kpi", value=0.0, n=3, severity=4, reach=0.6, unit="%", tags={"departments": ["Logistics"]}),
        Finding(id="churn.revenue_at_risk", section="churn", title="Revenue at risk", metric="rar", value=500_000.0,
                n=900, severity=4, reach=0.1, evidence={"revenue_at_risk": 500_000.0,
                                                         "uplift_detractors_to_promoter_rate": 100_000.0,
                                                         "currency": "PLN"}),
    ]
    recs = recommend(fs)
    meth = {"intake": [{"table": "responses", "file": "r.csv", "rows_in": 1250, "kept": 1200, "excluded": 50}],
            "exclusions": [{"table": "responses", "rule": "speeder", "rows": 50}], "flags": [], "min_base": 30,
            "assumptions": {"shift": 0.3, "quick_win_min_nps": 1.0}}
    commentary = {"cx_metrics": "Strong <script>alert(2)</script> base.\n\n- first point\n- second point",
                  "executive_summary": "EXEC_COMMENT_MARKER & more", "appendix": "APPENDIX_COMMENT"}
    save_tobe(run_dir, recs, targets(recs, fs), methodology=meth, commentary=commentary)
    return run_dir


@pytest.fixture(scope="module")
def rendered_tobe(tmp_path_factory: pytest.TempPathFactory, png: str) -> dict:
    run_dir = _tobe_run(tmp_path_factory.mktemp("tobe"), png)
    paths = build_report(run_dir, client_name="Acme", lang="ru", report_date=date(2026, 4, 2))
    return {"run_dir": run_dir, "html": paths["html"].read_text(encoding="utf-8"), "pdf": paths["pdf"]}


def test_exec_summary_lists_top_recommendations_with_numbers(rendered_tobe: dict) -> None:
    from cxaudit.recommend import read_tobe

    text = rendered_tobe["html"]
    summary = text[text.index('id="cx-exec-summary"'): text.index('class="cx-body"')]
    # answer first (issue 14): the first three actions on the roadmap with value, cost, owner and date
    assert "Что сделать в первую очередь" in summary and "Ключевые выводы" in summary
    recs = read_tobe(rendered_tobe["run_dir"])["recommendations"]
    on_plan = [r.rule for r in recs if r.quadrant != "reconsider" and getattr(r, "on_plan", True) is not False]
    assert re.findall(r'data-rec-rule="([^"]+)"', summary) == on_plan[:3]
    # SLA: 100 × 0.2 × 0.25 × 0.5 = 2.5 points (low effort: first); revenue 100 000 × m × 0.5, m = 2.5 / 25
    assert "+2,5 п. NPS · +5\u00a0тыс.\u00a0PLN" in summary
    # the answer sentence: NPS 12.3 -> 12.3 + 100 × 0.25 × M, whole points
    m = 1 - (1 - 2.5 / 25) * (1 - 100 * 0.6 * 0.25 * 0.1 / 25)
    assert f"поднять NPS с +12 до +{12.345 + 25 * m:.0f} за 12 месяцев" in summary
    # the headline tile keeps the AS-IS interval and base of the NPS finding (fixture: [5.1; 18.8], n = 1,234)
    assert "+12,3" in summary and "95% доверительный интервал [5,1; 18,8] · n\u00a0=\u00a01\u00a0234" in summary
    assert "EXEC_COMMENT_MARKER &amp; more" in summary


def test_commentary_is_escaped_and_opens_its_section(rendered_tobe: dict) -> None:
    text = rendered_tobe["html"]
    sec = text.index(f'id="{SECTION_2[0]}"')
    box = text.index('class="cx-commentary"', sec)
    assert box < text.index(f'id="{SUB_1[0]}"')  # right after the heading, before the next block
    assert "Комментарий консультанта" in text[box: box + 300]
    assert "<script>alert(2)" not in text and "Strong &lt;script&gt;alert(2)&lt;/script&gt; base." in text
    assert "<li>first point</li><li>second point</li>" in text


def test_methodology_appendix_is_last_and_in_the_toc(rendered_tobe: dict) -> None:
    text = rendered_tobe["html"]
    toc = text[text.index('class="cx-toc"'): text.index('class="cx-exec"')]
    hrefs = re.findall(r'href="#([^"]+)"', toc)
    # the appendix: its six sub-sections, then the data-quality section moved behind it (issue 14)
    assert hrefs[-8] == "sec-appendix" and hrefs[-1] == SECTION_1[0]
    app = text.index('id="sec-appendix"')
    assert text.index(f'id="{SECTION_2[0]}"') < app < text.index(f'id="{SECTION_1[0]}"')
    appendix = text[app:]
    for s in ("Приложение: методология", "Формулы", "NPS = 100 × (доля промоутеров − доля критиков)",
              "Сводка по качеству данных", "Ответы на опрос", "анкета заполнена слишком быстро",
              "1\u00a0250", "Допущения оценок целевого состояния", "30\u00a0%", "APPENDIX_COMMENT", "База меньше 30"):
        assert s in appendix, s


def test_pdf_executive_summary_is_one_page(rendered_tobe: dict) -> None:
    from pypdf import PdfReader

    pages = [" ".join((p.extract_text() or "").split()) for p in PdfReader(str(rendered_tobe["pdf"])).pages]
    exec_page = next(i for i, p in enumerate(pages) if p.count("Резюме для руководства") >= 2)
    assert "Главная проблема клиентов" in pages[exec_page] and "Ключевые выводы" in pages[exec_page]
    assert "Что сделать в первую очередь" in pages[exec_page]
    assert SECTION_2[1] in pages[exec_page + 1]  # the sections start on the next page
    assert any("Приложение: методология" in p for p in pages[-3:])


def test_commentary_from_the_client_folder(tmp_path: Path, png: str) -> None:
    run_dir = _tobe_run(tmp_path / "run", png)
    client = tmp_path / "client"
    client.mkdir()
    (client / "commentary.md").write_text("## data_quality\nMD_COMMENT <i>x</i>\n", encoding="utf-8")
    text = build_report(run_dir, client_name="X", lang="en", formats=("html",), client_dir=client)["html"].read_text()
    assert "MD_COMMENT &lt;i&gt;x&lt;/i&gt;" in text
    assert text.index("MD_COMMENT") > text.index(f'id="{SECTION_1[0]}"')
    assert "EXEC_COMMENT_MARKER" not in text  # the client folder's file replaces tobe.json's commentary
    assert "Consultant's comment" in text


def test_a_lone_note_is_kept_with_what_precedes_it(tmp_path: Path) -> None:
    rows = "".join(f"<tr><td>r{i}</td><td>1</td></tr>" for i in range(40))
    nb = _notebook([new_code_cell("t", outputs=[
        _html(f'<table class="cx-table"><tbody>{rows}</tbody></table>'),
        _html('<p class="cx-note">Base below 30: interpret with caution.</p>'),
    ]), new_code_cell("n", outputs=[_html('<p class="cx-note">A caveat &amp; more.</p>')])])
    nbformat.write(nb, tmp_path / "01_x.ipynb")
    merged = merge_notebooks([tmp_path / "01_x.ipynb"])
    outs = merged.cells[0].outputs
    assert "cxaudit" not in outs[0].metadata or "keep" not in outs[0].metadata["cxaudit"]["classes"]
    assert outs[1].metadata["cxaudit"]["classes"] == "cx-keep-with-previous"
    assert merged.cells[1].metadata["cxaudit"]["cell_classes"] == "cx-keep-with-previous"
    text = build_report(tmp_path, client_name="X", lang="en", formats=("html",),
                        notebooks=[tmp_path / "01_x.ipynb"])["html"].read_text("utf-8")
    assert '<div class="cx-cell cx-keep-with-previous">' in text
    assert 'class="cx-output cx-html cx-keep-with-previous"' in text
    assert ".cx-keep-with-previous { break-before: avoid" in text


# --- editions: the brief report for executives ----------------------------------------------------

JOURNEY = ("sec-journey", "Customer journey and touchpoints")
CHURN = ("sec-churn", "Churn and what it costs")
TOBE = ("sec-to_be", "TO-BE: priorities")


def _long_table(marker: str, rows: int = 45) -> str:
    body = "".join(f'<tr><td>{marker} {i}</td><td class="cx-num">{i}</td></tr>' for i in range(rows))
    return f'<table class="cx-table"><tbody>{body}</tbody></table>'


def _editions_run(run_dir: Path, png: str) -> Path:
    """:func:`_tobe_run` plus long journey and churn sections and a TO-BE notebook whose section goes on
    in a second cell and whose list of all findings the brief edition leaves out."""
    _tobe_run(run_dir, png)
    journey = _notebook([
        new_code_cell("s", outputs=[_html(f'<h1 class="cx-section" id="{JOURNEY[0]}">{JOURNEY[1]}</h1>')]),
        *[new_code_cell("t", outputs=[_html(_long_table("JOURNEY_MARKER"))]) for _ in range(3)],
        new_code_cell("f", outputs=[new_output("display_data", data={"image/png": png})]),
    ])
    churn = _notebook([
        new_code_cell("s", outputs=[_html(f'<h1 class="cx-section" id="{CHURN[0]}">{CHURN[1]}</h1>'),
                                    _html(_long_table("CHURN_MARKER"))]),
        *[new_code_cell("t", outputs=[_html(_long_table("CHURN_MARKER"))]) for _ in range(2)],
    ])
    tobe = _notebook([
        new_code_cell("x", outputs=[_html("<p>ANALYST_PREAMBLE_MARKER</p>")], metadata={"tags": ["analyst"]}),
        new_code_cell("s", outputs=[_html(f'<h1 class="cx-section" id="{TOBE[0]}">{TOBE[1]}</h1>'),
                                    _html('<h2 class="cx-sub" id="sub-to_be-1">Recommendations</h2>'),
                                    _html('<div class="cx-rec" data-rule="R1"><p>TOBE_REC_MARKER</p></div>')]),
        new_code_cell("r", outputs=[_html('<h2 class="cx-sub" id="sub-to_be-2">Phased roadmap</h2>'),
                                    new_output("display_data", data={"image/png": png})]),
        new_code_cell("hostile", outputs=[_html(
            '<p>TOBE_KEPT</p><script>alert("brief")</script><img src="https://tracker.example.com/b.png">'
            '<a href="javascript:alert(3)">TOBE_LINK</a>')]),
        new_code_cell("a", outputs=[_html('<h2 class="cx-sub" id="sub-to_be-3">All findings by priority</h2>'),
                                    _html(_long_table("ALL_FINDINGS_MARKER"))]),
    ])
    for name, nb in (("03_journey", journey), ("04_churn", churn), ("07_to_be", tobe)):
        nbformat.write(nb, run_dir / "notebooks" / f"{name}.ipynb")
    return run_dir


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory, png: str) -> dict:
    run_dir = _editions_run(tmp_path_factory.mktemp("editions"), png)
    out: dict = {"run_dir": run_dir}
    for edition in ("full", "brief"):
        paths = build_report(run_dir, client_name=CLIENT, lang="en", report_date=date(2026, 4, 2), edition=edition)
        out[edition] = {"paths": paths, "html": paths["html"].read_text(encoding="utf-8")}
    return out


def test_editions_are_written_side_by_side(editions: dict) -> None:
    run_dir = editions["run_dir"]
    assert editions["full"]["paths"] == {"html": run_dir / "report.html", "pdf": run_dir / "report.pdf"}
    assert editions["brief"]["paths"] == {"html": run_dir / "report-brief.html", "pdf": run_dir / "report-brief.pdf"}


def test_brief_keeps_summary_tobe_and_methodology_only(editions: dict) -> None:
    full, brief = editions["full"]["html"], editions["brief"]["html"]
    for text in (full, brief):
        for s in ('id="cx-exec-summary"', f'id="{TOBE[0]}"', "TOBE_KEPT", "Phased roadmap",
                  'id="sec-appendix"', "Formulas"):
            assert s in text, s
    # the brief's appendix keeps the formulas and the run's details (issue 14: at most 8 pages)
    for s in ("Data-quality summary", "speeder", 'class="cx-table cx-all-findings"'):
        assert s in full and s not in brief, s
    for s in (JOURNEY[0], CHURN[0], SECTION_1[0], SECTION_2[0], SUB_1[0], "JOURNEY_MARKER", "CHURN_MARKER",
              TABLE_MARKER, "Rows used 1 200", "Strong &lt;script&gt;", "ANALYST_PREAMBLE_MARKER",
              "TOBE_REC_MARKER"):  # issue 14: the brief leaves the recommendation cards to the full report
        assert s in full or s == "ANALYST_PREAMBLE_MARKER", s
        assert s not in brief, s
    # the notebook's list of all findings is in neither edition: the appendix has them as one table (issue 14)
    for text in (full, brief):
        assert "All findings by priority" not in text and "ALL_FINDINGS_MARKER" not in text
    # TOC: the summary, the TO-BE section with the sub-sections kept, the appendix
    toc = brief[brief.index('class="cx-toc"'): brief.index('class="cx-exec')]
    # the recommendation cards (sub-to_be-1) are left out; the roadmap stays, then the section's close
    assert re.findall(r'href="#([^"]+)"', toc)[:7] == ["cx-exec-summary", TOBE[0], "sub-to_be-2", "sub-to_be-next",
                                                       "sub-to_be-decisions", "sub-to_be-risks", "sub-to_be-governance"]
    assert re.findall(r'href="#([^"]+)"', toc)[7] == "sec-appendix"
    # order: cover < summary < TO-BE < appendix
    pos = [brief.index(s) for s in ('class="cx-cover"', 'id="cx-exec-summary"', f'id="{TOBE[0]}"',
                                    'id="sec-appendix"', 'id="cx-report-js"')]
    assert pos == sorted(pos)


def test_brief_says_what_it_is_and_keeps_every_number(editions: dict) -> None:
    full, brief = editions["full"]["html"], editions["brief"]["html"]
    cover = brief[brief.index('class="cx-cover"'): brief.index('class="cx-toc"')]
    assert '<p class="cx-cover-edition">Brief edition</p>' in cover
    assert '<p class="cx-cover-edition">' not in full and '<p class="cx-edition-note">' not in full
    note = re.search(r'<p class="cx-edition-note[^"]*">(.*?)</p>', brief).group(1)
    assert "brief edition" in note and "full report holds all the evidence" in note
    # it names the sections only the full report has, in report order
    assert (f"{SECTION_1[1]}; {SECTION_2[1]}; {JOURNEY[1]}; {CHURN[1]}.") in note
    assert "Brief edition" in brief[brief.index("@top-left"):][:200]
    # the same findings and recommendations, with n and interval, in both summaries
    def rows(text: str) -> list[str]:
        summary = text[text.index('id="cx-exec-summary"'): text.index('class="cx-body"')]
        return re.findall(r'<(?:tr|li) class="cx-(?:finding|exec-rec)[^>]*>.*?</(?:tr|li)>', summary, re.DOTALL)
    # the first 3 actions and the key findings (issue 14: answer first; this run has 2 customer findings)
    assert rows(brief) == rows(full) and len(rows(brief)) >= 5
    assert "[5.1; 18.8]" in "".join(rows(brief)) and "1,234" in "".join(rows(brief))
    assert "95% confidence [5.1; 18.8] · n\u00a0=\u00a01,234" in brief  # the NPS headline tile


def test_brief_is_sanitised_and_escaped(editions: dict) -> None:
    brief = editions["brief"]["html"]
    refs = _refs(brief)
    # the template's one script (sortable tables) only
    assert refs.tags.count("script") == 1 and brief.lower().count("<script") == 1 and "javascript:" not in brief
    assert all(u.strip().lower().startswith(("#", "data:")) for u in refs.urls), refs.urls
    assert "TOBE_LINK" in brief and "tracker.example.com" not in brief
    # the hostile finding title is a data-quality note: in the full report's appendix only, escaped
    assert "<script>alert(1)" not in brief and "&lt;script&gt;alert(1)&lt;/script&gt;" in editions["full"]["html"]
    assert "Acme &amp; Sons &lt;Bank&gt;" in brief


def test_brief_pdf_is_much_shorter(editions: dict) -> None:
    from pypdf import PdfReader

    full = PdfReader(str(editions["full"]["paths"]["pdf"])).pages
    brief = PdfReader(str(editions["brief"]["paths"]["pdf"])).pages
    assert len(brief) * 2 <= len(full), (len(brief), len(full))
    cover = " ".join((brief[0].extract_text() or "").split())
    assert "BRIEF EDITION" in cover.upper() and "Page" not in cover
    last = " ".join((brief[-1].extract_text() or "").split())
    assert f"Page {len(brief)} / {len(brief)}" in last


@pytest.mark.parametrize(("lang", "label", "omitted"), [
    ("ru", "Краткая версия", "Полная версия также содержит разделы"),
    ("pl", "Wersja skrócona", "Pełna wersja zawiera też rozdziały"),
])
def test_brief_in_other_languages(tmp_path: Path, png: str, lang: str, label: str, omitted: str) -> None:
    run_dir = _editions_run(tmp_path / "run", png)
    text = build_report(run_dir, client_name="X", lang=lang, formats=("html",), edition="brief")["html"].read_text()
    assert f'<html lang="{lang}">' in text and f'<p class="cx-cover-edition">{label}</p>' in text
    assert omitted in text and "TOBE_KEPT" in text and "JOURNEY_MARKER" not in text


def test_unknown_edition(tmp_path: Path, png: str) -> None:
    run_dir = _make_run(tmp_path / "run", png)
    with pytest.raises(ValueError, match="edition 'short'"):
        build_report(run_dir, client_name="X", lang="en", formats=("html",), edition="short")


def test_outputs_belong_to_the_last_section_heading(tmp_path: Path) -> None:
    from cxaudit.report import section_of_outputs, select_sections

    nb1 = _notebook([
        new_code_cell("a", outputs=[_html("<p>before any heading</p>")]),
        new_code_cell("b", outputs=[_html("<p>x</p>"), _html('<h1 id="sec-one" class="cx-section">One</h1>'),
                                    _html("<p>one</p>")]),
        new_code_cell("c", outputs=[_html('<h1 class="cx-section" id="sec-two">Two</h1><p>two</p>'),
                                    _html('<h2 class="cx-sub" id="sub-two-1">Skip me</h2>'), _html("<p>skip</p>")]),
    ])
    nb2 = _notebook([  # a section goes on in the next notebook until the next heading
        new_code_cell("d", outputs=[new_output("display_data", data={"image/png": "iVBORw0KGgo="})]),
        new_code_cell("e", outputs=[_html('<h2 class="cx-sub" id="sub-two-2">Keep</h2><p>kept</p>')]),
    ])
    nbformat.write(nb1, tmp_path / "01_a.ipynb")
    nbformat.write(nb2, tmp_path / "02_b.ipynb")
    merged = merge_notebooks([tmp_path / "01_a.ipynb", tmp_path / "02_b.ipynb"])
    assert section_of_outputs(merged) == [
        [(None, None)],
        [(None, None), ("one", None), ("one", None)],
        [("two", None), ("two", "Skip me"), ("two", "Skip me")],
        [("two", "Skip me")],
        [("two", "Keep")],
    ]
    kept = select_sections(merged, ["two"], ["Skip me"])
    assert [len(c.outputs) for c in kept.cells] == [1, 1]
    assert "<p>two</p>" in kept.cells[0].outputs[0].data["text/html"]
    assert "kept" in kept.cells[1].outputs[0].data["text/html"]


def test_brief_keeps_the_journey_map_of_all_customers_and_leaves_persona_pages_to_the_full_report() -> None:
    """Issue 14 × 16: the brief edition keeps the overall AS-IS / TO-BE journey map and drops the
    per-persona maps and canvases (they stay in the full report), so the brief stays brief."""
    import nbformat

    from cxaudit import show
    from cxaudit.i18n import t
    from cxaudit.report import persona_map_headings, select_sections

    def cell(html: str) -> nbformat.NotebookNode:
        return nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data={"text/html": html})])

    lang = "ru"
    everybody = t("cjm.map_heading", lang, who=t("cjm.everybody", lang))
    persona = t("cjm.map_heading", lang, who=t("cjm.persona", lang, k=2, name="Цена решает"))
    nb = nbformat.v4.new_notebook(cells=[
        cell(show.section("journey_map", lang).data),
        cell(show.heading(everybody, "journey_map").data), cell("<p>overall map</p>"),
        cell(show.heading(persona, "journey_map").data), cell("<p>persona map</p>"),
    ])
    assert persona_map_headings(nb, lang) == [persona]
    select_sections(nb, ["journey_map"], persona_map_headings(nb, lang))
    text = "".join(o["data"]["text/html"] for c in nb.cells for o in c.outputs)
    assert "overall map" in text and "persona map" not in text
