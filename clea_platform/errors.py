"""The one base class for business refusals.

A service refuses an operation that the rules forbid now (a step the state machine does not allow, a jury
or funding rule) by raising a subclass with a stable `code` and a French message for the user. Screens show
the message; the API answers 409 with both (`clea_platform.api_errors`). Each app declares its own subclass,
so this module knows none of them.
"""

from __future__ import annotations


class BusinessRefusal(Exception):
    """A rule refused the operation; `str(exc)` is the French explanation for the user."""

    code = "refused"
