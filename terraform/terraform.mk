# terraform targets; included by the top-level Makefile.
#   make bootstrap                 create the S3 bucket of the Terraform state (once per account)
#   make plan|apply|destroy ENV=dev
# apply ends by writing inventory/terraform/$(ENV).yml for Ansible and printing the UI addresses.

ENV          ?= dev
TF           ?= terraform
TF_ENV_DIR   := terraform/envs/$(ENV)
TF_LOCAL     := $(LOCAL)/terraform
TF_BACKEND   ?= $(TF_LOCAL)/backend.hcl
TF_OUTPUTS   := $(TF_LOCAL)/$(ENV)-outputs.json
TF_INVENTORY := inventory/terraform/$(ENV).yml
# AUTO_APPROVE=1 skips Terraform's confirmation prompt (CI, scripted rebuilds of dev).
TF_APPROVE   := $(if $(AUTO_APPROVE),-auto-approve,)

CHECKOV_VENV := $(LOCAL)/venvs/checkov
$(eval $(call tool_venv,checkov,terraform/requirements-checkov.txt))
LOCKS += terraform/requirements-checkov.txt
TEST_PREREQS += $(CHECKOV_VENV)/.synced

.PHONY: tf-prereqs
tf-prereqs:
	@test -f $(TF_ENV_DIR)/backend.tf || { echo "error: unknown environment ENV=$(ENV): pick one of $$(ls terraform/envs | xargs)" >&2; exit 1; }
	@command -v $(TF) >/dev/null || { echo "error: Terraform >= 1.10 is not installed: install it from https://developer.hashicorp.com/terraform/install and retry" >&2; exit 1; }
	@test -f $(TF_BACKEND) || { echo "error: no state backend configured in $(TF_BACKEND): run make bootstrap first" >&2; exit 1; }

.PHONY: tf-init
tf-init: tf-prereqs
	$(TF) -chdir=$(TF_ENV_DIR) init -input=false -reconfigure -backend-config=$(TF_BACKEND)

.PHONY: bootstrap
bootstrap: $(VENV)/.synced ## Create the versioned, encrypted S3 bucket of the Terraform state (idempotent).
	$(call say,bootstrapping the Terraform state bucket)
	$(PY) terraform/bootstrap/state_bucket.py --backend-config $(TF_BACKEND)

.PHONY: plan
plan: tf-init ## Show what `make apply ENV=dev` would change (ENV=dev|prod).
	$(call say,planning $(ENV))
	$(TF) -chdir=$(TF_ENV_DIR) plan -input=false

.PHONY: apply
apply: tf-init ## Build or update environment ENV on AWS, then write its Ansible inventory and print the UI addresses.
	$(call say,applying $(ENV))
	$(TF) -chdir=$(TF_ENV_DIR) apply -input=false $(TF_APPROVE)
	@$(MAKE) --no-print-directory inventory ENV=$(ENV)

.PHONY: inventory
inventory: tf-init $(VENV)/.synced ## Write inventory/terraform/$(ENV).yml from the environment's Terraform outputs.
	@mkdir -p $(TF_LOCAL)
	$(TF) -chdir=$(TF_ENV_DIR) output -json > $(TF_OUTPUTS)
	$(PY) terraform/scripts/write_inventory.py $(TF_OUTPUTS) --out $(TF_INVENTORY)

.PHONY: destroy
destroy: tf-init ## Delete every resource of environment ENV (asks first unless AUTO_APPROVE=1).
	$(call say,destroying $(ENV))
	$(TF) -chdir=$(TF_ENV_DIR) destroy -input=false $(TF_APPROVE)
	rm -f $(TF_INVENTORY) $(TF_OUTPUTS)

.PHONY: tf-lint
tf-lint: $(CHECKOV_VENV)/.synced ## Check the Terraform code: terraform fmt (when installed) and checkov.
	@if command -v $(TF) >/dev/null; then $(TF) fmt -check -recursive terraform; else echo "terraform not installed: skipping fmt"; fi
	$(CHECKOV_VENV)/bin/checkov -d terraform --framework terraform --quiet --compact --skip-download
