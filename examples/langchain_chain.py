"""An LCEL chain, then the same chain on another provider: only the model string changes."""

from __future__ import annotations

from _settings import ALT_MODEL, MODEL
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import ConfigurableField

from langchain_cfaig import ChatCloudflareAIGateway

prompt = ChatPromptTemplate.from_messages([("system", "Answer in one sentence."), ("user", "What is {topic}?")])
for model in (MODEL, ALT_MODEL):
    chain = prompt | ChatCloudflareAIGateway(model=model) | StrOutputParser()
    print(f"{model}: {chain.invoke({'topic': 'an AI gateway'})}")

# one chain, provider chosen at run time
switchable = ChatCloudflareAIGateway(model=MODEL).configurable_fields(model=ConfigurableField(id="model"))
chain = prompt | switchable | StrOutputParser()
print("runtime switch:", chain.invoke({"topic": "caching"}, config={"configurable": {"model": ALT_MODEL}}))
