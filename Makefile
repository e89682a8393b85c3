# Apertura: two commands set everything up on a fresh machine.
#   make run   -> .venv, install, demo database (SQLite), serve on http://127.0.0.1:5000
#   make test  -> .venv, test extras, Debian packages the tests use, the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTANCE ?= instance
DB ?= $(INSTANCE)/apertura.sqlite3
HOST ?= 127.0.0.1
PORT ?= 5000
# Debian packages the test suite drives for real: PostgreSQL, Chromium, WeasyPrint's
# Pango, fonts, pdftoppm, and nginx (the deployment test puts it in front of gunicorn).
APT_PACKAGES := postgresql chromium fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils nginx-light

.PHONY: run serve load test bench lint install install-test system-packages translations demo demo-db clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip "setuptools>=77" wheel

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed translations
install-test: $(VENV)/.installed-test translations

translations: | $(BIN)/python
	@if ls diagnostic/translations/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
	  $(BIN)/pybabel compile -d diagnostic/translations; fi

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# The demo is built whenever the database has no campaign (a missing file, or an empty or
# freshly migrated one); a database with campaigns is only migrated. `demo-db` is the decision
# alone, without installing (tests run it against a temporary INSTANCE).
DEMO_ARGS ?= --seed 2017
APERTURA_ENV = APERTURA_DATABASE_URL=sqlite:///$(abspath $(DB)) APERTURA_INSTANCE_PATH=$(abspath $(INSTANCE))

demo: install
	@$(MAKE) --no-print-directory demo-db

demo-db:
	mkdir -p $(INSTANCE)
	$(APERTURA_ENV) $(BIN)/apertura demo --if-empty $(DEMO_ARGS)

run: demo
	$(APERTURA_ENV) $(BIN)/apertura run --host $(HOST) --port $(PORT)

# The multi-worker deployment: gunicorn (deploy/gunicorn.conf.py) on PostgreSQL, migrations
# first. Needs APERTURA_DATABASE_URL=postgresql://... and APERTURA_SECRET_KEY in the
# environment; put nginx (deploy/nginx.conf) in front of it.
serve: install
	@case "$$APERTURA_DATABASE_URL" in postgres*) ;; *) echo "make serve: set APERTURA_DATABASE_URL=postgresql://USER:PASSWORD@HOST/DB" >&2; exit 2;; esac
	$(BIN)/pip install --quiet -e '.[deploy]'
	$(BIN)/apertura db upgrade
	exec $(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:app

# Load and faults on 127.0.0.1: 200 respondents through the government questionnaire against
# gunicorn on a PostgreSQL server of its own (LOAD_RESPONDENTS to change the count).
load: install-test system-packages
	$(BIN)/python -m benchmarks.load

test: install-test system-packages
	bash .ci/pytest.sh

bench: install-test system-packages
	$(BIN)/python -m benchmarks

lint: install-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(INSTANCE) .pytest_cache build *.egg-info
