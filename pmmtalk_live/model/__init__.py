"""PMMTalk: speech -> 32 blendshape coefficients from audio, pseudo-text and pseudo-visual features
aligned at temporal and semantic level (docs/reference/pmmtalk.md).

    audio (16 kHz) --wav2vec 2.0--> (T, D) ----------------------------\\
    recogniser --timed words + phones--> text encoder --> (T, D) -------+--> alignment (KL, cosine)
    Wav2Lip generator --96x96 faces--> image encoder --> (T, D) -------/       --> fusion --> decoder --> (T, 32)

One file per part: ``config.py`` (sizes, as plain data), ``encoders/`` (audio, text, visual),
``align.py``, ``decoder.py``, ``losses.py``, ``pmmtalk.py`` (the whole model).
"""
