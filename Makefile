# Everything a new user runs; `make help` lists it.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The ansible-core matrix, oldest first: .venv has the main one (requirements/dev.txt), each other a .venv-VERSION.
CORES := 2.17 2.18 2.19 2.20 2.21
MAIN_CORE := 2.19
OTHER_CORES := $(filter-out $(MAIN_CORE),$(CORES))
# ansible-core 2.20 and later run on Python 3.12 or newer only: one is looked for at run time.
NEW_PYTHON_CORES := 2.20 2.21
PYTHON_NEW ?= $(shell hacking/find-python 3.12+ 2>/dev/null)
core_venv = $(if $(filter $(MAIN_CORE),$(1)),$(VENV),.venv-$(1))
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help demo venv cores collection docs lint sanity test-matrix test-modules test-fast test test-lab test-vm-smoke test-vm lab-and-vms lab-deps lab lab-down molecule bench bench-lab bench-serve bench-site bench-bundle bench-replication clean

help: ## list the targets
	@grep -E '^[a-z0-9.-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/dev.txt requirements/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed for ansible-core 2.19 (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade --requirement requirements/dev.txt
	touch $@

.venv-%/.installed: requirements/ansible-%.txt
	@python='$(if $(filter $*,$(NEW_PYTHON_CORES)),$(PYTHON_NEW),$(PYTHON))'; \
	if [ -z "$$python" ]; then hacking/find-python 3.12+ || true; \
	    echo "ansible-core $* needs Python 3.12 or newer on the controller; set PYTHON_NEW=/path/to/python3.12 (or newer)"; exit 1; fi; \
	echo "$$python -m venv .venv-$* (ansible-core $*)"; "$$python" -m venv .venv-$*
	.venv-$*/bin/pip install --quiet --requirement requirements/ansible-$*.txt
	touch $@

# pip spends most of a virtualenv's making on one core: two are made at a time.
cores: ## a virtualenv for each ansible-core of the matrix (.venv holds the main one)
	@$(MAKE) --no-print-directory -j2 $(VENV)/.installed $(foreach core,$(OTHER_CORES),.venv-$(core)/.installed)

venv: $(VENV)/.installed ## create .venv from the pinned requirement files

# ansible-playbook finds this checkout as the collection airgap.pypi_mirror through this link.
COLLECTIONS := $(CURDIR)/.tmp/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
collection: ## link this checkout in as the collection airgap.pypi_mirror (.tmp/collections)
	@mkdir -p $(COLLECTIONS)/ansible_collections/airgap
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/airgap/pypi_mirror

DEMO_VARS := .lab/demo-vars.yml
demo: venv collection lab-deps ## the mirror on a lab of three hosts: bundle, site.yml, pip install on node1
	@python3 lab/lab.py status >/dev/null 2>&1 || python3 lab/lab.py up
	@test -f $(DEMO_VARS) || { umask 077; printf 'pypi_mirror_root_password: "%s"\npypi_mirror_bundle_dir: "%s"\npypi_mirror_packages: [jmespath, netaddr]\n' \
	    "$$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')" "$(CURDIR)/.tmp/demo-bundle" > $(DEMO_VARS); }
	$(BIN)/ansible-playbook -i .lab/inventory.yml -e @$(DEMO_VARS) playbooks/bundle.yml
	$(BIN)/ansible-playbook -i .lab/inventory.yml -e @$(DEMO_VARS) playbooks/site.yml
	@echo; echo "== on node1: pip install netaddr, from the admin's root/prod =="
	@ssh -i .lab/id_ed25519 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
	    root@$$(python3 lab/lab.py address node1) \
	    'cat /etc/pip.conf; rm -rf /root/demo-venv && python3 -m venv /root/demo-venv && /root/demo-venv/bin/pip install --no-cache-dir -v netaddr 2>&1 | grep -E "Looking in indexes|Downloading|Successfully"'
	@echo; echo "The lab is up: inventory .lab/inventory.yml, root password in $(DEMO_VARS)."
	@echo "Log in: ssh -i .lab/id_ed25519 root@<ansible_host from the inventory>. Take it down: make lab-down"

docs: venv ## write the roles' variable tables (READMEs) from their argument specs
	$(BIN)/python hacking/role_docs.py

