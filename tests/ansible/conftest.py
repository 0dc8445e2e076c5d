"""Fixtures of the Ansible tests."""

from __future__ import annotations

import pytest
from ansible_tools import Converge, converge


@pytest.fixture(scope="session")
def converged() -> Converge:
    """site.yml converged once on this machine under a fresh test folder.

    That a second converge changes nothing is checked on the fleet (tests/fleet), where the
    same roles run on real hosts."""
    return converge()
