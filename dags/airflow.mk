# dags targets; included by the top-level Makefile.

AIRFLOW_VENV := $(LOCAL)/venvs/airflow
AIRFLOW      := $(AIRFLOW_VENV)/bin/airflow
# Airflow's environment on the local runtime (home, SQLite, generated secrets): see dags/README.md.
AIRFLOW_ENV   = eval "$$($(PY) -m tripclick_devstack.airflow_env)"
DAG        ?= tripclick_daily_pipeline
DATE       ?= 2016-01-01
TIME_SCALE ?= 120

$(eval $(call tool_venv,airflow,dags/requirements.txt))
LOCKS += dags/requirements.txt
TEST_PREREQS += $(AIRFLOW_VENV)/.synced statsd-exporter-package

# The statsd exporter that turns Airflow's StatsD metrics into Prometheus series
# (monitoring/exporters/statsd-mapping.yml). Debian 12's archive has no package of it, so it
# is built from its Go module (the Go toolchain of the machine); the tests run it themselves, and
# the monitoring role copies it to the fleet's airflow host (static, CGO off: any host's libc).
STATSD_EXPORTER_VERSION := v0.31.0
STATSD_EXPORTER         := $(LOCAL)/tools/bin/statsd_exporter
GO                      ?= $(or $(shell command -v go),/usr/local/go/bin/go)

.PHONY: statsd-exporter-package
statsd-exporter-package: ## Build the statsd exporter (Prometheus' statsd_exporter, pinned) into .local/tools/bin.
	@if [ "$$($(GO) version -m $(STATSD_EXPORTER) 2>/dev/null | awk '$$1 == "mod" {print $$3}')" = $(STATSD_EXPORTER_VERSION) ]; then :; else \
	  printf '\033[1m==> %s\033[0m\n' "building statsd_exporter $(STATSD_EXPORTER_VERSION) from its Go module"; \
	  [ -x "$(GO)" ] || { echo "error: the Go toolchain (go) is needed to build statsd_exporter" >&2; exit 1; }; \
	  CGO_ENABLED=0 GOBIN=$(LOCAL)/tools/bin $(GO) install github.com/prometheus/statsd_exporter@$(STATSD_EXPORTER_VERSION); \
	fi

.PHONY: airflow-setup
airflow-setup: setup $(AIRFLOW_VENV)/.synced ## Install Airflow and migrate its local metadata DB (SQLite under the state dir).
	$(call say,migrating Airflow's metadata database)
	@$(AIRFLOW_ENV) && $(AIRFLOW) db migrate >"$$AIRFLOW_HOME/db-migrate.log" 2>&1 \
	  || { echo "error: airflow db migrate failed; see $$AIRFLOW_HOME/db-migrate.log" >&2; exit 1; }

.PHONY: airflow-dag-test
airflow-dag-test: airflow-setup ## Run one DAG through Airflow on the local stack: DAG=… DATE=… TIME_SCALE=… (compressed day).
	$(call say,running $(DAG) for $(DATE) (time scale $(TIME_SCALE)) on the local stack)
	$(TRIPCLICK) up
	@$(AIRFLOW_ENV) && TRIPCLICK_TIME_SCALE=$(TIME_SCALE) $(AIRFLOW) dags test $(DAG) $(DATE)

.PHONY: airflow-dags-check
airflow-dags-check: $(AIRFLOW_VENV)/.synced ## Parse every DAG as Airflow does; print import errors, tags, retries and the default plan as JSON.
	@$(AIRFLOW_ENV) && $(AIRFLOW_VENV)/bin/python $(ROOT)/dags/tripclick_dags/dagbag_report.py

# The sample day, replayed through the daily DAG with the day compressed.
DEMO_DATE ?= 2016-01-01
DEMO_DIR  ?= $(abspath $(ROOT)/../shared/data/tripclick-sample)

.PHONY: airflow-demo
airflow-demo: airflow-setup ## Run the sample day through Airflow (tripclick_daily_pipeline, compressed) and print where the results are.
	$(TRIPCLICK) up
	$(call say,running tripclick_daily_pipeline for $(DEMO_DATE) through Airflow (day compressed $(TIME_SCALE)x: about 10 minutes))
	@$(AIRFLOW_ENV) && log="$$AIRFLOW_HOME/demo-$(DEMO_DATE).log" && echo "progress and full log: $$log" && \
	if TRIPCLICK_RUNTIME=local TRIPCLICK_TIME_SCALE=$(TIME_SCALE) TRIPCLICK_INPUT_DIR=$(DEMO_DIR) TRIPCLICK_SOURCE_DATE=$(DEMO_DATE) \
	    $(AIRFLOW) dags test tripclick_daily_pipeline $(DEMO_DATE) >"$$log" 2>&1; then :; else \
	  sed -n 's/.*\(TRIPCLICK ALERT: .*\) \[tripclick\.alerts\].*/\1/p' "$$log" >&2; \
	  echo "error: the daily pipeline failed for $(DEMO_DATE); full log: $$log" >&2; exit 1; \
	fi; \
	sed -n 's/.*\] \(gold $(DEMO_DATE): .*\|TRIPCLICK RESULT .*\) \[tripclick_dags.*/\1/p' "$$log"; \
	echo "Airflow: home $$AIRFLOW_HOME (metadata DB, task logs); re-run a stage alone: make airflow-dag-test DAG=tripclick_gold DATE=$(DEMO_DATE)"

# A range of dates through Airflow 3's own backfill of the daily DAG, for an Airflow whose
# scheduler runs the DAGs (the fleet's; locally `tripclick backfill` runs a range without
# one). The range is checked first, in one line; the runs are planned in backfill mode.
.PHONY: airflow-backfill
airflow-backfill: setup $(AIRFLOW_VENV)/.synced ## Backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD through Airflow's scheduler, oldest first (FORCE=1 re-runs succeeded dates, DRY_RUN=1 only lists them).
	@[ -n "$(FROM)" ] && [ -n "$(TO)" ] || { echo "error: give the range: make airflow-backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD" >&2; exit 2; }
	@args="$$($(PY) -m tripclick_devstack.airflow_backfill $(FROM) $(TO) $(if $(FORCE),--force) $(if $(DRY_RUN),--dry-run))" || exit 2; \
	  $(AIRFLOW_ENV) && eval "$(AIRFLOW) $$args"

# Airflow's metadata database in the lake's backups/airflow/ (docs/runbook.md "Backups"):
# SQLite's online backup of the local one; on the fleet the nightly DAG dumps its PostgreSQL.
AIRFLOW_BACKUP_KEEP ?= 7
AIRFLOW_BACKUP_CLI   = PYTHONPATH=$(ROOT)/dags $(AIRFLOW_VENV)/bin/python -m tripclick_dags.airflow_backup

.PHONY: backup-airflow
backup-airflow: setup $(AIRFLOW_VENV)/.synced ## Back up Airflow's metadata DB into <lake>/backups/airflow/ and keep the newest AIRFLOW_BACKUP_KEEP (7).
	@$(AIRFLOW_ENV) && $(AIRFLOW_BACKUP_CLI) create --keep $(AIRFLOW_BACKUP_KEEP)

.PHONY: restore-airflow
restore-airflow: setup $(AIRFLOW_VENV)/.synced ## Write a backup over Airflow's metadata DB (refused while its scheduler or api-server runs): the newest, or AIRFLOW_BACKUP=airflow-….sqlite.
	@$(AIRFLOW_ENV) && $(AIRFLOW_BACKUP_CLI) restore $(if $(AIRFLOW_BACKUP),--name $(AIRFLOW_BACKUP),)
