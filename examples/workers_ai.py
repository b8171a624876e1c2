"""Workers AI models: through the gateway host, through Cloudflare's REST API, and embeddings."""

from __future__ import annotations

from _settings import EMBED_MODEL

from cfaig import GatewayClient

LLAMA = "workers-ai/@cf/meta/llama-3.1-8b-instruct"
question = {"model": LLAMA, "messages": [{"role": "user", "content": "One fact about Workers AI?"}]}
with GatewayClient() as gateway_host:
    print("unified endpoint:", gateway_host.chat(question).text)
    print("provider endpoint:", gateway_host.chat(question, endpoint="provider").text)
    vectors = gateway_host.embed({"model": EMBED_MODEL, "input": ["edge inference", "GPU at the edge"]}).vectors
    print(f"embeddings: {len(vectors)} x {len(vectors[0])}")
# Cloudflare's REST API (api.cloudflare.com/.../ai/v1): one Cloudflare token, gateway chosen by header
with GatewayClient(surface="rest") as rest:  # token from CLOUDFLARE_API_TOKEN
    print("REST API:", rest.chat(question).text)
