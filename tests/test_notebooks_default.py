"""Every notebook runs as an analyst opens it: default parameters, demo client, no papermill injection.

The demo client is generated on first use (``cx.start`` with ``client="demo"``), outputs go to
``reports/demo/interactive/``. Runs in a temporary ``CXAUDIT_HOME`` so the checkout is untouched. The
notebooks run in the registry's dependency order (as an analyst who runs a section after the ones it
depends on), so TO-BE sees every AS-IS finding and the sections after TO-BE see its plan.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cxaudit.runner import plan

pytestmark = pytest.mark.slow  # a notebook chain run (make test-slow)

NB_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = [NB_DIR / s.notebook for s in plan(NB_DIR)]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("CXAUDIT_HOME", str(home))  # the kernel inherits this environment
    yield home
    mp.undo()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_default_parameters(home: Path, path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert (home / "data" / "demo" / "audit.yaml").is_file()
    assert (home / "reports" / "demo" / "interactive").is_dir()
    if path.stem != "07_to_be":  # AS-IS notebooks write their findings file
        assert (home / "reports" / "demo" / "interactive" / "findings" / f"{path.stem}.json").is_file()
