"""Run under torchrun by tests/test_train.py: train a few steps and print this rank's result as JSON."""

import json
import sys

from pmmtalk_live.train.trainer import train

data, config, out, steps = sys.argv[1:5]
result = train(data, config, out, show_progress=False, steps=int(steps))
print("RESULT " + json.dumps({k: result[k] for k in ("rank", "world", "step", "checksum", "total")}), flush=True)
