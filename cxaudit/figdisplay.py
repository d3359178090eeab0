"""Figures reach the report as images, whatever backend the environment sets, or the run fails.

A Jupyter kernel shows a matplotlib ``Figure`` as a PNG only when the inline backend registered
IPython's PNG formatter. With ``MPLBACKEND=Agg`` in the environment (common on servers and in CI)
the kernel keeps Agg, no formatter is registered, and ``display(fig)`` emits only the text
``<Figure size 825x396 with 1 Axes>``: every chart silently vanished from the report.

* :func:`install` (called by :func:`cxaudit.session.start`) switches a kernel to the inline backend
  and registers :func:`figure_png` as the ``image/png`` formatter of ``Figure``; the PNG is the one
  the inline backend makes (``IPython.core.pylabtools.print_figure``, ``bbox_inches="tight"``), after
  every text of the figure (titles, tick and axis labels, legends, annotations) went through
  :func:`cxaudit.pii.redact_value`, so a segment value with personal data in it is not drawn.
* :func:`lost_figures` / :func:`check_figures` find outputs that are a figure's text form without
  an image; the report refuses such a notebook (:class:`~cxaudit.errors.CxauditError`) instead of
  rendering a report without the chart.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import CxauditError

__all__ = ["FIGURE_TEXT", "install", "figure_png", "redact_figure_text", "lost_figures", "check_figures"]

#: The ``text/plain`` repr of a matplotlib figure (``Figure.__repr__``).
FIGURE_TEXT = re.compile(r"^<(?:Figure|matplotlib\.figure\.\w+) size \d+(?:\.\d+)?x\d+(?:\.\d+)? with \d+ Axes>$")
_IMAGE_MIME = ("image/png", "image/svg+xml", "image/jpeg")
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def redact_figure_text(fig: Any) -> int:
    """Redact personal data in every text of ``fig`` in place; returns how many texts changed."""
    from matplotlib.text import Text

    from .pii import redact_value

    changed = 0
    for ax in fig.axes:  # tick labels are re-made from the axis formatters at every draw
        for axis in (ax.xaxis, ax.yaxis):
            for fmt in (axis.get_major_formatter(), axis.get_minor_formatter()):
                if not getattr(fmt, "_cx_redacted", False):
                    fmt.format_ticks = _redacting(fmt.format_ticks)
                    fmt._cx_redacted = True
    for artist in fig.findobj(Text):
        text = artist.get_text()
        if text:
            red = redact_value(text)
            if red != text:
                artist.set_text(red)
                changed += 1
    return changed


def _redacting(format_ticks: Any) -> Any:
    from .pii import redact_value

    def format_ticks_redacted(values: Any) -> list[str]:
        return [redact_value(label) for label in format_ticks(values)]

    return format_ticks_redacted


def figure_png(fig: Any) -> str:
    """Base64 PNG of ``fig`` exactly as the inline backend makes it, texts redacted first."""
    from IPython.core.pylabtools import print_figure

    redact_figure_text(fig)
    return print_figure(fig, fmt="png", base64=True, bbox_inches="tight")


def install(shell: Any = None) -> bool:
    """In an IPython kernel: inline backend (whatever ``MPLBACKEND`` says) and :func:`figure_png` as
    the PNG formatter of figures. Outside IPython (a script, a test): nothing; returns ``False``."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython is a dependency
            return False
        shell = get_ipython()
    if shell is None:
        return False
    import matplotlib
    from matplotlib.figure import Figure

    if getattr(shell, "kernel", None) is not None and matplotlib.get_backend() != INLINE_BACKEND:
        shell.run_line_magic("matplotlib", "inline")
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    return True


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def lost_figures(nb: Any) -> list[int]:
    """Indices of code cells with an output that is a figure's text repr and carries no image."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = o.get("data", {})
            if any(m in data for m in _IMAGE_MIME):
                continue
            if FIGURE_TEXT.match(_text(data.get("text/plain")).strip()):
                out.append(i)
                break
    return out


def check_figures(nb: Any, name: str) -> None:
    """Raise a one-line :class:`CxauditError` when a figure of notebook ``name`` lost its image."""
    lost = lost_figures(nb)
    if lost:
        cells = ", ".join(str(i) for i in lost[:5]) + (" ..." if len(lost) > 5 else "")
        raise CxauditError(
            f"notebook {name}: {len(lost)} figure(s) reached the report as text without an image "
            f"(cell {cells}); the kernel had no PNG formatter for figures (MPLBACKEND="
            f"{_backend_env()!r}?) -- run again after `cxaudit.session.start` installs it")


def _backend_env() -> str:
    import os

    return os.environ.get("MPLBACKEND", "")
