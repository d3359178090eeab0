"""Run the notebook chain for one client with Papermill and render the report.

Layout of a run (DESIGN.md)::

    reports/<client>/<run-id>/
      notebooks/NN_name.ipynb   executed notebooks (code kept: the analyst's audit trail)
      findings/NN_name.json     findings per notebook; findings.json has them all
      artifacts/                tables and figures notebooks saved
      report.html report.pdf    the full report (report-brief.html / .pdf: the brief edition)
      manifest.json             inputs' sha256, parameters, versions, timings, status per notebook
      log.txt

Notebooks ``01``–``06`` only read the client's data, so they run in parallel (``jobs``); the TO-BE
notebook (the last one) reads their findings and runs after them. A failing notebook stops the chain
with a :class:`~cxaudit.errors.NotebookError` naming the notebook and the cell; the executed
notebook and everything finished so far stay on disk. :func:`render_run` renders the report of a
finished run again (another edition or format) without executing any notebook.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from . import paths
from .audit import load_audit
from .errors import CxauditError, NotebookError
from .findings import read_findings

__all__ = ["RunResult", "run_audit", "render_run", "chain", "edition_list", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 600  # seconds per cell; papermill's own default is to wait forever
_VERSIONED = ("cxaudit", "pandas", "numpy", "scipy", "statsmodels", "pingouin", "seaborn", "matplotlib",
              "papermill", "nbconvert", "nbclient", "ipykernel", "weasyprint", "pydantic")


@dataclass
class RunResult:
    client: str
    run_id: str
    run_dir: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


def chain(notebooks_dir: Path = paths.NOTEBOOKS_DIR) -> tuple[list[Path], list[Path]]:
    """(independent notebooks, final notebooks): ``NN_*.ipynb`` sorted; the last one runs alone."""
    nbs = sorted(p for p in notebooks_dir.glob("[0-9][0-9]_*.ipynb"))
    if not nbs:
        raise CxauditError(f"no notebooks found in {notebooks_dir}")
    return nbs[:-1], nbs[-1:]


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in _VERSIONED:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


# A kernel that dies before answering kernel_info never ran a cell: a start-up failure (a TCP port
# taken between jupyter_client choosing it and the kernel binding it, a busy machine), not the notebook's
# fault. Such a start is retried; a failure inside a cell never is.
KERNEL_START_ATTEMPTS = 3
_START_FAILURES = ("Kernel died before replying to kernel_info", "Kernel didn't respond in")


def _kernel_start_failed(exc: BaseException) -> bool:
    return isinstance(exc, RuntimeError | TimeoutError) and any(m in str(exc) for m in _START_FAILURES)


def _log_tail(path: Path, lines: int = 8) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    kept = [ln for ln in text.splitlines() if ln.strip() and "running over TCP without encryption" not in ln]
    return "\n".join(kept[-lines:])


def _execute(src: str, dst: str, parameters: dict[str, Any], timeout: int, cwd: str) -> dict[str, Any]:
    """Run one notebook (in a worker process). Returns a status record, never raises."""
    import papermill as pm

    # Let kernels cache bytecode: importing pandas + seaborn + pingouin drops from ~2.8 s to ~1.3 s.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    record: dict[str, Any] = {"notebook": Path(src).name, "status": "ok", "output": dst, "kernel_starts": 0}
    # The kernel inherits this worker's stderr; send its chatter to a log beside the notebook.
    log_path = Path(dst).with_suffix(".kernel.log")
    kernel_log = open(log_path, "ab")  # noqa: SIM115
    saved_fd = os.dup(2)
    os.dup2(kernel_log.fileno(), 2)
    try:
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            record["kernel_starts"] = attempt
            try:
                pm.execute_notebook(src, dst, parameters=parameters, kernel_name="python3", progress_bar=False,
                                    execution_timeout=timeout, cwd=cwd, log_output=False)
            except pm.PapermillExecutionError as exc:
                record.update(status="failed", cell=exc.cell_index + 1, exec_count=exc.exec_count,
                              ename=exc.ename, evalue=str(exc.evalue))
            except Exception as exc:  # kernel died, timeout, unreadable notebook: still a per-notebook failure
                if _kernel_start_failed(exc) and attempt < KERNEL_START_ATTEMPTS:
                    os.write(2, f"cxaudit: kernel start {attempt} failed ({exc}); retrying\n".encode())
                    time.sleep(attempt)
                    continue
                record.update(status="failed", cell=None, ename=type(exc).__name__, evalue=str(exc))
            break
    finally:
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        kernel_log.close()
    if record["status"] != "ok" and record.get("cell") is None:
        tail = _log_tail(log_path)
        record["evalue"] += f" after {record['kernel_starts']} kernel start(s); kernel log {log_path}" + (
            f":\n{tail}" if tail else " is empty")
    record["seconds"] = round(time.perf_counter() - started, 3)
    return record


def edition_list(edition: str | Sequence[str]) -> tuple[str, ...]:
    """``"full"``, ``"brief"``, ``"both"`` (= full and brief) or a sequence of editions, checked."""
    from .report import EDITIONS

    items = (("full", "brief") if edition == "both" else (edition,)) if isinstance(edition, str) else tuple(edition)
    unknown = [e for e in items if e not in EDITIONS]
    if unknown or not items:
        raise CxauditError(f"unknown report edition {unknown[0] if unknown else ''!r}; "
                           f"expected {', '.join(EDITIONS)} or both")
    return tuple(dict.fromkeys(items))


def _output_key(edition: str, fmt: str) -> str:
    """Key of an output in :attr:`RunResult.outputs` and the manifest: ``html``, ``pdf`` (full edition),
    ``brief-html``, ``brief-pdf``."""
    return fmt if edition == "full" else f"{edition}-{fmt}"


def _render(run_dir: Path, context: dict[str, Any], *, editions: Sequence[str], formats: Sequence[str],
            client_dir: Path | None, config: Any = None) -> tuple[dict[str, Path], dict[str, float]]:
    """Every edition of the report of ``run_dir``; ``context`` is the manifest's ``report_context``,
    ``config`` the client's :class:`~cxaudit.config.AuditConfig` (branding and logo)."""
    from .report import build_report

    branding = config.client.branding if config is not None else None
    logo = (client_dir / branding.logo) if branding is not None and branding.logo and client_dir else None
    period = context.get("period")
    outputs: dict[str, Path] = {}
    seconds: dict[str, float] = {}
    for edition in editions:
        t0 = time.perf_counter()
        written = build_report(
            run_dir, client_name=context["client_name"], lang=context["lang"], branding=branding,
            logo_path=logo, period=(dt.date.fromisoformat(period[0]), dt.date.fromisoformat(period[1]))
            if period else None, run_id=context["run_id"],
            report_date=dt.date.fromisoformat(context["report_date"]), formats=formats, client_dir=client_dir,
            notebooks=sorted((run_dir / "notebooks").glob("*.ipynb")), edition=edition,
        )
        seconds[edition] = round(time.perf_counter() - t0, 3)
        outputs.update({_output_key(edition, k): v for k, v in written.items()})
    return outputs, seconds


