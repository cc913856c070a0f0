# genesis-lab: `make up` starts the platform, `make test` runs the whole suite.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROXY := .proxy/node_modules/.bin/configurable-http-proxy
EXT_SRC := extensions/jupyterlab-genesis
EXT := genesis_lab/labextension/package.json
EXTRAS ?= all,test
# two workers: the integration tests (one hub, one SLURM) on one, the unit tests on the other
PYTEST_WORKERS ?= -n 2 --dist loadgroup
# this machine's pip config lists local package folders; pip warns for every package not in them
PIP_NOISE := is ignored: it is neither a file nor a directory

.PHONY: help install system proxy up test lint format bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "python3 not found: install Debian's python3 and python3-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV) || { echo "venv failed: as root run 'apt-get install -y python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24" 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]" 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	touch $@

install: $(STAMP) $(EXT) $(PROXY)  ## create .venv, install genesis-lab with every extra, the lab extension and the proxy

$(EXT): $(STAMP) $(EXT_SRC)/package.json $(EXT_SRC)/src/index.ts $(EXT_SRC)/style/index.css
	@command -v npm >/dev/null || bash scripts/install-system-packages.sh nodejs npm
	cd $(EXT_SRC) && npm ci --silent --no-audit --no-fund && PATH="$(CURDIR)/$(BIN):$$PATH" npm run --silent build
	mkdir -p $(VENV)/share/jupyter/labextensions/@genesis-lab $(VENV)/etc/jupyter/jupyter_server_config.d
	ln -sfn $(CURDIR)/genesis_lab/labextension $(VENV)/share/jupyter/labextensions/@genesis-lab/jupyterlab-genesis
	cp jupyter-config/genesis_lab.json $(VENV)/etc/jupyter/jupyter_server_config.d/genesis_lab.json
	touch $@

system:  ## install Debian packages the real parts need (root only: slurm-wlm, munge, slurmdbd, mariadb-server, postgresql, chromium, nodejs)
	@bash scripts/install-system-packages.sh

$(PROXY):
	@command -v npm >/dev/null || bash scripts/install-system-packages.sh nodejs
	npm install --silent --no-audit --no-fund --prefix .proxy configurable-http-proxy@5

proxy: $(PROXY)  ## install configurable-http-proxy from npm into .proxy/

up: install proxy  ## install and start the platform at http://127.0.0.1:8000
	PATH="$(CURDIR)/.proxy/node_modules/.bin:$(CURDIR)/$(BIN):$$PATH" $(BIN)/genesis-lab up

lint: install  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install system proxy lint  ## install, then run the whole suite
	PATH="$(CURDIR)/.proxy/node_modules/.bin:$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: install  ## run the ratio benchmarks in benchmarks/
	PATH="$(CURDIR)/.proxy/node_modules/.bin:$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:  ## remove the venv, the proxy and caches
	rm -rf $(VENV) .proxy .pytest_cache .ruff_cache genesis_lab/labextension $(EXT_SRC)/node_modules $(EXT_SRC)/lib
