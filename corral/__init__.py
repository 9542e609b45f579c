"""corral: run services as N workers each, keep them alive, drive them from a terminal."""

__version__ = "0.1.0"
