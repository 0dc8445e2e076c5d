# dags targets; included by the top-level Makefile.

AIRFLOW_VENV := $(LOCAL)/venvs/airflow
$(eval $(call tool_venv,airflow,dags/requirements.txt))
LOCKS += dags/requirements.txt
TEST_PREREQS += $(AIRFLOW_VENV)/.synced sshd-package
