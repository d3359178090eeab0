"""Shared fixtures: a throw-away client folder (``audit.yaml`` + input files) under ``tmp_path``."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def small_demo_run(tmp_path_factory: pytest.TempPathFactory):
    """One full chain run (HTML + PDF) on the small English demo in a temporary ``CXAUDIT_HOME``.

    Yields ``(RunResult, client folder)``. Session-scoped: test files on the same xdist worker share it.
    """
    from cxaudit.demo import generate_demo
    from cxaudit.errors import NotebookError
    from cxaudit.runner import run_audit

    home = tmp_path_factory.mktemp("demo-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("CXAUDIT_HOME", str(home))
    try:
        generate_demo(home / "data" / "demo", size="small", lang="en", seed=7)
        try:
            result = run_audit("demo", formats=("html", "pdf"), progress=False, timeout=300)
        except NotebookError as exc:  # the one-line message hides the kernel log tail CI needs
            pytest.fail(f"{exc}\n{exc.evalue}", pytrace=False)
        yield result, home / "data" / "demo"
    finally:
        mp.undo()
