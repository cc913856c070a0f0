"""The yearly report of the programme: records gathered from the platform, rendered as HTML/PDF/JSON.

>>> from genesis_lab.report import collect, render
>>> text = render(collect("2026-01-01", "2026-12-31"), "json")
"""

from __future__ import annotations

from genesis_lab.report.collect import Report, collect
from genesis_lab.report.render import FORMATS, render

__all__ = ["FORMATS", "Report", "collect", "render"]
