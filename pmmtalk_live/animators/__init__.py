"""Animators turn speech into the 32 model coefficients; the idle layer adds eyes, brows and head."""
