# ansible targets; included by the top-level Makefile.

ANSIBLE_VENV := $(LOCAL)/venvs/ansible
$(eval $(call tool_venv,ansible,ansible/requirements.txt))
LOCKS += ansible/requirements.txt

# Which inventory `make ansible-apply` converges: inventory/terraform/<env>.yml (written by
# `make apply`), inventory/aws_ec2/<env>.aws_ec2.yml, or inventory/local (this machine).
INVENTORY ?= inventory/local
# The encrypted secrets of an environment, and the file holding its vault password (both outside git).
VAULT_FILE ?= $(LOCAL)/secrets/ansible-vault-$(notdir $(INVENTORY)).yml
VAULT_PASSWORD_FILE ?= $(HOME)/.config/tripclick/vault-password
# Where ansible-check/-apply take the secrets from: vault (VAULT_FILE) or ssm (Parameter Store
# under the inventory's ssm_parameter_prefix, read with the control node's AWS credentials).
SECRETS ?= vault
ANSIBLE_SECRETS = $(if $(filter ssm,$(SECRETS)),-e tripclick_secrets_backend=ssm,-e @$(abspath $(VAULT_FILE)))
ANSIBLE_SECRETS_CHECK = @case "$(SECRETS)" in vault|ssm) ;; *) echo "error: SECRETS=$(SECRETS): use vault (the default) or ssm" >&2; exit 2;; esac
# ansible-playbook only warns about a missing inventory, matches no host and exits 0.
ANSIBLE_INVENTORY_CHECK = @[ -e $(ROOT)/$(INVENTORY) ] || { echo "error: no inventory $(INVENTORY): name a file such as inventory/terraform/dev.yml (make apply ENV=dev writes it)" >&2; exit 2; }
ANSIBLE_RUN = cd ansible && ANSIBLE_CONFIG=$(ROOT)/ansible/ansible.cfg ANSIBLE_VAULT_PASSWORD_FILE=$(VAULT_PASSWORD_FILE)
# site.yml runs under Mitogen's linear strategy: the same task order as Ansible's own, but each
# host's tasks go over one persistent Python instead of a fresh SSH command and interpreter per
# module, which halves a converge. A bare `ansible-playbook site.yml` (Ansible's linear
# strategy) converges the same hosts the same way, only slower.
ANSIBLE_MITOGEN = ANSIBLE_STRATEGY=mitogen_linear ANSIBLE_STRATEGY_PLUGINS=$$($(ANSIBLE_VENV)/bin/python -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')/plugins/strategy

# The control node's system Python runs the certificate tasks (community.crypto needs cryptography).
.PHONY: ansible-system-packages
ansible-system-packages: ## Install the Debian packages the Ansible control node needs (python3-cryptography).
	@$(call apt_ensure,/usr/bin/python3 -c 'import cryptography' 2>/dev/null,python3-cryptography,python3-cryptography)

TEST_PREREQS += $(ANSIBLE_VENV)/.synced ansible-system-packages

.PHONY: ansible-vault
ansible-vault: $(ANSIBLE_VENV)/.synced ## Create the encrypted secrets of INVENTORY's environment (once; kept outside git).
	$(ANSIBLE_INVENTORY_CHECK)
	@mkdir -p $(dir $(VAULT_PASSWORD_FILE)) $(dir $(VAULT_FILE))
	@[ -s $(VAULT_PASSWORD_FILE) ] || { umask 077; head -c 32 /dev/urandom | base64 > $(VAULT_PASSWORD_FILE); echo "created vault password file $(VAULT_PASSWORD_FILE)"; }
	$(ANSIBLE_RUN) $(ANSIBLE_VENV)/bin/ansible-playbook vault-init.yml -e tripclick_vault_file=$(abspath $(VAULT_FILE))

.PHONY: ansible-ssm-init
ansible-ssm-init: $(ANSIBLE_VENV)/.synced ## Create INVENTORY's secrets in SSM Parameter Store instead (once; for SECRETS=ssm; AWS credentials).
	$(ANSIBLE_INVENTORY_CHECK)
	$(ANSIBLE_RUN) $(ANSIBLE_VENV)/bin/ansible-playbook -i $(ROOT)/$(INVENTORY) ssm-init.yml

.PHONY: ansible-lint
ansible-lint: $(ANSIBLE_VENV)/.synced ## Lint site.yml and the roles (ansible-lint, production profile).
	$(ANSIBLE_RUN) $(ANSIBLE_VENV)/bin/ansible-lint --profile production site.yml vault-init.yml ssm-init.yml

.PHONY: ansible-check
ansible-check: $(ANSIBLE_VENV)/.synced ## Show what site.yml would change on INVENTORY (dry run with diffs; SECRETS=vault|ssm).
	$(ANSIBLE_INVENTORY_CHECK)
	$(ANSIBLE_SECRETS_CHECK)
	$(ANSIBLE_RUN) $(ANSIBLE_MITOGEN) $(ANSIBLE_VENV)/bin/ansible-playbook -i $(ROOT)/$(INVENTORY) site.yml $(ANSIBLE_SECRETS) --check --diff $(ANSIBLE_ARGS)

.PHONY: ansible-apply
ansible-apply: $(ANSIBLE_VENV)/.synced setup statsd-exporter-package ## Turn INVENTORY's hosts into the platform (site.yml; SECRETS=vault|ssm, ANSIBLE_ARGS for --tags etc.).
	$(ANSIBLE_INVENTORY_CHECK)
	$(ANSIBLE_SECRETS_CHECK)
	$(ANSIBLE_RUN) $(ANSIBLE_MITOGEN) $(ANSIBLE_VENV)/bin/ansible-playbook -i $(ROOT)/$(INVENTORY) site.yml $(ANSIBLE_SECRETS) $(ANSIBLE_ARGS)
