"""Read-only SQL over an SQLite file shipped in a package (mendeleev's ``elements.db``).

Opened with ``mode=ro`` so a dataset can never write into the installed package.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def query(path: Path, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[str], list[tuple]]:
    """Column names and rows of one query on the read-only database at ``path``."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cur = con.execute(sql, params)
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()
