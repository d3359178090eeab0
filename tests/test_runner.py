"""The runner: a failing notebook stops the chain with one clear message; outputs are kept."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from cxaudit import paths, runner
from cxaudit.cli import main
from cxaudit.errors import CxauditError, NotebookError
from cxaudit.runner import run_audit
from cxaudit.sections import Section

# The toy chain's registry: two independent sections, a final one after both.
TOY = {s.key: s for s in (
    Section("ok", "01_ok.ipynb", "toy", "toy", order=1),
    Section("broken", "02_broken.ipynb", "toy", "toy", order=2),
    Section("slow", "02_slow.ipynb", "toy", "toy", order=2),
    Section("final", "07_final.ipynb", "toy", "toy", depends_on=("ok", "broken", "slow"), order=9),
)}

META = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}


def _nb(path: Path, *sources: str) -> None:
    params = new_code_cell('client = "demo"\nrun_dir = None\nlang = None')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, *(new_code_cell(s) for s in sources)], metadata=META)
    nbformat.write(nb, path)


def _acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A two-response client ``acme`` in a temporary ``CXAUDIT_HOME``; returns its folder."""
    home = tmp_path / "home"
    folder = home / "data" / "acme"
    folder.mkdir(parents=True)
    (folder / "r.csv").write_text("response_id,date,nps\nR1,2025-01-01,9\nR2,2025-01-02,3\n")
    (folder / "audit.yaml").write_text("client: {name: Acme}\ninputs: {responses: {file: r.csv}}\n")
    monkeypatch.setenv("CXAUDIT_HOME", str(home))
    return folder


@pytest.fixture
def chain_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _acme(tmp_path, monkeypatch)
    monkeypatch.setattr(runner, "SECTIONS", TOY)
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _nb(nbs / "01_ok.ipynb", "import pathlib\npathlib.Path(run_dir, 'ok.txt').write_text('ran')")
    _nb(nbs / "02_broken.ipynb", "x = 1", "y = 2", "raise ZeroDivisionError('planted failure')", "z = 3")
    _nb(nbs / "07_final.ipynb", "import pathlib\npathlib.Path(run_dir, 'final.txt').write_text('ran')")
    return nbs


def test_failing_notebook_names_notebook_and_cell_and_keeps_outputs(chain_dir: Path) -> None:
    with pytest.raises(NotebookError) as info:
        run_audit("acme", notebooks_dir=chain_dir, formats=("html",), progress=False, timeout=60)
    err = info.value
    # cell 1 = parameters, 2 = injected parameters (papermill), 3 = x, 4 = y, 5 = the raise
    assert err.notebook == "02_broken.ipynb" and err.cell == 5
    assert str(err).startswith("notebook 02_broken.ipynb failed in cell 5: ZeroDivisionError: planted failure")
    assert err.exit_code == 5
    run_dir = Path(err.output).parent.parent
    executed = nbformat.read(err.output, as_version=4)
    assert any("papermill-error-cell-tag" in c.metadata.get("tags", []) for c in executed.cells)
    assert (run_dir / "ok.txt").read_text() == "ran"  # the independent notebook finished
    assert not (run_dir / "final.txt").exists()  # the dependent one never started
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert {r["notebook"]: r["status"] for r in manifest["notebooks"]} == {
        "01_ok.ipynb": "ok", "02_broken.ipynb": "failed"}
    assert not (run_dir / "report.html").exists()


def test_cli_exit_code_and_single_line_for_failing_notebook(chain_dir: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "NOTEBOOKS_DIR", chain_dir)
    res = CliRunner().invoke(main, ["run", "acme", "--format", "html", "--timeout", "60"])
    assert res.exit_code == 5
    err_lines = [ln for ln in res.output.splitlines() if ln.startswith("cxaudit: error:")]
    assert len(err_lines) == 1 and "Traceback" not in res.output
    assert "02_broken.ipynb failed in cell 5: ZeroDivisionError: planted failure" in err_lines[0]


def test_timeout_is_enforced(chain_dir: Path) -> None:
    (chain_dir / "02_broken.ipynb").unlink()
    _nb(chain_dir / "02_slow.ipynb", "import time\ntime.sleep(30)")
    with pytest.raises(NotebookError) as info:
        run_audit("acme", notebooks_dir=chain_dir, formats=("html",), progress=False, timeout=10)
    assert info.value.notebook == "02_slow.ipynb"
    assert "Timeout" in info.value.ename or "timed out" in str(info.value).lower()


def _flaky_start(fail_times: int, calls: list[int]):
    """A stand-in for papermill.execute_notebook whose kernel dies at start ``fail_times`` times."""
    def execute(src, dst, **kwargs):  # noqa: ANN001, ANN003, ANN202
        calls.append(1)
        if len(calls) <= fail_times:
            raise RuntimeError("Kernel died before replying to kernel_info")
        Path(dst).write_text("{}")
    return execute


