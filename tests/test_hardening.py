"""Issue 15 (hardening): each attack that worked on the landed product, reproduced as a test.

Items 1-4 and 8-13 of the issue (5-7, the runner's, are tested in tests/test_runner.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cxaudit.config import load_config
from cxaudit.errors import ConfigError

SECRET = "root:x:0:0:SECRET-CONTENT:/root:/bin/bash\n"
RESP = "response_id,date,nps\nr1,2025-01-05,9\nr2,2025-01-06,3\n"


def _yaml(file: str = "r.csv", extra: str = "") -> str:
    return (f'client:\n  name: Acme\n{extra}inputs:\n  responses:\n    file: "{file}"\n'
            "    columns: {response_id: response_id, date: date, nps: nps}\n")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the client folder (the client folder is tmp_path/client)."""
    p = tmp_path / "secret.txt"
    p.write_text(SECRET, encoding="utf-8")
    return p


# --- item 1: every file a run reads resolves inside data/CLIENT/ ---------------------------------


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_input_file_outside_client_folder_is_refused(tmp_path, make_client, outside, how):
    folder = make_client(tmp_path, {"r.csv": RESP}, _yaml())
    if how == "relative":
        name = "../secret.txt"
    elif how == "absolute":
        name = str(outside)
    else:
        (folder / "link.csv").symlink_to(outside)
        name = "link.csv"
    (folder / "audit.yaml").write_text(_yaml(name, ""), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(folder / "audit.yaml")
    msg = str(info.value)
    assert info.value.key == "inputs.responses.file", msg
    assert "SECRET" not in msg and "\n" not in msg
    assert "outside" in msg or "symbolic link" in msg


def test_symlinked_folder_inside_client_is_refused(tmp_path, make_client, outside):
    folder = make_client(tmp_path, {"r.csv": RESP}, _yaml())
    (folder / "sub").symlink_to(outside.parent, target_is_directory=True)
    (folder / "audit.yaml").write_text(_yaml("sub/secret.txt"), encoding="utf-8")
    with pytest.raises(ConfigError, match="inputs.responses.file"):
        load_config(folder / "audit.yaml")


def test_input_in_a_subfolder_of_the_client_is_fine(tmp_path, make_client):
    folder = make_client(tmp_path, {"r.csv": RESP}, _yaml())
    (folder / "exports").mkdir()
    (folder / "exports" / "r.csv").write_text(RESP, encoding="utf-8")
    (folder / "audit.yaml").write_text(_yaml("exports/r.csv"), encoding="utf-8")
    cfg = load_config(folder / "audit.yaml")
    assert cfg.inputs["responses"].file == "exports/r.csv"


def test_logo_outside_client_folder_is_refused(tmp_path, make_client, outside):
    folder = make_client(tmp_path, {"r.csv": RESP}, _yaml())
    (folder / "audit.yaml").write_text(
        _yaml(extra="  branding: {logo: ../secret.txt}\n"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(folder / "audit.yaml")
    assert info.value.key == "client.branding.logo" and "SECRET" not in str(info.value)


def test_rules_file_outside_client_folder_is_refused(tmp_path, make_client, outside):
    from cxaudit.recommend import rulebook

    outside.write_text("rules: []\n", encoding="utf-8")
    folder = make_client(tmp_path, {"r.csv": RESP}, _yaml(extra="") + "recommendations: {rules_file: ../secret.txt}\n")
    with pytest.raises(ConfigError) as info:
        cfg = load_config(folder / "audit.yaml")
        rulebook(folder, cfg)
    assert info.value.key == "recommendations.rules_file"


@pytest.mark.parametrize("name", ["rules.yaml", "codeframe.yaml", "commentary.yaml"])
def test_symlinked_side_files_are_refused(tmp_path, make_client, outside, name):
    from cxaudit.recommend import labels_from_audit, load_commentary, rulebook
    from cxaudit.text import load_codeframe

    outside.write_text(VALID_SIDE[name], encoding="utf-8")  # valid content: only the link is wrong
    folder = make_client(tmp_path, {"r.csv": RESP}, _yaml())
    (folder / name).symlink_to(outside)
    cfg = load_config(folder / "audit.yaml")
    with pytest.raises(ConfigError) as info:
        if name == "rules.yaml":
            rulebook(folder, cfg)
        elif name == "commentary.yaml":
            load_commentary(folder, "en")
        else:
            from cxaudit.paths import client_side_file

            load_codeframe(client_side_file(folder, name))
    assert name in str(info.value) and "SECRET" not in str(info.value)
    if name == "codeframe.yaml":  # the TO-BE labels read the client's codeframe too
        class _A:
            dir = folder

            def has(self, t):
                return False
        with pytest.raises(ConfigError):
            labels_from_audit(_A(), "en")


VALID_SIDE = {
    "rules.yaml": "assumptions: {shift: 0.5}\n",
    "commentary.yaml": "executive_summary: SECRET text\n",
    "codeframe.yaml": "themes:\n  t1:\n    label: SECRET\n    polarity: complaint\n    keywords: {en: [late]}\n",
}
ALIASED_SIDE = {
    "rules.yaml": "assumptions: &a {shift: 0.5}\noverrides: {}\n",
    "commentary.yaml": "executive_summary: &a text\nappendix: *a\n",
    "codeframe.yaml": "themes:\n  t1:\n    label: Late\n    polarity: complaint\n    keywords: &k {en: [late]}\n"
                      "  t2:\n    label: Slow\n    keywords: *k\n",
}


def test_side_file_fixtures_are_valid_apart_from_the_attack(tmp_path):
    """The side-file fixtures load when placed normally, so the refusals below are about the attack."""
    from cxaudit.recommend import load_commentary, load_rules
    from cxaudit.text import load_codeframe

    for name, text in VALID_SIDE.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    load_rules(tmp_path / "rules.yaml")
    assert load_commentary(tmp_path, "en") == {"executive_summary": "SECRET text"}
    assert load_codeframe(tmp_path / "codeframe.yaml").themes[0].key == "t1"


# --- item 4: YAML with a size cap, aliases refused ---------------------------------------------

BOMB = """\
client: {name: Acme}
inputs: {responses: {file: r.csv}}
recommendations:
  rules:
    - &a [x, x, x, x, x, x, x, x, x]
    - &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    - &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    - &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
"""


def test_yaml_alias_bomb_is_refused_by_config(tmp_path, make_client):
    folder = make_client(tmp_path, {"r.csv": RESP}, BOMB)
    with pytest.raises(ConfigError, match="alias|anchor"):
        load_config(folder / "audit.yaml")


@pytest.mark.parametrize("name", ["rules.yaml", "codeframe.yaml", "commentary.yaml"])
def test_yaml_alias_refused_in_side_files(tmp_path, make_client, name):
    from cxaudit.recommend import load_commentary, rulebook
    from cxaudit.text import load_codeframe

    folder = make_client(tmp_path, {"r.csv": RESP}, _yaml())
    (folder / name).write_text(ALIASED_SIDE[name], encoding="utf-8")
    with pytest.raises(ConfigError, match="alias|anchor"):
        if name == "rules.yaml":
            rulebook(folder, load_config(folder / "audit.yaml"))
        elif name == "commentary.yaml":
            load_commentary(folder, "en")
        else:
            load_codeframe(folder / name)


def test_yaml_size_cap(tmp_path, make_client):
    folder = make_client(tmp_path, {"r.csv": RESP}, _yaml() + "# " + "x" * 3_000_000 + "\n")
    with pytest.raises(ConfigError, match="too large"):
        load_config(folder / "audit.yaml")


def test_safe_yaml_still_reads_plain_yaml_and_refuses_duplicates():
    from cxaudit.safeyaml import load_yaml_text

    assert load_yaml_text("a: 1\nb: [x, y]\n", "f.yaml") == {"a": 1, "b": ["x", "y"]}
    with pytest.raises(ConfigError, match="appears twice"):
        load_yaml_text("a: 1\na: 2\n", "f.yaml")
    with pytest.raises(ConfigError, match="python"):
        load_yaml_text("a: !!python/object/apply:os.system ['true']\n", "f.yaml")


def test_no_module_loads_yaml_directly():
    """One place loads YAML: cxaudit.safeyaml (the i18n catalogs are package resources)."""
    import re

    pkg = Path(__file__).resolve().parents[1] / "cxaudit"
    offenders = []
    for py in pkg.rglob("*.py"):
        if py.name == "safeyaml.py":
            continue
        for i, line in enumerate(py.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"yaml\.(safe_load|load|full_load|unsafe_load)\(", line):
                offenders.append(f"{py.relative_to(pkg)}:{i}")
    assert offenders == [], offenders


if os.name != "posix":  # pragma: no cover
    pytest.skip("symlink tests need POSIX", allow_module_level=True)
