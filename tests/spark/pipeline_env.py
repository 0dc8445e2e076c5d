"""Environment of a ``tripclick`` subprocess that works on a test pipeline's topic and lake."""

from __future__ import annotations

import os

from tripclick.config import Settings


def env_of(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["TRIPCLICK_TOPIC"] = settings.topic
    env["TRIPCLICK_LAKE_ROOT"] = settings.lake_root
    return env
