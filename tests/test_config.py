"""``load_config``: every problem is one ConfigError line naming audit.yaml, the dotted key and the fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cxaudit.config import (
    EXCLUSION_RULES,
    STAGES,
    TABLES,
    AuditConfig,
    Branding,
    ClientInfo,
    InputSpec,
    QualityRules,
    Scale,
    load_config,
)
from cxaudit.errors import ConfigError

BASE = """\
client: {name: Acme}
inputs:
  responses: {file: r.csv}
"""


def _keys(model) -> str:
    """The allowed keys as the message lists them: the model's fields, in declaration order."""
    return ", ".join(model.model_fields)


TOP_KEYS = _keys(AuditConfig)  # client, min_base, segments, ..., inputs, seed
INPUT_KEYS = _keys(InputSpec)  # file, format, sheet, header_row, delimiter, encoding, columns, date_format


def _error(make_client, tmp_path: Path, yaml_text: str, files: dict[str, str] | None = None) -> ConfigError:
    folder = make_client(tmp_path, {"r.csv": "response_id,date\n", **(files or {})}, yaml_text)
    path = folder / "audit.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert str(path) in str(err), "the message always names the audit.yaml file"
    assert err.exit_code == 2
    return err


def _expect(make_client, tmp_path: Path, yaml_text: str, key: str, problem: str, files=None) -> None:
    err = _error(make_client, tmp_path, yaml_text, files)
    path = tmp_path / "client" / "audit.yaml"
    assert err.key == key
    assert err.problem == problem
    where = f"{path}: key '{key}'" if key else str(path)
    assert str(err) == f"{where}: {problem}"


# --- a valid file --------------------------------------------------------------------------------


def test_valid_config_defaults(make_client, tmp_path):
    folder = make_client(tmp_path, {"r.csv": "response_id,date\n"}, BASE)
    cfg = load_config(folder / "audit.yaml")
    assert isinstance(cfg, AuditConfig)
    assert cfg.client.name == "Acme"
    assert cfg.language == "en"
    assert cfg.min_base == 30
    assert cfg.stages == list(STAGES) and len(cfg.stages) == 9
    assert cfg.stages[0] == "awareness" and cfg.stages[-1] == "loyalty"
    assert (cfg.scales.nps.min, cfg.scales.nps.max) == (0, 10)
    assert (cfg.scales.csat.min, cfg.scales.csat.max, cfg.scales.csat.top_box) == (1, 5, 2)
    assert (cfg.scales.ces.min, cfg.scales.ces.max) == (1, 7)
    # an off-scale answer blanks its cell by default; the response stays (issue 13)
    # ... and a date in the future excludes its row (issue 15, item 9)
    assert cfg.quality.exclude == ["missing_required", "invalid_date", "duplicate_id", "speeder", "future_date"]
    assert cfg.quality.max_excluded_share == 0.5
    assert cfg.quality.speeder_fraction == pytest.approx(1 / 3)
    assert cfg.quality.straightliner_min_items == 5
    assert cfg.client.branding.primary_color == "#1f3b5c"
    assert list(cfg.inputs) == ["responses"]
    spec = cfg.inputs["responses"]
    assert (spec.file, spec.format, spec.header_row, spec.columns) == ("r.csv", "auto", 1, {})


def test_valid_config_round_trip(make_client, tmp_path):
    text = """\
client:
  name: Acme Bank
  language: pl
  industry: banking
  branding: {primary_color: "#112233", accent_color: "#AABBCC"}
min_base: 50
segments: [region, channel]
scales:
  csat: {min: 1, max: 7, top_box: 2}
quality:
  exclude: [missing_required, straightliner]
  speeder_fraction: 0.5
inputs:
  responses:
    file: r.csv
    delimiter: ";"
    columns: {response_id: ID, date: Submitted}
  tickets: {file: t.xlsx, sheet: Tickets}
"""
    folder = make_client(tmp_path, {"r.csv": "ID;Submitted\n", "t.xlsx": "x"}, text)
    cfg = load_config(folder / "audit.yaml")
    assert cfg.language == "pl" and cfg.client.industry == "banking"
    assert cfg.min_base == 50 and cfg.segments == ["region", "channel"]
    assert cfg.scales.csat.max == 7 and cfg.scales.ces.max == 7  # untouched scale keeps its default
    assert cfg.quality.exclude == ["missing_required", "straightliner"]
    assert cfg.quality.speeder_fraction == 0.5
    assert cfg.inputs["responses"].columns == {"response_id": "ID", "date": "Submitted"}
    assert cfg.inputs["tickets"].sheet == "Tickets"
    # the validated model round-trips through a plain dict
    assert AuditConfig.model_validate(cfg.model_dump()) == cfg


