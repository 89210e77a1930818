import datetime as dt

from django.test import override_settings

from isocnet.core import clock


def test_frozen_date_is_that_day_in_the_provider_zone():
    with clock.frozen_at(dt.date(2026, 12, 31)):
        assert clock.today() == dt.date(2026, 12, 31)
        assert clock.now().tzinfo is not None


@override_settings(TIME_ZONE="Pacific/Kiritimati")
def test_today_follows_the_provider_time_zone():
    # 2026-12-31 11:00 UTC is already 2027-01-01 01:00 in Kiritimati (UTC+14)
    with clock.frozen_at(dt.datetime(2026, 12, 31, 11, 0, tzinfo=dt.UTC)):
        assert clock.today() == dt.date(2027, 1, 1)


def test_unfrozen_clock_is_aware_utc():
    assert clock.now().utcoffset() == dt.timedelta(0)
