"""The one base class for business refusals.

A service refuses an operation that the rules forbid now (a step the state machine does not allow, a jury
or funding rule) by raising a subclass with a stable `code` and a French message for the user. Screens show
the message; the API answers 409 with both, or 400 on the field when the refusal names one
(`clea_platform.api_errors`). Each app declares its own subclass, so this module knows none of them.
"""

from __future__ import annotations


class BusinessRefusal(Exception):
    """A rule refused the operation; `str(exc)` is the French explanation for the user.

    `field` names the input at fault when the refusal is about what was typed (a reason left out, an amount
    missing) rather than the state of things: screens show it beside the field, the API answers 400 on it instead
    of 409 (issue 20: a missing field is not a conflict)."""

    code = "refused"
    field: str | None = None

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        if field is not None:
            self.field = field
