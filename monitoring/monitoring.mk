# monitoring targets; included by the top-level Makefile.

TEST_PREREQS += prometheus-package

.PHONY: prometheus-package
prometheus-package: ## Install Debian's Prometheus for promtool (the alert-rule tests); its service stays off.
	@$(call apt_ensure,command -v promtool >/dev/null,--no-install-recommends prometheus,Prometheus (promtool),systemctl disable --now prometheus >/dev/null 2>&1 || true)

.PHONY: alerts-check
alerts-check: prometheus-package ## Check the alert rules and run their promtool unit tests.
	promtool check rules monitoring/rules/*.yml
	promtool test rules tests/monitoring/*.test.yml
