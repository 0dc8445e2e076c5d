"""Sub-commands of the ``tripclick`` CLI, one module each."""
