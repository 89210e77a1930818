from ninja import Schema
from pydantic import ConfigDict, StrictBool, StrictInt


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
