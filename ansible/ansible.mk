# ansible targets; included by the top-level Makefile.

ANSIBLE_VENV := $(LOCAL)/venvs/ansible
$(eval $(call tool_venv,ansible,ansible/requirements.txt))
LOCKS += ansible/requirements.txt
TEST_PREREQS += $(ANSIBLE_VENV)/.synced
