"""The VoC notebook end to end: papermill on a small demo whose comments carry hostile HTML, then the
report. Quotes must reach the report escaped, and the planted findings must be emitted."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

from cxaudit.demo import generate_demo
from cxaudit.paths import NOTEBOOKS_DIR
from cxaudit.report import build_report

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"

pytestmark = pytest.mark.slow


def _run(client: Path, run_dir: Path, lang: str) -> Path:
    out = run_dir / "notebooks" / "05_voc.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(NOTEBOOKS_DIR / "05_voc.ipynb"), str(out),
                        parameters={"client": str(client), "run_dir": str(run_dir), "lang": lang},
                        kernel_name="python3", progress_bar=False, execution_timeout=300)
    return out


def test_hostile_comments_are_escaped_and_findings_emitted(tmp_path: Path) -> None:
    client = generate_demo(tmp_path / "client", size="small", lang="en")
    responses = pd.read_csv(client / "responses.csv", dtype=str, keep_default_na=False)
    late = responses["Comment"].str.contains("deliver|courier|parcel", case=False)
    assert late.sum() >= 10
    # every late-delivery comment (a planted complaint, so it is quoted) carries both payloads, and a
    # customer's e-mail address that must be redacted
    responses.loc[late, "Comment"] = (responses.loc[late, "Comment"] + f" {SCRIPT} {IMG}"
                                      + " Write to jan.kowalski@example.com")
    responses.to_csv(client / "responses.csv", index=False, lineterminator="\n")

    run_dir = tmp_path / "run"
    nb = _run(client, run_dir, "en")
    html = build_report(run_dir, client_name="Test <Client>", lang="en", notebooks=[nb], formats=("html",))["html"]
    text = html.read_text(encoding="utf-8")
    # the only script is the report template's own (sortable tables); none from the data
    assert SCRIPT not in text and text.lower().count("<script") == text.count('<script id="cx-report-js">') == 1
    assert IMG not in text and "onerror=alert" not in text.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "jan.kowalski@example.com" not in text and "[e-mail]" in text

    findings = {f["id"]: f for f in json.loads((run_dir / "findings" / "05_voc.json").read_text(encoding="utf-8"))}
    assert {"voc.theme.late_delivery", "voc.theme.phone_wait", "voc.theme.unexpected_fees",
            "tickets.sla.social"} <= set(findings)
    assert all(f["section"] == "voc" for f in findings.values())


def test_missing_inputs_show_one_line_and_emit_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No comment column and no tickets table: the notebook's cells (run in-process, no kernel) show
    the two "not assessed" lines and save an empty findings file."""
    import nbformat
    from IPython import display as ipy_display

    client = tmp_path / "client"
    client.mkdir()
    (client / "r.csv").write_text("response_id,date,nps\nR1,2025-01-01,9\nR2,2025-01-02,3\n", encoding="utf-8")
    (client / "audit.yaml").write_text("client: {name: T}\ninputs:\n  responses: {file: r.csv}\n", encoding="utf-8")
    shown: list[str] = []
    monkeypatch.setattr(ipy_display, "display",
                        lambda *objs, **k: shown.extend(getattr(o, "data", repr(o)) for o in objs))
    nb = nbformat.read(NOTEBOOKS_DIR / "05_voc.ipynb", as_version=4)
    ns: dict[str, object] = {"client": str(client), "run_dir": str(tmp_path / "run"), "lang": "pl"}
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and "parameters" not in tags and "analyst" not in tags:
            exec(compile(cell.source, "05_voc", "exec"), ns)  # noqa: S102 - our own notebook
    missing = [s for s in shown if "cx-note" in s and "Nie oceniono" in s]
    assert len(missing) == 2
    assert json.loads((tmp_path / "run" / "findings" / "05_voc.json").read_text(encoding="utf-8")) == []
