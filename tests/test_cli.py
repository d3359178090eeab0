"""The CLI: one clear line and an exit code for every known error; new / validate / list."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cxaudit import paths
from cxaudit.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CXAUDIT_HOME", str(tmp_path))
    return tmp_path


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("name", ["../etc", "/etc", "a/b", "..", ".hidden", "UPPER", "", "x" * 64, "a b"])
def test_unsafe_client_names_are_refused(home: Path, name: str) -> None:
    for cmd in ("new", "validate", "run"):
        res = _invoke(cmd, name)
        assert res.exit_code == 2, (cmd, name, res.output)
        assert "is not allowed" in res.output and "Traceback" not in res.output
    assert not any(home.rglob("*")), "nothing may be written for a refused name"


def test_symlink_escaping_data_is_refused(home: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (home / "data").mkdir()
    (home / "data" / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(paths.ClientNameError, match="outside"):
        paths.client_dir("evil")


def test_new_scaffolds_an_annotated_audit_yaml_and_refuses_to_overwrite(home: Path) -> None:
    res = _invoke("new", "acme")
    assert res.exit_code == 0, res.output
    text = (home / "data" / "acme" / "audit.yaml").read_text()
    assert "language: en" in text and "# " in text and "inputs:" in text
    again = _invoke("new", "acme")
    assert again.exit_code == 1 and "already exists" in again.output
    # the scaffold is a valid config once its file exists
    (home / "data" / "acme" / "responses.csv").write_text("Response ID,Submitted,Q1\nR1,2025-01-01,9\n")
    res = _invoke("validate", "acme")
    assert res.exit_code == 0, res.output
    assert "responses" in res.output and "1" in res.output


def test_validate_reports_config_error_in_one_line(home: Path) -> None:
    folder = home / "data" / "acme"
    folder.mkdir(parents=True)
    (folder / "audit.yaml").write_text("client: {name: A}\nmin_base: thirty\ninputs: {responses: {file: r.csv}}\n")
    res = _invoke("validate", "acme")
    assert res.exit_code == 2
    line = res.output.strip()
    assert "\n" not in line
    assert line == f"cxaudit: error: {folder / 'audit.yaml'}: key 'min_base': expected an integer, got 'thirty'"


def test_validate_reports_data_error_naming_file_and_column(home: Path) -> None:
    folder = home / "data" / "acme"
    folder.mkdir(parents=True)
    (folder / "r.csv").write_text("Response ID,When\nR1,2025-01-01\n")
    (folder / "audit.yaml").write_text(
        "client: {name: A}\ninputs: {responses: {file: r.csv, columns: {response_id: 'Response ID'}}}\n")
    res = _invoke("validate", "acme")
    assert res.exit_code == 3, res.output
    assert "r.csv" in res.output and "column 'date'" in res.output and "required column" in res.output


def test_validate_missing_client(home: Path) -> None:
    res = _invoke("validate", "nobody")
    assert res.exit_code == 2 and "audit.yaml" in res.output and "not found" in res.output


def test_list(home: Path) -> None:
    assert "no clients" in _invoke("list").output
    _invoke("new", "acme")
    out = _invoke("list").output
    assert "acme" in out and "no runs yet" in out


def test_scaffold_commented_examples_are_valid_config() -> None:
    """The keys `cxaudit new` shows commented out are real: uncommented, they validate."""
    import re

    import yaml

    from cxaudit.cli import SCAFFOLD
    from cxaudit.config import AuditConfig

    lines = []
    for ln in SCAFFOLD.format(client="acme", name="Acme").splitlines():
        if re.match(r"^# (segment_labels|value_labels|anonymity_min|weighting|economics|tickets|recommendations):", ln):
            ln = ln[2:]
        elif re.match(r"^  # (currency|branding|industry):", ln):
            ln = "  " + ln[4:]
        lines.append(ln)
    cfg = AuditConfig.model_validate(yaml.safe_load("\n".join(lines)))
    assert cfg.weighting.targets == {"segment": {"A": 0.6, "B": 0.4}} and cfg.weighting.trim == 5
    assert cfg.tickets.sla_hours["chat"] == 0.25 and cfg.client.currency == "EUR"
    assert cfg.economics.margin == 0.30 and cfg.anonymity_min == 5
    assert cfg.recommendations.overrides["RULE_ID"].enabled is False
    assert cfg.client.branding.logo == "logo.png"
    assert cfg.value_label("segment", "smb", "en") == "Small business"


# --- report editions -------------------------------------------------------------------------------


def _finished_run(home: Path, client: str = "acme", run_id: str = "20260101T000000Z-abcdef12") -> Path:
    """A client folder and a finished run of it, written by hand (no notebook is executed)."""
    import json

    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    assert _invoke("new", client).exit_code == 0
    (home / "data" / client / "responses.csv").write_text("Response ID,Submitted,Q1\nR1,2025-01-01,9\n")
    run_dir = home / "reports" / client / run_id
    (run_dir / "notebooks").mkdir(parents=True)

    def nb(key: str, title: str, body: str) -> nbformat.NotebookNode:
        return new_notebook(cells=[new_code_cell("s", outputs=[new_output("display_data", data={
            "text/html": f'<h1 class="cx-section" id="sec-{key}">{title}</h1>{body}'})])])

    nbformat.write(nb("journey", "Journey", "<p>JOURNEY_MARKER</p>"), run_dir / "notebooks" / "03_journey.ipynb")
    nbformat.write(nb("to_be", "TO-BE", "<p>TOBE_MARKER</p><script>alert(1)</script>"),
                   run_dir / "notebooks" / "07_to_be.ipynb")
    (run_dir / "manifest.json").write_text(json.dumps({
        "client": client, "run_id": run_id, "status": "ok", "started_utc": "2026-01-01T00:00:00+00:00",
        "parameters": {"lang": "pl"},
        "report_context": {"client_name": "Acme <SA>", "lang": "pl", "run_id": run_id, "report_date": "2026-01-02",
                           "period": ["2025-01-01", "2025-12-31"]}}))
    return run_dir


def test_report_renders_the_brief_edition_of_a_finished_run(home: Path) -> None:
    import json

    run_dir = _finished_run(home)
    res = _invoke("report", "acme", "--edition", "brief", "--format", "html")
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"brief-html: {run_dir / 'report-brief.html'}"
    assert not (run_dir / "report.html").exists() and not (run_dir / "report-brief.pdf").exists()
    text = (run_dir / "report-brief.html").read_text(encoding="utf-8")
    assert '<html lang="pl">' in text and "Wersja skrócona" in text and "Acme &lt;SA&gt;" in text
    assert "TOBE_MARKER" in text and "JOURNEY_MARKER" not in text and "<script>" not in text
    assert "2 stycznia 2026" in text  # the run's own report date
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["report"]["brief-html"] == "report-brief.html"
    assert manifest["report"]["rendered_again"][0]["outputs"] == ["brief-html"]
    # both editions, of the run named
    res = _invoke("report", "acme", run_dir.name, "--edition", "both", "--format", "html")
    assert res.exit_code == 0, res.output
    assert [ln.split(":")[0] for ln in res.output.splitlines()] == ["html", "brief-html"]
    assert "JOURNEY_MARKER" in (run_dir / "report.html").read_text(encoding="utf-8")


def test_report_refuses_unknown_or_unfinished_runs(home: Path) -> None:
    import json

    run_dir = _finished_run(home)
    for run_id in ("nope", "../acme", str(run_dir)):
        res = _invoke("report", "acme", run_id, "--format", "html")
        assert res.exit_code == 1 and f"no run {run_id!r} of acme" in res.output, res.output
    res = _invoke("report", "acme", "--edition", "short")
    assert res.exit_code == 2 and "short" in res.output
    manifest = json.loads((run_dir / "manifest.json").read_text())
    (run_dir / "manifest.json").write_text(json.dumps({**manifest, "status": "failed"}))
    res = _invoke("report", "acme", run_dir.name)
    assert res.exit_code == 1 and "did not finish" in res.output
    res = _invoke("report", "acme")
    assert res.exit_code == 1 and "no finished run of acme" in res.output
    assert not list(run_dir.glob("report*"))


@pytest.mark.parametrize(("edition", "expected"), [("full", ("full",)), ("brief", ("brief",)),
                                                    ("both", ("full", "brief"))])
def test_run_passes_the_edition(home: Path, monkeypatch: pytest.MonkeyPatch, edition: str,
                                expected: tuple[str, ...]) -> None:
    import cxaudit.runner as runner

    seen = {}

    def fake_run_audit(client: str, **kwargs: object) -> runner.RunResult:
        seen.update(kwargs)
        return runner.RunResult(client, "r", home, outputs={"html": home / "report.html"})

    monkeypatch.setattr(runner, "run_audit", fake_run_audit)
    args = ["run", "acme"] + (["--edition", edition] if edition != "full" else [])
    res = _invoke(*args)
    assert res.exit_code == 0, res.output
    assert runner.edition_list(seen["editions"]) == expected
    assert _invoke("run", "acme", "--edition", "tiny").exit_code == 2
