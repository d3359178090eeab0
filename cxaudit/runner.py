"""Run the notebook chain for one client with Papermill and render the report.

Layout of a run (DESIGN.md)::

    reports/<client>/<run-id>/
      notebooks/NN_name.ipynb   executed notebooks (code kept: the analyst's audit trail)
      findings/NN_name.json     findings per notebook; findings.json has them all
      artifacts/                tables and figures notebooks saved
      report.html report.pdf
      manifest.json             inputs' sha256, parameters, versions, timings, status per notebook
      log.txt

Notebooks ``01``–``06`` only read the client's data, so they run in parallel (``jobs``); the TO-BE
notebook (the last one) reads their findings and runs after them. A failing notebook stops the chain
with a :class:`~cxaudit.errors.NotebookError` naming the notebook and the cell; the executed
notebook and everything finished so far stay on disk.
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

__all__ = ["RunResult", "run_audit", "chain", "DEFAULT_TIMEOUT"]

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
) -> RunResult:
    """Execute the chain for ``client`` into ``reports/<client>/<run-id>/`` and render the report.

    Raises
    ------
    ConfigError, DataError
        before any notebook runs, if the inputs are bad (validated once up front);
    NotebookError
        if a notebook fails (the first failing one, in chain order).
    """
    from .report import build_report

    paths.client_name(client)
    for fmt in formats:
        if fmt not in ("html", "pdf"):
            raise CxauditError(f"unknown report format {fmt!r}; expected html and/or pdf")
    audit = load_audit(client)
    lang = lang or audit.language
    if lang not in ("en", "ru", "pl"):
        raise CxauditError(f"unknown language {lang!r}; expected en, ru or pl")
    nb_dir = notebooks_dir or paths.NOTEBOOKS_DIR
    first, last = chain(nb_dir)

    started = dt.datetime.now(dt.UTC)
    hashes = audit.input_hashes()
    params_public = {"client": client, "lang": lang, "formats": list(formats), "timeout": timeout}
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
    logo = audit.config.client.branding.logo
    result.outputs = build_report(
        run_dir, client_name=audit.name, lang=lang, branding=audit.config.client.branding,
        logo_path=(audit.dir / logo) if logo else None, period=period, run_id=run_id,
        report_date=started.date(), formats=formats, client_dir=audit.dir,
        notebooks=sorted((run_dir / "notebooks").glob("*.ipynb")),
    )
    manifest["report"] = {"seconds": round(time.perf_counter() - t0, 3),
                          **{k: str(v.relative_to(run_dir)) for k, v in result.outputs.items()}}
    if bar is not None:
        bar.update(1)
        bar.close()
    write_manifest("ok")
    say(f"report written: {', '.join(str(p) for p in result.outputs.values())}")
    log.close()
    return result
