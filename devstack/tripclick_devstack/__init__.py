"""The local platform: the stack on 127.0.0.1, the dashboards server, a whole day end to end,
the simulated fleet and the ``tripclick`` command line that fronts them all.

It depends on ``tripclick`` (payloads) and ``tripclick_spark``; nothing depends on it.
"""
