# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3.10 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then \
	command -v $$p; break; fi; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
EXTRA_HOLDERS ?= 50

.PHONY: run demo-reset test install migrate lint format bench clean messages translations rules lock

# Exact versions (with hashes) from requirements.lock, then the project itself.
$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.10 or newer is required"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Rerun after adding or changing a dependency in pyproject.toml (a test fails until then).
# One lock for Python 3.10 and newer: versions differ by Python only where markers say so.
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.10 \
		--generate-hashes --quiet -o requirements.lock

install: $(STAMP) translations

# rule B5: compile locale/*/LC_MESSAGES/*.po into the .mo Django serves (pure Python,
# no gettext needed), so a fresh clone serves Spanish after `make install`.
translations: $(STAMP)
	$(PY) manage.py compile_translations

# Refresh locale/es from the code and templates (needs GNU gettext), then translate every
# new or fuzzy entry in locale/es/LC_MESSAGES/django.po; `make test` fails until done.
messages: $(STAMP)
	$(PY) manage.py makemessages --locale es

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

# seed_demo adds only what is missing: an existing demo is left as it is.
# The audit sealer runs beside the server, as in production, and stops with it.
run: migrate
	$(PY) manage.py seed_demo --holders $(EXTRA_HOLDERS)
	$(PY) manage.py seal_audit_trail & sealer=$$!; \
	trap 'kill $$sealer 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Start the demo again: a new SQLite database, or the one DATABASE_URL names emptied. The
# old demo's audit checkpoints go with it: they vouch for a trail that no longer exists.
demo-reset: install
	$(if $(DATABASE_URL),,rm -f db.sqlite3)
	rm -rf sent_emails "$${AUDIT_CHECKPOINT_DIR:-var/audit-checkpoints}"
	$(PY) manage.py migrate --noinput
	$(if $(DATABASE_URL),$(PY) manage.py flush --noinput)
	$(PY) manage.py createcachetable
	$(PY) manage.py seed_demo --holders $(EXTRA_HOLDERS)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# docs/rules.md from portal/rules.py and the rule ids cited in code and tests;
# tests/test_rules.py (part of `make test`) fails when the committed page is out of date.
rules: $(STAMP)
	$(PY) manage.py rules_doc

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Issue 13's figures on a scratch PostgreSQL database it creates and drops (README, *Benchmarks*).
bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles sent_emails
