# monitoring targets; included by the top-level Makefile.

TEST_PREREQS += prometheus-package alertmanager-package pushgateway-package

# Debian's packages start their services on install where an init system runs; here the
# project runs them itself (tripclick monitoring up), on 127.0.0.1 only, so the system
# services stay off.
.PHONY: prometheus-package
prometheus-package: ## Install Debian's Prometheus (prometheus, promtool); its service stays off.
	@$(call apt_ensure,command -v promtool >/dev/null,--no-install-recommends prometheus,Prometheus (promtool),systemctl disable --now prometheus >/dev/null 2>&1 || true)

.PHONY: alertmanager-package
alertmanager-package: ## Install Debian's Alertmanager (prometheus-alertmanager); its service stays off.
	@$(call apt_ensure,command -v prometheus-alertmanager >/dev/null,--no-install-recommends prometheus-alertmanager,Alertmanager,systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true)

.PHONY: pushgateway-package
pushgateway-package: ## Install Debian's Pushgateway (prometheus-pushgateway); its service stays off.
	@$(call apt_ensure,command -v prometheus-pushgateway >/dev/null,--no-install-recommends prometheus-pushgateway,the Pushgateway,systemctl disable --now prometheus-pushgateway >/dev/null 2>&1 || true)

.PHONY: monitoring-up
monitoring-up: setup prometheus-package alertmanager-package pushgateway-package ## Start Prometheus (the alert rules, scraping the local broker), Alertmanager and a Pushgateway on 127.0.0.1.
	$(call say,starting Prometheus with Alertmanager and a Pushgateway)
	$(TRIPCLICK) monitoring up

.PHONY: monitoring-down
monitoring-down: ## Stop the local Prometheus, Alertmanager and Pushgateway.
	@if [ -x $(TRIPCLICK) ]; then $(TRIPCLICK) monitoring down; else echo "nothing to stop (not set up)"; fi

.PHONY: alerts-check
alerts-check: prometheus-package ## Check the alert rules and run their promtool unit tests.
	promtool check rules monitoring/rules/*.yml
	promtool test rules tests/monitoring/*.test.yml
