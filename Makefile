# Two commands set everything up on a fresh machine:
#   make run    virtualenv + install, ingest data/corpus (if changed), start the web UI on 127.0.0.1:7860
#   make test   the same install plus the browser the UI tests drive, then lint + the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint eval chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/assistant ui

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check assistant tests eval
	$(BIN)/ruff format --check assistant tests eval

test: $(STAMP) chromium lint
	$(BIN)/pytest

eval: $(STAMP)
	$(BIN)/assistant eval --out eval/results.json --report eval/report.md

clean:
	rm -rf $(VENV) data/index data/index-cache
