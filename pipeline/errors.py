"""The one error type a user can cause; the CLI prints its message on one line and exits 2."""


class ProfilegenError(Exception):
    """A problem with the user's input or environment, worded for them."""
