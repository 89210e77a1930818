import datetime as dt
import re
from typing import Annotated

from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, StrictBool, StrictInt

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_only(value):
    """Dates are written YYYY-MM-DD; pydantic would also read 0 as 1970-01-01."""
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_only)]
_ID_TEXT = re.compile(r"[1-9][0-9]{0,18}")


def _query_id(value):
    """A query string's id is written as digits only: not "5.0", "5_0",
    " 5 " or "+5", which pydantic would read as 5 or 50."""
    if isinstance(value, str) and _ID_TEXT.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError("must be a record id written as digits (e.g. 42)")


# A record id in a JSON body: a JSON integer (not "5", 5.0 or true), at most
# what the databases can hold (a larger one is refused, 422)
Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
# The same in a query string, where every value is text
QueryId = Annotated[int, BeforeValidator(_query_id), Field(ge=1, le=2**63 - 1)]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    error: str
    message: str
    field: str | None = None


class AddressIn(Strict):
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str
    country: str


class AddressPatch(Strict):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


class AddressOut(Schema):
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str


__all__ = [
    "AddressIn",
    "AddressOut",
    "AddressPatch",
    "ErrorOut",
    "Strict",
    "StrictBool",
    "StrictInt",
]
