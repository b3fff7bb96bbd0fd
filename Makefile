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

.PHONY: run test lint venv clean check-python browser check-fresh sandbox-tool

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

# pytest exits 5 when it collected no test: say so, and fail (a suite that ran nothing passed nothing).
test: sandbox-tool browser $(STAMP)
	@$(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests ($(PYTEST_ARGS))" >&2; fi; exit $$status

# make test in a fresh clone of HEAD in an empty temporary folder: does the repository stand alone?
check-fresh:
	@PYTEST_ARGS="$(PYTEST_ARGS)" tools/check-fresh

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
