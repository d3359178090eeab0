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
