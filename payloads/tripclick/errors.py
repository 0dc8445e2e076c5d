"""Errors a user can meet: the CLI prints them as one line, without a traceback."""


class UserError(Exception):
    """Something the user can fix: a bad argument, a missing tool, a port in use.

    The message says what was wrong and what to do, in one line.
    """