# --- unknown keys --------------------------------------------------------------------------------


def test_unknown_top_level_key(make_client, tmp_path):
    assert TOP_KEYS.startswith("client, min_base") and TOP_KEYS.endswith("seed") and "inputs" in TOP_KEYS
    _expect(make_client, tmp_path, BASE + "colour: red\n", "colour", f"unknown key (allowed: {TOP_KEYS})")


def test_unknown_nested_key_in_input(make_client, tmp_path):
    text = "client: {name: Acme}\ninputs:\n  responses: {file: r.csv, colums: {nps: LTR}}\n"
    _expect(make_client, tmp_path, text, "inputs.responses.colums", f"unknown key (allowed: {INPUT_KEYS})")


@pytest.mark.parametrize(
    ("extra", "key", "allowed"),
    [
        ("client: {name: Acme, branding: {colour: red}}", "client.branding.colour", _keys(Branding)),
        ("client: {name: Acme, lang: pl}", "client.lang", _keys(ClientInfo)),
        ("scales: {csat: {min: 1, max: 5, topbox: 1}}", "scales.csat.topbox", _keys(Scale)),
        ("quality: {exclud: []}", "quality.exclud", _keys(QualityRules)),
    ],
)
def test_unknown_deeply_nested_key(make_client, tmp_path, extra, key, allowed):
    text = extra + "\ninputs:\n  responses: {file: r.csv}\n"
    if not extra.startswith("client"):
        text = "client: {name: Acme}\n" + text
    _expect(make_client, tmp_path, text, key, f"unknown key (allowed: {allowed})")


def test_typo_reported_before_the_missing_key_it_causes(make_client, tmp_path):
    # "clients" is unknown AND "client" is missing: the typo is the useful message
    err = _error(make_client, tmp_path, "clients: {name: Acme}\ninputs:\n  responses: {file: r.csv}\n")
    assert err.key == "clients"
    assert err.problem == f"unknown key (allowed: {TOP_KEYS}) (+1 more problem)"


# --- wrong types and values ----------------------------------------------------------------------


def test_wrong_type_integer(make_client, tmp_path):
    _expect(make_client, tmp_path, BASE + "min_base: thirty\n", "min_base", "expected an integer, got 'thirty'")


def test_wrong_type_list(make_client, tmp_path):
    _expect(make_client, tmp_path, BASE + "stages: awareness\n", "stages", "expected a list, got 'awareness'")


def test_wrong_type_mapping(make_client, tmp_path):
    _expect(make_client, tmp_path, "client: Acme\ninputs:\n  responses: {file: r.csv}\n", "client",
            "expected a mapping, got 'Acme'")


def test_several_problems_are_counted(make_client, tmp_path):
    err = _error(make_client, tmp_path, BASE + "min_base: x\nseed: y\n")
    assert err.key == "min_base"
    assert err.problem == "expected an integer, got 'x' (+1 more problem)"


def test_boolean_is_not_an_integer(make_client, tmp_path):
    _error(make_client, tmp_path, BASE + "min_base: true\n")


def test_invalid_language(make_client, tmp_path):
    text = "client: {name: Acme, language: de}\ninputs:\n  responses: {file: r.csv}\n"
    _expect(make_client, tmp_path, text, "client.language", "expected one of 'en', 'ru' or 'pl', got 'de'")


def test_bad_colour(make_client, tmp_path):
    text = "client: {name: Acme, branding: {primary_color: blue}}\ninputs:\n  responses: {file: r.csv}\n"
    _expect(make_client, tmp_path, text, "client.branding.primary_color",
            "expected a colour like '#1f3b5c', got 'blue'")


def test_unknown_quality_rule(make_client, tmp_path):
    _expect(make_client, tmp_path, BASE + "quality: {exclude: [speeder, bogus]}\n", "quality.exclude",
            f"unknown rule(s) ['bogus']; known rules: {', '.join(EXCLUSION_RULES)}")


