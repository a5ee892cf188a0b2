# Everything runs in .venv, created with python3 -m venv and filled from pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Evaluate a built-in experiment and print the result (the server arrives in step 2).
run: $(STAMP)
	$(BIN)/chiplet-dse evaluate --experiment resnet50-test --design 3,3,3,3 --breakdown

## The whole test suite (CI runs exactly this).
test: $(STAMP)
	$(BIN)/python -m pytest

## Measure the model; rewrites docs/performance.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py --output docs/performance.md

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
