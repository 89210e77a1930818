from celery import shared_task

from isocnet.notifications.delivery import deliver_pending


@shared_task(name="email.deliver")
def deliver_task() -> int:
    """Send what is pending in the outbox. Any number may run at once:
    each message is claimed before it is sent."""
    sent = 0
    while True:
        report = deliver_pending(limit=200)
        sent += report.handled
        if report.handled < 200:
            return sent
