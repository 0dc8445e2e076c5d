"""Helpers of the TripClick DAGs: settings, the day's plan, stage commands and runtimes.

The DAG files next to this package stay thin; everything that reads configuration or
starts work lives here and runs only inside a task, never when a DAG file is parsed.
"""
