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
# A record id: what the databases can hold (a larger one is refused, 422)
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


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
