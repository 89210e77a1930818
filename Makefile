# ISOCNET Billing. `make demo` and `make test` do all the set-up themselves.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-sqlite test-postgres lint format clean bench-pdf bench bench-collection bench-bank-file freeradius chromium qpdf wrk reliability

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ISOCNET Billing needs Python 3.11 or newer")'
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# make demo PORT=8080: every link in the emails and PDFs follows (PORTAL_URL, unless set).
PORT ?= 8000
demo: install
	$(BIN)/isocnet migrate --noinput
	PORTAL_URL=$${PORTAL_URL:-http://127.0.0.1:$(PORT)/portal} $(BIN)/isocnet demo
	@echo "Billing runs: http://127.0.0.1:$(PORT)/admin/invoicing/billingrun/"
	STAFF_TWO_FACTOR=$${STAFF_TWO_FACTOR:-optional} $(BIN)/isocnet serve --host 127.0.0.1 --port $(PORT)

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL
# names one (e.g. postgres://postgres@127.0.0.1:5432/test).
test: install lint chromium qpdf freeradius test-sqlite test-postgres

# $(call debian_package,PACKAGE,WHAT FOR): Debian's PACKAGE (its command of
# the same name), installed when missing, as root or with sudo.
define debian_package
	@command -v $(1) >/dev/null 2>&1 || { \
		echo "== installing Debian's $(1) for $(2)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
		else echo "Debian's $(1) is needed for $(2): apt-get install $(1) (as root)" >&2; exit 1; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(1) >/dev/null; }
endef

# The portal's browser tests drive Debian's Chromium (never a downloaded browser).
chromium:
	$(call debian_package,chromium,the browser tests)

# The network tests start Debian's FreeRADIUS 3.2 and use its radclient
# (tests/network/radius.py).
freeradius:
	@command -v freeradius >/dev/null 2>&1 && command -v radclient >/dev/null 2>&1 || { \
		echo "== installing Debian's freeradius and freeradius-utils for the network tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
		else echo "Debian's freeradius and freeradius-utils are needed: apt-get install them (as root)" >&2; exit 1; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq freeradius freeradius-utils >/dev/null; }

# qpdf checks every kind of PDF we send (tests/documents/test_pdf_validity.py).
qpdf:
	$(call debian_package,qpdf,the PDF validity tests)

# wrk, the load generator of the portal benchmark.
wrk:
	$(call debian_package,wrk,the portal benchmark)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # the floors: docs/architecture.md

test-sqlite: install
	DATABASE_URL= $(BIN)/pytest -q -p no:cacheprovider

test-postgres: install
	@if [ -n "$(TEST_DATABASE_URL)" ]; then \
		echo "== PostgreSQL: $(TEST_DATABASE_URL)"; \
		DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest -q -p no:cacheprovider; \
	else \
		echo "== PostgreSQL: skipped (set TEST_DATABASE_URL to run the suite on PostgreSQL too)"; \
	fi

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var/test build *.egg-info

bench-pdf: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/pdf_renderers.py 300

# The billing pipeline on PostgreSQL (docs/performance.md): BENCH_N customers
# (default 10000), in-process and on BENCH_WORKERS Celery workers on Redis,
# old code (BENCH_OLD, from a git worktree) against this checkout's, each row
# with its goal. BENCH_OLD= (empty) measures this checkout alone.
BENCH_OLD ?= 7178766
bench: install wrk
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	if [ -n "$(BENCH_OLD)" ]; then BENCH_N=$${BENCH_N:-10000} $(BIN)/python bench/compare.py $(BENCH_OLD); \
	else $(BIN)/python bench/pipeline.py $${BENCH_N:-10000}; fi

# A BAI2 file of BENCH_ITEMS checks (default 5000) posted, items/s and statements/item.
bench-bank-file: install
	$(BIN)/python bench/bank_file.py $${BENCH_N:-17000} $${BENCH_ITEMS:-5000}

# Auto debit alone (no receipt PDFs), with its statement count.
bench-collection: install
	$(BIN)/python bench/collection.py $${BENCH_N:-2000}

# The long fault, time and concurrency tests (docs/reliability.md), on
# PostgreSQL when TEST_DATABASE_URL names one. RELIABILITY_FULL=1 for the
# full sizes recorded in the document.
reliability: install
	DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest -q -p no:cacheprovider -m reliability
