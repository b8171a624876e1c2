"""The ``cfaig`` logger. Nothing is configured at import; ``CFAIG_LOG=debug|info`` opts in to a handler."""

from __future__ import annotations

import logging
import os

from cfaig._constants import ENV_LOG
from cfaig._redact import redact_log_text

__all__ = ["SecretsFilter", "logger", "setup_from_env"]

logger = logging.getLogger("cfaig")


class SecretsFilter(logging.Filter):
    """Redacts credential header values and bearer tokens from any log record it sees.

    Installed on the ``cfaig`` logger and, by :func:`setup_from_env`, on ``httpx``/``httpcore``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_log_text(message)
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
