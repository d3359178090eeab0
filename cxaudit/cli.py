"""The ``cxaudit`` command: ``demo | new CLIENT | validate CLIENT | run CLIENT | report CLIENT | list |
codeframe suggest CLIENT``.

Known problems (:class:`~cxaudit.errors.CxauditError`) print one line, ``cxaudit: error: …``, and
exit with the error's code; no traceback. Exit codes: 0 ok, 1 other known error, 2 usage or config,
3 data, 4 metric, 5 notebook failed.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from . import paths
from .errors import CxauditError

F = TypeVar("F", bound=Callable[..., Any])

SCAFFOLD = """\
# audit.yaml for client {client} — created by `cxaudit new {client}`.
# Put the client's exports beside this file, map their columns below, then run:
#   cxaudit validate {client}     (checks config and data, prints what would be excluded)
#   cxaudit run {client}          (executes the notebooks and renders the report)

client:
  name: {name}            # shown on the report cover
  language: en              # report language: en | ru | pl
  # industry: retail
  # currency: EUR           # of the customers' revenue column (money figures)
  # branding: {{primary_color: "#1f3b5c", accent_color: "#d9822b", logo: logo.png}}

min_base: 30                # groups with fewer answers are shown but flagged
segments: []                # response columns to cut metrics by, e.g. [segment, region, channel]
# segment_labels: {{segment: "Customer segment"}}   # how those columns are named in the report
# value_labels: {{segment: {{smb: "Small business"}}}}   # how their values are shown (else the data's own)
# anonymity_min: 5          # employee groups smaller than this are never shown separately
# weighting: {{targets: {{segment: {{A: 0.6, B: 0.4}}}}, trim: 5}}   # raking to population shares
# economics: {{margin: 0.30, discount_rate: 0.10, acquisition_multiple: 5}}   # labelled assumptions
# tickets: {{sla_hours: {{social: 1, chat: 0.25, email: 24}}}}      # expected first response per channel
# recommendations: {{overrides: {{RULE_ID: {{enabled: false}}}}}}   # TO-BE rules (see rules.yaml)

# scales:                   # defaults shown
#   csat: {{min: 1, max: 5, top_box: 2}}
#   ces:  {{min: 1, max: 7}}
#   touchpoint: {{min: 1, max: 5}}

quality:
  # rules that EXCLUDE a row; other problems are flagged and the value treated as missing
  exclude: [missing_required, invalid_date, out_of_range, duplicate_id, speeder, future_date]
  speeder_fraction: 0.333   # faster than this share of the median duration = speeder
  # also available: straightliner, duplicate_respondent, inconsistent_date, short_answer, gibberish, ...

# Optional files beside this one: codeframe.yaml (themes per language), rules.yaml (extra TO-BE
# rules), commentary.yaml (consultant commentary per section).

inputs:
  responses:                # required: one row per survey response
    file: responses.csv     # .csv/.tsv (encoding, delimiter, decimal comma detected), .xlsx, .parquet,
                            # .sav, Qualtrics or SurveyMonkey exports as downloaded (format: auto)
    # header_row: auto      # Excel: find the header below title rows
    columns:                # canonical name: column in your file
      response_id: "Response ID"
      date: "Submitted"
      nps: "Q1"             # 0-10 likelihood to recommend
      # csat: "Q2"
      # ces: "Q3"
      # customer_id: "Customer ID"
      # comment: "Comment"
      # duration_s: "Duration (s)"
    # touchpoint ratings: name the columns tp_<touchpoint> in the file or map them here
  # touchpoints: {{file: touchpoints.csv}}   # touchpoint, stage, channel, owner_department, label
  # customers:   {{file: customers.csv}}     # customer_id, churned, tenure_months, revenue, ...
  # tickets:     {{file: tickets.csv}}       # ticket_id, channel, created_at, first_response_at, ...
  # employees:   {{file: employees.csv}}     # employee_id, department, enps, mot_* items
  # kpis:        {{file: kpis.csv}}          # department, kpi, weight, is_customer_metric
