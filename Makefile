# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CATALOGS := $(wildcard core/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: run test install lint format clean messages lock

# Installs take the exact versions of requirements-dev.lock (runtime + test tools); the
# Docker image takes requirements.lock (runtime only). `make lock` regenerates both.
$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# After changing dependencies in pyproject.toml: resolve them afresh and pin every version.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet .
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^grantmatch==' > requirements.lock
	.lock-venv/bin/python -m pip install --quiet '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^grantmatch==' > requirements-dev.lock
	rm -rf .lock-venv

# Message catalogs are compiled at install, and again whenever a translation changes.
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@

install: $(STAMP) $(COMPILED)

# After changing interface strings: extract them and merge into the catalogs.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k Message -o core/translations/messages.pot \
		--no-location --omit-header --sort-output .
	$(BIN)/pybabel update -i core/translations/messages.pot -d core/translations --no-fuzzy-matching

run: install
	$(BIN)/grantmatch migrate
	$(BIN)/grantmatch seed-demo
	$(BIN)/grantmatch rematch
	$(BIN)/grantmatch serve

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
