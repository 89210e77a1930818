"""Deposits: batches of checks keyed from remittance slips, bank files
(lockbox CSV, BAI2) and the exceptions queue. Every write takes an
Idempotency-Key like the rest of the API."""

import datetime as dt

from ninja import Router, Schema, Status

from isocnet.api.v1.base import actor_of
from isocnet.api.v1.schemas import ErrorOut, Id, IsoDate, Strict
from isocnet.core.errors import NotFound
from isocnet.deposits.bank_files import bank_file_import
from isocnet.deposits.batches import (
    batch_item_add,
    batch_item_change,
    batch_item_remove,
    batch_open,
    batch_post,
    batch_totals,
)
from isocnet.deposits.models import BankFile, DepositBatch, DepositItem
from isocnet.deposits.queue import exception_resolve, exception_unapply, exceptions_queue

router = Router(tags=["deposits"])
_WRITE = {404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class ItemIn(Strict):
    scan_line: str = ""
    account_number: str = ""
    invoice_number: str = ""
    amount: str | None = None
    check_number: str = ""
    payer_name: str = ""


class ItemPatch(Strict):
    scan_line: str | None = None
    account_number: str | None = None
    invoice_number: str | None = None
    amount: str | None = None
    check_number: str | None = None
    payer_name: str | None = None
    customer: Id | None = None
    unapplied: bool = False


class BatchIn(Strict):
    reference: str
    deposit_date: IsoDate | None = None
    expected_count: int | None = None
    expected_total: str | None = None
    items: list[ItemIn] = []


class ItemOut(Schema):
    id: int
    batch: int
    position: int
    kind: str
    state: str
    amount: str
    check_number: str
    scan_line: str
    account_number: str
    invoice_number: str
    payer_name: str
    bank_reference: str
    customer: int | None
    invoice: str | None
    matched_by: str
    confidence: int
    note: str
    suggestions: list[dict]
    payment: int | None


class BatchOut(Schema):
    id: int
    reference: str
    deposit_date: dt.date
    source: str
    status: str
    expected_count: int | None
    expected_total: str | None
    count: int
    total: str
    unmatched: int
    ready: bool
    items: list[ItemOut]


class BankFileIn(Strict):
    format: str
    filename: str = "bank-file"
    content: str


class BankFileOut(Schema):
    id: int
    format: str
    filename: str
    received_at: dt.datetime
    summary: dict
    batches: list[int]
    exceptions: list[ItemOut]


class ResolveIn(Strict):
    customer: Id | None = None
    account_number: str = ""
    invoice_number: str = ""
    payment: Id | None = None


class UnapplyIn(Strict):
    reason: str = ""


def item_out(item: DepositItem) -> dict:
    return {
        "id": item.pk,
        "batch": item.batch_id,
        "position": item.position,
        "kind": item.kind,
        "state": item.state,
        "amount": item.amount.as_string(),
        "check_number": item.check_number,
        "scan_line": item.scan_line,
        "account_number": item.account_number,
        "invoice_number": item.invoice_number,
        "payer_name": item.payer_name,
        "bank_reference": item.bank_reference,
        "customer": item.customer_id,
        "invoice": item.invoice.number if item.invoice_id else None,
        "matched_by": item.match,
        "confidence": item.confidence,
        "note": item.note,
        "suggestions": item.suggestions,
        "payment": item.payment_id,
    }


def batch_out(batch: DepositBatch) -> dict:
    items = list(batch.items.select_related("invoice").order_by("position"))
    totals = batch_totals(batch, items)
    return {
        "id": batch.pk,
        "reference": batch.reference,
        "deposit_date": batch.deposit_date,
        "source": batch.source,
        "status": batch.status,
        "expected_count": batch.expected_count,
        "expected_total": batch.expected_total.as_string() if batch.expected_total else None,
        "count": totals.count,
        "total": totals.total.as_string(),
        "unmatched": totals.unmatched,
        "ready": totals.ready,
        "items": [item_out(i) for i in items],
    }


def _batch(batch_id: int) -> DepositBatch:
    batch = DepositBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(f"no deposit batch with id {batch_id}", field="id")
    return batch


@router.post("/deposit-batches", response={201: BatchOut, **_WRITE})
def open_batch(request, payload: BatchIn):
    """Open a draft batch for one deposit slip (its count and total), with
    any checks keyed at once."""
    batch = batch_open(
        actor=actor_of(request),
        reference=payload.reference,
        deposit_date=payload.deposit_date.isoformat() if payload.deposit_date else None,
        expected_count=payload.expected_count,
        expected_total=payload.expected_total,
        items=[item.dict() for item in payload.items],
    )
    return Status(201, batch_out(batch))


@router.get("/deposit-batches/{batch_id}", response={200: BatchOut, 404: ErrorOut})
def get_batch(request, batch_id: int):
    return batch_out(_batch(batch_id))


@router.post("/deposit-batches/{batch_id}/items", response={201: ItemOut, **_WRITE})
def add_item(request, batch_id: int, payload: ItemIn):
    """Key one check: matched at once (``customer``, ``matched_by``,
    ``note``); saved even when unmatched, to be fixed before posting."""
    item = batch_item_add(actor=actor_of(request), batch_id=_batch(batch_id).pk, **payload.dict())
    return Status(201, item_out(item))


@router.patch("/deposit-batches/{batch_id}/items/{item_id}", response={200: ItemOut, **_WRITE})
def change_item(request, batch_id: int, item_id: int, payload: ItemPatch):
    """Correct a check of a draft: type it again, name the account
    (``customer``), or hold it as unapplied cash (``unapplied``)."""
    data = payload.dict()
    item = batch_item_change(
        actor=actor_of(request),
        batch_id=_batch(batch_id).pk,
        item_id=item_id,
        customer_id=data.pop("customer"),
        unapplied=data.pop("unapplied"),
        **data,
    )
    return item_out(item)


@router.delete("/deposit-batches/{batch_id}/items/{item_id}", response={204: None, **_WRITE})
def remove_item(request, batch_id: int, item_id: int):
    batch_item_remove(actor=actor_of(request), batch_id=_batch(batch_id).pk, item_id=item_id)
    return Status(204, None)


@router.post("/deposit-batches/{batch_id}/post", response={200: BatchOut, **_WRITE})
def post_batch(request, batch_id: int):
    """Post every check at once (one transaction, receipts queued), or
    nothing: 409 while the count or total differs from the deposit slip or
    a check matches no account. A posted batch never changes."""
    posted = batch_post(actor=actor_of(request), batch_id=_batch(batch_id).pk)
    return batch_out(posted.batch)


@router.post("/bank-files", response={201: BankFileOut, **_WRITE})
def upload_bank_file(request, payload: BankFileIn):
    """Import the bank's ``lockbox`` CSV or ``bai2`` file (its text in
    ``content``): sure matches post, the rest go to the exceptions queue,
    returned items become returned payments. Items already imported (by
    the bank's reference) are counted, never posted twice."""
    result = bank_file_import(
        actor=actor_of(request),
        format=payload.format,
        filename=payload.filename,
        content=payload.content,
    )
    return Status(201, bank_file_out(result.bank_file))


def bank_file_out(bank_file: BankFile) -> dict:
    waiting = DepositItem.objects.filter(
        batch__bank_file=bank_file, state__in=("exception", "unapplied")
    ).select_related("invoice")
    return {
        "id": bank_file.pk,
        "format": bank_file.format,
        "filename": bank_file.filename,
        "received_at": bank_file.received_at,
        "summary": bank_file.summary,
        "batches": list(bank_file.batches.values_list("pk", flat=True)),
        "exceptions": [item_out(i) for i in waiting],
    }


@router.get("/bank-files/{file_id}", response={200: BankFileOut, 404: ErrorOut})
def get_bank_file(request, file_id: int):
    bank_file = BankFile.objects.filter(pk=file_id).first()
    if bank_file is None:
        raise NotFound(f"no bank file with id {file_id}", field="id")
    return bank_file_out(bank_file)


@router.get("/deposit-exceptions", response=list[ItemOut])
def list_exceptions(request):
    """What waits for a clerk: unmatched items, unmatched returns and
    unapplied cash, oldest first."""
    return [item_out(i) for i in exceptions_queue()[:500]]


@router.post("/deposit-exceptions/{item_id}/resolve", response={200: ItemOut, **_WRITE})
def resolve_exception(request, item_id: int, payload: ResolveIn):
    """Post a waiting check to an account (``customer``, ``account_number``
    or ``invoice_number``); a waiting returned item: the ``payment`` it
    takes back."""
    item = exception_resolve(
        actor=actor_of(request),
        item_id=item_id,
        customer_id=payload.customer,
        account_number=payload.account_number,
        invoice_number=payload.invoice_number,
        payment_id=payload.payment,
    )
    return item_out(item)


@router.post("/deposit-exceptions/{item_id}/unapply", response={200: ItemOut, **_WRITE})
def unapply_exception(request, item_id: int, payload: UnapplyIn):
    """Hold a waiting check as unapplied cash."""
    return item_out(
        exception_unapply(actor=actor_of(request), item_id=item_id, reason=payload.reason)
    )
