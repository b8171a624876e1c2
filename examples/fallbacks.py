"""Fallbacks: one Universal Endpoint request; cf-aig-step tells which model answered.

The primary here is a model that cannot answer (the emulator treats any model id containing
"unavailable" as a provider that is down; on your gateway it is simply not a real model), so the
fallback serves.
"""

from __future__ import annotations

import os

from _settings import ALT_MODEL

from langchain_cfaig import ChatCloudflareAIGateway
from llamaindex_cfaig import CloudflareAIGatewayLLM

PRIMARY = os.environ.get("CFAIG_EXAMPLE_DOWN_MODEL", "openai/cfaig-unavailable-model")

model = ChatCloudflareAIGateway(model=PRIMARY, fallbacks=[ALT_MODEL])
reply = model.invoke("Say hello.")
print(f"langchain: served by {reply.response_metadata['model_name']} (step {reply.response_metadata['cf_aig_step']})")

llm = CloudflareAIGatewayLLM(model=PRIMARY, fallbacks=[ALT_MODEL])
response = llm.complete("Say hello.")
served = response.additional_kwargs
print(f"llamaindex: served by {served['model_name']} (step {served['cf_aig_step']})")
