"""The outbox: customer notices recorded in the business transaction that
causes them, delivered afterwards (isocnet.notifications renders and sends
them). A floor below the domain apps: any of them queues a notice through
``isocnet.outbox.queue`` without knowing how it is rendered or sent.

Its model keeps the app label ``notifications`` (tables, migrations and
back-office addresses stay where they were): see models.py."""
