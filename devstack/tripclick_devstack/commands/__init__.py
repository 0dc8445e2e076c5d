"""Sub-commands the local platform adds to the ``tripclick`` CLI, one module each."""
