"""Run under torchrun by tests/test_train.py: train a few steps and write this rank's result as JSON
(one file per rank: the ranks share stdout, where their lines could interleave)."""

import json
import sys
from pathlib import Path

from pmmtalk_live.train.trainer import train

data, config, out, steps = sys.argv[1:5]
result = train(data, config, out, show_progress=False, steps=int(steps))
Path(out, f"result-rank{result['rank']}.json").write_text(
    json.dumps({k: result[k] for k in ("rank", "world", "step", "checksum", "total")}))
