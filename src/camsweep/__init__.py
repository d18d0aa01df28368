"""camsweep: find, identify and remove restricted surveillance equipment."""

__version__ = "0.1.0"
