"""Steward: DevOps for data products.

The package top level stays light: ``steward --help`` must start fast, so heavy
libraries are imported where they are used.
"""

from steward.api import model, product

__all__ = ["model", "product", "__version__"]
__version__ = "0.1.0"
