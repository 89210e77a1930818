"""The ledger floor: what has been applied to invoices (allocations of
payments) and the account-credit ledger. ``entries`` is the one writer of
both; ``sums`` is the one reader of what an invoice has been paid and
credited and what credit an account has. Below invoicing and payments, so
both use it without importing each other; it imports only core."""
