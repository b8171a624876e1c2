"""Gateway caching and metadata: the second identical call is a cache HIT; both have log ids."""

from __future__ import annotations

from _settings import MODEL

from cfaig import GatewayClient
from langchain_cfaig import ChatCloudflareAIGateway

model = ChatCloudflareAIGateway(model=MODEL, cache_ttl=600, gateway_metadata={"app": "examples"})
for attempt in (1, 2):
    meta = model.invoke("What is the capital of France?").response_metadata
    print(f"call {attempt}: cache {meta['cf_aig_cache_status']}, log id {meta['cf_aig_log_id']}")
fresh = model.invoke("What is the capital of France?", skip_cache=True).response_metadata  # per call
print(f"skip_cache: cache {fresh['cf_aig_cache_status']}")

# the core client: rate the answer by its log id (needs a token with AI Gateway Edit permission)
with GatewayClient() as client:  # token from CF_AIG_TOKEN
    completion = client.chat({"model": MODEL, "messages": [{"role": "user", "content": "Rate me"}]})
    client.feedback(completion.gateway.log_id or "", feedback=1, score=95)
    print(f"feedback sent for log {completion.gateway.log_id}")
