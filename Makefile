# PACE Flow: `make run` (app with demo data on SQLite) and `make test` (whole suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PACE_DEMO ?= 1

.PHONY: run test install assets browser init demo worker bench mutate clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.installed

assets: node_modules/.installed
	@if [ -f scripts/build_assets.py ]; then $(BIN)/python scripts/build_assets.py; fi

init: install
	$(BIN)/pace init-db

demo: init
	$(BIN)/pace demo --if-empty

# Serves the app and, beside it, the timer worker (reminders, escalations, mail), stopping both on Ctrl-C.
run: install assets demo
	@$(BIN)/python -c "from workflows.demo.scotland import sign_in_text; print(sign_in_text())"
	@echo "PACE Flow on http://127.0.0.1:5000 (Ctrl-C to stop); timer worker log: instance/worker.log"
	@$(BIN)/pace worker --interval 60 > instance/worker.log 2>&1 & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/pace run --host 127.0.0.1 --port 5000

worker: init
	$(BIN)/pace worker

# Browser tests use Debian's Chromium (no Playwright downloads); CI installs it if missing.
browser:
	@if [ "$${CI:-}" = "true" ] && [ ! -x /usr/bin/chromium ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi

test: install assets browser
	$(BIN)/python -m pytest -n 4 --dist loadgroup tests

bench: install
	$(BIN)/python -m bench

# Mutation testing of the guard modules (not part of `make test`; long: run it in a clone).
# Writes bench/MUTATION.md; MODULES="engine.xml_safety engine.expressions" limits the run.
mutate: install
	$(BIN)/python -m bench.mutation $(MODULES)

clean:
	rm -rf $(VENV) node_modules instance/pace.db* test-artifacts mutants
