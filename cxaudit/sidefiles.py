"""Check every client file that shapes a run besides the inputs, before any notebook runs.

``rules.yaml`` (or ``recommendations.rules_file``) and the inline ``recommendations`` of
``audit.yaml``, ``codeframe.yaml`` and ``commentary.yaml`` / ``.md`` were first read by notebooks 05
and 07, so a mistake in them surfaced a minute into a run as a failed notebook (exit 5).
:func:`check_side_files` parses them with the same functions those notebooks use, so ``cxaudit
validate`` (and a runner that calls it first) reports them as a one-line
:class:`~cxaudit.errors.ConfigError` (exit 2). Which files exist is
:func:`cxaudit.config.side_files` (also hashed into the run manifest and the run id).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import LANGUAGES, side_files

__all__ = ["check_side_files"]


def check_side_files(folder: str | Path, config: Any) -> list[str]:
    """Parse the client's rules, codeframe and commentary; return the names of the files checked.

    Raises
    ------
    ConfigError
        Naming the file and the key, as the notebooks would have (or for a symbolic link / a path
        outside the client folder, see :func:`cxaudit.paths.client_file`).
    """
    from .recommend import load_commentary, rulebook
    from .text import load_codeframe

    folder = Path(folder)
    files = side_files(folder, config)
    rulebook(folder, config)  # built-in + client rules file + inline recommendations of audit.yaml
    if "codeframe.yaml" in files:
        load_codeframe(files["codeframe.yaml"])
    for lang in LANGUAGES:
        load_commentary(folder, lang)
    return sorted(files)
