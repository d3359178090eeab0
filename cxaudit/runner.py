"""Run the notebook chain for one client with Papermill and render the report.

Layout of a run (DESIGN.md)::

    reports/<client>/<run-id>/
      notebooks/NN_name.ipynb   executed notebooks (code kept: the analyst's audit trail)
      findings/NN_name.json     findings per notebook; findings.json has them all
      artifacts/                tables and figures notebooks saved
      report.html report.pdf    the full report (report-brief.html / .pdf: the brief edition)
      tables/                   the conformed input tables (Parquet) and the exclusion log, written once
      manifest.json             status (running / complete / failed / interrupted), inputs' sha256,
                                parameters, versions, timings, status per notebook
      log.txt

The data is read and validated once, here, and saved to ``tables/``; every notebook reads it from
there. Sections are scheduled from the registry (:mod:`cxaudit.sections`): independent ones run in
parallel (``jobs``), each as soon as everything in its ``depends_on`` has finished (TO-BE after the
AS-IS sections whose findings it reads). A failing notebook stops the chain with a
:class:`~cxaudit.errors.NotebookError` naming the notebook and the cell; the executed notebook and
everything finished so far stay on disk. Pool workers and their kernels die with the runner. :func:`render_run` renders the report of a
finished run again (another edition or format) without executing any notebook.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from . import paths
from .audit import load_audit, release_memory
from .errors import CxauditError, NotebookError
from .findings import read_findings
from .sections import SECTIONS, Section, report_order, topological
from .sidefiles import check_side_files

__all__ = ["RunResult", "run_audit", "render_run", "plan", "run_status", "edition_list", "DEFAULT_TIMEOUT",
           "STATUSES"]

#: What ``manifest.json``'s ``status`` can say. A run killed outright (kill -9, power loss) cannot write
#: "interrupted" itself: :func:`run_status` reports a "running" run whose process is gone as interrupted.
STATUSES = ("running", "complete", "failed", "interrupted")

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


def plan(notebooks_dir: Path | None = None, registry: Mapping[str, Section] | None = None) -> list[Section]:
    """The sections of a run, dependencies first: every registered section whose notebook is in
    ``notebooks_dir`` (default: the package's notebooks).

    Raises
    ------
    CxauditError
        If a numbered notebook (``NN_*.ipynb``) there is not in the registry (it would otherwise run in
        an order nobody declared), or if there is no notebook at all.
    """
    reg = SECTIONS if registry is None else registry
    nb_dir = notebooks_dir or paths.NOTEBOOKS_DIR
    files = {p.name for p in nb_dir.glob("*.ipynb")}
    declared = {s.notebook for s in reg.values()}
    unknown = sorted(f for f in files if _NUMBERED.match(f) and f not in declared)
    if unknown:
        raise CxauditError(f"{nb_dir}: notebook(s) {', '.join(unknown)} not in the section registry; "
                           "declare each with a Section in cxaudit/sections.py")
    present = [s for s in reg.values() if s.notebook in files]
    if not present:
        raise CxauditError(f"no notebooks found in {nb_dir}")
    return topological(present)


_NUMBERED = re.compile(r"^\d\d_.*\.ipynb$")


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


# Warm kernels. Starting a kernel and importing the package is most of a small section's time (3–8 s of
# a 5–15 s notebook). Each pool worker keeps one kernel started ahead, with the common imports already
# running in it: the first while the runner validates the data, the next while the worker's current
# notebook is handed back. A notebook still gets a fresh kernel of its own (nothing is shared between
# notebooks); a spare that fails to start is replaced by papermill's own cold start.
_WARM_CODE = ("import cxaudit, cxaudit.session, cxaudit.show, cxaudit.plots, cxaudit.metrics, cxaudit.findings, "
              "pandas, numpy, scipy.stats")


@dataclass
class _Spare:
    km: Any
    kc: Any
    log: Path
    msg_id: str  # the warm imports' request


def _spare_ready(spare: _Spare, timeout: float) -> bool:
    """Wait until the warm imports have run. On a loaded machine they can outlast the 60 s papermill
    gives a kernel to answer; the notebook's own first cell would have waited for them anyway."""
    from jupyter_core.utils import run_sync

    async def reply() -> bool:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            msg = await spare.kc.get_shell_msg(timeout=left)
            if msg.get("parent_header", {}).get("msg_id") == spare.msg_id:
                return bool(msg.get("content", {}).get("status") == "ok")
        return False

    try:
        return bool(run_sync(reply)())
    except Exception:  # noqa: BLE001 - queue.Empty on timeout, or the kernel died: start cold instead
        return False
    finally:
        spare.kc.stop_channels()


_SPARES: list[_Spare] = []  # in a pool worker: the kernel started for its next notebook


def _start_spare(cwd: str) -> None:
    """Start a kernel for this worker's next notebook and send it the common imports (not waited for
    here: they run while the worker waits for its next notebook)."""
    import tempfile

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    fd, log = tempfile.mkstemp(prefix="cxaudit-kernel-", suffix=".log")
    try:
        # an async manager, as nbclient uses: with a blocking one nbclient does not enforce cell timeouts
        with os.fdopen(fd, "ab") as out:  # the kernel process keeps its own copy of the descriptor
            km = AsyncKernelManager(kernel_name="python3")
            run_sync(km.start_kernel)(cwd=cwd, stdout=out, stderr=out)
        kc = km.client()
        kc.start_channels()
        msg_id = kc.execute(_WARM_CODE, silent=True, store_history=False)
    except Exception as exc:  # noqa: BLE001 - any start failure: the notebook starts its kernel cold
        Path(log).unlink(missing_ok=True)
        os.write(2, f"cxaudit: could not start a warm kernel ({exc}); notebooks start cold\n".encode())
        return
    _SPARES.append(_Spare(km, kc, Path(log), msg_id))


def _stop_spare(spare: _Spare, log_path: Path | None) -> None:
    """Shut a warm kernel down; its start-up log joins the notebook's kernel log (or is removed)."""
    from jupyter_core.utils import run_sync

    spare.kc.stop_channels()
    if spare.km.has_kernel:
        run_sync(spare.km.shutdown_kernel)(now=True)
    if log_path is not None and spare.log.exists():
        with open(log_path, "ab") as dst:
            dst.write(spare.log.read_bytes())
    spare.log.unlink(missing_ok=True)


def _stop_spares() -> None:
    while _SPARES:
        _stop_spare(_SPARES.pop(), None)


def _noop() -> None:
    """A task that makes the pool start its workers (and their warm kernels) now."""


class _PeakMemory(threading.Thread):
    """The peak summed resident memory of this process's children (the notebook's kernel), sampled every
    ``interval`` seconds, in MiB: the run log and manifest say what each notebook needed (issue 19)."""

    def __init__(self, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak = interval, 0
        self._halt = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._halt.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue  # exited between the listing and the reading
            self.peak = max(self.peak, total)
            self._halt.wait(self.interval)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return round(self.peak / 2**20, 1)


def _execute(src: str, dst: str, parameters: dict[str, Any], timeout: int, cwd: str,
             warm_next: bool = False) -> dict[str, Any]:
    """Run one notebook (in a worker process). Returns a status record, never raises. ``warm_next``:
    start the kernel for this worker's next notebook when this one is done."""
    import papermill as pm

    # Let kernels cache bytecode: importing pandas + seaborn + pingouin drops from ~2.8 s to ~1.3 s.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    log_path = Path(dst).with_suffix(".kernel.log")
    spare = _SPARES.pop() if _SPARES else None
    if spare is not None and not _spare_ready(spare, timeout):
        _stop_spare(spare, log_path)
        with open(log_path, "ab") as log:
            log.write(b"cxaudit: the warm kernel did not finish its imports; starting a kernel cold\n")
        spare = None
    record: dict[str, Any] = {"notebook": Path(src).name, "status": "ok", "output": dst, "kernel_starts": 0,
                              "warm_kernel": spare is not None}
    memory = _PeakMemory()  # the kernel is this worker's only child until the next one is warmed
    memory.start()
    # The kernel inherits this worker's stderr; send its chatter to a log beside the notebook.
    kernel_log = open(log_path, "ab")  # noqa: SIM115
    saved_fd = os.dup(2)
    os.dup2(kernel_log.fileno(), 2)
    try:
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            record["kernel_starts"] = attempt
            warm = spare if attempt == 1 else None
            try:
                pm.execute_notebook(src, dst, parameters=parameters, kernel_name="python3", progress_bar=False,
                                    execution_timeout=timeout, cwd=cwd, log_output=False,
                                    **({"km": warm.km} if warm is not None else {}))
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
        record["peak_rss_mb"] = memory.stop()
        if spare is not None:
            _stop_spare(spare, log_path)
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        kernel_log.close()
        if warm_next:
            _start_spare(cwd)
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


def report_notebooks(run_dir: Path, registry: Mapping[str, Section] | None = None) -> list[Path]:
    """The executed notebooks of a run in report order (the registry's ``order``; any other after them)."""
    reg = SECTIONS if registry is None else registry
    rank = {s.notebook: i for i, s in enumerate(report_order(reg.values()))}
    nbs = [p for p in (run_dir / "notebooks").glob("*.ipynb")]
    return sorted(nbs, key=lambda p: (rank.get(p.name, len(rank)), p.name))


def _render(run_dir: Path, context: dict[str, Any], *, editions: Sequence[str], formats: Sequence[str],
            client_dir: Path | None, config: Any = None,
            registry: Mapping[str, Section] | None = None) -> tuple[dict[str, Path], dict[str, float]]:
    """Every edition of the report of ``run_dir``; ``context`` is the manifest's ``report_context``,
    ``config`` the client's :class:`~cxaudit.config.AuditConfig` (branding and logo)."""
    branding = config.client.branding if config is not None else None
    logo = (paths.client_file(client_dir, branding.logo, file=str(client_dir / "audit.yaml"), key="client.branding.logo")
            if branding is not None and branding.logo and client_dir else None)
    period = context.get("period")
    outputs: dict[str, Path] = {}
    seconds: dict[str, float] = {}
    docs = [f for f in formats if f in ("html", "pdf")]  # pptx: the deck, below
    kwargs = {"client_name": context["client_name"], "lang": context["lang"], "branding": branding,
              "logo_path": logo, "period": (dt.date.fromisoformat(period[0]), dt.date.fromisoformat(period[1]))
              if period else None, "run_id": context["run_id"],
              "report_date": dt.date.fromisoformat(context["report_date"]), "formats": docs,
              "client_dir": client_dir, "notebooks": report_notebooks(run_dir, registry)}
    from .deck import write_deliverables  # tables.xlsx on every run; report.pptx with --format pptx

    todo = list(editions) if docs else []
    if len(todo) > 1 and "pdf" in docs:
        # WeasyPrint is single-threaded and takes most of the time: each edition (its HTML, then its PDF)
        # renders in a process of its own, while this one writes the tables and the deck
        with ProcessPoolExecutor(max_workers=min(len(todo), os.cpu_count() or 1)) as pool:
            futures = {e: pool.submit(_timed_report, run_dir, e, kwargs) for e in todo}
            outputs.update(write_deliverables(run_dir, context, formats, client_dir, branding))
            for edition, fut in futures.items():
                written, seconds[edition] = fut.result()
                outputs.update({_output_key(edition, k): v for k, v in written.items()})
        return outputs, seconds
    for edition in todo:
        written, seconds[edition] = _timed_report(run_dir, edition, kwargs)
        outputs.update({_output_key(edition, k): v for k, v in written.items()})
    outputs.update(write_deliverables(run_dir, context, formats, client_dir, branding))
    return outputs, seconds


def _timed_report(run_dir: Path, edition: str, kwargs: dict[str, Any]) -> tuple[dict[str, Path], float]:
    """One edition of the report (HTML and / or PDF) and the seconds it took."""
    from .report import build_report

    t0 = time.perf_counter()
    written = build_report(run_dir, edition=edition, **kwargs)
    return written, round(time.perf_counter() - t0, 3)


def _run_id(hashes: dict[str, str], params: dict[str, Any], now: dt.datetime) -> str:
    h = hashlib.sha256(json.dumps([hashes, params], sort_keys=True).encode()).hexdigest()[:8]
    return f"{now:%Y%m%dT%H%M%SZ}-{h}"


def _new_run_dir(root: Path, run_id: str) -> Path:
    """Create the run folder atomically; a folder already there (a concurrent run with the same inputs
    in the same second, or a leftover) is never reused: the id gets a ``-2``, ``-3``, … suffix."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        for k in range(1, 1000):
            candidate = root / (run_id if k == 1 else f"{run_id}-{k}")
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            return candidate
    except OSError as exc:  # read-only or not a folder: one line, not a traceback
        raise CxauditError(f"{root}: cannot write the run folder ({(exc.strerror or str(exc)).lower()}); "
                           "check the permissions of reports/ or set CXAUDIT_HOME") from None
    raise CxauditError(f"{root}: 999 runs named {run_id}; remove old run folders")


def _worker_init(parent_pid: int, warm_cwd: str | None = None) -> None:
    """A pool worker dies with the runner: the kernel's parent-death signal, and a check that the
    runner is still its parent (it may have died before the signal was armed). Kernels started by the
    worker exit when it does (ipykernel polls its parent, ``JPY_PARENT_PID``); a spare kernel is shut
    down when the worker exits normally. ``warm_cwd``: start a warm kernel there now."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)
    if warm_cwd is not None:
        from multiprocessing.util import Finalize

        Finalize(None, _stop_spares, exitpriority=10)  # run by multiprocessing when the worker exits
        _start_spare(warm_cwd)


class _Interrupted(Exception):
    """SIGTERM / SIGINT during a run."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_status(run_dir: Path) -> str:
    """A run's status: ``running``, ``complete``, ``failed`` or ``interrupted`` (see :data:`STATUSES`).

    A manifest that still says "running" while the process that wrote it is gone (same host) was
    killed outright: interrupted. A folder without a manifest is a run that died before writing one.
    Runs from before statuses were recorded say ``ok``, read as complete.
    """
    mf = Path(run_dir) / "manifest.json"
    if not mf.is_file():
        return "interrupted"
    try:
        manifest = json.loads(mf.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "interrupted"
    status = manifest.get("status", "interrupted")
    if status == "ok":
        return "complete"
    if status == "running":
        proc = manifest.get("process", {})
        if proc.get("host") == socket.gethostname() and not _pid_alive(int(proc.get("pid", 0)) or -1):
            return "interrupted"
    return status if status in STATUSES else "interrupted"


def _schedule(sections: list[Section], submit: Callable[[Section], Future], jobs: int,
              done_cb: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """Run ``sections`` (dependencies first) with at most ``jobs`` at a time: a section is submitted as
    soon as everything it depends on has finished. After a failure nothing new starts; running ones
    finish. Returns the records of the sections that ran."""
    keys = {s.key for s in sections}
    pending = list(sections)
    running: dict[Future, Section] = {}
    ok: set[str] = set()
    records: list[dict[str, Any]] = []
    failed = False
    while pending or running:
        if not failed:
            for sec in list(pending):
                if len(running) >= jobs:
                    break
                if all(d in ok or d not in keys for d in sec.depends_on):
                    pending.remove(sec)
                    running[submit(sec)] = sec
        if not running:
            break
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for fut in finished:
            sec = running.pop(fut)
            rec = fut.result()
            rec["section"] = sec.key
            records.append(rec)
            done_cb(rec)
            if rec["status"] == "ok":
                ok.add(sec.key)
            else:
                failed = True
    return records


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
    wave: str | None = None,
    registry: Mapping[str, Section] | None = None,
    warm_kernels: bool = True,
) -> RunResult:
    """Execute the sections for ``client`` into ``reports/<client>/<run-id>/`` and render the report.

    The data is read and validated once, here; the conformed tables and the exclusion log are written
    to ``<run-id>/tables/`` and every notebook reads them from there. Sections run as the registry
    (:mod:`cxaudit.sections`) orders them: independent ones in parallel (``jobs``), each after
    everything in its ``depends_on``. ``wave``: read the inputs of ``data/<client>/waves/<wave>/``.
    ``editions``: ``"full"`` (``report.*``), ``"brief"`` (``report-brief.*``), ``"both"`` or a
    sequence of them; every edition is rendered from the same executed notebooks.

    ``warm_kernels``: each worker starts the kernel of its next notebook ahead of time (see
    :func:`_start_spare`); ``False`` starts every kernel when its notebook starts (papermill's way).

    ``manifest.json`` is written when the run starts (status ``running``) and again when it ends
    (``complete``, ``failed`` or ``interrupted`` on SIGINT / SIGTERM); see :func:`run_status`.

    Raises
    ------
    ConfigError, DataError
        before any notebook runs, if the inputs are bad (validated once up front);
    NotebookError
        if a notebook fails (the first failing one, in dependency order).
    """
    paths.client_name(client)
    for fmt in formats:
        if fmt not in ("html", "pdf", "pptx"):
            raise CxauditError(f"unknown report format {fmt!r}; expected html, pdf and/or pptx")
    editions = edition_list(editions)
    if lang is not None and lang not in ("en", "ru", "pl"):
        raise CxauditError(f"unknown language {lang!r}; expected en, ru or pl")
    nb_dir = notebooks_dir or paths.NOTEBOOKS_DIR
    sections = plan(nb_dir, registry)
    # The workers, and a warm kernel in each, start now: they boot while the data is read and validated.
    pool = ProcessPoolExecutor(max_workers=max(1, jobs), initializer=_worker_init,
                               initargs=(os.getpid(), str(nb_dir) if warm_kernels else None))
    # Each table is written as soon as it is validated and dropped: this process never holds the data
    # while the notebooks run (at the XL size it held 5.2 GB through the run before, issue 19). Until the
    # tables are in the run folder, a failure (or Ctrl-C) must not leave them in this spill folder (GBs at
    # the XL size) nor the workers running (they stop their warm kernels as they exit).
    spill = paths.reports_root() / f".loading-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        for _ in range(max(1, jobs) if warm_kernels else 0):
            pool.submit(_noop)
        audit = load_audit(client, wave=wave, spill=spill)
        check_side_files(audit.dir, audit.config)  # rules, codeframe, commentary: a bad one stops the run here
        lang = lang or audit.language
        if lang not in ("en", "ru", "pl"):
            raise CxauditError(f"unknown language {lang!r}; expected en, ru or pl")

        started = dt.datetime.now(dt.UTC)
        hashes = audit.input_hashes()
        params_public = {"client": client, "lang": lang, "formats": list(formats), "timeout": timeout,
                         "editions": list(editions), **({"wave": wave} if wave is not None else {})}
        run_dir = _new_run_dir(paths.client_reports_dir(client), _run_id(hashes, params_public, started))
        run_id = run_dir.name
        (run_dir / "notebooks").mkdir()
        log = (run_dir / "log.txt").open("a", encoding="utf-8")

        def say(msg: str) -> None:
            log.write(f"{dt.datetime.now(dt.UTC):%H:%M:%S} {msg}\n")
            log.flush()

        manifest: dict[str, Any] = {
            "client": client,
            "run_id": run_id,
            "wave": wave,
            "started_utc": started.isoformat(),
            "process": {"pid": os.getpid(), "host": socket.gethostname()},
            "parameters": {**params_public, "jobs": jobs},
            "inputs_sha256": hashes,
            "versions": _versions(),
            "sections": [{"key": s.key, "notebook": s.notebook, "depends_on": list(s.depends_on)} for s in sections],
            "notebooks": [],
            "rows": audit.intake().to_dict("records"),
        }
        result = RunResult(client, run_id, run_dir, manifest=manifest)

        def write_manifest(status: str) -> None:
            manifest["status"] = status
            manifest["finished_utc"] = None if status == "running" else dt.datetime.now(dt.UTC).isoformat()
            tmp = run_dir / "manifest.json.tmp"
            tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
            tmp.replace(run_dir / "manifest.json")

        write_manifest("running")
        t0 = time.perf_counter()
        audit.save(run_dir / "tables")
        manifest["tables_seconds"] = round(time.perf_counter() - t0, 3)
    except BaseException:
        shutil.rmtree(spill, ignore_errors=True)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    period = data_period(audit)
    client_name, client_dir, config = audit.name, audit.dir, audit.config
    del audit  # the notebooks read the saved tables; nothing below needs the data
    release_memory()
    nb_params = {"client": client, "run_dir": str(run_dir), "lang": lang}
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(sections) + 1, desc=f"cxaudit {client}", unit="step",
                   disable=os.environ.get("CI") == "true" and not sys.stderr.isatty())
    say(f"run {run_id} of {client}: {len(sections)} sections, jobs={jobs}, lang={lang}"
        + (f", wave={wave}" if wave else ""))

    def done(rec: dict[str, Any]) -> None:
        say(f"{rec['notebook']}: {rec['status']} in {rec['seconds']} s"
            + (f", kernel peak {rec['peak_rss_mb'] / 1024:.2f} GiB" if rec.get("peak_rss_mb") else ""))
        if bar is not None:
            bar.set_postfix_str(rec["notebook"])
            bar.update(1)
        elif callable(progress):
            progress(f"{rec['notebook']}: {rec['status']}")

    def on_signal(signum: int, frame: Any) -> None:
        raise _Interrupted(signal.Signals(signum).name)

    main_thread = threading.current_thread() is threading.main_thread()
    saved = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM,)} if main_thread else {}
    submitted = [0]

    def submit(sec: Section) -> Future:
        submitted[0] += 1  # a worker warms a kernel for its next notebook only while some are left
        return pool.submit(_execute, str(nb_dir / sec.notebook), str(run_dir / "notebooks" / sec.notebook),
                           nb_params, timeout, str(nb_dir), warm_kernels and submitted[0] < len(sections))

    try:
        records = _schedule(sections, submit, max(1, jobs), done)
        pool.shutdown(wait=True)
    except (KeyboardInterrupt, _Interrupted) as exc:
        # Workers and their kernels must not outlive the run (they would keep writing into it).
        for proc in list(getattr(pool, "_processes", {}).values()):  # no public API for this
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        manifest["interrupted_by"] = type(exc).__name__ if isinstance(exc, KeyboardInterrupt) else str(exc)
        write_manifest("interrupted")
        say(f"INTERRUPTED ({manifest['interrupted_by']})")
        log.close()
        raise
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    order = {s.key: i for i, s in enumerate(sections)}
    records.sort(key=lambda r: order[r["section"]])
    manifest["notebooks"] = records
    failed = next((r for r in records if r["status"] != "ok"), None)

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
    # what `cxaudit report` needs to render this run again without reading the data
    manifest["report_context"] = {"client_name": client_name, "lang": lang, "run_id": run_id,
                                  "report_date": started.date().isoformat(),
                                  "period": [d.isoformat() for d in period] if period else None}
    result.outputs, seconds = _render(run_dir, manifest["report_context"], editions=editions, formats=formats,
                                      client_dir=client_dir, config=config, registry=registry)
    manifest["report"] = {"seconds": round(time.perf_counter() - t0, 3), "seconds_per_edition": seconds,
                          **{k: str(v.relative_to(run_dir)) for k, v in result.outputs.items()}}
    if bar is not None:
        bar.update(1)
        bar.close()
    write_manifest("complete")
    say(f"report written: {', '.join(str(p) for p in result.outputs.values())}")
    log.close()
    return result


def data_period(audit: Any) -> tuple[dt.date, dt.date] | None:
    """The cover's data period: first and last response date; without dated responses the survey's
    ``fieldwork`` period of audit.yaml, else the customers' own observation period (``churn.start`` /
    ``as_of``, or their churn dates; :func:`cxaudit.churn.time_basis`); None when nothing dates the data."""
    dates = audit.columns("responses", ["date"]).get("date") if audit.has("responses") else None
    if dates is not None:
        dates = dates.dropna()
        if len(dates):
            return dates.min().date(), dates.max().date()
    fieldwork = getattr(audit.config, "fieldwork", None)
    if fieldwork is not None:
        return fieldwork.start, fieldwork.end
    if audit.has("customers"):
        from .churn import time_basis

        if getattr(audit, "is_engine", lambda _t: False)("customers"):  # kept in the query engine (issue 19)
            from .churn import engine_time_basis

            basis = engine_time_basis(audit.engine_table("customers"), getattr(audit.config, "churn", None))
        else:
            basis = time_basis(audit.table("customers"), getattr(audit.config, "churn", None))
        if basis.window is not None:
            return basis.window.start.date(), basis.window.end.date()
    return None


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
        if fmt not in ("html", "pdf", "pptx"):
            raise CxauditError(f"unknown report format {fmt!r}; expected html, pdf and/or pptx")
    editions = edition_list(editions)
    runs_dir = paths.client_reports_dir(client)
    runs = sorted(p for p in runs_dir.glob("*") if (p / "manifest.json").is_file()) if runs_dir.is_dir() else []
    if run_id is None:
        ok = [p for p in runs if run_status(p) == "complete"]
        if not ok:
            raise CxauditError(f"no finished run of {client} in {runs_dir}; run `cxaudit run {client}` first")
        run_dir = ok[-1]
    else:
        found = next((p for p in runs if p.name == run_id), None)  # only names listed there: no path tricks
        if found is None:
            raise CxauditError(f"no run {run_id!r} of {client} in {runs_dir} (see `cxaudit list`)")
        run_dir = found
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    if run_status(run_dir) != "complete":
        raise CxauditError(f"run {run_dir.name} of {client} did not finish (status {run_status(run_dir)!r}); "
                           "nothing to render")
    context = manifest.get("report_context")
    client_dir = paths.client_dir(client)
    if context is None:  # a run made before report_context was recorded
        audit = load_audit(client)
        period = data_period(audit)
        context = {"client_name": audit.name, "lang": manifest["parameters"]["lang"], "run_id": run_dir.name,
                   "report_date": manifest["started_utc"][:10],
                   "period": [d.isoformat() for d in period] if period else None}
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
