"""report.pptx and tables.xlsx of a run: slides, takeaway titles, text that fits, numbers as numbers.

The run is built without notebooks: the constructed findings of test_recommend, the TO-BE engine and
the business case, saved as notebook 07 saves them. The deck is opened again with python-pptx and
every text frame and table is re-measured with real glyph widths (Pillow, the DejaVu Sans fonts that
matplotlib ships — wider than the Calibri of the default theme), independently of the deck's own
character-count estimate.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import openpyxl
import pandas as pd
import pytest
from PIL import ImageFont
from pptx import Presentation
from pptx.util import Inches
from test_recommend import demo_findings

from cxaudit import business_case as bc
from cxaudit.deck import LINE_SPACING, build_deck
from cxaudit.findings import read_findings, write_findings
from cxaudit.i18n import LANGUAGES, fmt_num, t
from cxaudit.recommend import builtin_rules, read_tobe, recommend, save_tobe
from cxaudit.show import Col, record_tables, table
from cxaudit.summary import key_findings
from cxaudit.tables_export import escape_cell, write_tables

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_REG = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 100)
_BOLD = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), 100)
EMU_PT = 12700


def _make_run(run_dir: Path, lang: str = "en") -> Path:
    for nb, fs in demo_findings().items():
        write_findings(run_dir, nb, fs)
    fs = read_findings(run_dir)
    book = builtin_rules()
    recs = recommend(fs, book, lang=lang)
    config = SimpleNamespace(economics=SimpleNamespace(costs={"low": 4000.0, "medium": 15000.0, "high": 60000.0},
                                                       plan_start=dt.date(2027, 1, 15)))
    tg, case = bc.finalise(recs, fs, book, config=config)
    save_tobe(run_dir, recs, tg, methodology={"assumptions": dict(book.assumptions),
                                               "business_case": case.to_dict()})
    return run_dir


@pytest.fixture(scope="module")
def decks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    out = {}
    for lang in LANGUAGES:
        run = _make_run(tmp_path_factory.mktemp(f"run_{lang}"), lang)
        out[lang] = (run, build_deck(run, lang, client_name="Северный ветер" if lang == "ru" else "North Wind",
                                     report_date=dt.date(2026, 12, 4)))
    return out


def _width_pt(text: str, bold: bool, size: float) -> float:
    return (_BOLD if bold else _REG).getlength(text) / 100 * size


def _lines(text: str, width_pt: float, size: float, bold: bool) -> int:
    """Greedy wrap at ordinary spaces with real glyph widths; a word wider than the line counts its pieces."""
    lines = 0
    for para in text.split("\n"):
        n, cur = 1, ""
        for word in [w for w in para.split(" ") if w]:
            trial = f"{cur} {word}" if cur else word
            if _width_pt(trial, bold, size) <= width_pt:
                cur = trial
                continue
            if cur:
                n += 1
            cur = word
            while _width_pt(cur, bold, size) > width_pt and len(cur) > 1:  # broken inside the word
                n += 1
                cut = max(i for i in range(1, len(cur) + 1) if _width_pt(cur[:i], bold, size) <= width_pt) or 1
                cur = cur[cut:]
        lines += n
    return lines


def _frame_need(tf, width_emu: int, left_in: int, right_in: int, top_in: int, bottom_in: int) -> tuple[float, float]:
    """(needed height, available height) in points of one text frame, from its runs' sizes."""
    need = 0.0
    for p in tf.paragraphs:
        runs = [r for r in p.runs if r.text]
        if not runs:
            continue
        size = runs[0].font.size.pt
        bold = bool(runs[0].font.bold)
        need += _lines(p.text, (width_emu - left_in - right_in) / EMU_PT, size, bold) * size * LINE_SPACING
    return need, 0.0


