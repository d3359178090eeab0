"""The dependency lists of pyproject.toml and environment.yml agree, and the layout is as documented."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

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
