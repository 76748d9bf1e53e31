"""Helpers that tests and benchmarks share (the virtual microphone); not used by the product's stages."""