@pytest.mark.parametrize(("fail_times", "status", "starts"), [(0, "ok", 1), (2, "ok", 3), (5, "failed", 3)])
def test_kernel_start_failure_is_retried_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      fail_times: int, status: str, starts: int) -> None:
    import papermill

    from cxaudit import runner

    calls: list[int] = []
    monkeypatch.setattr(papermill, "execute_notebook", _flaky_start(fail_times, calls))
    monkeypatch.setattr(runner.time, "sleep", lambda s: None)
    dst = tmp_path / "01_x.ipynb"
    rec = runner._execute("01_x.ipynb", str(dst), {}, 60, str(tmp_path))
    assert (rec["status"], rec["kernel_starts"], len(calls)) == (status, starts, starts)
    log = dst.with_suffix(".kernel.log").read_text()
    assert log.count("retrying") == min(fail_times, runner.KERNEL_START_ATTEMPTS - 1)
    if status == "failed":
        assert rec["cell"] is None and rec["ename"] == "RuntimeError"
        # the error carries where to look and what the kernel said last
        assert "after 3 kernel start(s)" in rec["evalue"] and str(dst.with_suffix(".kernel.log")) in rec["evalue"]
        assert "kernel start 2 failed" in rec["evalue"]


def test_failure_inside_a_cell_is_not_retried(chain_dir: Path) -> None:
    with pytest.raises(NotebookError):
        run_audit("acme", notebooks_dir=chain_dir, formats=("html",), progress=False, timeout=60)
    run_dir = next((Path(paths.client_reports_dir("acme"))).iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert {r["notebook"]: r["kernel_starts"] for r in manifest["notebooks"]} == {
        "01_ok.ipynb": 1, "02_broken.ipynb": 1}


# --- the section registry, run status, collisions, workers that die with the runner (issues 12, 15) ---

_FINDING = """import pathlib
from cxaudit.findings import Finding, write_findings
d = pathlib.Path(run_dir, 'findings')
seen = sorted(p.stem for p in d.glob('*.json')) if d.is_dir() else []
write_findings(run_dir, '{stem}', [Finding('{key}.x', '{key}', 't', 'm', 1.0, 1, evidence={{'seen': seen}})])
"""


def _registry_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, Section]]:
    _acme(tmp_path, monkeypatch)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    # file names say nothing about order: the toy section is numbered after TO-BE on purpose
    for stem, key in (("01_asis", "asis"), ("07_to_be", "to_be"), ("09_toy", "toy")):
        _nb(nbs / f"{stem}.ipynb", "import time; time.sleep(0.5)" if key == "asis" else "pass",
            _FINDING.format(stem=stem, key=key))
    reg = {s.key: s for s in (
        Section("asis", "01_asis.ipynb", "toy", "toy", order=10),
        Section("toy", "09_toy.ipynb", "toy", "toy", depends_on=("asis",), order=20),
        Section("to_be", "07_to_be.ipynb", "toy", "toy", depends_on=("asis", "toy"), order=100),
    )}
    return nbs, reg


def test_toy_section_is_scheduled_from_the_registry_and_to_be_sees_its_findings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbs, reg = _registry_chain(tmp_path, monkeypatch)
    result = run_audit("acme", notebooks_dir=nbs, registry=reg, formats=("html",), progress=False, timeout=60,
                       jobs=2)
    findings = {p.stem: json.loads(p.read_text())[0]["evidence"] for p in (result.run_dir / "findings").glob("*.json")}
    # the toy section started after the AS-IS one, TO-BE after both: it saw their findings on disk
    assert findings["09_toy"]["seen"] == ["01_asis"]
    assert findings["07_to_be"]["seen"] == ["01_asis", "09_toy"]
    m = json.loads((result.run_dir / "manifest.json").read_text())
    assert [r["section"] for r in m["notebooks"]] == ["asis", "toy", "to_be"]
    assert m["status"] == "complete"
    # the report shows sections in registry order, not file order
    assert [p.name for p in runner.report_notebooks(result.run_dir, reg)] == [
        "01_asis.ipynb", "09_toy.ipynb", "07_to_be.ipynb"]
    # the data was validated once and saved for the notebooks
    assert (result.run_dir / "tables" / "responses.parquet").is_file()


def test_a_notebook_missing_from_the_registry_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbs, reg = _registry_chain(tmp_path, monkeypatch)
    _nb(nbs / "08_personas.ipynb", "pass")
    with pytest.raises(CxauditError, match="08_personas.ipynb not in the section registry"):
        runner.plan(nbs, reg)


