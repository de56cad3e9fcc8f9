# make run: start vgtui (creates .venv with what the app needs on first use);
# make test: ruff and the whole test suite (installs the test tools too);
# make test-fast: the unit tests only, for everyday use (about 20 s on 2 cores).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
APP_STAMP := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test run test test-fast lint bench clean

install: $(APP_STAMP)

install-test: $(TEST_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(APP_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(APP_STAMP) $(TEST_STAMP)

run: $(APP_STAMP)
	$(BIN)/vgtui $(ARGS)

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -q tests/unit

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

bench: $(APP_STAMP)
	$(BIN)/python bench/speed.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
