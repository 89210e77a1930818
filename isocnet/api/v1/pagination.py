from collections.abc import Callable

from django.db.models import QuerySet
from ninja import Field, Schema

MAX_LIMIT = 500


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"Items per page (1-{MAX_LIMIT})")
    offset: int = Field(0, ge=0, le=10**9, description="Items to skip")


def page(qs: QuerySet, params: PageParams, render: Callable) -> dict:
    """{"items": [...], "count": N}: one COUNT and one bounded SELECT."""
    return {
        "items": [render(obj) for obj in qs[params.offset : params.offset + params.limit]],
        "count": qs.count(),
    }
