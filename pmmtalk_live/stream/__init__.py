"""The streaming engine: audio blocks in, hop by hop through the live animator, frames out to the
sinks on a fixed frame clock (``engine.py``), with live statistics (``stats.py``)."""
