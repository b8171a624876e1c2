"""The framework-neutral half of the LangChain and LlamaIndex integrations, written once.

The framework packages keep only the translation between their types and these; everything a framework
does not decide lives here, in one room per job:

- :mod:`~cfaig.integration.fields`: the settings fields of every class, derived from the core's
  ``GatewayConfig`` and ``GatewayOptions``, and the state derived from them;
- :mod:`~cfaig.integration.clients`: the configuration and clients an instance uses (one rule for an
  injected client, one cached accessor for the shared one);
- :mod:`~cfaig.integration.requests`: a call's keywords as a ``ChatRequest``, gateway options, fallbacks
  and endpoint; an embedding model's support, checked once;
- :mod:`~cfaig.integration.tools`: tool calls and ``tool_choice`` between frameworks and the wire;
- :mod:`~cfaig.integration.answer`: the gateway's ``cf_aig_*`` answer keys, token counts and key names;
- :mod:`~cfaig.integration.responses`: a call's chat-shaped request and messages for the Responses API.

Import from those modules. The names this module had before it became a package (``GatewayFields``,
``chat_request``, ``pop_metadata_kwarg``, ``split_call_kwargs``) still load from here, on first use
(PEP 562) like the rest of ``cfaig``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfaig._lazy import lazy_exports

if TYPE_CHECKING:
    from cfaig.integration.fields import GatewayFields, pop_metadata_kwarg
    from cfaig.integration.requests import chat_request, split_call_kwargs

_EXPORTS: dict[str, str] = {
    "GatewayFields": "cfaig.integration.fields",
    "pop_metadata_kwarg": "cfaig.integration.fields",
    "chat_request": "cfaig.integration.requests",
    "split_call_kwargs": "cfaig.integration.requests",
}

__all__ = ["GatewayFields", "chat_request", "pop_metadata_kwarg", "split_call_kwargs"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