def _run_id(hashes: dict[str, str], params: dict[str, Any], now: dt.datetime) -> str:
    h = hashlib.sha256(json.dumps([hashes, params], sort_keys=True).encode()).hexdigest()[:8]
    return f"{now:%Y%m%dT%H%M%SZ}-{h}"


def run_audit(
    client: str,
    *,
    lang: str | None = None,
    jobs: int = 2,
    formats: Sequence[str] = ("html", "pdf"),
    timeout: int = DEFAULT_TIMEOUT,
    notebooks_dir: Path | None = None,
    progress: Callable[[str], None] | bool = True,
    editions: str | Sequence[str] = ("full",),
) -> RunResult:
    """Execute the chain for ``client`` into ``reports/<client>/<run-id>/`` and render the report.

    ``editions``: ``"full"`` (``report.*``), ``"brief"`` (``report-brief.*``), ``"both"`` or a
    sequence of them; every edition is rendered from the same executed notebooks.

    Raises
    ------
    ConfigError, DataError
        before any notebook runs, if the inputs are bad (validated once up front);
    NotebookError
        if a notebook fails (the first failing one, in chain order).
    """
    paths.client_name(client)
    for fmt in formats:
        if fmt not in ("html", "pdf"):
            raise CxauditError(f"unknown report format {fmt!r}; expected html and/or pdf")
    editions = edition_list(editions)
    audit = load_audit(client)
    lang = lang or audit.language
    if lang not in ("en", "ru", "pl"):
        raise CxauditError(f"unknown language {lang!r}; expected en, ru or pl")
    nb_dir = notebooks_dir or paths.NOTEBOOKS_DIR
    first, last = chain(nb_dir)

    started = dt.datetime.now(dt.UTC)
    hashes = audit.input_hashes()
    params_public = {"client": client, "lang": lang, "formats": list(formats), "timeout": timeout,
                     "editions": list(editions)}
    run_id = _run_id(hashes, params_public, started)
    run_dir = paths.client_reports_dir(client) / run_id
    (run_dir / "notebooks").mkdir(parents=True, exist_ok=False)
    log = (run_dir / "log.txt").open("a", encoding="utf-8")

    def say(msg: str) -> None:
        log.write(f"{dt.datetime.now(dt.UTC):%H:%M:%S} {msg}\n")
        log.flush()

    nb_params = {"client": str(audit.dir), "run_dir": str(run_dir), "lang": lang}
    records: list[dict[str, Any]] = []
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(first) + len(last) + 1, desc=f"cxaudit {client}", unit="step",
                   disable=os.environ.get("CI") == "true" and not sys.stderr.isatty())
    say(f"run {run_id} of {client}: {len(first) + len(last)} notebooks, jobs={jobs}, lang={lang}")

    def run_phase(nbs: list[Path]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        workers = max(1, min(jobs, len(nbs)))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futs = {pool.submit(_execute, str(nb), str(run_dir / "notebooks" / nb.name), nb_params, timeout,
                                str(nb_dir)): nb for nb in nbs}
            for fut in as_completed(futs):
                rec = fut.result()
                out.append(rec)
                say(f"{rec['notebook']}: {rec['status']} in {rec['seconds']} s")
                if bar is not None:
                    bar.set_postfix_str(rec["notebook"])
                    bar.update(1)
                elif callable(progress):
                    progress(f"{rec['notebook']}: {rec['status']}")
        return sorted(out, key=lambda r: r["notebook"])

    failed: dict[str, Any] | None = None
    for phase in (first, last):
        records += run_phase(phase)
        failed = next((r for r in records if r["status"] != "ok"), None)
        if failed:
            break

    manifest: dict[str, Any] = {
        "client": client,
        "run_id": run_id,
        "started_utc": started.isoformat(),
        "parameters": {**params_public, "jobs": jobs},
        "inputs_sha256": hashes,
        "versions": _versions(),
        "notebooks": records,
        "rows": audit.intake().to_dict("records"),
    }
    result = RunResult(client, run_id, run_dir, manifest=manifest)

    def write_manifest(status: str) -> None:
        manifest["status"] = status
        manifest["finished_utc"] = dt.datetime.now(dt.UTC).isoformat()
        (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")

    if failed:
        if bar is not None:
            bar.close()
        write_manifest("failed")
        say(f"FAILED: {failed['notebook']} cell {failed.get('cell')}: {failed['ename']}: {failed['evalue']}")
        log.close()
        raise NotebookError(failed["notebook"], failed.get("cell"), failed["ename"], failed["evalue"],
                            failed["output"])

    findings = read_findings(run_dir)
    (run_dir / "findings.json").write_text(
        json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False), encoding="utf-8")
    t0 = time.perf_counter()
    dates = audit.responses["date"].dropna()
    period = (dates.min().date(), dates.max().date()) if len(dates) else None
    # what `cxaudit report` needs to render this run again without reading the data
    manifest["report_context"] = {"client_name": audit.name, "lang": lang, "run_id": run_id,
                                  "report_date": started.date().isoformat(),
                                  "period": [d.isoformat() for d in period] if period else None}
    result.outputs, seconds = _render(run_dir, manifest["report_context"], editions=editions, formats=formats,
                                      client_dir=audit.dir, config=audit.config)
    manifest["report"] = {"seconds": round(time.perf_counter() - t0, 3), "seconds_per_edition": seconds,
                          **{k: str(v.relative_to(run_dir)) for k, v in result.outputs.items()}}
    if bar is not None:
        bar.update(1)
        bar.close()
    write_manifest("ok")
    say(f"report written: {', '.join(str(p) for p in result.outputs.values())}")
    log.close()
    return result


def render_run(
    client: str,
    run_id: str | None = None,
    *,
    editions: str | Sequence[str] = ("full",),
    formats: Sequence[str] = ("html", "pdf"),
) -> RunResult:
    """Render the report of a finished run again (``reports/<client>/<run-id>/``), executing nothing.

    ``run_id`` defaults to the client's latest successful run. The language, client name, data period
    and date are the run's own (``report_context`` in its manifest; runs made before it was recorded
    read the client's name and data period from ``data/<client>``); branding, logo and commentary are
    read from the client folder as they are now. The manifest records the new outputs.

    Raises
    ------
    CxauditError
        If the client has no such run, or the run did not finish.
    """
    from .config import load_config

    paths.client_name(client)
    for fmt in formats:
        if fmt not in ("html", "pdf"):
            raise CxauditError(f"unknown report format {fmt!r}; expected html and/or pdf")
    editions = edition_list(editions)
    runs_dir = paths.client_reports_dir(client)
    runs = sorted(p for p in runs_dir.glob("*") if (p / "manifest.json").is_file()) if runs_dir.is_dir() else []
    if run_id is None:
        ok = [p for p in runs if json.loads((p / "manifest.json").read_text(encoding="utf-8")).get("status") == "ok"]
        if not ok:
            raise CxauditError(f"no finished run of {client} in {runs_dir}; run `cxaudit run {client}` first")
        run_dir = ok[-1]
    else:
        run_dir = next((p for p in runs if p.name == run_id), None)  # only names listed there: no path tricks
        if run_dir is None:
            raise CxauditError(f"no run {run_id!r} of {client} in {runs_dir} (see `cxaudit list`)")
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("status") != "ok":
        raise CxauditError(f"run {run_dir.name} of {client} did not finish (status {manifest.get('status')!r}); "
                           "nothing to render")
    context = manifest.get("report_context")
    client_dir = paths.client_dir(client)
    if context is None:  # a run made before report_context was recorded
        audit = load_audit(client)
        dates = audit.responses["date"].dropna()
        context = {"client_name": audit.name, "lang": manifest["parameters"]["lang"], "run_id": run_dir.name,
                   "report_date": manifest["started_utc"][:10],
                   "period": [dates.min().date().isoformat(), dates.max().date().isoformat()] if len(dates) else None}
    config = load_config(client_dir / "audit.yaml") if (client_dir / "audit.yaml").is_file() else None
    t0 = time.perf_counter()
    outputs, seconds = _render(run_dir, context, editions=editions, formats=formats,
                               client_dir=client_dir if client_dir.is_dir() else None, config=config)
    report = manifest.setdefault("report", {})
    report.update({k: str(v.relative_to(run_dir)) for k, v in outputs.items()})
    report.setdefault("rendered_again", []).append({
        "utc": dt.datetime.now(dt.UTC).isoformat(), "seconds": round(time.perf_counter() - t0, 3),
        "seconds_per_edition": seconds, "outputs": sorted(outputs)})
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    with (run_dir / "log.txt").open("a", encoding="utf-8") as log:
        log.write(f"{dt.datetime.now(dt.UTC):%H:%M:%S} report rendered again: "
                  f"{', '.join(str(p) for p in outputs.values())}\n")
    return RunResult(client, run_dir.name, run_dir, outputs=outputs, manifest=manifest)
