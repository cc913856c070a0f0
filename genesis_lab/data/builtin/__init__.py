"""Built-in datasets, one module per Genesis Mission domain, read from data shipped in wheels.

Each module-level :class:`~genesis_lab.data.package.PackageDataset` is an entry point of the
``genesis_lab.datasets`` group (see pyproject.toml).
"""
