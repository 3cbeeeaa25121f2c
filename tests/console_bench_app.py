"""The console with the sign-in stand-in (tests/console_auth_double.py), for `guichet bench console --app`
in a branch without guichet_operations.console.auth: the person comes from the X-Test-Person header."""

from tests.console_auth_double import installed

installed()

from guichet_operations.console.serve import app  # noqa: E402

__all__ = ["app"]
