"""The model's per-modality encoders: one module per branch (audio, text, visual), each with its own front end."""
