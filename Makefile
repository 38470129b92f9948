# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test test-postgres coverage lint setup setup-dev browser-deps openapi clean \
	bench bench-pages bench-instances bench-deps

demo: $(VENV)/.runtime
	$(BIN)/masthead demo

test: $(VENV)/.dev browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Coverage of the billing and subscriptions apps by their suites (prints the figure; < 95 % fails).
coverage: $(VENV)/.dev
	$(BIN)/python -m pytest -q -n 2 tests/subscriptions tests/billing \
	  --cov=masthead.billing --cov=masthead.subscriptions --cov-report=term --cov-fail-under=95

# The same suite on PostgreSQL and Redis (both must be running on 127.0.0.1).
test-postgres: $(VENV)/.dev browser-deps
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/masthead} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/3} \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports
	mkdir -p var
	$(BIN)/masthead makemigrations --check --dry-run
	$(BIN)/masthead export_openapi --check

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Masthead needs Python 3.11+")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: $(VENV)/bin/python requirements.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.lock
	$(BIN)/pip install --quiet -r requirements-dev.lock
	touch $@

# Debian's Chromium and axe-core for the browser tests; skipped (tests then skip with the
# reason) when this machine cannot install them.
browser-deps:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing=" chromium"; \
	  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	  [ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's$$missing for the browser and caching-front tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "Could not install$$missing: the tests that need it will be skipped."; \
	  else echo "$$missing missing and cannot be installed here: the tests that need it will be skipped."; fi; }
	@[ -f node_modules/axe-core/axe.min.js ] || { \
	  if command -v npm >/dev/null 2>&1; then npm ci --silent --no-audit --no-fund >/dev/null 2>&1 \
	    || echo "Could not install axe-core: accessibility checks will be skipped."; \
	  else echo "npm is missing: accessibility checks will be skipped."; fi; }

# The benchmark of every page, then the two-instance benchmark (PostgreSQL and Redis on
# 127.0.0.1; wrk and nginx-light from apt when missing and root). BENCH_ARGS=--quick for a
# 2-second smoke run per target; see bench/README.md. Both run even when the first reports a
# failed check (a non-2xx response, changed bytes), and `make` fails if either did.
bench: $(VENV)/.dev bench-deps
	@$(BIN)/python bench/run.py $(BENCH_ARGS); pages=$$?; \
	$(BIN)/python bench/instances.py $(BENCH_ARGS); instances=$$?; \
	[ $$pages = 0 ] && [ $$instances = 0 ]

bench-pages: $(VENV)/.dev bench-deps
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-instances: $(VENV)/.dev bench-deps
	$(BIN)/python bench/instances.py $(BENCH_ARGS)

bench-deps:
	@for tool in wrk:wrk nginx:nginx-light; do \
	  command -v $${tool%%:*} >/dev/null 2>&1 || [ -x /usr/sbin/$${tool%%:*} ] || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "Installing $${tool#*:} for the benchmark..."; \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $${tool#*:} >/dev/null) \
	        || { echo "Could not install $${tool#*:}."; exit 1; }; \
	    else echo "$${tool%%:*} is missing: apt-get install -y $${tool#*:} (as root)."; exit 1; fi; }; \
	done

openapi: $(VENV)/.dev
	$(BIN)/masthead export_openapi

clean:
	rm -rf $(VENV) var node_modules test-artifacts
