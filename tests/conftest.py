"""Suite-wide settings: Hypothesis without per-example deadlines (CI machines are busy, 2 cores)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "cfaig",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),  # CI is reproducible; local runs keep exploring
    print_blob=True,
)
settings.load_profile("cfaig")
