"""The package version, which also feeds the User-Agent header; pyproject.toml reads it from here."""

from __future__ import annotations

__version__ = "0.1.0"
