# monitoring targets; included by the top-level Makefile.

TEST_PREREQS += prometheus-package alertmanager-package pushgateway-package
TEST_PREREQS += node-exporter-package blackbox-exporter-package postgres-exporter-package

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

.PHONY: node-exporter-package
node-exporter-package: ## Install Debian's node exporter (prometheus-node-exporter); its service and timers stay off.
	@$(call apt_ensure,command -v prometheus-node-exporter >/dev/null,--no-install-recommends prometheus-node-exporter,the node exporter,systemctl disable --now prometheus-node-exporter prometheus-node-exporter-apt.timer prometheus-node-exporter-ipmitool-sensor.timer prometheus-node-exporter-mellanox-hca-temp.timer prometheus-node-exporter-nvme.timer prometheus-node-exporter-smartmon.timer >/dev/null 2>&1 || true)

.PHONY: blackbox-exporter-package
blackbox-exporter-package: ## Install Debian's blackbox exporter (prometheus-blackbox-exporter); its service stays off.
	@$(call apt_ensure,command -v prometheus-blackbox-exporter >/dev/null,--no-install-recommends prometheus-blackbox-exporter,the blackbox exporter,systemctl disable --now prometheus-blackbox-exporter >/dev/null 2>&1 || true)

.PHONY: postgres-exporter-package
postgres-exporter-package: ## Install Debian's PostgreSQL exporter (prometheus-postgres-exporter); its service stays off.
	@$(call apt_ensure,command -v prometheus-postgres-exporter >/dev/null,--no-install-recommends prometheus-postgres-exporter,the PostgreSQL exporter,systemctl disable --now prometheus-postgres-exporter >/dev/null 2>&1 || true)

.PHONY: monitoring-up
monitoring-up: setup prometheus-package alertmanager-package pushgateway-package node-exporter-package blackbox-exporter-package postgres-exporter-package ## Start Prometheus (the alert rules, scraping the broker, host, TLS probes and PostgreSQL), Alertmanager, a Pushgateway and the exporters on 127.0.0.1.
	$(call say,starting Prometheus with Alertmanager, a Pushgateway and the exporters)
	$(TRIPCLICK) monitoring up

.PHONY: monitoring-down
monitoring-down: ## Stop the local Prometheus, Alertmanager, Pushgateway and exporters.
	@if [ -x $(TRIPCLICK) ]; then $(TRIPCLICK) monitoring down; else echo "nothing to stop (not set up)"; fi

.PHONY: alerts-check
alerts-check: prometheus-package ## Check the alert rules and run their promtool unit tests.
	promtool check rules monitoring/rules/*.yml
	promtool test rules tests/monitoring/*.test.yml
