"""The models shipped with genesis-lab (``genesis_lab.models`` entry points), one folder each.

Rebuild them with ``python -m genesis_lab.models.build`` (``genesis-lab model rebuild``).
"""

from genesis_lab.models.registry import ModelPlugin

__all__ = ["CEC_MODULE_PTC", "EXTRACTION_RECOVERY", "MELT_POOL_WIDTH"]

MELT_POOL_WIDTH = ModelPlugin("melt-pool-width")
EXTRACTION_RECOVERY = ModelPlugin("extraction-recovery")
CEC_MODULE_PTC = ModelPlugin("cec-module-ptc")
