# aibang.gke_platform: one entry point for setup, the demo and every test tier.
# Everything the project needs is installed from here (requirements.txt, bindep.txt); nothing by hand.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
CACHE_DIR ?= $(HOME)/.cache/aibang-gke-platform
# ansible-test insists on running inside .../ansible_collections/<namespace>/<name>: it gets a copy there.
TEST_TREE := $(CACHE_DIR)/ansible-test/ansible_collections/aibang/gke_platform
COLLECTION_LINK := $(VENV)/collections/ansible_collections/aibang/gke_platform
ANSIBLE_TEST := $(BIN)/ansible-test
TEST_PYTHON := 3.11

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(VENV)/collections
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup demo test units sanity lint integration molecule bench testbed-up testbed-down clean \
        system-packages test-tree ee-context awx-up awx-down awx

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: $(VENV)/.installed system-packages $(COLLECTION_LINK) ## install the pinned toolchain and system packages

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

system-packages:
	@scripts/install-system-packages bindep.txt

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

demo: setup ## start the local testbed, deploy and diagnose against inventories/local
	scripts/demo

test: setup ## run every test tier; fails if any tier fails or runs no test
	scripts/run-tiers units sanity lint integration molecule

units: setup test-tree ## unit tests (ansible-test units)
	cd $(TEST_TREE) && $(ANSIBLE_TEST) units --local --python $(TEST_PYTHON) --color no 2>&1 | tee $(CACHE_DIR)/units.log
	@# ansible-test exits 0 when a group's pytest workers crash before collecting anything: count that as a failure
	@! grep -E "no tests ran|node down" $(CACHE_DIR)/units.log >/dev/null || \
	  { echo "units: a group of unit tests did not run (see the log above)" >&2; exit 1; }

sanity: setup test-tree ## ansible-test sanity, no ignore files
	scripts/offline-get-pip
	cd $(TEST_TREE) && $(ANSIBLE_TEST) sanity --local --python $(TEST_PYTHON) --color no

lint: setup ## ansible-lint (production profile) and changelog lint
	@# ANSIBLE_HOME of its own: ansible-lint puts ~/.ansible/collections first, where an installed copy of this collection
	@# would hide the checkout's modules
	ANSIBLE_HOME=$(CACHE_DIR)/lint-ansible-home $(BIN)/ansible-lint --offline
	$(BIN)/antsibull-changelog lint

integration: setup ## pytest suites against real Squid (and, as they land, the testbed)
	$(BIN)/python -m pytest tests/integration --ignore=tests/integration/test_awx.py

molecule: setup ## every molecule scenario, against this machine
	scripts/run-molecule

bench: setup ## benchmarks: ratios against a baseline measured in the same run
	PYTHONPATH=$(VENV)/collections $(BIN)/python -m tests.bench

testbed-up: setup ## start the local testbed
	tests/testbed/testbed.sh up

testbed-down: ## stop everything the testbed started
	tests/testbed/testbed.sh down

ee-context: setup ## build the execution environment's context (ansible-builder create, offline) in tests/output/ee
	mkdir -p tests/output/ee
	$(BIN)/ansible-galaxy collection build --force --output-path tests/output/ee . >/dev/null
	mv tests/output/ee/aibang-gke_platform-*.tar.gz tests/output/ee/aibang-gke_platform.tar.gz
	$(BIN)/ansible-builder create -f execution-environment.yml --context tests/output/ee/context --output-filename Containerfile

awx-up: setup ## start the lab's AWX 24.6.1 (tests/testbed/awx; builds cached in ~/.cache/aibang-awx)
	tests/testbed/awx/awx.sh up

awx-down: ## stop the lab's AWX
	tests/testbed/awx/awx.sh down

awx: setup ## AWX tier: the configuration and its workflows against a real AWX (test_lab_* hold the lab: take the lab lock)
	$(BIN)/python -m pytest tests/integration/test_awx.py

clean: testbed-down ## remove the virtualenv, test output and the ansible-test copy
	rm -rf $(VENV) tests/output $(CACHE_DIR)/ansible-test

test-tree:
	rm -rf $(TEST_TREE) && mkdir -p $(TEST_TREE)
	git ls-files -z --cached --others --exclude-standard \
	  | rsync -a --from0 --ignore-missing-args --files-from=- ./ $(TEST_TREE)/
