"""The package version: the one place it is written (pyproject.toml reads it; released in step with cfaig-core)."""

from __future__ import annotations

__version__ = "0.1.0"