"""


def scaffold_yaml(client: str, name: str) -> str:
    """The annotated ``audit.yaml`` of ``cxaudit new``, the client name written by the YAML emitter.

    The name is emitted as a double-quoted YAML scalar (quotes, backslashes and any other character
    escaped), so ``Acme "Best" Co`` stays one valid value; the text is parsed back and must give the
    same name. A name with a line break or another control character is refused (one line on the
    cover; a newline once let a name inject keys).

    >>> from cxaudit.safeyaml import load_yaml_text
    >>> load_yaml_text(scaffold_yaml("acme", 'Acme "Best" Co'), "audit.yaml")["client"]["name"]
    'Acme "Best" Co'
    """
    import yaml

    from .errors import ConfigError
    from .safeyaml import load_yaml_text

    if not name.strip() or any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in name):
        raise ConfigError("--name", "", f"expected one line of text, got {name!r}")
    scalar = yaml.safe_dump(name, default_style='"', allow_unicode=True, width=1_000_000).strip()
    text = SCAFFOLD.format(client=client, name=scalar)
    parsed = load_yaml_text(text, "audit.yaml")
    if not isinstance(parsed, dict) or parsed.get("client", {}).get("name") != name:  # pragma: no cover
        raise ConfigError("--name", "", f"could not write {name!r} as YAML")
    return text


EDITION_CHOICES = ["full", "brief", "both"]
EDITION_HELP = ("full: every section (report.*); brief: executive summary, TO-BE and methodology "
                "(report-brief.*); both")


def _formats(text: str) -> tuple[str, ...]:
    return tuple(f.strip() for f in text.split(",") if f.strip())


def _known_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CxauditError as exc:
            click.echo(f"cxaudit: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:  # a folder that cannot be written (read-only reports/, a full disk): one line
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"cxaudit: error: {where}{exc.strerror or exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cxaudit")
def main() -> None:
    """CX audit workbook: validate a client's data, run the audit notebooks, render the report."""


@main.command()
@click.option("--size", type=click.Choice(["small", "default", "large", "xl"]), default="default", show_default=True)
@click.option("--lang", type=click.Choice(["en", "ru", "pl"]), default="en", show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--client", "client", default="demo", show_default=True, help="folder name under data/")
@click.option("--waves", type=click.IntRange(2, 10), default=None,
              help="also write N survey waves into data/CLIENT/waves/ (a baseline and N-1 later waves with "
                   "planted changes, see cxaudit.demo.PLANTED['waves'])")
@_known_errors
def demo(size: str, lang: str, seed: int, client: str, waves: int | None) -> None:
    """Generate the demo client (synthetic data with planted effects) into data/demo/."""
    from .demo import generate_demo, generate_waves

    if waves:
        out = generate_waves(paths.client_dir(client), waves=waves, size=size, lang=lang, seed=seed)
        click.echo(f"demo client with {waves} waves written to {out} (size={size}, lang={lang}, seed={seed}); "
                   f"run each with `cxaudit run {client} --wave waveK`, then `cxaudit track {client}`")
        return
    out = generate_demo(paths.client_dir(client), size=size, lang=lang, seed=seed)
    click.echo(f"demo client written to {out} (size={size}, lang={lang}, seed={seed})")


@main.command()
@click.argument("client")
@click.option("--name", default=None, help="client name shown on the report (default: CLIENT)")
@_known_errors
def new(client: str, name: str | None) -> None:
    """Scaffold data/CLIENT/ with an annotated audit.yaml."""
    folder = paths.client_dir(client)
    target = folder / "audit.yaml"
    if target.exists():
        raise CxauditError(f"{target} already exists; edit it or choose another client name")
    text = scaffold_yaml(client, name or client)
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"created {target}; put the client's exports in {folder} and map their columns")


@main.command()
@click.argument("client")
@click.option("--lang", type=click.Choice(["en", "ru", "pl"]), default=None,
              help="scorecard language (default: the report language in audit.yaml)")
@_known_errors
def validate(client: str, lang: str | None) -> None:
    """Check audit.yaml and every input without running notebooks; print the data-quality scorecard."""
    from .audit import load_audit
    from .quality import scorecard_text
    from .sidefiles import check_side_files

    paths.client_name(client)
    audit = load_audit(client)
    checked = check_side_files(audit.dir, audit.config)  # rules, codeframe, commentary: exit 2 now, not in 07
    lang = lang or audit.language
    click.echo(f"{audit.dir / 'audit.yaml'}: ok ({audit.name}, report language {audit.language})")
    if checked:
        click.echo(f"also checked: {', '.join(checked)}")
    click.echo(scorecard_text(audit, lang))


@main.command()
@click.argument("client")
@click.option("--lang", type=click.Choice(["en", "ru", "pl"]), default=None, help="default: audit.yaml")
@click.option("--jobs", type=click.IntRange(1, 16), default=2, show_default=True,
              help="notebooks run in parallel")
@click.option("--format", "formats", default="html,pdf", show_default=True,
              help="comma-separated: html, pdf, pptx (the deck); tables.xlsx is always written")
@click.option("--timeout", type=click.IntRange(10, 86400), default=600, show_default=True,
              help="seconds allowed per notebook cell")
@click.option("--edition", type=click.Choice(EDITION_CHOICES), default="full", show_default=True,
              help=EDITION_HELP)