def _overflows(prs) -> list[str]:
    bad = []
    for i, slide in enumerate(prs.slides, start=1):
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0, (i, shape.name)
            assert shape.left + shape.width <= prs.slide_width and shape.top + shape.height <= prs.slide_height, (
                i, shape.name, "outside the slide")
            if shape.has_text_frame and shape.text_frame.text.strip():
                tf = shape.text_frame
                need, _ = _frame_need(tf, shape.width, tf.margin_left, tf.margin_right, 0, 0)
                avail = (shape.height - tf.margin_top - tf.margin_bottom) / EMU_PT
                if need > avail + 0.5:
                    bad.append(f"slide {i} {shape.name}: {need:.0f} pt of text in {avail:.0f} pt: {tf.text[:50]!r}")
            if shape.has_table:
                tbl = shape.table
                total = 0
                for r, row in enumerate(tbl.rows):
                    total += row.height
                    for c, cell in enumerate(row.cells):
                        need, _ = _frame_need(cell.text_frame, tbl.columns[c].width, cell.margin_left,
                                              cell.margin_right, 0, 0)
                        avail = (row.height - cell.margin_top - cell.margin_bottom) / EMU_PT
                        if need > avail + 0.5:
                            bad.append(f"slide {i} table cell ({r}, {c}): {need:.0f} pt in {avail:.0f} pt: "
                                       f"{cell.text[:40]!r}")
                if shape.top + total > prs.slide_height:
                    bad.append(f"slide {i}: table runs below the slide")
    return bad


def _titles(prs) -> list[str]:
    out = []
    for slide in prs.slides:
        title = slide.shapes.title
        out.append(title.text_frame.text if title is not None else "")
    return out


def test_deck_slides_and_takeaway_titles(decks) -> None:
    for lang, (run, path) in decks.items():
        prs = Presentation(str(path))
        tobe = read_tobe(run)
        tg, recs = tobe["targets"], tobe["recommendations"]
        on_plan = [r for r in recs if r.on_plan]
        case = bc.BusinessCase(**tobe["methodology"]["business_case"])
        titles = _titles(prs)
        summary = t("deck.summary_title", lang, nps=fmt_num(tg.nps_as_is, lang, 1, sign=True),
                    to_be=fmt_num(tg.checks["nps"]["target"], lang, 1, sign=True))
        first_finding = key_findings(read_findings(run), top=5)[0].finding.title  # as the summary ranks them
        recs_title = t("deck.recs_title", lang, n=len(on_plan), first=on_plan[0].title(lang))
        assert titles[:4] == [t("report.title", lang), summary, first_finding, summary], lang
        assert titles[4] == recs_title
        assert t("tobe.matrix", lang) in titles and t("deck.roadmap_title", lang) in titles
        money = f"{fmt_num(case.total_value, lang, 0)}\u00a0{case.currency}"
        assert money in titles[-1] and fmt_num(case.total_cost, lang, 0) in titles[-1]
        # title, summary, findings, targets, recommendations (one slide here), matrix, roadmap, business case
        assert len(prs.slides) == 8, titles
        text = "\n".join(sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame)
        for r in on_plan[:3]:  # the three actions with owner and date on the summary
            assert r.title(lang) in text and r.owner in text
        assert all(title.strip() for title in titles)


def test_no_text_frame_overflows_its_box(decks) -> None:
    for lang, (_, path) in decks.items():
        assert _overflows(Presentation(str(path))) == [], lang


def test_the_overflow_check_catches_text_too_long_for_its_box() -> None:
    from pptx.util import Pt

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(3), Inches(0.5))
    box.text_frame.word_wrap = True
    box.text_frame.text = "Home delivery drives 38 % of NPS and is rated worst of all eighteen touchpoints"
    box.text_frame.paragraphs[0].runs[0].font.size = Pt(14)
    assert len(_overflows(prs)) == 1  # about 3 lines of 14 pt in a box of 0.5 in


def test_client_template_sets_the_master(tmp_path: Path, decks) -> None:
    tpl = Presentation()
    tpl.slide_width, tpl.slide_height = Inches(10), Inches(7.5)  # a 4:3 client master
    s = tpl.slides.add_slide(tpl.slide_layouts[1])
    s.shapes.title.text = "TEMPLATE SLIDE"
    tpl_path = tmp_path / "brand.pptx"
    tpl.save(str(tpl_path))
    run, plain = decks["pl"]
    deck = build_deck(run, "pl", client_name="Północny Wiatr", template=tpl_path, out=tmp_path / "d.pptx")
    prs = Presentation(str(deck))
    assert (prs.slide_width, prs.slide_height) == (Inches(10), Inches(7.5))
    assert "TEMPLATE SLIDE" not in _titles(prs)
    # the same slides; on the narrower 4:3 master a long table may continue on another slide
    assert set(_titles(prs)) == set(_titles(Presentation(str(plain))))
    assert len(prs.slides) >= len(Presentation(str(plain)).slides)
    assert _overflows(prs) == []
    bad = tmp_path / "bad.pptx"
    bad.write_text("not a deck", encoding="utf-8")
    from cxaudit.errors import ConfigError

    with pytest.raises(ConfigError, match="pptx_template"):
        build_deck(run, "pl", client_name="X", template=bad, out=tmp_path / "e.pptx")


