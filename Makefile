# Two entry points for a fresh machine: `make chat` and `make test`.
# Each sets up .venv first (idempotent: a second run installs nothing).

VENV      ?= .venv
PYTHON    ?= python3
BIN       := $(VENV)/bin
# The llama-cpp-python build takes minutes on 2 cores; keep the wheel outside the
# clone so a fresh checkout on the same machine does not build it again.
WHEELS    ?= $(HOME)/.cache/tutor/wheels
LLAMA_VER := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_BLAS=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF \
	-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF
STAMP     := $(VENV)/.installed

export LITELLM_OFFLINE_MODE := true
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup bytecode chat test lint bench evals clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch must be in place first, or sentence-transformers pulls a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	mkdir -p $(WHEELS)
	ls $(WHEELS)/llama_cpp_python-$(LLAMA_VER)-*.whl >/dev/null 2>&1 || \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --no-deps -w $(WHEELS) llama-cpp-python==$(LLAMA_VER)
	$(BIN)/pip install --quiet --find-links $(WHEELS) -e ".[dev]"
	$(MAKE) --no-print-directory bytecode
	touch $(STAMP)

# pip compiles what it installs, but not an editable package: without cached bytecode
# (PYTHONDONTWRITEBYTECODE, a read-only checkout) every start compiles ~100 modules,
# a third of the time to the first question. Cheap when nothing changed.
bytecode:
	$(BIN)/python -m compileall -q tutor

chat: setup bytecode
	$(BIN)/tutor

# The gates run under a throwaway TUTOR_HOME: CI never touches the user's data folder.
test: setup
	home="$$(mktemp -d)"; trap 'rm -rf "$$home"' EXIT; export TUTOR_HOME="$$home"; \
	$(BIN)/python -m pytest -q -p no:cacheprovider && \
	$(BIN)/tutor eval reading && \
	$(BIN)/tutor eval answers && \
	$(BIN)/tutor eval run --ci

lint: setup
	$(BIN)/ruff check tutor tests benchmarks
	$(BIN)/mypy

bench: setup
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
