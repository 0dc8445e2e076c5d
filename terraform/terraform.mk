# terraform targets; included by the top-level Makefile.

CHECKOV_VENV := $(LOCAL)/venvs/checkov
$(eval $(call tool_venv,checkov,terraform/requirements-checkov.txt))
LOCKS += terraform/requirements-checkov.txt
TEST_PREREQS += $(CHECKOV_VENV)/.synced
