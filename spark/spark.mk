# spark targets; included by the top-level Makefile.

.PHONY: gold-migrate
gold-migrate: setup ## Apply the gold schema's pending migrations (the stack must be up).
	$(TRIPCLICK) gold migrate

.PHONY: bench-pipeline
bench-pipeline: setup ## Benchmark the pipeline (100k, 1M and 5M clicks) against DuckDB; results in bench/results/pipeline.json and .png.
	$(call say,pipeline benchmark: Spark stages vs DuckDB on generated days)
	$(PY) bench/pipeline_bench.py $(BENCH_ARGS)

.PHONY: bench-gold-load
bench-gold-load: setup ## Benchmark the gold publication against a bare COPY of the same rows; results in bench/results/gold_load.json.
	$(call say,gold-load benchmark: stage_date + publish vs a bare COPY on a 1M-click day's marts)
	$(PY) bench/gold_load_bench.py $(BENCH_ARGS)

.PHONY: bench-freshness
bench-freshness: setup ## Benchmark freshness (produce -> silver, -> live marts) at 2,000 clicks/s; results in bench/results/freshness.json and .png.
	$(call say,freshness benchmark: a realtime replay at 2000 clicks/s through silver's micro-batches)
	$(PY) bench/freshness_bench.py $(BENCH_ARGS)

# Gold backups in the lake's backups/gold/ (pg_dump custom format; docs/runbook.md "Backups").
BACKUP_KEEP ?= 7

.PHONY: backup
backup: setup ## Back up the gold schemas into <lake>/backups/gold/ and keep the newest BACKUP_KEEP (7).
	$(TRIPCLICK) backup create --keep $(BACKUP_KEEP)

.PHONY: restore
restore: setup ## Replace the gold schemas with a backup: the newest, or BACKUP=gold-YYYYMMDDTHHMMSSZ.dump.
	$(TRIPCLICK) backup restore $(if $(BACKUP),--name $(BACKUP),)
