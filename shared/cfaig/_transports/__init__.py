"""The I/O seam: the connection pools the two clients send on, and nothing else.

``_httpx``: the sync pool (your ``httpx.Client``, or ours with a direct-to-transport fast path) and the
async httpx pool. ``_aiohttp``: the default async pool, an aiohttp session behind httpx-shaped responses.
``_loop_pools``: one async pool per event loop, closed when its loop shuts down. Requests are built,
retried, parsed and mapped to errors elsewhere, by the same code whichever pool sends them.
"""
