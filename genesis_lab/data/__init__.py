"""Open catalog datasets as ``xarray.Dataset``: package-shipped data, site files and remote URLs.

>>> import genesis_lab as gl
>>> ds = gl.open_dataset("nuclear-energy/neutron-scattering-lengths")  # doctest: +SKIP
"""

from genesis_lab.data.open import open_dataset
from genesis_lab.data.register import save_dataset

__all__ = ["open_dataset", "save_dataset"]
