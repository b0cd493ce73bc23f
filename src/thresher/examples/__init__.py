"""Bundled example datasets (see README.md in this folder for provenance)."""

from importlib.resources import files
from pathlib import Path


def path(name: str = "credit_default_scored.csv") -> Path:
    """Path of a bundled dataset file."""
    return Path(str(files(__package__) / name))
