"""Training PMMTalk on dataset folders: ``batches`` (the torch Dataset and ``collate``), ``features``
(the per-utterance feature cache), ``trainer`` (the loop, single process or DDP) and ``calibrate``
(the correction scale and gate threshold, chosen on held-out voices after training; run it as
``python -m pmmtalk_live.train.calibrate``, so it is not imported here)."""

from .batches import CoeffDataset, collate
from .features import FeatureCache
from .trainer import TrainError, TrainSettings, read_config_for_run, read_train_config, train

__all__ = ["CoeffDataset", "FeatureCache", "TrainError", "TrainSettings", "collate", "read_config_for_run",
           "read_train_config", "train"]
