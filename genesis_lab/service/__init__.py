"""The genesis service: the hub-managed REST API over the catalog, data, runs and the audit log.

Start it with ``python -m genesis_lab.service`` (the hub does, see :mod:`.hubconfig`).
"""

__all__: list[str] = []
