"""The sandbox gateway's own books (test mode). They stand for the
processor's side: our payments are reconciled against them."""

from django.db import models


class SandboxCard(models.Model):
    pm_id = models.CharField(max_length=40, unique=True)
    behaviour = models.CharField(max_length=40)
    brand = models.CharField(max_length=30)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        app_label = "payments"

    def __str__(self) -> str:
        return self.pm_id


class SandboxToken(models.Model):
    """One-time tokens minted by the sandbox's hosted card form."""

    token = models.CharField(max_length=40, unique=True)
    behaviour = models.CharField(max_length=40)
    brand = models.CharField(max_length=30)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    used = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        app_label = "payments"

    def __str__(self) -> str:
        return self.token


class SandboxCharge(models.Model):
    charge_id = models.CharField(max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    pm_id = models.CharField(max_length=40)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12)  # succeeded / declined
    decline_code = models.CharField(max_length=40, blank=True)
    refunded_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        app_label = "payments"

    def __str__(self) -> str:
        return self.charge_id


class SandboxRefund(models.Model):
    refund_id = models.CharField(max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    charge_id = models.CharField(max_length=40)
    amount_minor = models.BigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        app_label = "payments"

    def __str__(self) -> str:
        return self.refund_id