# --- tables.xlsx ------------------------------------------------------------------------------------------


def test_tables_xlsx_has_every_table_with_numbers_as_numbers(tmp_path: Path) -> None:
    run = _make_run(tmp_path / "run")
    # a notebook's table, recorded as the report shows it: an interval column and a base
    record_tables(run / "report_tables" / "02_cx_metrics")
    df = pd.DataFrame({"segment": ["=HYPERLINK(\"x\")", "B"], "n": [120, 95], "nps": [12.5, -3.0],
                       "lo": [5.1, -11.0], "hi": [19.9, 5.0]})
    from cxaudit.show import heading

    heading("NPS by segment", "cx_metrics")
    table(df, [Col("segment", "quality.col_group"), Col("n", "metrics.col_n", "int"),
               Col("nps", "metrics.col_value", "signed1"), Col("lo", "metrics.col_ci", "ci1", hi="hi")], "en")
    record_tables(None)
    path = write_tables(run, "en")
    wb = openpyxl.load_workbook(path)
    names = wb.sheetnames
    assert names[:3] == [t("tobe.recommendations", "en"), t("deck.business_case", "en"), t("tobe.targets", "en")]
    ws = wb["NPS by segment"]
    header = [c.value for c in ws[1]]
    assert header == ["Group", "Base (n)", "Value", "95% interval (low)", "95% interval (high)"] or header[1:] == [
        t("metrics.col_n", "en"), t("metrics.col_value", "en"), f"{t('metrics.col_ci', 'en')} (low)",
        f"{t('metrics.col_ci', 'en')} (high)"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows[0][1:] == (120, 12.5, 5.1, 19.9) and rows[1][1:] == (95, -3.0, -11.0, 5.0)
    assert isinstance(rows[0][1], int | float) and isinstance(rows[0][3], float)
    assert not str(rows[0][0]).startswith("=")  # a formula from the data is escaped
    targets = wb[t("tobe.targets", "en")]
    trows = {r[0]: r for r in targets.iter_rows(min_row=2, values_only=True)}
    tg = read_tobe(run)["targets"]
    nps = trows["NPS"]
    assert nps[1:5] == (pytest.approx(tg.nps_as_is), pytest.approx(tg.nps_ci[0]), pytest.approx(tg.nps_ci[1]), tg.nps_n)
    case = wb[t("deck.business_case", "en")]
    vals = [r[3] for r in case.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v, int | float) for v in vals if v is not None)


def test_formula_escaping() -> None:
    assert [escape_cell(x) for x in ("=1+1", "+7", "-2", "@SUM", "ok", 3, -2.0)] == [
        "'=1+1", "'+7", "'-2", "'@SUM", "ok", 3, -2.0]


def test_write_deliverables_tables_always_deck_on_request(tmp_path: Path) -> None:
    from cxaudit.deck import write_deliverables
    from cxaudit.errors import ConfigError

    run = _make_run(tmp_path / "run")
    client = tmp_path / "client"
    client.mkdir()
    ctx = {"lang": "ru", "client_name": "Северный ветер", "report_date": "2026-12-04"}
    out = write_deliverables(run, ctx, ("html",), client)
    assert set(out) == {"xlsx"} and out["xlsx"].name == "tables.xlsx" and not (run / "report.pptx").exists()
    tpl = Presentation()
    tpl.save(str(client / "brand.pptx"))
    out = write_deliverables(run, ctx, ("html", "pptx"), client, SimpleNamespace(pptx_template="brand.pptx"))
    assert out["pptx"] == run / "report.pptx" and Presentation(str(out["pptx"])).slides[0].shapes.title.text_frame.text \
        == t("report.title", "ru")
    outside = tmp_path / "other.pptx"
    tpl.save(str(outside))
    with pytest.raises(ConfigError, match="pptx_template"):
        write_deliverables(run, ctx, ("pptx",), client, SimpleNamespace(pptx_template="../other.pptx"))
