"""Shared fixtures: a throw-away client folder (``audit.yaml`` + input files) under ``tmp_path``."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

MakeClient = Callable[[Path, dict[str, str], str], Path]


def _make_client(tmp_path: Path, files: dict[str, str], yaml_text: str) -> Path:
    """Write ``files`` (name -> text) and ``audit.yaml`` into ``tmp_path/client``; return the folder.

    Text is written with ``newline=""`` so the bytes (and line numbers) are exactly the ones given.
    """
    folder = tmp_path / "client"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8", newline="")
    (folder / "audit.yaml").write_text(yaml_text, encoding="utf-8", newline="")
    return folder


@pytest.fixture
def make_client() -> MakeClient:
    """``make_client(tmp_path, {"r.csv": "..."}, "client: ...") -> Path`` of the client folder."""
    return _make_client


ROOT = Path(__file__).resolve().parent.parent
#: Where the shared demo run is cached: one folder per key (code + parameters), built under a lock.
RUN_CACHE = ROOT / ".pytest_cache" / "cxaudit-demo-run"
_CACHE_SUFFIXES = {".py", ".yaml", ".yml", ".ipynb", ".j2", ".css", ".json", ".txt", ".xsd"}


def _code_key(params: dict) -> str:
    """sha256 over every file of the package (code, notebooks, templates, catalogs) and ``params``:
    any change to what a run executes gives a new key, so a stale run is never reused."""
    h = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    pkg = ROOT / "cxaudit"
    for path in sorted(p for p in pkg.rglob("*") if p.is_file() and p.suffix in _CACHE_SUFFIXES
                       and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts):
        h.update(str(path.relative_to(pkg)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _build_demo_run(home: Path) -> None:
    from cxaudit.demo import generate_demo
    from cxaudit.errors import NotebookError
    from cxaudit.runner import run_audit

    mp = pytest.MonkeyPatch()
    mp.setenv("CXAUDIT_HOME", str(home))
    try:
        generate_demo(home / "data" / "demo", size="small", lang="en", seed=7)
        try:
            result = run_audit("demo", formats=("html", "pdf"), progress=False, timeout=300)
        except NotebookError as exc:  # the one-line message hides the kernel log tail CI needs
            pytest.fail(f"{exc}\n{exc.evalue}", pytrace=False)
    finally:
        mp.undo()
    (home / "DONE").write_text(result.run_id, encoding="utf-8")


@pytest.fixture(scope="session")
def small_demo_run():
    """One full chain run (HTML + PDF) on the small English demo, shared by every test and every xdist
    worker of the session: built once under a file lock in ``.pytest_cache/cxaudit-demo-run/<key>``
    (the key hashes the package's code and the parameters), reused while the code is unchanged.

    Yields ``(RunResult, client folder)``; ``CXAUDIT_HOME`` points at the cached work tree meanwhile.
    Tests only read it.
    """
    from filelock import FileLock

    from cxaudit.runner import RunResult

    key = _code_key({"size": "small", "lang": "en", "seed": 7, "formats": ["html", "pdf"]})
    RUN_CACHE.mkdir(parents=True, exist_ok=True)
    home = RUN_CACHE / key
    with FileLock(str(RUN_CACHE / f"{key}.lock")):
        if not (home / "DONE").is_file():
            if home.exists():  # a build that failed or was killed half-way
                shutil.rmtree(home)
            _build_demo_run(home)
    run_dir = home / "reports" / "demo" / (home / "DONE").read_text(encoding="utf-8").strip()
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    outputs = {k: run_dir / v for k, v in manifest["report"].items() if k in ("html", "pdf", "brief-html",
                                                                              "brief-pdf", "pptx", "xlsx")}
    mp = pytest.MonkeyPatch()
    mp.setenv("CXAUDIT_HOME", str(home))
    try:
        yield RunResult("demo", run_dir.name, run_dir, outputs=outputs, manifest=manifest), home / "data" / "demo"
    finally:
        mp.undo()
