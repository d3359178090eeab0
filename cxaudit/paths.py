"""Every path cxaudit uses, in one place.

The notebooks and the report template ship inside the package (``cxaudit/notebooks``,
``cxaudit/templates``; the checkout's top-level ``notebooks/`` and ``templates/`` are links to them), so a
plain ``pip install .`` runs. The *work* tree (``data/``, ``reports/``) is ``$CXAUDIT_HOME`` when set, else
the checkout the package lives in (an editable install), else the current directory (an installed
package).

Client names are plain folder names. :func:`client_name` rejects anything that could make a path
escape ``data/`` or ``reports/`` (``..``, slashes, absolute paths, hidden names).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import ClientNameError

__all__ = [
    "PACKAGE_DIR",
    "SOURCE_ROOT",
    "RESOURCES_DIR",
    "NOTEBOOKS_DIR",
    "TEMPLATES_DIR",
    "home",
    "data_root",
    "reports_root",
    "client_name",
    "client_dir",
    "client_reports_dir",
    "client_file",
    "client_side_file",
]

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent
NOTEBOOKS_DIR = PACKAGE_DIR / "notebooks"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
RESOURCES_DIR = PACKAGE_DIR / "resources"

_CLIENT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def home() -> Path:
    """The work tree holding ``data/`` and ``reports/``: ``$CXAUDIT_HOME``, else the checkout of an
    editable install, else the current directory."""
    env = os.environ.get("CXAUDIT_HOME")
    if env:
        return Path(env).resolve()
    return SOURCE_ROOT if (SOURCE_ROOT / "pyproject.toml").is_file() else Path.cwd().resolve()


def data_root() -> Path:
    return home() / "data"


def reports_root() -> Path:
    return home() / "reports"


def client_name(name: str) -> str:
    """Return ``name`` if it is a safe client name, else raise :class:`ClientNameError`.

    Allowed: lower-case letters, digits, ``-`` and ``_``, starting with a letter or digit, at most
    63 characters. Examples
    --------
    >>> client_name("acme-2026")
    'acme-2026'
    """
    if not isinstance(name, str) or not _CLIENT_RE.fullmatch(name):
        raise ClientNameError(
            f"client name {name!r} is not allowed: use lower-case letters, digits, '-' or '_' "
            "(at most 63 characters), so the client stays inside data/ and reports/"
        )
    return name


def _inside(root: Path, name: str) -> Path:
    path = (root / client_name(name)).resolve()
    # A symlink planted inside data/ could still point elsewhere; refuse it.
    if not path.is_relative_to(root.resolve()):
        raise ClientNameError(f"client {name!r} resolves outside {root}")
    return path


def client_dir(name: str) -> Path:
    """``data/<name>`` for a safe client name."""
    return _inside(data_root(), name)


def client_reports_dir(name: str) -> Path:
    """``reports/<name>`` for a safe client name."""
    return _inside(reports_root(), name)


def client_file(folder: str | Path, name: str, *, file: str, key: str) -> Path:
    """``folder / name`` if it stays inside the client folder, else a :class:`ConfigError`.

    Every file a run reads from the client (inputs, ``branding.logo``, ``recommendations.rules_file``,
    ``rules.yaml``, ``codeframe.yaml``, ``commentary.yaml``) goes through here. Refused: absolute
    paths and ``..`` that lead outside ``folder``, and any symbolic link on the way (a link could
    point anywhere, and could be re-pointed after the check). The message names ``file`` and ``key``
    and never shows the content of the outside file. Whether the file exists is the caller's check.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> client_file(d, "exports/r.csv", file="audit.yaml", key="inputs.responses.file") == d.resolve() / "exports/r.csv"
    True
    >>> client_file(d, "../../etc/passwd", file="audit.yaml", key="inputs.responses.file")
    Traceback (most recent call last):
    ...
    cxaudit.errors.ConfigError: audit.yaml: key 'inputs.responses.file': '../../etc/passwd' is outside the client folder (give a file name inside it)
    """
    from .errors import ConfigError

    root = Path(folder).resolve()
    text = str(name)
    if "\x00" in text or not text.strip():
        raise ConfigError(file, key, f"{text!r} is not a file name")
    candidate = Path(os.path.normpath(root / text))  # lexical: '..' and absolute paths, links not followed
    if not candidate.is_relative_to(root) or candidate == root:
        raise ConfigError(file, key, f"{text!r} is outside the client folder (give a file name inside it)")
    at = root
    for part in candidate.relative_to(root).parts:
        at = at / part
        if at.is_symlink():
            raise ConfigError(file, key, f"{text!r} is a symbolic link ({at.relative_to(root)}); "
                                         "copy the file into the client folder instead")
    if candidate.resolve() != candidate:  # belt and braces: nothing above may have redirected it
        raise ConfigError(file, key, f"{text!r} is outside the client folder (give a file name inside it)")
    return candidate


def client_side_file(folder: str | Path, name: str) -> Path | None:
    """An optional side file of the client (``rules.yaml``, ``codeframe.yaml``, ``commentary.yaml``):
    its path when present, ``None`` when absent; a :class:`ConfigError` when it is a symbolic link
    (see :func:`client_file`)."""
    path = client_file(folder, name, file=str(Path(folder) / name), key="")
    return path if path.is_file() else None
