"""The training dataset on disk (docs/dataset.md): ``folder`` reads and writes a dataset folder, one
folder per utterance with its 16 kHz audio and its 32 coefficients per frame; ``importers`` bring
captured faces (Live Link Face takes, ARKit CSV or JSON) into one. No torch here: the torch side is
``train.batches``."""

from .folder import (AUDIO_FILE, COEFFS_FILE, COEFFS_HEADER, DATASET_FILE, DEFAULT_FPS, META_FILE, UTTERANCES,
                     DatasetError, Utterance, check_utterance_id, create_dataset, load_dataset, read_coeffs,
                     read_coeffs_file, resample_coeffs, split, write_utterance)
from .importers import ImportSummary, import_arkit_csv, import_arkit_json, import_live_link_face_takes

__all__ = [
    "AUDIO_FILE", "COEFFS_FILE", "COEFFS_HEADER", "DATASET_FILE", "DEFAULT_FPS", "META_FILE", "UTTERANCES",
    "DatasetError", "ImportSummary", "Utterance", "check_utterance_id", "create_dataset", "import_arkit_csv",
    "import_arkit_json", "import_live_link_face_takes", "load_dataset", "read_coeffs", "read_coeffs_file",
    "resample_coeffs", "split", "write_utterance",
]