def test_nps_scale_is_fixed(make_client, tmp_path):
    _expect(make_client, tmp_path, BASE + "scales: {nps: {min: 1, max: 10}}\n", "scales.nps",
            "NPS is defined on 0-10 only")


def test_scale_max_above_min(make_client, tmp_path):
    err = _error(make_client, tmp_path, BASE + "scales: {csat: {min: 5, max: 1}}\n")
    assert err.key == "scales.csat"
    assert err.problem == "max (1) must be greater than min (5)"


# --- inputs --------------------------------------------------------------------------------------


def test_missing_input_file(make_client, tmp_path):
    text = "client: {name: Acme}\ninputs:\n  responses: {file: nothere.csv}\n"
    _expect(make_client, tmp_path, text, "inputs.responses.file",
            f"file 'nothere.csv' not found in {tmp_path / 'client'}")


def test_missing_second_input_file(make_client, tmp_path):
    _expect(make_client, tmp_path, BASE + "  tickets: {file: tickets.csv}\n", "inputs.tickets.file",
            f"file 'tickets.csv' not found in {tmp_path / 'client'}")


def test_unknown_table_in_inputs(make_client, tmp_path):
    _expect(make_client, tmp_path, BASE + "  surveys: {file: r.csv}\n", "inputs",
            "unknown table(s) ['surveys']; known tables: responses, touchpoints, customers, tickets, "
            "employees, kpis, events")


def test_any_table_alone_is_a_config(make_client, tmp_path):
    """Issue 13: any subset of the six tables is an audit; only an empty ``inputs`` is refused."""
    folder = make_client(tmp_path, {"r.csv": "ticket_id,channel\n"}, "client: {name: Acme}\ninputs:\n  tickets: {file: r.csv}\n")
    assert list(load_config(folder / "audit.yaml").inputs) == ["tickets"]
    _expect(make_client, tmp_path, "client: {name: Acme}\ninputs: {}\n", "inputs",
            "no input table: give at least one of " + ", ".join(TABLES))


def test_missing_inputs_key(make_client, tmp_path):
    _expect(make_client, tmp_path, "client: {name: Acme}\n", "inputs", "required key is missing")


def test_missing_logo(make_client, tmp_path):
    text = "client: {name: Acme, branding: {logo: logo.png}}\ninputs:\n  responses: {file: r.csv}\n"
    _expect(make_client, tmp_path, text, "client.branding.logo", f"file 'logo.png' not found in {tmp_path / 'client'}")


# --- the file itself -----------------------------------------------------------------------------


def test_invalid_yaml_names_line(make_client, tmp_path):
    # line 3 opens a flow mapping that is never closed; the parser fails on line 4 ("foo:")
    text = "client: {name: Acme}\ninputs:\n  responses: {file: r.csv\nfoo: [\n"
    err = _error(make_client, tmp_path, text)
    assert err.key == ""
    assert re.match(r"not valid YAML at line 4, column \d+: ", err.problem), err.problem


def test_invalid_yaml_bad_indent_line(make_client, tmp_path):
    text = "client:\n  name: Acme\n   bad: 1\ninputs: {}\n"
    err = _error(make_client, tmp_path, text)
    assert err.problem == "not valid YAML at line 3, column 7: mapping values are not allowed here"


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string\n"])
def test_top_level_not_a_mapping(make_client, tmp_path, text):
    _expect(make_client, tmp_path, text, "", "expected a mapping of keys at the top level")


def test_config_file_not_found(tmp_path):
    path = tmp_path / "audit.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: file not found (create it with `cxaudit new CLIENT`)"


def test_not_utf8(tmp_path):
    path = tmp_path / "audit.yaml"
    path.write_bytes(b"client: {name: Acme}\n# \xff\xfe\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: not UTF-8 text"


def test_duplicate_key_is_an_error(make_client, tmp_path):
    # PyYAML alone would silently keep the second `min_base`
    text = "client: {name: Acme}\nmin_base: 30\nmin_base: 5\ninputs:\n  responses: {file: r.csv}\n"
    folder = make_client(tmp_path, {"r.csv": "response_id,date\nR1,2025-01-01\n"}, text)
    from cxaudit.config import load_config
    from cxaudit.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        load_config(folder / "audit.yaml")
    assert "line 3" in str(info.value) and "'min_base' appears twice" in str(info.value)
