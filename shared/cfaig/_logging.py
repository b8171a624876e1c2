"""The ``cfaig`` logger. Nothing is configured at import; ``CFAIG_LOG=debug|info`` opts in to a handler."""

from __future__ import annotations

import logging
import os
import re

from cfaig._constants import ENV_LOG, SENSITIVE_HEADERS

__all__ = ["SecretsFilter", "logger", "setup_from_env"]

logger = logging.getLogger("cfaig")

_HEADER_VALUE = re.compile(
    r"(?i)((?:" + "|".join(re.escape(name) for name in sorted(SENSITIVE_HEADERS)) + r")['\"]?\s*[:=,]\s*['\"]?)"
    r"(?:bearer\s+)?[^\s'\",}]+"
)
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/=]{4,}")


class SecretsFilter(logging.Filter):
    """Redacts credential header values and bearer tokens from any log record it sees.

    Installed on the ``cfaig`` logger and, by :func:`setup_from_env`, on ``httpx``/``httpcore``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _BEARER.sub(r"\1**********", _HEADER_VALUE.sub(r"\1**********", message))
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER = SecretsFilter()
logger.addFilter(_FILTER)
_configured = False


def setup_from_env() -> None:
    """Attach a stderr handler when ``CFAIG_LOG`` is set (``debug`` or ``info``); once per process."""
    global _configured
    if _configured:
        return
    _configured = True
    level = os.environ.get(ENV_LOG, "").strip().upper()
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).addFilter(_FILTER)
    if level not in ("DEBUG", "INFO", "WARNING"):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(_FILTER)
    logger.addHandler(handler)
    logger.setLevel(level)
