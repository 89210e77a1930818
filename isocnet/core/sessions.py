"""Idle sessions end SESSION_IDLE_MINUTES after the last request, without a
database write on every page view: the session's expiry is pushed on when
at most once a SESSION_TOUCH_SECONDS (so a session may end up to that much
early). Anonymous visitors get no session from this."""

from __future__ import annotations

import time

from django.conf import settings

_KEY = "_activity"


class SessionActivityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if not session.is_empty():
            now = int(time.time())
            if now - session.get(_KEY, 0) >= settings.SESSION_TOUCH_SECONDS:
                session[_KEY] = now  # modified: SessionMiddleware saves it, expiry renewed
        return self.get_response(request)
