"""The orchestration floor: what chains the domain's steps into an ISP's
day — the billing run (due services → invoices, exactly once), dunning
(reminders, overdue notices, suspension), auto debit in batches, and the
Celery tasks that spread them over workers. Above the domain and the
notices; below the doors (api, portal, backoffice, cli), which start it."""
