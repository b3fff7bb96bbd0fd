# credgate: `make run` starts the suite, `make test` runs the tests. Both set up .venv first.
# `make check-fresh` runs `make test` in a fresh clone of HEAD.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The first Python 3.13 that actually runs: PATH, then pyenv's versions, then common prefixes.
PYTHON313 ?= $(shell for p in python3.13 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 \
	/usr/local/bin/python3.13 /usr/bin/python3.13; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && { echo "$$p"; break; }; \
	done)

.PHONY: run test test-fast lint venv clean check-python browser check-fresh sandbox-tool interop-deps

check-python:
	@if [ ! -x $(BIN)/python ] && [ -z "$(PYTHON313)" ]; then \
		echo "credgate needs Python 3.13 (acapy-agent 1.7 requires it), and none was found." >&2; \
		echo "Install python3.13 (e.g. 'pyenv install 3.13' or your distribution's package) and retry," >&2; \
		echo "or point to it: make PYTHON313=/path/to/python3.13 ..." >&2; \
		exit 1; fi

$(STAMP): pyproject.toml | check-python
	@test -x $(BIN)/python || $(PYTHON313) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP)

run: sandbox-tool $(STAMP)
	$(BIN)/credgate migrate
	exec $(BIN)/credgate up

# Compute runs jobs in a bubblewrap sandbox: installed here (Debian's package, as root with apt-get)
# when missing; make test stops if it still cannot sandbox, make run warns (compute refuses jobs).
sandbox-tool:
	@tools/ensure-bwrap $(if $(filter test,$(MAKECMDGOALS)),--required,)

# The pages' tests drive headless Chromium: installed here (Debian's package, as root with apt-get)
# when missing, or make test stops first and says how to install it.
browser:
	@tools/ensure-chromium

# tests/interop drive an independent OpenID4VC wallet engine (Credo, pinned in its lockfile) under
# Node.js 20+: npm ci runs when node_modules is missing or the lockfile changed, then works offline.
CREDO := interop/credo
CREDO_STAMP := $(CREDO)/node_modules/.credgate-installed

$(CREDO_STAMP): $(CREDO)/package-lock.json $(CREDO)/package.json
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1 \
		|| ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then \
		echo "make test needs Node.js 20 or later with npm for the wallet interop tests" \
			"(interop/credo), and it is not installed: run 'sudo apt-get install nodejs npm'" \
			"(Debian/Ubuntu; or https://nodejs.org, or nvm install 20). Then run make test again." >&2; \
		exit 1; fi
	cd $(CREDO) && npm ci --prefer-offline --no-audit --no-fund
	@touch $@

interop-deps: $(CREDO_STAMP)

# pytest exits 5 when it collected no test: say so, and fail (a suite that ran nothing passed nothing).
# Two pytest-xdist workers, a test file each at a time: each worker is a test session with its own
# var/, agents and (on PostgreSQL) database, so the agents' start-ups and waits overlap.
# TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2
test: sandbox-tool browser interop-deps $(STAMP)
	@$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests ($(PYTEST_ARGS))" >&2; fi; exit $$status

# The tests that need no agents, no browser and no Node.js, and are not slow (fuzzing, property
# runs, real deadlines: `make test` runs those), on pytest-xdist workers, a test file each at a time.
# Each worker is a test session with its own var/ (SQLite) or database (PostgreSQL). Three on two
# cores: the tests mostly wait (serially 23 s of CPU in 80 s), so a third worker fills the gaps.
# Compiled modules are cached under .venv/pycache even where PYTHONDONTWRITEBYTECODE is set:
# otherwise each worker compiles and assertion-rewrites every module again on every run.
FAST_WORKERS ?= 3
test-fast: $(STAMP)
	@PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX="$(CURDIR)/$(VENV)/pycache" \
	$(BIN)/pytest -m "not agents and not slow" -n $(FAST_WORKERS) --dist loadfile $(PYTEST_ARGS); \
	status=$$?; if [ $$status -eq 5 ]; then echo "pytest collected no tests ($(PYTEST_ARGS))" >&2; fi; \
	exit $$status

# make test in a fresh clone of HEAD in an empty temporary folder: does the repository stand alone?
check-fresh:
	@PYTEST_ARGS="$(PYTEST_ARGS)" tools/check-fresh

# ruff, then the import contracts of pyproject.toml (layers point down; tests/suite/test_layers.py
# runs them too).
# ruff's linter, ruff's formatter (the code is written as it formats it: no `# fmt: skip`), and
# the import contracts of the layers (pyproject's [tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

clean:
	rm -rf $(VENV) var
