# Build and test the course.
#   make book   build the HTML book into _build/html (renders stored notebook outputs)
#   make test   package tests, nbval over every notebook, strict book build, browser test
#   make lab    open the notebooks in JupyterLab
#   make bench  time labrnn against PyTorch (python -m labrnn.bench; BENCH_ARGS=... for options)
#   make clean  remove build outputs (make distclean also removes .venv)
# Everything runs in ./.venv, created on first use and reinstalled only when
# pyproject.toml changes.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := book
.DELETE_ON_ERROR:

VENV   := .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.stamp
# First interpreter in this list that runs and is >= 3.11 creates the venv.
PYTHON_CANDIDATES ?= python3.13 python3.12 python3.11 python3
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check

# -p no:cacheprovider: no .pytest_cache left behind; -rs: print why a test skipped.
PYTEST := $(PY) -m pytest -p no:cacheprovider -rs
XDIST  := -n 2
# Notebooks to check with nbval: every .ipynb under these folders (absent ones skipped).
NOTEBOOK_DIRS := book exercises/source
NBVAL_OPTS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
              $(XDIST) --dist loadscope

# Two pytest-xdist workers on a 2-core machine: one BLAS thread each. Oversubscribed
# OpenBLAS threads made small-matrix training up to 10x slower, with identical numbers.
test-package test-notebooks test-kernels: export OPENBLAS_NUM_THREADS := 1
test-package test-notebooks test-kernels: export OMP_NUM_THREADS := 1

.PHONY: venv book test test-package test-notebooks test-book test-browser test-kernels lab bench clean distclean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@py=""; \
	for c in $(PYTHON_CANDIDATES); do \
	  if command -v "$$c" >/dev/null 2>&1 && \
	     "$$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; then \
	    py="$$c"; break; \
	  fi; \
	done; \
	if [ -z "$$py" ]; then \
	  echo "error: Python >= 3.11 is required; none of [$(PYTHON_CANDIDATES)] is a working Python >= 3.11." >&2; \
	  echo "       Install one (or run: make PYTHON_CANDIDATES=/path/to/python3.x)." >&2; \
	  exit 1; \
	fi; \
	if [ ! -x "$(PY)" ]; then \
	  echo "Creating $(VENV) with $$py ($$("$$py" --version 2>&1))"; \
	  "$$py" -m venv "$(VENV)"; \
	fi
	$(PIP_INSTALL) -e ".[book,test,instructor]"
	@touch $@

book: $(STAMP)
	$(JB) build . --all
	@echo "Open _build/html/index.html in a browser."

# `make -k test` (as .ci/run does) runs every step and reports all failures.
test: test-package test-notebooks test-browser

test-package: $(STAMP)
	$(PYTEST) $(XDIST) tests --ignore=tests/browser

test-notebooks: $(STAMP)
	@dirs=""; for d in $(NOTEBOOK_DIRS); do [ -d "$$d" ] && dirs="$$dirs $$d"; done; \
	nbs=""; [ -n "$$dirs" ] && nbs=$$(find $$dirs -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort); \
	if [ -z "$$nbs" ]; then echo "nbval: no notebooks under $(NOTEBOOK_DIRS) yet; nothing to check."; exit 0; fi; \
	echo "nbval:" $$nbs; \
	$(PYTEST) $(NBVAL_OPTS) $$nbs

# Portability check for contributors (not part of `make test`): nbval on NB (default:
# every notebook) under the default OpenBLAS kernel and under each of KERNELS, set for
# that command only. A stored output that passes all of them does not hang on the CPU
# or BLAS kernel. `make test-kernels NB=book/part2/06_lstm.ipynb`
KERNELS ?= Sandybridge Prescott
NB ?=
test-kernels: $(STAMP)
	@nbs="$(NB)"; [ -n "$$nbs" ] || nbs=$$(find $(NOTEBOOK_DIRS) -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort); \
	status=0; for k in default $(KERNELS); do \
	  if [ "$$k" = default ]; then kenv=""; else kenv="OPENBLAS_CORETYPE=$$k"; fi; \
	  echo "== OpenBLAS kernel: $$k"; \
	  env $$kenv $(PYTEST) $(NBVAL_OPTS) $$nbs || status=1; \
	done; exit $$status

# The strict build: every warning is an error (all of them reported: --keep-going).
test-book: $(STAMP)
	$(JB) build . --all -W --keep-going

test-browser: test-book
	$(PYTEST) tests/browser

lab: $(VENV)/.stamp-lab
	$(VENV)/bin/jupyter lab

$(VENV)/.stamp-lab: $(STAMP)
	$(PIP_INSTALL) -e ".[book,test,lab]"
	@touch $@

# The benchmark suite (README, "Benchmarks"): the issue's target sizes, one thread, and the
# table of ratios against the targets. PyTorch is compared where installed (.[bench] extra).
# The worker processes pin their own threads. Results go to bench-<preset>.json (not committed).
BENCH_ARGS ?= --preset targets --threads 1 --compare
bench: $(STAMP)
	$(PY) -m labrnn.bench $(BENCH_ARGS)

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) *.egg-info
