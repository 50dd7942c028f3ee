# The two commands a new user needs: `make demo` and `make test`.
# Prerequisites: Python 3.11+, Java 17+ and Maven 3.8+ on PATH (see README.md).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check pytest install stop clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "error: Python 3.11+ is required, found " + sys.version.split()[0] + "; run make PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,rust]'
	touch $(STAMP)

## install: the virtual environment, the hub and the Neo4j jars
install: $(STAMP)
	$(BIN)/hub neo4j install

## demo: start the local Neo4j and serve the hub at http://127.0.0.1:8000/graphql
demo: install
	HUB_MODE=development $(BIN)/hub demo

## check: lint, format and strict typing
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## pytest: the test suite against a real Neo4j (started on port 7688 and stopped after)
pytest: install
	$(BIN)/pytest

## test: everything CI runs
test: check pytest

## stop: stop the local Neo4j servers of the demo and of the tests
stop:
	-$(BIN)/hub neo4j stop
	-HUB_NEO4J_HOME=.cache/test-neo4j HUB_NEO4J_BOLT_PORT=7688 $(BIN)/hub neo4j stop

clean: stop
	rm -rf $(VENV) .hub .cache .mypy_cache .ruff_cache .pytest_cache
