# superset targets; included by the top-level Makefile.

SUPERSET_VENV := $(LOCAL)/venvs/superset
$(eval $(call tool_venv,superset,superset/requirements.txt))
LOCKS += superset/requirements.txt
CHROMIUM := /usr/bin/chromium
TEST_PREREQS += $(SUPERSET_VENV)/.synced chromium

.PHONY: dashboards
dashboards: setup $(SUPERSET_VENV)/.synced ## Import the Superset bundle (superset/) with the gold DB from configuration; idempotent.
	$(call say,importing the TripClick dashboards into Superset)
	$(TRIPCLICK) dashboards import

.PHONY: dashboards-serve
dashboards-serve: setup $(SUPERSET_VENV)/.synced ## Import, then serve Superset on 127.0.0.1; prints the dashboard's address and login.
	$(TRIPCLICK) dashboards serve

.PHONY: dashboards-stop
dashboards-stop: ## Stop the Superset server.
	@if [ -x $(TRIPCLICK) ]; then $(TRIPCLICK) dashboards stop; fi

.PHONY: chromium
chromium: ## Install Debian's Chromium (headless browser for the dashboard tests).
	@$(call apt_ensure,[ -x $(CHROMIUM) ],chromium,Chromium)

# `make demo` ends with the dashboards served; `make down` stops Superset with the stack.
demo: $(SUPERSET_VENV)/.synced
down: dashboards-stop
