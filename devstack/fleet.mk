# The simulated fleet (ARCHITECTURE.md 5.1): Terraform's hosts as systemd containers on this
# machine, converged by the real site.yml. Included by the top-level Makefile.
#   make fleet-up ENV=dev && make fleet-converge ENV=dev && make fleet-down ENV=dev

FLEET          = PYTHONPATH=$(ROOT)/devstack $(PY) -m tripclick_devstack.fleet --env $(ENV)
FLEET_DIR      = $(LOCAL)/fleet/$(ENV)
FLEET_INVENTORY = inventory/terraform/fleet-$(ENV).yml
FLEET_VAULT    = $(LOCAL)/secrets/ansible-vault-fleet-$(ENV).yml
# The simulated fleet's throwaway secrets keep their vault password beside them (mode 0600):
# nothing of a real environment's (VAULT_PASSWORD_FILE in your home) is touched.
FLEET_VAULT_PASSWORD_FILE = $(LOCAL)/secrets/vault-password-fleet-$(ENV)
fleet-vault fleet-converge: VAULT_PASSWORD_FILE = $(FLEET_VAULT_PASSWORD_FILE)
FLEET_LOGS     = $(LOCAL)/run/logs
# The day the converge delivers to the web hosts (one file each) and names in Airflow's settings.
FLEET_DAY_FILES ?= $(sort $(wildcard $(ROOT)/../shared/data/tripclick-sample/*.jsonl))
FLEET_DATE     ?= 2016-01-01
comma := ,
empty :=
space := $(empty) $(empty)
FLEET_DAY_VARS  = {"tripclick_day_files": [$(subst $(space),$(comma),$(patsubst %,"%",$(FLEET_DAY_FILES)))], "tripclick_source_date": "$(FLEET_DATE)"}

.PHONY: fleet-engine
fleet-engine: ## Install Debian's Docker engine (and mmdebstrap) if missing and start dockerd if not running.
	@bash devstack/fleet-engine.sh start

.PHONY: fleet-engine-stop
fleet-engine-stop: ## Stop the dockerd that fleet-engine started (after fleet-down).
	@bash devstack/fleet-engine.sh stop

.PHONY: fleet-image
fleet-image: $(VENV)/.synced fleet-engine ## Build the fleet's base image (Debian + systemd + sshd) unless its recipe is unchanged.
	$(FLEET) image

.PHONY: fleet-up
fleet-up: $(VENV)/.synced fleet-engine ## Simulate `terraform apply` of ENV: one systemd container per instance, subnets, security groups, lake, inventory.
	$(FLEET) up

.PHONY: fleet-status
fleet-status: $(VENV)/.synced ## List the fleet's hosts, their addresses and health (systemd, SSH through the jump host).
	@$(FLEET) status

.PHONY: fleet-down
fleet-down: $(VENV)/.synced ## Remove every container, network, volume, rule and process fleet-up made.
	$(FLEET) down

.PHONY: fleet-vault
fleet-vault: $(ANSIBLE_VENV)/.synced ## Create the fleet environment's encrypted secrets (once), as `make ansible-vault` does.
	@$(MAKE) --no-print-directory ansible-vault INVENTORY=$(FLEET_INVENTORY) VAULT_FILE=$(FLEET_VAULT) VAULT_PASSWORD_FILE=$(FLEET_VAULT_PASSWORD_FILE)

.PHONY: fleet-converge
fleet-converge: fleet-up fleet-vault ansible-system-packages statsd-exporter-package $(UDF_JAR) ## Run the real site.yml over the fleet through the jump host (ProxyJump); log in .local/run/logs.
	@mkdir -p $(FLEET_LOGS)
	$(call say,converging the $(ENV) fleet with site.yml (log $(FLEET_LOGS)/fleet-$(ENV)-converge.log))
	@start=$$(date +%s); rc=0; \
	$(ANSIBLE_RUN) $(ANSIBLE_MITOGEN) ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks ANSIBLE_SSH_ARGS="-F $(FLEET_DIR)/ssh/config -o ControlMaster=auto -o ControlPersist=120s" \
	  $(ANSIBLE_VENV)/bin/ansible-playbook -i $(ROOT)/$(FLEET_INVENTORY) site.yml -e @$(FLEET_VAULT) -e @$(FLEET_DIR)/converge-vars.json -e '$(FLEET_DAY_VARS)' $(ANSIBLE_ARGS) \
	  2>&1 | tee $(FLEET_LOGS)/fleet-$(ENV)-converge.log || rc=$$?; \
	echo "converge took $$(( $$(date +%s) - start )) s (exit $$rc)"; \
	$(FLEET) converge-report $(FLEET_LOGS)/fleet-$(ENV)-converge.log; exit $$rc

# tests/fleet bring the dev fleet up and down themselves; they need the engine.
TEST_PREREQS += fleet-engine

# Operating the converged fleet from this machine, through the jump host (fleet/operate.py).
MODE ?= daily
FLEET_OPERATE = $(FLEET) --vault $(FLEET_VAULT) --vault-password-file $(FLEET_VAULT_PASSWORD_FILE) --ansible-vault $(ANSIBLE_VENV)/bin/ansible-vault

.PHONY: fleet-day
fleet-day: $(VENV)/.synced $(ANSIBLE_VENV)/.synced ## Run DATE through Airflow on the converged fleet (MODE=daily compressed TIME_SCALE x, or backfill; JSON=file); stage table and reconciliation.
	$(call say,running tripclick_daily_pipeline for $(DATE) on the $(ENV) fleet ($(MODE)) through its Airflow API)
	@$(FLEET_OPERATE) day --date $(DATE) --mode $(MODE) --time-scale $(TIME_SCALE) $(if $(JSON),--json $(JSON))

.PHONY: fleet-gold-dump
fleet-gold-dump: $(VENV)/.synced $(ANSIBLE_VENV)/.synced ## Print DATE's four marts from the fleet's gold host as JSON (as `tripclick gold dump`).
	@$(FLEET_OPERATE) gold-dump --date $(DATE)
