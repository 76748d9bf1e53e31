# Every target sets the machine up first (Debian packages as root, .venv, pinned torch, the project).
VENV := .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/pmmtalk-live
SETUP := $(VENV)/.installed
OUT ?= out

.PHONY: setup demo test bench eval clean

setup: $(SETUP)

$(SETUP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

demo: $(SETUP)
	rm -rf $(OUT)/demo
	$(CLI) animate pmmtalk_live/data/example.wav --text-file pmmtalk_live/data/example.txt -o $(OUT)/demo
	$(CLI) plot $(OUT)/demo/*_raw.csv -o $(OUT)/demo/take.png
	@echo "demo: take and plot in $(OUT)/demo"

# pytest exits 5 when it collects no tests: that is a failure here, as any non-zero code is.
test: $(SETUP)
	$(PY) -m pytest -q

bench: $(SETUP)
	$(PY) scripts/bench.py

eval: $(SETUP)
	$(PY) -m pmmtalk_live.evaluation --out docs/phonetic-animator.md

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
