# The front door: every action a person performs is a target here.
# `make help` lists them. Targets are idempotent and install what they need.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.SHELLFLAGS := -eu -o pipefail -c

ROOT        := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# State of this checkout: tools, virtualenvs, JVM jars, service data and logs.
LOCAL       ?= $(ROOT)/.local
PYTHON      ?= python3
UV_VERSION  := 0.13.8
UV          := $(LOCAL)/tools/bin/uv
VENV        := $(ROOT)/.venv
PY          := $(VENV)/bin/python
TRIPCLICK   := $(VENV)/bin/tripclick
MVN         := mvn -q -B -Dmaven.repo.local=$(LOCAL)/m2
export UV_CACHE_DIR ?= $(HOME)/.cache/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export TRIPCLICK_HOME ?= $(LOCAL)

say = @printf '\033[1m==> %s\033[0m\n' "$(1)"

# Install Debian packages unless CHECK succeeds: $(call apt_ensure,CHECK,PACKAGES,WHAT[,AFTER]).
# PACKAGES goes to apt-get install as written (flags too); AFTER runs once, after installing.
# Not root: one line saying the command to run. Make splits on commas, so CHECK holds none.
apt_ensure = if $(1); then :; else \
  printf '\033[1m==> %s\033[0m\n' "installing $(3) from Debian's packages"; \
  if [ "$$(id -u)" != 0 ]; then echo "error: $(3) is not installed; run as root: apt-get install -y $(strip $(2))" >&2; exit 1; fi; \
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
  $(if $(4),$(4);) fi

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- setup

$(UV):
	$(call say,installing uv $(UV_VERSION) into $(LOCAL)/tools)
	$(PYTHON) -m venv $(LOCAL)/tools
	$(LOCAL)/tools/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(call say,syncing the payload/Spark/test virtualenv (.venv) from uv.lock)
	$(UV) sync --frozen --python $(PYTHON) -q
	@touch $@

$(LOCAL)/jars/%/.resolved: pom.xml
	$(call say,resolving JVM artifacts of profile '$*' from Maven Central)
	@command -v mvn >/dev/null || { echo "error: Maven (mvn) is not installed; run: apt-get install -y maven" >&2; exit 1; }
	@command -v java >/dev/null || { echo "error: Java 17 is not installed; run: apt-get install -y openjdk-17-jre-headless" >&2; exit 1; }
	rm -rf $(LOCAL)/jars/$*
	$(MVN) -P $* dependency:copy-dependencies -DoutputDirectory=$(LOCAL)/jars/$*
	@touch $@

# The JVM half of silver's and bronze's validation (spark/jvm), compiled against the
# virtualenv's own Spark jars, so it always matches the Spark it runs in.
UDF_JAR     := $(LOCAL)/jars/udf/tripclick-spark-udf.jar
UDF_SOURCES := $(shell find $(ROOT)/spark/jvm -name '*.java')
$(UDF_JAR): $(VENV)/.synced $(UDF_SOURCES)
	$(call say,compiling the Spark value check (spark/jvm))
	@command -v javac >/dev/null || { echo "error: a Java 17 JDK (javac) is not installed; run: apt-get install -y openjdk-17-jdk-headless" >&2; exit 1; }
	rm -rf $(LOCAL)/build/udf && mkdir -p $(LOCAL)/build/udf $(@D)
	javac -nowarn --release 17 -d $(LOCAL)/build/udf \
	  -cp "$$($(PY) -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')/jars/*" $(UDF_SOURCES)
	jar cf $@ -C $(LOCAL)/build/udf .

.PHONY: system-packages
system-packages: ## Install the Debian packages the local stack needs (PostgreSQL server).
	@$(call apt_ensure,ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1,postgresql,the PostgreSQL server)

.PHONY: setup
setup: system-packages $(VENV)/.synced $(LOCAL)/jars/kafka/.resolved $(LOCAL)/jars/jmx/.resolved $(LOCAL)/jars/spark/.resolved $(UDF_JAR) ## Install everything the local runtime needs (idempotent).

# ---------------------------------------------------------------- local stack

.PHONY: up
up: setup ## Start the local stack: Kafka (KRaft), moto S3 and PostgreSQL on 127.0.0.1.
	$(call say,starting the local stack)
	$(TRIPCLICK) up

.PHONY: down
down: ## Stop the local stack; leaves no process behind.
	@if [ -x $(TRIPCLICK) ]; then $(TRIPCLICK) down; else echo "nothing to stop (not set up)"; fi