lint: venv collection ## ansible-lint, production profile (the collection resolves from this checkout)
	$(BIN)/ansible-lint

# Two versions at a time, one core each; each log is printed whole when both are done.
sanity_pair = tests/sanity/run $(call core_venv,$(1)) > .tmp/sanity-$(1).log 2>&1 & one=$$!; \
	tests/sanity/run $(call core_venv,$(2)) > .tmp/sanity-$(2).log 2>&1 & two=$$!; \
	rc=0; wait $$one || rc=1; wait $$two || rc=$$((rc + 2)); \
	cat .tmp/sanity-$(1).log .tmp/sanity-$(2).log; \
	if [ $$rc -ne 0 ]; then echo "sanity failed: $$( [ $$((rc & 1)) -ne 0 ] && echo 'ansible-core $(1) ')$$( [ $$((rc & 2)) -ne 0 ] && echo 'ansible-core $(2)')"; exit 1; fi

sanity: venv cores ## ansible-test sanity with the oldest and the newest ansible-core (side by side)
	@mkdir -p .tmp
	@$(call sanity_pair,$(firstword $(CORES)),$(lastword $(CORES)))

test-matrix: venv cores ## ansible-test sanity with every ansible-core of the matrix, two at a time
	@mkdir -p .tmp
	@$(call sanity_pair,$(word 1,$(CORES)),$(word 2,$(CORES)))
	@$(call sanity_pair,$(word 3,$(CORES)),$(word 4,$(CORES)))
	@tests/sanity/run $(call core_venv,$(word 5,$(CORES)))

# Two workers, one per core; each starts its own devpi-server.
test-modules: venv cores ## the modules against a real devpi-server on every ansible-core, the installed collection, the docs' drift (pytest)
	TEST_ANSIBLE_VENVS="$(foreach core,$(MAIN_CORE) $(OTHER_CORES),$(call core_venv,$(core)))" $(BIN)/python -m pytest -n 2 --durations=10 $(PYTEST_ARGS)

test-fast: lint sanity test-modules ## everything that needs no lab (lint, sanity, pytest)

lab-deps: ## install what the lab needs (Debian: systemd-container, debootstrap, QEMU for its VMs) and check the machine
	@if ! command -v systemd-nspawn >/dev/null || ! command -v debootstrap >/dev/null \
	        || ! command -v qemu-system-x86_64 >/dev/null || ! command -v qemu-img >/dev/null; then \
	    command -v apt-get >/dev/null || { echo "lab: needs systemd-nspawn, debootstrap and QEMU; install them (this is not Debian)"; exit 1; }; \
	    echo "lab: installing systemd-container, debootstrap, qemu-system-x86 and qemu-utils"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	        systemd-container debootstrap qemu-system-x86 qemu-utils >/dev/null; \
	fi
	python3 lab/lab.py check
	LAB_BACKEND=vm python3 lab/lab.py check

lab: lab-deps ## boot admin, node1, node2 (lab/hosts.json) and write .lab/inventory.yml
	python3 lab/lab.py up

lab-down: ## stop the lab and remove everything it made
	python3 lab/lab.py down
	rm -f $(DEMO_VARS)

test-lab: venv lab-deps ## the lab itself on both backends: boot, air gap, a VM's reboot, down after a crash or a failed up (pytest, root)
	$(BIN)/python -m pytest tests/lab $(PYTEST_ARGS)

