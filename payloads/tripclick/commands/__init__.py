"""Sub-commands of the ``tripclick`` CLI, one module each."""

from __future__ import annotations

import argparse


class ExamplesFormatter(argparse.RawDescriptionHelpFormatter):
    """Wraps a one-paragraph description; keeps the line breaks of the examples."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return super()._fill_text(text, width, indent)
        return argparse.HelpFormatter._fill_text(self, text, width, indent)
