"""The dependency lists of pyproject.toml and environment.yml agree, and the layout is as documented."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _norm(req: str) -> str:
    return req.replace(" ", "").lower()


def test_environment_yml_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pip_reqs = sorted(_norm(r) for r in pip if not r.startswith("-e"))
    assert pip_reqs == sorted(_norm(r) for r in project["dependencies"])
    assert "-e ." in pip, "environment.yml must install the package itself"
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    # the same Python range in both (tested on 3.11; conda would otherwise pick the newest Python)
    assert _norm(py.removeprefix("python")) == _norm(project["requires-python"]) == ">=3.11,<3.13"


def test_layout_and_notebooks_committed_clean() -> None:
    for name in ["notebooks", "cxaudit", "templates", "data", "reports", "tests", "bench", ".ci",
                 "environment.yml", "README.md", "ARCHITECTURE.md", "Makefile"]:
        assert (ROOT / name).exists(), name
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(nb_path.read_text())
        assert nb["metadata"]["kernelspec"]["name"] == "python3", nb_path.name  # papermill needs it
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), f"{nb_path.name} has outputs"
        tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{nb_path.name}: exactly one parameters cell"
        src = "".join(tagged[0]["source"])
        assert 'client = "demo"' in src and "run_dir = None" in src and "lang = None" in src


def test_notebooks_and_templates_ship_inside_the_package() -> None:
    from cxaudit import paths

    assert paths.NOTEBOOKS_DIR == ROOT / "cxaudit" / "notebooks" and paths.TEMPLATES_DIR == ROOT / "cxaudit" / "templates"
    # the checkout's top-level folders are links to them (the documented layout)
    assert (ROOT / "notebooks").resolve() == paths.NOTEBOOKS_DIR and (ROOT / "templates").resolve() == paths.TEMPLATES_DIR
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["cxaudit"]
    assert {"notebooks/*.ipynb", "templates/**/*", "resources/**/*", "i18n/*/*.yaml"} <= set(conf)


@pytest.mark.slow
def test_pip_install_non_editable_then_demo_and_run(tmp_path: Path) -> None:
    """``pip install .`` (a wheel, not editable) into a fresh virtualenv, then ``cxaudit demo`` and
    ``cxaudit run demo`` from an empty folder: the notebooks, the template and the resources come
    from the installed package. The new venv borrows the test environment's third-party packages
    through a path file (no download of ~800 MB); cxaudit itself is the fresh, non-editable copy."""
    import os
    import site
    import subprocess
    import sys

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # a plain path line: the test env's own .pth files (its editable cxaudit finder) are not processed
    Path(purelib, "_test_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CXAUDIT_HOME", "PYTHONPATH")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    # nbconvert's own templates are data files under the environment's share/jupyter, which a path file
    # does not bring along; a real install puts them in the new venv
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    build = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", str(ROOT)], env=env,
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stderr[-3000:]
    where = subprocess.run([str(py), "-c", "import cxaudit, cxaudit.paths as p; print(cxaudit.__file__); "
                            "print(p.NOTEBOOKS_DIR)"], env=env, cwd=tmp_path, capture_output=True, text=True)
    pkg_file, nb_dir = where.stdout.split()
    assert Path(pkg_file).is_relative_to(venv) and Path(nb_dir).is_relative_to(venv), where.stdout
    assert len(list(Path(nb_dir).glob("[0-9][0-9]_*.ipynb"))) == len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    work = tmp_path / "work"
    work.mkdir()
    cx = str(venv / "bin" / "cxaudit")
    demo = subprocess.run([cx, "demo", "--size", "small"], env=env, cwd=work, capture_output=True, text=True)
    assert demo.returncode == 0, demo.stderr[-2000:]
    run = subprocess.run([cx, "run", "demo", "--format", "html", "--jobs", "2"], env=env, cwd=work,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    reports = list((work / "reports" / "demo").glob("*/report.html"))
    assert len(reports) == 1 and reports[0].stat().st_size > 100_000
