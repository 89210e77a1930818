# ISOCNET Billing. `make demo` and `make test` do all the set-up themselves.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-sqlite test-postgres lint format clean bench-pdf

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ISOCNET Billing needs Python 3.11 or newer")'
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/isocnet migrate --noinput
	$(BIN)/isocnet demo
	$(BIN)/isocnet bill
	@echo "Billing runs: http://127.0.0.1:8000/admin/invoicing/billingrun/"
	@echo "Invoice emails, sent by the server within seconds: var/mail/*.eml and http://127.0.0.1:8000/admin/notifications/outboxmessage/"
	$(BIN)/isocnet serve --host 127.0.0.1 --port 8000

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL
# names one (e.g. postgres://postgres@127.0.0.1:5432/test).
test: install lint test-sqlite test-postgres

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

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