.PHONY: status
status: ## Show the local stack's services, ports, health and log files.
	@if [ -x $(TRIPCLICK) ]; then $(TRIPCLICK) status; else echo "not set up: run make up"; fi

# ---------------------------------------------------------------- quality

.PHONY: lint
lint: $(VENV)/.synced ## Lint and check formatting with ruff.
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: fmt
fmt: $(VENV)/.synced ## Format the Python code with ruff.
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Extra environments each area's tests need; area makefiles append to it.
TEST_PREREQS := setup

# A virtualenv of its own for a tool whose pins cannot share .venv (Airflow, Superset,
# Ansible, checkov). $(call tool_venv,NAME,REQUIREMENTS) defines the rule that builds
# $(LOCAL)/venvs/NAME from a lock file compiled by `make lock`.
define tool_venv
$(LOCAL)/venvs/$(1)/.synced: $(2) | $(UV)
	$$(call say,syncing the $(1) virtualenv from $(2))
	$(UV) venv -q --allow-existing --python $(PYTHON) $(LOCAL)/venvs/$(1)
	$(UV) pip sync -q --python $(LOCAL)/venvs/$(1)/bin/python $(2)
	@touch $$@
endef

# Lock files of the tool virtualenvs: REQUIREMENTS.in -> REQUIREMENTS.txt. Area makefiles append.
LOCKS :=

include terraform/terraform.mk
include ansible/ansible.mk
include dags/airflow.mk
include superset/superset.mk
include spark/spark.mk
include monitoring/monitoring.mk
include devstack/fleet.mk

.PHONY: lock
lock: $(UV) ## Re-resolve every pinned environment (uv.lock and each tool venv's requirements.txt).
	$(UV) lock
	@for lock in $(LOCKS); do \
	  printf '\033[1m==> %s\033[0m\n' "compiling $$lock"; \
	  $(UV) pip compile -q --python-version 3.11 $${lock%.txt}.in -o $$lock; \
	done

# Two workers: the tests that use no local stack (the fleet's converges among them, mostly
# spent waiting on installs and on the fleet's containers) beside all the others
# (tests/conftest.py splits them); TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2

.PHONY: test
test: $(TEST_PREREQS) ## Set up and run every test (starts and stops the local stack itself).
	$(call say,running the test suite in $(TEST_WORKERS) workers)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

.PHONY: demo
demo: setup ## Set up and run a whole day locally on the real TripClick sample, through Airflow's daily DAG, after a generated week before it.
	$(TRIPCLICK) up
	@$(MAKE) --no-print-directory demo-history
	@$(MAKE) --no-print-directory airflow-demo
	$(call say,serving the dashboards (Superset on 127.0.0.1))
	$(TRIPCLICK) dashboards serve

# The days before the demo's sample day, generated with the weekly shape and a few
# anomalous sessions and backfilled (published days are skipped, so a second demo only
# checks them): every dashboard then has a week of history to draw its trends from.
DEMO_HISTORY_DAYS    ?= 6
DEMO_HISTORY_RECORDS ?= 600
DEMO_HISTORY_DIR     ?= $(LOCAL)/demo/history

.PHONY: demo-history
demo-history: setup ## Generate and backfill the DEMO_HISTORY_DAYS (6) days before the demo's sample day.
	$(call say,generating and backfilling the $(DEMO_HISTORY_DAYS) days before $(DEMO_DATE))
	@first=$$(date -u -d "$(DEMO_DATE) -$(DEMO_HISTORY_DAYS) days" +%F) && \
	  last=$$(date -u -d "$(DEMO_DATE) -1 day" +%F) && \
	  $(TRIPCLICK) generate --date $$first --days $(DEMO_HISTORY_DAYS) --records $(DEMO_HISTORY_RECORDS) \
	    --anomalous-sessions 2 --out $(DEMO_HISTORY_DIR) >/dev/null && \
	  $(TRIPCLICK) backfill --from $$first --to $$last --input $(DEMO_HISTORY_DIR)

.PHONY: bench
bench: setup bench-producer bench-pipeline bench-gold-load bench-freshness ## Run the benchmarks; results go to bench/results/.

.PHONY: bench-producer
bench-producer: setup ## Benchmark the batch producer against Kafka's ProducerPerformance; bench/results/producer.json.
	$(call say,producer benchmark: ours vs Kafka's ProducerPerformance on a 1M-record day)
	$(PY) bench/producer_bench.py

.PHONY: clean
clean: down ## Stop the stack and delete the local state (.local, .venv).
	rm -rf $(LOCAL) $(VENV)
