"""Each fault module gets a pipeline of its own: a fault writes the same dates as the sample
day (hostile values onto 2016-01-01, say), and with the session's shared topic and lake its
records and checkpoints would reach every later test of that date."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def pipeline(pipeline_factory, tmp_path_factory):
    return pipeline_factory(tmp_path_factory.mktemp("fault-lake"))
