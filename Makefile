# Every target sets the machine up first (Debian packages as root, .venv, pinned torch, the project).
VENV := .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/pmmtalk-live
SETUP := $(VENV)/.installed
OUT ?= out

.PHONY: setup demo studio test bench eval model clean

setup: $(SETUP)

$(SETUP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

# The live daemon on the bundled recording at real-time pace: OSC (127.0.0.1:9000) and Live Link Face
# (127.0.0.1:11111) packets to this machine, a take recorded, then plotted.
demo: $(SETUP)
	rm -rf $(OUT)/demo
	$(CLI) serve --input pmmtalk_live/data/example.wav --record $(OUT)/demo --slate demo
	$(CLI) plot $(OUT)/demo/*_raw.csv -o $(OUT)/demo/take.png
	@echo "demo: take and plot in $(OUT)/demo"

# The face in a browser, no Unreal: the bundled recording looped live with the studio page
# (http://127.0.0.1:8470/, docs/studio.md); Ctrl-C stops.
studio: $(SETUP)
	$(CLI) serve --input pmmtalk_live/data/example.wav --loop --studio --no-osc --no-livelink --control off

# pytest exits 5 when it collects no tests: that is a failure here, as any non-zero code is.
test: $(SETUP)
	$(PY) -m pytest -q
	PYTHON=$(PY) bash scripts/unreal_check.sh

# The Unreal plugin's host checks alone (no engine: clang, CMake; installed as root): unit, fixture,
# plugin and end-to-end tests under ASan+UBSan, signature-drift compiles, a 60 s fuzz run.
.PHONY: unreal-check
unreal-check: $(SETUP)
	PYTHON=$(PY) bash scripts/unreal_check.sh

# Offline speed, the PMMTalk model's branches, then the live pipeline through a virtual microphone for
# BENCH_LIVE_MINUTES (default 10), then BENCH_STUDIO_MINUTES (default 3) each without and with a studio page
# reading the daemon's WebSocket, back to back (the page's cost is their difference).
BENCH_LIVE_MINUTES ?= 10
BENCH_STUDIO_MINUTES ?= 3
bench: $(SETUP)
	$(PY) scripts/bench.py
	$(PY) scripts/bench_model.py
	$(PY) scripts/bench_live.py --minutes $(BENCH_LIVE_MINUTES)
	$(PY) scripts/bench_live.py --minutes $(BENCH_STUDIO_MINUTES)
	$(PY) scripts/bench_live.py --minutes $(BENCH_STUDIO_MINUTES) --studio

# The lip-sync reports: the phonetic animator (docs/phonetic-animator.md), then the PMMTalk default against
# it, the loudness-only jaw and the model's ablations on real and held-out synthetic speech
# (docs/evaluation.md, plots in docs/evaluation/; the first run builds a 0.25 h corpus in $(OUT)/eval-corpus);
# and each real set as one continuous live session, the previous default as "before" (docs/stream-evaluation.md;
# it reports issue 15's bar and exits 0 either way, so it runs before the report whose verdict can stop make);
# the whole face on each real set, served live, per emotion (docs/expression-evaluation.md, issue 19's bar).
eval: $(SETUP)
	$(PY) -m pmmtalk_live.evaluation.phonetic_report --out docs/phonetic-animator.md
	$(PY) -m pmmtalk_live.evaluation.stream_report --ckpt default --out docs/stream-evaluation.md
	$(PY) -m pmmtalk_live.evaluation.expression_report --out docs/expression-evaluation.md --plots docs/expression
	$(PY) -m pmmtalk_live.evaluation.model_report --ckpt default --out docs/evaluation.md --corpus $(OUT)/eval-corpus

# Rebuild the shipped PMMTalk checkpoint from scratch: corpus, features, training, install (about an hour).
model: $(SETUP)
	bash scripts/make_model.sh

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
