# Two commands for a newcomer: `make run` and `make test`. Everything they need is installed from here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# `make run` starts the demo company; `make run HUDDLE_DEMO=0` serves your own data (no seeding, no demo banner).
HUDDLE_DEMO ?= 1
export HUDDLE_DEMO

.PHONY: run test test-dates screenshots lint typecheck pytest bench bench-import bench-kpis install install-dev browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamp files: reinstall only when the requirements change.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

run: install
	$(BIN)/python -m db upgrade
ifeq ($(HUDDLE_DEMO),1)
	$(BIN)/python -m db seed --demo --if-empty
endif
	$(BIN)/streamlit run app.py --server.port $(PORT)

# Production (docs/DEPLOY.md): your own data only, whatever HUDDLE_DEMO says (no seeding, no demo logins,
# no banner); the migrations first; a headless server on ADDRESS:PORT, usually behind a reverse proxy on the
# same host, with no file watcher (deploying means restarting). Needs DATABASE_URL and HUDDLE_COOKIE_KEY
# (or `cookie_key` in .streamlit/secrets.toml); logs go to stderr.
ADDRESS ?= 127.0.0.1
.PHONY: serve
serve: install
	HUDDLE_DEMO=0 $(BIN)/python -m db upgrade
	HUDDLE_DEMO=0 exec $(BIN)/streamlit run app.py --server.headless true --server.address $(ADDRESS) \
		--server.port $(PORT) --server.fileWatcherType none --server.runOnSave false

# Browser tests drive Debian's Chromium; install it when it is missing (root only, as on CI machines).
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "WARNING: chromium is missing and this is not root: browser tests will be skipped (apt-get install -y chromium)"; fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

pytest: install-dev browser
	$(BIN)/python -m pytest

test: lint typecheck pytest

# The whole suite again with the clock pinned (db.clock, HUDDLE_TODAY) to the days that used to break it:
# a Monday that is the 1st of a month and of a quarter, and February 29th. .ci/run runs it after `make test`.
PINNED_DAYS ?= 2029-10-01 2028-02-29
test-dates: install-dev browser
	@for day in $(PINNED_DAYS); do \
		echo "== the whole suite with HUDDLE_TODAY=$$day"; \
		HUDDLE_TODAY=$$day $(BIN)/python -m pytest -q || exit 1; \
	done

# The README's pictures in docs/screenshots/, made again by the browser tests that call readme_picture().
# `make test` never writes them: its screenshots go to tests/e2e/screenshots/ (git-ignored), and the browser
# tests fail if they leave `git status` changed.
README_SHOT_TESTS := tests/e2e/test_login_browser.py tests/e2e/test_funnel_browser.py \
	tests/e2e/test_kpi_screens_browser.py tests/e2e/test_weekly_sync_browser.py tests/e2e/test_import_browser.py \
	tests/e2e/test_alert_mail_browser.py tests/e2e/test_content_browser.py
screenshots: install-dev browser
	HUDDLE_README_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q $(README_SHOT_TESTS)

# Benchmarks print medians to compare runs by; none of them is part of `make test`.
bench: install-dev
	$(BIN)/python tests/bench/bench_seed.py

bench-import: install-dev
	$(BIN)/python tests/bench/bench_import.py --rows 1000000 --runs 3

bench-kpis: install-dev
	$(BIN)/python tests/bench/bench_kpis.py --database data/bench-kpis.db --runs 5
bench-notify: install-dev ; $(BIN)/python tests/bench/bench_notify.py --messages 10000 --runs 3 --events 10000 --spread 600

# A real server, 2,000 page loads from headless Chromium, its memory every 100 loads (an hour or more).
.PHONY: bench-soak
bench-soak: install-dev browser
	$(BIN)/python tests/bench/bench_soak.py --leads 20000 --loads 2000 --every 100 --contexts 3 --max-minutes 150

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
