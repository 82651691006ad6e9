# The two commands of the README:
#   make demo   set everything up (first time) and run the whole system
#   make test   set everything up (first time) and run every test
# Everything lives in .venv, created on first use from pyproject.toml.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST := $(BIN)/python -m pytest

.PHONY: demo translations translations-update check test test-check test-stress test-core test-postgres test-receiver-ui test-sender test-e2e test-extension extension bench screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP) translations
	$(BIN)/appbeam demo $(ARGS)

# Languages (English and Simplified Chinese), each part its ecosystem's way: the sender's Qt .ts
# catalogs (desktop_sender/i18n/, pyside6-lrelease makes the .qm), gettext .po catalogs through
# Babel for the relay's store page and API errors (relay_server/i18n/), the phone app
# (mobile_receiver/i18n/) and the sentences the parts share (shared/i18n/). `translations`
# compiles them (nothing compiled is committed; a part started without them compiles at first
# use); `translations-update` extracts the strings again after one changed: translate what
# arrives untranslated (any .po or .ts editor). `make check` fails on anything untranslated,
# fuzzy, or not extracted. The browser extension's _locales/ need no step.
# Chinese on screen needs a CJK font: Debian's fonts-wqy-microhei (.ci/run installs it).
translations: $(STAMP)
	$(BIN)/python -m desktop_sender.i18n.catalogs compile
	$(BIN)/python -m relay_server.i18n.catalogs compile
	$(BIN)/python -m mobile_receiver.i18n.catalogs compile
	$(BIN)/python -m shared.i18n.catalogs compile

translations-update: $(STAMP)
	$(BIN)/python -m desktop_sender.i18n.catalogs update
	$(BIN)/python -m relay_server.i18n.catalogs update
	$(BIN)/python -m mobile_receiver.i18n.catalogs update
	$(BIN)/python -m shared.i18n.catalogs update

# Qt and Kivy each get their own pytest process: two GUI event loops in one process do not mix.
# Every suite runs even when an earlier one fails; a summary line per suite and one for all
# six come last; the exit status is non-zero when any failed.
test: $(STAMP) translations
	$(BIN)/python tests/run_suites.py check core postgres receiver-ui sender e2e extension

# The house tools and the fast tests, no GUI stack and no servers (under a minute): ruff's lint
# and format check, mypy (pyproject.toml: strict, with the list of modules not there yet), every
# part's translations (complete, nothing new to extract: the catalogs.py of each i18n/), and
# the protocol, signing, formatting and package-check tests. `pre-commit install` runs the first
# three on every commit (.pre-commit-config.yaml).
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m desktop_sender.i18n.catalogs check
	$(BIN)/python -m relay_server.i18n.catalogs check
	$(BIN)/python -m mobile_receiver.i18n.catalogs check
	$(BIN)/python -m shared.i18n.catalogs check
	$(PYTEST) -q tests/shared --ignore=tests/shared/test_demo.py

test-check: check

# The GUI, sender and end-to-end suites three times in a row with every core kept busy by
# CPU burners (a busy machine): every round must be green. ARGS=--rounds=5, ARGS=--burners=4...
test-stress: $(STAMP)
	$(BIN)/python tests/run_suites.py --stress $(ARGS) receiver-ui sender e2e

test-core: $(STAMP)
	$(PYTEST) tests/shared tests/relay tests/receiver tests/fuzz tests/faults tests/bench tests/packaging

# The relay's suite again on a throwaway PostgreSQL server (skipped, with a note, where
# PostgreSQL is not installed), including the two-relay-process tests.
test-postgres: $(STAMP)
	tests/with_postgres.sh $(PYTEST) tests/relay

test-receiver-ui: $(STAMP)
	$(PYTEST) tests/receiver_ui

test-sender: $(STAMP) translations
	$(PYTEST) tests/sender

test-e2e: $(STAMP)
	$(PYTEST) tests/e2e

# The browser extension (browser_extension/): its node unit tests, web-ext lint for Firefox, then
# Debian's chromium with the extension against a real relay and phone (tests/extension).
EXT       := browser_extension
EXT_STAMP := $(EXT)/node_modules/.package-lock.json

$(EXT_STAMP): $(EXT)/package-lock.json
	cd $(EXT) && npm ci --no-audit --no-fund --loglevel=error
	touch $(EXT_STAMP)

test-extension: $(STAMP) $(EXT_STAMP)
	cd $(EXT) && node --test --test-reporter=spec test/
	cd $(EXT) && npm run -s lint
	$(PYTEST) tests/extension

# The extension as a zip for the Chrome Web Store or addons.mozilla.org (unsigned: Firefox installs
# it for good only once Mozilla has signed it) in build/extension/.
extension: $(EXT_STAMP)
	cd $(EXT) && npm run -s build

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

screenshots: $(STAMP) translations
	$(BIN)/appbeam demo --headless --screenshots screenshots

clean:
	rm -rf $(VENV) .pytest_cache
