"""A LlamaIndex RAG pipeline over the bundled documents, with the source shown."""

from __future__ import annotations

from pathlib import Path

from _settings import EMBED_MODEL, MODEL
from llama_index.core import SimpleDirectoryReader, VectorStoreIndex

from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM

documents = SimpleDirectoryReader(str(Path(__file__).parent / "data")).load_data()
index = VectorStoreIndex.from_documents(documents, embed_model=CloudflareAIGatewayEmbedding(model_name=EMBED_MODEL))
engine = index.as_query_engine(llm=CloudflareAIGatewayLLM(model=MODEL), similarity_top_k=1)
response = engine.query("What status code does an authenticated gateway return without a token?")
print("answer:", response)
print("source:", response.source_nodes[0].node.metadata["file_name"])
