"""The one place cxaudit reads YAML a user wrote: ``audit.yaml``, ``rules.yaml``, ``codeframe.yaml``,
``commentary.yaml`` and the package's own resources.

What it refuses, each with a one-line :class:`~cxaudit.errors.ConfigError` naming the file:

* files larger than :data:`MAX_BYTES` (1 MB; the largest real one, the shipped rules library, is
  43 kB);
* anchors and aliases (``&a`` / ``*a``): the "billion laughs" alias bomb expands a few hundred bytes
  into gigabytes of nested lists (OWASP, *XML/YAML entity expansion*; PyYAML's ``SafeLoader`` does
  not limit it). No cxaudit file needs them;
* a key given twice in one mapping (PyYAML silently keeps the last one);
* tags that construct objects (``!!python/...``): the loader derives from ``yaml.SafeLoader``;
* text that is not UTF-8.

Examples
--------
>>> load_yaml_text("a: 1\\nb: [x, y]\\n", "f.yaml")
{'a': 1, 'b': ['x', 'y']}
>>> load_yaml_text("a: &x [1]\\nb: *x\\n", "f.yaml")
Traceback (most recent call last):
...
cxaudit.errors.ConfigError: f.yaml: not valid YAML at line 1, column 4: anchors and aliases (&name, *name) are not allowed
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

__all__ = ["MAX_BYTES", "SafeLoader", "load_yaml", "load_yaml_text", "read_text_capped"]

#: Largest YAML (or commentary) file cxaudit reads.
MAX_BYTES = 1_000_000


class SafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` without anchors/aliases and without duplicate keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:  # noqa: D102
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # PyYAML's own construct_mapping reports an unhashable key
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_text_capped(path: str | Path, *, file: str | None = None, max_bytes: int = MAX_BYTES) -> str:
    """UTF-8 text of ``path``, refusing files over ``max_bytes`` (a :class:`ConfigError` naming ``file``)."""
    path = Path(path)
    shown = file or str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ConfigError(shown, "", f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    if size > max_bytes:
        raise ConfigError(shown, "", f"file too large ({size:,} bytes; at most {max_bytes:,})")
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(shown, "", f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(data) > max_bytes:  # grew since stat, or a special file
        raise ConfigError(shown, "", f"file too large (more than {max_bytes:,} bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(shown, "", "not UTF-8 text") from None


def load_yaml_text(text: str, file: str, *, max_bytes: int = MAX_BYTES) -> Any:
    """Parse YAML ``text`` (from ``file``, named in errors) with :class:`SafeLoader`."""
    if len(text.encode("utf-8")) > max_bytes:
        raise ConfigError(file, "", f"file too large (more than {max_bytes:,} bytes)")
    try:
        return yaml.load(text, Loader=SafeLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(file, "", f"not valid YAML{where}: {problem}") from None


def load_yaml(path: str | Path, *, file: str | None = None, max_bytes: int = MAX_BYTES) -> Any:
    """Read and parse a YAML file: size cap, no aliases, no duplicate keys, safe tags only."""
    shown = file or str(path)
    return load_yaml_text(read_text_capped(path, file=shown, max_bytes=max_bytes), shown, max_bytes=max_bytes)
