"""End to end on the small demo client: run the chain, render HTML + PDF, check the numbers.

Every NPS / CSAT / CES figure of the run is checked against a hand computation from the raw CSV
with the standard library only (csv, statistics, math): the documented exclusion rules are applied
by hand, then NPS = 100·(P − D)/n, CSAT = share of 4–5, CES = mean, and the intervals by their
textbook formulas (adjusted Wald: Rocks 2016; Wilson 1927; Student t).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import shutil
import statistics
import subprocess
from collections import Counter
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader
from scipy import stats

pytestmark = pytest.mark.slow  # a notebook chain run (make test-slow)

Z = 1.959963984540054


@pytest.fixture(scope="module")
def run(small_demo_run):
    return small_demo_run


# --- the hand computation ------------------------------------------------------------------------

def _hand_kept_rows(folder: Path) -> list[dict[str, str]]:
    """Apply the demo's quality.exclude rules by hand: invalid date, out-of-range NPS/CSAT/CES,
    duplicate Response ID (first kept), speeder (< 1/3 of the median duration of all rows)."""
    with (folder / "responses.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    durations = [float(r["Duration (s)"]) for r in rows if r["Duration (s)"].strip()]
    cut = statistics.median(durations) / 3
    seen: set[str] = set()
    kept = []
    for r in rows:
        rid = r["Response ID"].strip()
        dup = rid in seen
        seen.add(rid)
        try:
            datetime.fromisoformat(r["Submitted"].strip())
            bad_date = False
        except ValueError:
            bad_date = True
        out_of_range = any(
            r[col].strip() and not (lo <= float(r[col]) <= hi)
            for col, lo, hi in (("Q1 Recommend (0-10)", 0, 10), ("Q2 Satisfaction (1-5)", 1, 5),
                                ("Q3 Ease (1-7)", 1, 7)))
        speeder = r["Duration (s)"].strip() != "" and float(r["Duration (s)"]) < cut
        if not (dup or bad_date or out_of_range or speeder or not rid):
            kept.append(r)
    return kept


def _scores(rows: list[dict[str, str]], col: str) -> list[float]:
    return [float(r[col]) for r in rows if r[col].strip()]


def _hand_nps(x: list[float]) -> tuple[float, float, float, int]:
    n = len(x)
    P, D = sum(v >= 9 for v in x), sum(v <= 6 for v in x)
    Pa, Da, na = P + 0.75, D + 0.75, n + 3  # adjusted Wald (Rocks 2016)
    p, d = Pa / na, Da / na
    se = math.sqrt(((p + d) - (p - d) ** 2) / na)
    return 100 * (P - D) / n, 100 * (p - d - Z * se), 100 * (p - d + Z * se), n


def _hand_wilson(k: int, n: int) -> tuple[float, float]:
    ph = k / n
    centre = (ph + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(ph * (1 - ph) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def _findings(run_dir: Path) -> dict[str, dict]:
    return {f["id"]: f for f in json.loads((run_dir / "findings.json").read_text())}


def test_rows_accounting_matches_hand(run) -> None:
    result, folder = run
    kept = _hand_kept_rows(folder)
    rows = {r["table"]: r for r in result.manifest["rows"]}
    with (folder / "responses.csv").open(encoding="utf-8") as fh:
        n_in = sum(1 for _ in fh) - 1
    assert rows["responses"]["rows_in"] == n_in
    assert rows["responses"]["kept"] == len(kept)
    assert rows["responses"]["kept"] + rows["responses"]["excluded"] == n_in


def test_nps_csat_ces_match_hand_computation(run) -> None:
    result, folder = run
    kept = _hand_kept_rows(folder)
    f = _findings(result.run_dir)

    value, lo, hi, n = _hand_nps(_scores(kept, "Q1 Recommend (0-10)"))
    got = f["cx_metrics.nps.overall"]
    assert got["n"] == n
    assert got["value"] == pytest.approx(value, abs=1e-9)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((lo, hi), abs=1e-9)

    csat = _scores(kept, "Q2 Satisfaction (1-5)")
    k = sum(v >= 4 for v in csat)
    got = f["cx_metrics.csat.overall"]
    assert got["n"] == len(csat) and got["value"] == pytest.approx(100 * k / len(csat), abs=1e-9)
    wl, wh = _hand_wilson(k, len(csat))
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((100 * wl, 100 * wh), abs=1e-9)

    ces = _scores(kept, "Q3 Ease (1-7)")
    mean, sd = statistics.fmean(ces), statistics.stdev(ces)
    half = stats.t.ppf(0.975, len(ces) - 1) * sd / math.sqrt(len(ces))
    got = f["cx_metrics.ces.overall"]
    assert got["n"] == len(ces) and got["value"] == pytest.approx(mean, abs=1e-9)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((mean - half, mean + half), abs=1e-9)


def test_segment_figures_in_report_match_hand(run) -> None:
    result, folder = run
    kept = _hand_kept_rows(folder)
    html = (result.run_dir / "report.html").read_text()
    for group in sorted({r["segment"] for r in kept}):
        part = [r for r in kept if r["segment"] == group]
        value, lo, hi, n = _hand_nps(_scores(part, "Q1 Recommend (0-10)"))
        csat = _scores(part, "Q2 Satisfaction (1-5)")
        ces = _scores(part, "Q3 Ease (1-7)")
        row = re.search(rf"<tr[^>]*><td class=\"cx-txt\">{re.escape(group)}</td>(.*?)</tr>", html)
        assert row, group
        cells = [re.sub(r"<br\s*/?>", "<br>", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))]
        sign = "+" if round(value, 1) > 0 else ("\u2212" if round(value, 1) < 0 else "")
        assert cells[0].startswith(f"{sign}{abs(value):.1f}<br>"), (group, cells[0])
        assert f"[{'−' if lo < 0 else ''}{abs(lo):.1f}; {hi:.1f}]" in cells[0]
        assert cells[1] == str(n)
        assert cells[2].startswith(f"{100 * sum(v >= 4 for v in csat) / len(csat):.1f}<br>")
        assert cells[3] == str(len(csat))
        assert cells[4].startswith(f"{statistics.fmean(ces):.2f}<br>")
        assert cells[5] == str(len(ces))


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.urls: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        for k, v in attrs:
            if k in ("src", "href", "data", "poster", "srcset", "action") and v:
                self.urls.append(v)
            if k == "id" and v:
                self.ids.append(v)


def test_html_is_self_contained_without_code(run) -> None:
    result, _ = run
    html = (result.run_dir / "report.html").read_text()
    p = _Refs()
    p.feed(html)
    # one script: the template's own (sortable tables; no URL, no network), nothing from a notebook
    assert p.tags["script"] == 1 and html.count('<script id="cx-report-js">') == 1 and "<script src" not in html
    assert p.tags["link"] == 0 and p.tags["iframe"] == 0
    external = [u for u in p.urls if not (u.startswith("#") or u.startswith("data:"))]
    assert external == []
    assert not re.search(r"url\((?!['\"]?(data:|#))", html), "CSS url() to an outside resource"
    assert "http://" not in html and "https://" not in html
    for code in ("import cxaudit", "cx.start(", "display(", "nb.findings", "In&nbsp;[", "run_dir = "):
        assert code not in html, code
    for sec in ("sec-data_quality", "sec-cx_metrics", "sec-to_be"):
        assert sec in p.ids
    # the executive summary comes first, before every section
    assert html.index("Executive summary") < html.index('id="sec-data_quality"')


def test_manifest(run) -> None:
    result, folder = run
    m = json.loads((result.run_dir / "manifest.json").read_text())
    assert m["status"] == "complete"
    assert m["inputs_sha256"]["responses"] == hashlib.sha256((folder / "responses.csv").read_bytes()).hexdigest()
    assert m["inputs_sha256"]["audit.yaml"] == hashlib.sha256((folder / "audit.yaml").read_bytes()).hexdigest()
    ran = {r["notebook"] for r in m["notebooks"]}
    assert ran == {p.name for p in (Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert {"01_data_quality.ipynb", "02_cx_metrics.ipynb", "07_to_be.ipynb"} <= ran
    assert all(r["status"] == "ok" and r["seconds"] > 0 for r in m["notebooks"])
    assert m["versions"]["papermill"] and m["parameters"]["lang"] == "en"
    assert (result.run_dir / "notebooks" / "02_cx_metrics.ipynb").is_file()


def test_pdf_has_cover_toc_and_page_numbers(run, tmp_path: Path) -> None:
    result, _ = run
    pdf = result.run_dir / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    reader = PdfReader(pdf)
    pages = [pg.extract_text() for pg in reader.pages]
    assert len(pages) >= 5
    assert "Customer experience" in pages[0] and "Northwind Retail" in pages[0]
    assert not re.search(r"Page \d+ / \d+", pages[0]), "the cover carries no page number"
    toc = next(i for i, tx in enumerate(pages) if "Contents" in tx)
    for title in ("Executive summary", "Data quality", "Customer experience metrics"):
        assert re.search(re.escape(title) + r"[ .\u2026]*\d+", pages[toc]), title
    bodies = {}
    for i, tx in enumerate(pages[1:], start=2):
        assert f"Page {i} / {len(pages)}" in tx, i
        # text beyond the running header and the page-number footer
        body = tx.replace(f"Page {i} / {len(pages)}", "").replace("Northwind Retail · Customer experience audit", "")
        bodies[i] = len(body.strip())
    if shutil.which("pdftoppm"):  # look at the pages as images: none is blank
        subprocess.run(["pdftoppm", "-r", "30", "-gray", str(pdf), str(tmp_path / "p")], check=True)
        pngs = sorted(tmp_path.glob("p-*.pgm"))
        assert len(pngs) == len(pages)
        for i, png in enumerate(pngs[1:], start=2):
            data = png.read_bytes()
            body = data[data.index(b"255\n") + 4:]
            dark = sum(1 for b in body if b < 200) / len(body)
            # a page carries either text of its own (> a section name) or a figure (ink in the image)
            assert bodies[i] > 40 or dark > 0.01, f"page {i} looks blank ({bodies[i]} chars, {dark:.4f} ink)"
