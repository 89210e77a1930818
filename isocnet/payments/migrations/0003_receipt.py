"""Receipts with their own gapless numbers (RECEIPT_NUMBER_FORMAT). Every
payment already applied to an invoice gets its receipt, numbered in the
order the payments were recorded."""

from collections import defaultdict
from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    Allocation = apps.get_model("payments", "Allocation")
    Receipt = apps.get_model("payments", "Receipt")
    Sequence = apps.get_model("core", "Sequence")
    fmt = settings.RECEIPT_NUMBER_FORMAT
    zone = ZoneInfo(settings.TIME_ZONE)
    applied = defaultdict(int)
    first = {}
    rows = Allocation.objects.filter(refund__isnull=True, amount_minor__gt=0).select_related(
        "payment", "invoice"
    )
    for a in rows.order_by("payment__created_at", "payment_id", "id").iterator():
        key = (a.payment_id, a.invoice_id)
        applied[key] += a.amount_minor
        first.setdefault(key, a)
    last = {}
    receipts = []
    for key, a in first.items():
        day = a.payment.created_at.astimezone(zone).date()
        series = f"receipt-{day.year}" if "{year}" in fmt else "receipt"
        seq = last.get(series, 0) + 1
        last[series] = seq
        receipts.append(
            Receipt(
                number=fmt.format(year=day.year, seq=seq),
                series=series,
                sequence=seq,
                payment_id=a.payment_id,
                invoice_id=a.invoice_id,
                customer_id=a.payment.customer_id,
                amount_minor=applied[key],
                currency=a.payment.currency,
                issue_date=day,
                created_at=a.payment.created_at,
            )
        )
    Receipt.objects.bulk_create(receipts, batch_size=500)
    for series, value in last.items():
        Sequence.objects.update_or_create(name=series, defaults={"last_value": value})


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0001_initial'),
        ('invoicing', '0003_invoice_issued_balance'),
        ('payments', '0002_gatewaycall_request_gatewaycall_response'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='Receipt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.CharField(max_length=40, unique=True)),
                ('series', models.CharField(max_length=40)),
                ('sequence', models.PositiveBigIntegerField()),
                ('amount_minor', models.BigIntegerField(help_text='What the payment applied to the invoice')),
                ('currency', models.CharField(max_length=3)),
                ('issue_date', models.DateField()),
                ('created_at', models.DateTimeField()),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='customers.customer')),
                ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='invoicing.invoice')),
                ('payment', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='payments.payment')),
            ],
            options={
                'ordering': ['-id'],
                'constraints': [models.UniqueConstraint(fields=('payment', 'invoice'), name='receipt_once_per_payment'), models.UniqueConstraint(fields=('series', 'sequence'), name='receipt_number_once'), models.CheckConstraint(condition=models.Q(('amount_minor__gt', 0)), name='receipt_amount_positive')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
