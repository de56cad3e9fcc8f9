# make run: start vgtui (creates .venv with what the app needs on first use);
# make test: ruff and the whole test suite, the unit tests on the second core (installs the
#   test tools too);
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

# The unit tests (in-process, CPU only, no terminals, ports or signals) run on the second
# core beside the integration and UI tests, which keep one core busy for their whole length:
# in a fresh-clone CI run on 2 quiet cores the suite took 297 s this way against 311 s in one
# process (30 Nov 2026). Each part prints its own report.
test: $(TEST_STAMP)
	$(BIN)/ruff check .
	@unit_log=$$(mktemp); \
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit >"$$unit_log" 2>&1 & unit=$$!; \
	$(BIN)/python -m pytest -q tests/integration tests/ui; rest=$$?; \
	wait $$unit; units=$$?; \
	echo "--- tests/unit"; cat "$$unit_log"; rm -f "$$unit_log"; \
	test $$rest -eq 0 && test $$units -eq 0

test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -q tests/unit

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

bench: $(APP_STAMP)
	$(BIN)/python bench/speed.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
