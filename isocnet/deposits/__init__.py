"""Check and mail-in payments at volume: deposit batches keyed from
remittance slips, lockbox and BAI2 bank files matched automatically, and
the exceptions queue for what could not be matched (docs/payments.md)."""
