"""Fixtures of the Ansible tests."""

from __future__ import annotations

import pytest
from ansible_tools import Converge, converge


@pytest.fixture(scope="session")
def converged() -> Converge:
    """site.yml converged twice on this machine under a fresh test folder."""
    return converge()
