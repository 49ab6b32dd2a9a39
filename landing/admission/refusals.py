"""Why a sign-up was not admitted: a limit used up, or its request_id bound to another number.

Each one's docstring is what the client is told (landing.signups turns them into 429 and
409), so none of them ever holds the number.
"""


class Limited(Exception):
    """A limit is used up; retry_after seconds until its window resets."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(self.__doc__)
        self.retry_after = max(1, retry_after)


class AddressLimited(Limited):
    """Too many attempts from your address; try again later."""


class PhoneLimited(Limited):
    """Too many attempts for this number; try again later."""


class RequestIdTaken(Exception):
    """This request_id was already used for another phone number; send a new request_id."""

    def __init__(self) -> None:
        super().__init__(self.__doc__)
