# superset targets; included by the top-level Makefile.

SUPERSET_VENV := $(LOCAL)/venvs/superset
$(eval $(call tool_venv,superset,superset/requirements.txt))
LOCKS += superset/requirements.txt
TEST_PREREQS += $(SUPERSET_VENV)/.synced
