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

## Web server and one worker on http://127.0.0.1:8000 (SQLite in ./chiplet-server).
run: $(STAMP)
	$(BIN)/chiplet-dse serve --host 127.0.0.1 --port 8000

## The whole test suite (CI runs exactly this): on SQLite, then the server and API tests again on
## PostgreSQL when one answers at PG_URL.
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
test: $(STAMP)
	$(BIN)/python -m pytest -n 2
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== server and API tests on PostgreSQL ($(PG_URL))"; \
		DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -n 2 tests/server tests/api; \
	else \
		echo "== PostgreSQL not reachable at $(PG_URL): PostgreSQL pass skipped"; \
	fi

## Measure the model; rewrites docs/performance.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py --output docs/performance.md
	$(BIN)/python benchmarks/bench_server.py --output docs/performance.md
	$(BIN)/python benchmarks/bench_api.py --output docs/performance.md
	$(BIN)/python benchmarks/bench_truth.py --output docs/performance.md

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