@click.option("--wave", default=None, help="run the wave whose files are in data/CLIENT/waves/WAVE/")
@_known_errors
def run(client: str, lang: str | None, jobs: int, formats: str, timeout: int, edition: str,
        wave: str | None) -> None:
    """Run the audit notebooks for CLIENT and render reports/CLIENT/<run-id>/report.*"""
    from .runner import run_audit

    if client == "demo" and not (paths.client_dir(client) / "audit.yaml").is_file():
        from .demo import generate_demo

        click.echo(f"generating the demo client into {generate_demo(paths.client_dir(client))}", err=True)
    try:
        result = run_audit(client, lang=lang, jobs=jobs, formats=_formats(formats), timeout=timeout,
                           editions=edition, wave=wave)
    except KeyboardInterrupt:
        click.echo("cxaudit: error: run interrupted; its folder is marked interrupted", err=True)
        sys.exit(130)
    for kind, path in result.outputs.items():
        click.echo(f"{kind}: {path}")


@main.command()
@click.argument("client")
@click.argument("run_id", required=False)
@click.option("--edition", type=click.Choice(EDITION_CHOICES), default="full", show_default=True,
              help=EDITION_HELP)
@click.option("--format", "formats", default="html,pdf", show_default=True,
              help="comma-separated: html, pdf, pptx (the deck); tables.xlsx is always written")
@_known_errors
def report(client: str, run_id: str | None, edition: str, formats: str) -> None:
    """Render the report of a finished run again, without running notebooks (default: the latest run)."""
    from .runner import render_run

    result = render_run(client, run_id, editions=edition, formats=_formats(formats))
    for kind, path in result.outputs.items():
        click.echo(f"{kind}: {path}")


@main.command()
@click.argument("client")
@click.option("--lang", type=click.Choice(["en", "ru", "pl"]), default=None, help="default: audit.yaml")
@click.option("--format", "formats", default="html,pdf", show_default=True,
              help="comma-separated: html, pdf, pptx")
@click.option("--waves", "waves", default=None, help="comma-separated waves to compare (default: all, in order)")
@_known_errors
def track(client: str, lang: str | None, formats: str, waves: str | None) -> None:
    """Compare every wave of CLIENT (data/CLIENT/waves/*) against the baseline's TO-BE plan."""
    from .track import track_client

    paths.client_name(client)
    for fmt in _formats(formats):
        if fmt not in ("html", "pdf", "pptx"):
            raise CxauditError(f"unknown report format {fmt!r}; expected html, pdf and/or pptx")
    result = track_client(client, lang=lang, formats=_formats(formats),
                          waves=[w.strip() for w in waves.split(",") if w.strip()] if waves else None)
    if result.manifest.get("baseline_run") is None:
        click.echo(f"note: wave {result.result.waves[0]} has no finished run; recommendation status and revenue "
                   f"need `cxaudit run {client} --wave {result.result.waves[0]}`", err=True)
    for kind, path in result.outputs.items():
        click.echo(f"{kind}: {path}")


@main.group()
def codeframe() -> None:
    """Open-text codeframes: draft one for a client from the topics of its comments."""


@codeframe.command("suggest")
@click.argument("client")
@_known_errors
def codeframe_suggest(client: str) -> None:
    """Write data/CLIENT/codeframe.draft.yaml from the discovered topics (never overwrites codeframe.yaml)."""
    from .audit import load_audit
    from .text import write_codeframe_draft

    paths.client_name(client)
    path, summary = write_codeframe_draft(load_audit(client))
    click.echo(f"{path}: {len(summary['kept_themes'])} themes of the {summary['base']} codeframe that matched "
               f"({summary['coded']} of {summary['n']} texts coded) and {len(summary['topics'])} discovered topics; "
               "edit it and save it as codeframe.yaml to use it")


@main.command("list")
@_known_errors
def list_clients() -> None:
    """List clients in data/ and their runs in reports/."""
    root = paths.data_root()
    clients = sorted(p.name for p in root.glob("*") if (p / "audit.yaml").is_file()) if root.is_dir() else []
    if not clients:
        click.echo(f"no clients in {root} (create one with `cxaudit new NAME` or `cxaudit demo`)")
    from .runner import run_status

    for c in clients:
        runs_dir = paths.reports_root() / c
        runs = sorted(p for p in runs_dir.glob("*") if p.is_dir() and p.name != "interactive") \
            if runs_dir.is_dir() else []
        if not runs:
            click.echo(f"{c:<20}   0 run(s)  no runs yet")
            continue
        statuses = [run_status(p) for p in runs]
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("complete", "failed", "interrupted", "running")
                           if statuses.count(s))
        click.echo(f"{c:<20} {len(runs):>3} run(s) ({counts})  last: {runs[-1].name} ({statuses[-1]})")




if __name__ == "__main__":  # pragma: no cover
    main()
