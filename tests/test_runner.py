"""The runner: a failing notebook stops the chain with one clear message; outputs are kept."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from cxaudit import paths
from cxaudit.cli import main
from cxaudit.errors import NotebookError
from cxaudit.runner import run_audit

META = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}


def _nb(path: Path, *sources: str) -> None:
    params = new_code_cell('client = "demo"\nrun_dir = None\nlang = None')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, *(new_code_cell(s) for s in sources)], metadata=META)
    nbformat.write(nb, path)


@pytest.fixture
def chain_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    folder = home / "data" / "acme"
    folder.mkdir(parents=True)
    (folder / "r.csv").write_text("response_id,date,nps\nR1,2025-01-01,9\nR2,2025-01-02,3\n")
    (folder / "audit.yaml").write_text("client: {name: Acme}\ninputs: {responses: {file: r.csv}}\n")
    monkeypatch.setenv("CXAUDIT_HOME", str(home))
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