# Four lanes of scenarios side by side on the two cores, balanced by their measured times (docs/testing.md); more
# lanes than cores fill the moments a scenario waits on a host booting or devpi starting. Each has its own network and
# bundle. Each lane's log is printed whole when all are done; every scenario runs even when one fails. LANE_BESIDE's
# scenarios run in `make test` as a fifth lane, after the lab's tests and smoke on VMs.
LANE_A := default confusion
LANE_B := offline teardown
LANE_C := replicas kubespray
LANE_D := faults
LANE_BESIDE := platforms export_import
# Each verifier ends with its five slowest tests, to see where a lane's time goes.
MOLECULE := PATH=$(CURDIR)/$(BIN):$$PATH PYTEST_ADDOPTS=--durations=5 $(BIN)/molecule test -s
LANE_LOGS := .tmp/molecule-lane-a.log .tmp/molecule-lane-b.log .tmp/molecule-lane-c.log .tmp/molecule-lane-d.log
molecule: venv collection lab-deps ## the Molecule scenarios of lanes A to D on lab hosts, side by side
	@mkdir -p .tmp
	@lane() { rc=0; for s in $$1; do t=$$(date +%s); $(MOLECULE) $$s || { rc=1; echo "== scenario $$s failed"; }; \
	    echo "== scenario $$s took $$(( $$(date +%s) - t )) s"; done; return $$rc; }; \
	lane "$(LANE_A)" > .tmp/molecule-lane-a.log 2>&1 & a=$$!; \
	lane "$(LANE_B)" > .tmp/molecule-lane-b.log 2>&1 & b=$$!; \
	lane "$(LANE_C)" > .tmp/molecule-lane-c.log 2>&1 & c=$$!; \
	lane "$(LANE_D)" > .tmp/molecule-lane-d.log 2>&1 & d=$$!; \
	rc=0; wait $$a || rc=1; wait $$b || rc=1; wait $$c || rc=1; wait $$d || rc=1; \
	cat $(LANE_LOGS); \
	grep -h '^== scenario' $(LANE_LOGS) || true; exit $$rc

test-vm-smoke: venv collection lab-deps ## the smoke scenario on QEMU virtual machines (Debian's kernel)
	LAB_BACKEND=vm $(MOLECULE) smoke

# Outside `make test` (docs/testing.md has its last time): this machine runs VMs under software emulation only.
test-vm: venv collection lab-deps ## the default scenario on QEMU virtual machines (site.yml, idempotence, verify, a reboot)
	LAB_BACKEND=vm $(MOLECULE) default

# The lab's own tests, smoke on VMs and LANE_BESIDE's scenarios run one after the other beside the Molecule lanes, on
# networks of their own; each runs even when one before it fails.
# One layer of `make test`, and how long it took (docs/testing.md keeps the times); the exit code is the layer's.
# Lint (one process) runs beside sanity (two), so no core waits.
timed = { t=$$(date +%s); rc=0; $(MAKE) --no-print-directory $(1) || rc=$$?; \
	echo "== make $(strip $(1)) took $$(( $$(date +%s) - t )) s"; [ $$rc -eq 0 ]; }

test: ## every test: lint, sanity, pytest, then the lab's tests, smoke on VMs and LANE_BESIDE beside the other scenarios
	@$(call timed,cores) && $(call timed,-j2 lint sanity) && $(call timed,test-modules) \
	    && $(call timed,-j2 lab-and-vms molecule)

lab-and-vms: venv collection lab-deps
	@rc=0; for target in test-lab test-vm-smoke; do t=$$(date +%s); $(MAKE) --no-print-directory -j1 $$target || rc=1; \
	    echo "== $$target took $$(( $$(date +%s) - t )) s"; done; \
	for s in $(LANE_BESIDE); do t=$$(date +%s); $(MOLECULE) $$s || { rc=1; echo "== scenario $$s failed"; }; \
	    echo "== scenario $$s took $$(( $$(date +%s) - t )) s"; done; exit $$rc

bench: venv ## seeding benchmark; writes docs/benchmarks.md
	$(BIN)/python bench/seed --write

bench-lab: venv lab-deps ## lab speed (cold build, cached start, smoke scenario); writes docs/testing.md
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python bench/lab --write

bench-bundle: venv collection ## bundle.yml for kubespray's requirements on two platforms, and its completeness check; writes docs/benchmarks.md
	$(BIN)/python bench/bundle --write

bench-serve: venv collection lab-deps ## devpi direct, the front and a static tree side by side on the lab (wrk, pip); writes docs/benchmarks.md
	@command -v wrk >/dev/null || apt-get install -y -q wrk
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python bench/serve --write

bench-site: venv collection lab-deps ## site.yml first and unchanged run on three lab hosts; writes docs/benchmarks.md
	$(BIN)/python bench/site --write

bench-replication: venv collection lab-deps ## replication lag of an upload, a new replica's catch-up for 1 GB beside a copy by hand; writes docs/benchmarks.md
	$(BIN)/python bench/replication --write

clean: ## remove virtualenvs and test state
	rm -rf $(VENV) .venv-* .tmp tests/output .pytest_cache