def test_run_ids_are_unique_and_an_existing_folder_is_never_reused(tmp_path: Path) -> None:
    import threading

    root = tmp_path / "runs"
    (root / "20260101T000000Z-abcd1234").mkdir(parents=True)  # a leftover empty folder
    made: list[Path] = []
    threads = [threading.Thread(target=lambda: made.append(runner._new_run_dir(root, "20260101T000000Z-abcd1234")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({p.name for p in made}) == 8
    assert "20260101T000000Z-abcd1234" not in {p.name for p in made}


def test_unwritable_reports_folder_is_one_line(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:  # root writes anywhere: make the path a file instead
        (tmp_path / "ro").write_text("")
        with pytest.raises(CxauditError, match="cannot write the run folder"):
            runner._new_run_dir(tmp_path / "ro" / "runs", "x")
        return
    (tmp_path / "ro").mkdir(mode=0o500)
    with pytest.raises(CxauditError, match="cannot write the run folder"):
        runner._new_run_dir(tmp_path / "ro" / "runs", "x")


def test_a_running_manifest_whose_process_is_gone_reads_interrupted(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    home = tmp_path / "home"
    (home / "data" / "acme").mkdir(parents=True)
    (home / "data" / "acme" / "audit.yaml").write_text("client: {name: Acme}\ninputs: {}\n")
    monkeypatch.setenv("CXAUDIT_HOME", str(home))
    runs = home / "reports" / "acme"
    for name, status, pid in (("20260101T000000Z-a", "complete", 1), ("20260102T000000Z-b", "failed", 1),
                              ("20260103T000000Z-c", "running", dead.pid)):
        (runs / name).mkdir(parents=True)
        (runs / name / "manifest.json").write_text(json.dumps(
            {"status": status, "process": {"pid": pid, "host": socket.gethostname()}}))
    (runs / "20260104T000000Z-d").mkdir()  # died before writing a manifest
    assert [runner.run_status(p) for p in sorted(runs.iterdir())] == [
        "complete", "failed", "interrupted", "interrupted"]
    out = CliRunner().invoke(main, ["list"]).output
    assert "4 run(s) (1 complete, 1 failed, 2 interrupted)" in out and "last: 20260104T000000Z-d (interrupted)" in out


_RUN_SCRIPT = """
import sys
from cxaudit.runner import run_audit
from cxaudit.sections import Section
reg = {{"slow": Section("slow", "01_slow.ipynb", "toy", "toy")}}
run_audit("acme", notebooks_dir=__import__("pathlib").Path({nbs!r}), registry=reg, formats=("html",),
          progress=False, timeout=120, jobs=1)
"""


def _start_sleeping_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN202
    import os
    import subprocess
    import sys
    import time

    home = tmp_path / "home"
    (home / "data" / "acme").mkdir(parents=True)
    (home / "data" / "acme" / "r.csv").write_text("response_id,date,nps\nR1,2025-01-01,9\n")
    (home / "data" / "acme" / "audit.yaml").write_text("client: {name: Acme}\ninputs: {responses: {file: r.csv}}\n")
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    pids = tmp_path / "pids.txt"
    _nb(nbs / "01_slow.ipynb", f"import os, time\nopen({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{os.getppid()}}')\n"
        "time.sleep(90)")
    env = {**os.environ, "CXAUDIT_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-c", _RUN_SCRIPT.format(nbs=str(nbs))], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 90
    while not (pids.exists() and pids.read_text().strip()) and time.time() < deadline:
        time.sleep(0.2)
    assert pids.exists(), "the notebook never started"
    kernel, worker = (int(x) for x in pids.read_text().split())
    return proc, kernel, worker, home


def _gone(pid: int, within: float = 15) -> bool:
    import os
    import time

    deadline = time.time() + within
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # a zombie counts as gone: it runs nothing and holds nothing
        try:
            if open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z":
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_kill_9_of_the_runner_takes_workers_and_kernels_with_it(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal

    proc, kernel, worker, home = _start_sleeping_run(tmp_path, monkeypatch)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _gone(worker), "the pool worker outlived the runner"
    assert _gone(kernel), "the kernel outlived the runner"
    run_dir = next((home / "reports" / "acme").iterdir())
    assert runner.run_status(run_dir) == "interrupted"


@pytest.mark.slow
def test_sigterm_marks_the_run_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal

    proc, kernel, worker, home = _start_sleeping_run(tmp_path, monkeypatch)
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    run_dir = next((home / "reports" / "acme").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["interrupted_by"] == "SIGTERM"
    assert _gone(worker) and _gone(kernel)


def test_a_bad_rules_yaml_stops_the_run_before_any_notebook(chain_dir: Path) -> None:
    from cxaudit.errors import ConfigError

    folder = paths.client_dir("acme")
    (folder / "rules.yaml").write_text("rules: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="rules.yaml"):
        run_audit("acme", notebooks_dir=chain_dir, formats=("html",), progress=False, timeout=60)
    assert not paths.client_reports_dir("acme").exists()  # no run folder, no notebook ran


WARM = {s.key: s for s in (
    Section("a", "01_a.ipynb", "toy", "toy", order=1),
    Section("b", "02_b.ipynb", "toy", "toy", depends_on=("a",), order=2),
    Section("c", "03_c.ipynb", "toy", "toy", depends_on=("b",), order=3),
)}

# Each toy notebook records its kernel's pid, whether the package was already imported when its first
# cell ran, and whether a name set by the notebook before it is visible (it must not be).
_PROBE = ("import os, sys, json, pathlib\n"
          "seen = {'pid': os.getpid(), 'preloaded': 'cxaudit' in sys.modules, 'leak': 'LEAK' in globals()}\n"
          "LEAK = 1\n"
          "pathlib.Path(run_dir, '{name}'[:-6] + '.json').write_text(json.dumps(seen))")


@pytest.mark.parametrize("warm", [True, False])
def test_warm_kernels_are_fresh_per_notebook_preloaded_and_shut_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     warm: bool) -> None:
    import time

    _acme(tmp_path, monkeypatch)
    monkeypatch.setattr(runner, "SECTIONS", WARM)
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    for sec in WARM.values():
        _nb(nbs / sec.notebook, _PROBE.replace("{name}", sec.notebook))
    res = run_audit("acme", notebooks_dir=nbs, formats=("html",), progress=False, jobs=1, warm_kernels=warm)
    seen = {k: json.loads((res.run_dir / f"{s.notebook[:-6]}.json").read_text()) for k, s in WARM.items()}
    # one worker ran all three: each in a kernel of its own, nothing carried over from the one before
    assert len({s["pid"] for s in seen.values()}) == 3
    assert not any(s["leak"] for s in seen.values())
    # warm: the common imports had run before the notebook's first cell; cold: they had not
    assert all(s["preloaded"] is warm for s in seen.values())
    assert [r["warm_kernel"] for r in res.manifest["notebooks"]] == [warm] * 3
    deadline = time.monotonic() + 10  # every kernel, and no spare left behind, is gone after the run
    alive = [s["pid"] for s in seen.values()]
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if runner._pid_alive(p)]
        time.sleep(0.2)
    assert alive == []


def test_each_notebook_records_its_kernels_peak_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A notebook that holds a planted 400 MB array shows at least 300 MB more kernel peak than one that
    holds nothing (manifest ``peak_rss_mb`` and the run log)."""
    _acme(tmp_path, monkeypatch)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _nb(nbs / "01_small.ipynb", "import time; time.sleep(1.5)")
    _nb(nbs / "02_big.ipynb", "import time\nimport numpy as np\na = np.ones(50_000_000)\ntime.sleep(1.5)\nprint(a.sum())")
    reg = {s.key: s for s in (Section("small", "01_small.ipynb", "toy", "toy", order=1),
                              Section("big", "02_big.ipynb", "toy", "toy", depends_on=("small",), order=2))}
    result = run_audit("acme", notebooks_dir=nbs, registry=reg, formats=("html",), progress=False, timeout=60,
                       jobs=1, warm_kernels=False)
    peak = {r["section"]: r["peak_rss_mb"] for r in json.loads((result.run_dir / "manifest.json").read_text())["notebooks"]}
    assert peak["small"] > 20  # a kernel was seen at all
    assert peak["big"] - peak["small"] > 300
    assert "02_big.ipynb: ok in" in (result.run_dir / "log.txt").read_text() and "kernel peak" in (
        result.run_dir / "log.txt").read_text()


@pytest.mark.parametrize("where", ["language", "save"])
def test_a_failure_before_the_tables_are_in_the_run_leaves_no_spill_folder(
        where: str, chain_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner writes each validated table to reports/.loading-* and moves them into the run; a failure
    in between (a bad language, a failing save) removes that folder and re-raises."""
    from cxaudit.audit import Audit

    kwargs: dict = {"lang": "xx"} if where == "language" else {}
    if where == "save":
        def broken(self: Audit, folder: Path) -> Path:
            raise OSError("disk full (planted)")
        monkeypatch.setattr(Audit, "save", broken)
    with pytest.raises((CxauditError, OSError)):
        run_audit("acme", notebooks_dir=chain_dir, formats=("html",), progress=False, timeout=60, **kwargs)
    assert not list(paths.reports_root().glob(".loading-*"))
