# spark targets; included by the top-level Makefile.

.PHONY: gold-migrate
gold-migrate: setup ## Apply the gold schema's pending migrations (the stack must be up).
	$(TRIPCLICK) gold migrate

.PHONY: bench-pipeline
bench-pipeline: setup ## Benchmark the pipeline (1M and 5M clicks) against DuckDB; results in bench/results/pipeline.json.
	$(call say,pipeline benchmark: Spark stages vs DuckDB on generated days)
	$(PY) bench/pipeline_bench.py $(BENCH_ARGS)
