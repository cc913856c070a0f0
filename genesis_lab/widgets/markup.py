"""The small pieces of HTML the widgets show: an error message and a two-column table.

Every text that reaches the page goes through ``html.escape`` here, so a widget cannot forget it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

__all__ = ["error_html", "table_html"]

ERROR_STYLE = "color:var(--jp-error-color1,#c00)"
HEADER_STYLE = "text-align:left;padding-right:1em;white-space:nowrap;vertical-align:top"


def error_html(message: object) -> str:
    """``message`` as red text (JupyterLab's error colour where the theme defines it).

    >>> error_html("s0 = -1 is out of bounds <0, 10>")
    "<span style='color:var(--jp-error-color1,#c00)'>s0 = -1 is out of bounds &lt;0, 10&gt;</span>"
    """
    return f"<span style='{ERROR_STYLE}'>{html.escape(str(message))}</span>"


def table_html(rows: Iterable[tuple[str, object]], *, value_class: str = "") -> str:
    """A table of ``(name, value)`` rows: the name as a left-aligned header, then the value.

    With ``value_class``, each value cell gets the class ``value_class + name`` (a hook for
    styles and browser tests).

    >>> table_html([("rmse", 0.12)], value_class="genesis-out-")
    "<table><tr><th style='text-align:left;padding-right:1em;white-space:nowrap;vertical-align:top'>rmse</th><td class='genesis-out-rmse'>0.12</td></tr></table>"
    """
    cells = []
    for name, value in rows:
        name = html.escape(name)
        cls = f" class='{html.escape(value_class)}{name}'" if value_class else ""
        cells.append(
            f"<tr><th style='{HEADER_STYLE}'>{name}</th>"
            f"<td{cls}>{html.escape(str(value))}</td></tr>"
        )
    return f"<table>{''.join(cells)}</table>"
