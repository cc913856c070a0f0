"""The HTML that objects show in a notebook (``_repr_html_``): a title, a line, a table.

It sits in the catalog layer so that catalog entries and everything above can use it; every
text goes through ``html.escape`` here.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

__all__ = ["html_card"]

_TH = "text-align:left;padding-right:1em;vertical-align:top"


def html_card(title: str, rows: Iterable[tuple[str, object]], *, subtitle: str = "") -> str:
    """A bold title, an optional grey line, and a two-column table of ``(name, value)`` rows.

    >>> html_card("Model <x>", [("r2", 0.99)], subtitle="gp")
    "<div><b>Model &lt;x&gt;</b><br><span style='color:grey'>gp</span><table><tr><th style='text-align:left;padding-right:1em;vertical-align:top'>r2</th><td>0.99</td></tr></table></div>"
    """
    cells = "".join(
        f"<tr><th style='{_TH}'>{html.escape(str(name))}</th><td>{html.escape(str(value))}</td></tr>"
        for name, value in rows
    )
    line = f"<br><span style='color:grey'>{html.escape(subtitle)}</span>" if subtitle else ""
    return f"<div><b>{html.escape(title)}</b>{line}<table>{cells}</table></div>"
