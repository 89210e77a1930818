"""ISOCNET Billing settings: everything comes from the environment.

See docs/configuration.md for every variable and its default. Nothing in the
apps reads settings at import time.
"""

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

from isocnet.core.config import (
    ConfigError,
    database_from_url,
    email_from_url,
    env_amount,
    env_bool,
    env_currency,
    env_int,
    env_list,
    env_networks,
    env_str,
    env_time_zone,
    env_url,
    secret_key,
)

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("VAR_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = secret_key(VAR_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

DATABASES = {
    "default": database_from_url("DATABASE_URL", f"sqlite:///{VAR_DIR / 'isocnet.sqlite3'}")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_email = email_from_url("EMAIL_URL", f"file://{VAR_DIR / 'mail'}")
globals().update(_email)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ISOCNET Billing <billing@isocnet.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

PORTAL_URL = env_url("PORTAL_URL", "http://127.0.0.1:8000/portal", schemes={"http", "https"})

TIME_ZONE = env_time_zone("TIME_ZONE", "America/Chicago")
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

# The business ------------------------------------------------------------
CURRENCY = env_currency("CURRENCY", "USD")
COMPANY_NAME = env_str("COMPANY_NAME", "ISOCNET")
COMPANY_ADDRESS = env_str(
    "COMPANY_ADDRESS", "100 Network Way, Suite 200\nSpringfield, IL 62701\nUnited States"
)
COMPANY_EMAIL = env_str("COMPANY_EMAIL", "billing@isocnet.example")
COMPANY_PHONE = env_str("COMPANY_PHONE", "+1 217 555 0100")
COMPANY_WEBSITE = env_str("COMPANY_WEBSITE", "https://www.isocnet.example")
INVOICE_NUMBER_FORMAT = env_str("INVOICE_NUMBER_FORMAT", "{year}-{seq:06d}")
ACCOUNT_NUMBER_FORMAT = env_str("ACCOUNT_NUMBER_FORMAT", "C{seq:06d}")
PAYMENT_TERMS_DAYS = env_int("PAYMENT_TERMS_DAYS", 10, minimum=0)
# The largest single amount (price, line, invoice, payment) in major units: core.limits
AMOUNT_LIMIT = env_amount("AMOUNT_LIMIT", "10000000")
# How far back a payment's received date may go (core.validation.clean_payment_date)
PAYMENT_BACKDATE_DAYS = env_int("PAYMENT_BACKDATE_DAYS", 366, minimum=1)
# Bank-file items matched at least this sure post by themselves; the rest wait
# in the exceptions queue (deposits.matching; 101: none post by themselves).
DEPOSIT_AUTO_POST_CONFIDENCE = env_int("DEPOSIT_AUTO_POST_CONFIDENCE", 90, minimum=1)
AUTO_APPLY_CREDIT = env_bool("AUTO_APPLY_CREDIT", True)
DOCUMENT_LOCALE = env_str("DOCUMENT_LOCALE", "en_US")
DOCUMENT_DATE_FORMAT = env_str("DOCUMENT_DATE_FORMAT", "long")
# Typst compiles on this many threads at once in a documents step (it releases the GIL).
# A batch of PDFs is compiled in this many worker processes (0 or 1: in the
# process itself, on DOCUMENT_RENDER_THREADS threads). Celery workers always
# use threads: their own processes already use every core.
DOCUMENT_RENDER_PROCESSES = env_int(
    "DOCUMENT_RENDER_PROCESSES", os.cpu_count() if (os.cpu_count() or 1) > 1 else 0, minimum=0
)
DOCUMENT_RENDER_THREADS = env_int("DOCUMENT_RENDER_THREADS", os.cpu_count() or 1, minimum=1)
COMPANY_CHECKS_PAYABLE_TO = env_str("COMPANY_CHECKS_PAYABLE_TO", "") or COMPANY_NAME
try:
    from babel import Locale as _Locale
    from babel.dates import format_date as _fd

    _Locale.parse(DOCUMENT_LOCALE)
    _fd(
        __import__("datetime").date(2026, 1, 31),
        format=DOCUMENT_DATE_FORMAT,
        locale=DOCUMENT_LOCALE,
    )
except Exception as _exc:  # babel raises several kinds
    raise ConfigError(f"DOCUMENT_LOCALE/DOCUMENT_DATE_FORMAT: {_exc}") from None
# Notices (docs/notifications.md)
OUTBOX_POLL_SECONDS = env_int("OUTBOX_POLL_SECONDS", 2, minimum=1)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 10, minimum=1)
# Side-effect jobs (core.jobs: RADIUS changes, NAS requests, webhooks)
JOB_RETRY_SECONDS = env_int("JOB_RETRY_SECONDS", 30, minimum=1)  # first retry; doubles, at most 1 h
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 8, minimum=1)
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 300, minimum=10)
JOB_POLL_SECONDS = env_int("JOB_POLL_SECONDS", 5, minimum=1)
# The network (isocnet.network, docs/network.md). No RADIUS_DATABASE_URL: no RADIUS integration.
RADIUS_DATABASE_URL = env_str("RADIUS_DATABASE_URL", "")
RADIUS_NAS_VENDOR = env_str("RADIUS_NAS_VENDOR", "mikrotik")
RADIUS_SUSPENDED_GROUP = env_str("RADIUS_SUSPENDED_GROUP", "suspended")
RADIUS_SUSPENDED_MODE = env_str("RADIUS_SUSPENDED_MODE", "walled_garden")  # or reject
RADIUS_WALLED_GARDEN = env_str("RADIUS_WALLED_GARDEN", "walled-garden")
RADIUS_COA_PORT = env_int("RADIUS_COA_PORT", 3799, minimum=1)
RADIUS_COA_TIMEOUT = env_int("RADIUS_COA_TIMEOUT", 3, minimum=1)
RADIUS_NAS_SECRETS = env_str("RADIUS_NAS_SECRETS", "")  # ip=secret,... when not in the nas table
if RADIUS_NAS_VENDOR not in ("mikrotik", "cisco", "juniper", "generic"):
    raise ConfigError(
        f"RADIUS_NAS_VENDOR={RADIUS_NAS_VENDOR!r}: expected mikrotik, cisco, juniper or generic"
    )
if RADIUS_SUSPENDED_MODE not in ("walled_garden", "reject"):
    raise ConfigError(
        f"RADIUS_SUSPENDED_MODE={RADIUS_SUSPENDED_MODE!r}: expected walled_garden or reject"
    )
# Outbound webhooks (isocnet.webhooks): Standard Webhooks signatures, retries, disabling
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10, minimum=1)
WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000]  # seconds after each failure
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 72, minimum=1)
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)  # plain http:// endpoints (tests, a LAN)
# Networks an outbound request (a webhook) may reach although they are not
# public (core.outbound): e.g. "10.20.0.0/16" for a receiver on the LAN.
OUTBOUND_ALLOW_NETWORKS = env_networks("OUTBOUND_ALLOW_NETWORKS")
OUTBOX_BACKGROUND = env_bool("OUTBOX_BACKGROUND", True)  # `isocnet serve` delivers by itself
TEMPLATE_OVERRIDES_DIR = env_str("TEMPLATE_OVERRIDES_DIR", "")
# Payments (docs/payments.md)
PAYMENT_GATEWAY = env_str("PAYMENT_GATEWAY", "sandbox")
if PAYMENT_GATEWAY != "sandbox":
    raise ConfigError(
        f"PAYMENT_GATEWAY={PAYMENT_GATEWAY!r}: this version has the sandbox gateway only (stripe is planned)"
    )
SANDBOX_WEBHOOK_SECRET = env_str("SANDBOX_WEBHOOK_SECRET", "") or f"whsec_sbx_{SECRET_KEY[:24]}"
try:
    COLLECTION_RETRY_DAYS = [
        int(x) for x in env_str("COLLECTION_RETRY_DAYS", "3,5,7").split(",") if x.strip()
    ]
except ValueError:
    raise ConfigError("COLLECTION_RETRY_DAYS: expected whole numbers of days, e.g. 3,5,7") from None
# Auto debits started, and then settled, together in one transaction each
# (docs/payments.md); the customers of a batch are locked for its settling.
COLLECTION_BATCH = env_int("COLLECTION_BATCH", 200, minimum=1)
# Auto debit's gateway calls side by side (operations.call_pool): at most this
# many at once, and this many started a second (Stripe allows 100 a second).
AUTO_DEBIT_CONCURRENCY = env_int("AUTO_DEBIT_CONCURRENCY", 25, minimum=1)
AUTO_DEBIT_RATE = env_int("AUTO_DEBIT_RATE", 80, minimum=1)
# The sandbox gateway's simulated network round trip, per call (benchmarks).
SANDBOX_LATENCY_MS = env_int("SANDBOX_LATENCY_MS", 0, minimum=0)
CREDIT_NOTE_NUMBER_FORMAT = env_str("CREDIT_NOTE_NUMBER_FORMAT", "CN-{year}-{seq:06d}")
RECEIPT_NUMBER_FORMAT = env_str("RECEIPT_NUMBER_FORMAT", "R-{year}-{seq:06d}")
RETURNED_PAYMENT_FEE = env_str("RETURNED_PAYMENT_FEE", "0.00")
# The billing run (docs/billing-run.md)
INVOICE_LEAD_DAYS = env_int("INVOICE_LEAD_DAYS", 14, minimum=0)
BILLING_DAY = env_int(
    "BILLING_DAY", 0, minimum=0
)  # 0: each service on its start day; 1-31: fixed day
if BILLING_DAY > 31:
    raise ConfigError(f"BILLING_DAY={BILLING_DAY}: must be 0 (anniversary billing) or a day 1-31")
ALLOW_ZERO_INVOICES = env_bool("ALLOW_ZERO_INVOICES", False)
PRORATE_CHANGES = env_str("PRORATE_CHANGES", "next_invoice")
if PRORATE_CHANGES not in {"next_invoice", "immediate"}:
    raise ConfigError(f"PRORATE_CHANGES={PRORATE_CHANGES!r}: expected next_invoice or immediate")
REMINDER_DAYS_BEFORE_DUE = env_int("REMINDER_DAYS_BEFORE_DUE", 3, minimum=0)
try:
    OVERDUE_NOTICE_DAYS = [int(x) for x in env_str("OVERDUE_NOTICE_DAYS", "1,7,14").split(",")]
except ValueError:
    raise ConfigError(
        "OVERDUE_NOTICE_DAYS: expected three whole numbers of days, e.g. 1,7,14"
    ) from None
if (
    len(OVERDUE_NOTICE_DAYS) != 3
    or sorted(set(OVERDUE_NOTICE_DAYS)) != OVERDUE_NOTICE_DAYS
    or OVERDUE_NOTICE_DAYS[0] < 1
):
    raise ConfigError("OVERDUE_NOTICE_DAYS: expected three increasing numbers of days, e.g. 1,7,14")
SUSPEND_AFTER_DAYS = env_int("SUSPEND_AFTER_DAYS", 10, minimum=1)
SUSPENSION_WARNING_DAYS = env_int("SUSPENSION_WARNING_DAYS", 3, minimum=0)
# Late fees (docs/collections.md): none unless LATE_FEE_FLAT or
# LATE_FEE_PERCENT is set. These are the defaults of the collections policy,
# which a billing manager may change in the back office.
LATE_FEE_FLAT = env_str("LATE_FEE_FLAT", "0")
LATE_FEE_PERCENT = env_str("LATE_FEE_PERCENT", "0")
LATE_FEE_MIN = env_str("LATE_FEE_MIN", "0")
LATE_FEE_MAX = env_str("LATE_FEE_MAX", "0")
LATE_FEE_CAP_PERCENT = env_str("LATE_FEE_CAP_PERCENT", "0")
LATE_FEE_GRACE_DAYS = env_int("LATE_FEE_GRACE_DAYS", 10, minimum=1)
LATE_FEE_REPEAT = env_str("LATE_FEE_REPEAT", "once")
LATE_FEE_ON = env_str("LATE_FEE_ON", "next_invoice")
for _name in (
    "LATE_FEE_FLAT",
    "LATE_FEE_PERCENT",
    "LATE_FEE_MIN",
    "LATE_FEE_MAX",
    "LATE_FEE_CAP_PERCENT",
):
    try:
        _value = Decimal(globals()[_name])
    except InvalidOperation:
        raise ConfigError(
            f"{_name}={globals()[_name]!r}: expected an amount such as 5.00"
        ) from None
    if not _value.is_finite() or _value < 0:
        raise ConfigError(f"{_name}={globals()[_name]!r}: expected 0 or more")
if LATE_FEE_REPEAT not in ("once", "monthly"):
    raise ConfigError(f"LATE_FEE_REPEAT={LATE_FEE_REPEAT!r}: expected once or monthly")
if LATE_FEE_ON not in ("next_invoice", "own_invoice"):
    raise ConfigError(f"LATE_FEE_ON={LATE_FEE_ON!r}: expected next_invoice or own_invoice")
# A customer may promise to pay in the portal at most this many days ahead.
PROMISE_MAX_DAYS = env_int("PROMISE_MAX_DAYS", 14, minimum=1)
# At most PORTAL_PROMISES_MAX promises in the portal in any PORTAL_PROMISES_DAYS.
PORTAL_PROMISES_MAX = env_int("PORTAL_PROMISES_MAX", 2, minimum=0)
PORTAL_PROMISES_DAYS = env_int("PORTAL_PROMISES_DAYS", 90, minimum=1)

for _name, _fmt in (
    ("INVOICE_NUMBER_FORMAT", INVOICE_NUMBER_FORMAT),
    ("ACCOUNT_NUMBER_FORMAT", ACCOUNT_NUMBER_FORMAT),
    ("CREDIT_NOTE_NUMBER_FORMAT", CREDIT_NOTE_NUMBER_FORMAT),
    ("RECEIPT_NUMBER_FORMAT", RECEIPT_NUMBER_FORMAT),
):
    try:
        _fmt.format(year=2026, seq=1)
    except (KeyError, IndexError, ValueError) as _exc:
        raise ConfigError(
            f"{_name}={_fmt!r}: only {{year}} and {{seq}} may be used ({_exc})"
        ) from None

# Workers (docs/operations.md) ----------------------------------------------
# Empty: everything runs in-process (one machine, no broker).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = env_str(
    "CELERY_RESULT_BACKEND",
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "rpc://",
)
CELERY_TASK_ROUTES = {
    "billing.*": {"queue": "billing"},
    "documents.*": {"queue": "documents"},
    "email.*": {"queue": "email"},
    "collection.*": {"queue": "collection"},
}
CELERY_TASK_ACKS_LATE = True  # a chunk whose worker died is run again (safely)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing gives up quickly when the broker is down: what was to be sent
# is in the database (outbox, pending runs) and the sweeps pick it up.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
BILLING_CHUNK_SIZE = env_int("BILLING_CHUNK_SIZE", 500, minimum=1)
# Customers billed per transaction with set-based statements (1: one by one).
BILLING_BATCH_SIZE = env_int("BILLING_BATCH_SIZE", 200, minimum=1)
BILLING_RUN_AT = env_str("BILLING_RUN_AT", "02:00")  # local time of the daily run (beat)
try:
    _hour, _minute = (int(x) for x in BILLING_RUN_AT.split(":"))
    assert 0 <= _hour < 24 and 0 <= _minute < 60
except (ValueError, AssertionError):
    raise ConfigError(f"BILLING_RUN_AT={BILLING_RUN_AT!r}: expected HH:MM") from None
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "daily-billing-run": {
        "task": "billing.daily",
        "schedule": __import__("celery.schedules").schedules.crontab(hour=_hour, minute=_minute),
    },
    "outbox-sweep": {"task": "email.deliver", "schedule": float(OUTBOX_POLL_SECONDS) * 5},
    # side-effect jobs (RADIUS, NAS, webhooks) on the email queue's workers
    "jobs-sweep": {"task": "email.jobs", "schedule": float(JOB_POLL_SECONDS)},
    "network-verify": {"task": "email.network_verify", "schedule": 3600.0},
}

# Django ------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",  # Content-Security-Policy with per-request nonces
    "ninja",  # serves Swagger UI from our static files, not a CDN
    "isocnet.backoffice.third_party_apps.Lockouts",  # axes: failed-login throttling
    "django_otp",  # staff two-factor sign-in (backoffice.two_factor)
    "isocnet.backoffice.third_party_apps.AuthenticatorApps",  # django_otp's TOTP devices
    "isocnet.backoffice.third_party_apps.RecoveryCodes",  # django_otp's static devices
    "isocnet.core",
    "isocnet.customers",
    "isocnet.catalog",
    "isocnet.subscriptions",
    "isocnet.invoicing",
    "isocnet.collections",
    "isocnet.network",
    "isocnet.payments",
    "isocnet.deposits",
    "isocnet.documents",
    "isocnet.notifications",
    "isocnet.webhooks",
    "isocnet.operations",
    "isocnet.api",
    "isocnet.backoffice",
    "isocnet.portal",
    "isocnet.cli",
]

MIDDLEWARE = [
    "isocnet.core.http_guard.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "isocnet.core.sessions.SessionActivityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "isocnet.backoffice.two_factor_views.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "isocnet.api.guards.TextGuardMiddleware",  # before anything keeps a body
    "isocnet.api.idempotency.IdempotencyMiddleware",
]

# Content-Security-Policy (django-csp) on every page: scripts only from our
# own origin or with the page's nonce (an injected <script> never runs),
# no plugins, no framing, no <base> tricks. Inline style attributes stay
# allowed (Django's admin uses them); no script may be inline without the
# nonce. form-action is left open: the hosted card form of a gateway is
# another origin.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Flash messages live in the session (the database), not in a signed
# cookie anyone holding it can read: a webhook secret is shown once that way.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Logins: axes counts failures before Django checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "isocnet.portal.auth.AccountBackend",  # ModelBackend + the portal login in one query
]
# A login is locked for an hour after this many failures, counted per
# account and, separately, per IP address (ASVS 2.2.1 allows up to 100 an
# hour). The lockout page offers the password reset.
# Staff two-factor sign-in: "required" (billing managers and superusers must
# enrol; others may) or "optional" (anyone may; the demo). backoffice.two_factor
STAFF_TWO_FACTOR = env_str("STAFF_TWO_FACTOR", "required")
if STAFF_TWO_FACTOR not in ("required", "optional"):
    raise ConfigError(f"STAFF_TWO_FACTOR={STAFF_TWO_FACTOR!r}: expected required or optional")
OTP_TOTP_ISSUER = f"{COMPANY_NAME} Billing"
OTP_TOTP_THROTTLE_FACTOR = 1  # waits of 1, 2, 4, 8 … seconds after wrong codes
OTP_STATIC_THROTTLE_FACTOR = 1

AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 60, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success clears that login's own failures, never anyone else's: axes's
# own reset would also delete every failure from the same address (its
# ip_address filter), so an attacker signing in to their own account after
# every few guesses would never lock the victim's (portal.auth).
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "portal/locked_out.html"
AXES_USERNAME_CALLABLE = "isocnet.portal.auth.login_name"
AXES_VERBOSE = False
if env_bool("BEHIND_TLS_PROXY", False):
    AXES_IPWARE_PROXY_COUNT = 1
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:dashboard"
# Sessions end after this many idle minutes (the cookie is renewed on every
# request), and when the password changes (Django's session hash).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = False  # isocnet.core.sessions renews the expiry instead
SESSION_TOUCH_SECONDS = env_int("SESSION_TOUCH_SECONDS", 60, minimum=1)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Invitation and password-reset links: single use, valid this long.
PASSWORD_RESET_TIMEOUT = env_int("PORTAL_LINK_DAYS", 3, minimum=1) * 86400
EMAIL_CHANGE_LINK_DAYS = env_int("EMAIL_CHANGE_LINK_DAYS", 2, minimum=1)
PORTAL_WELCOME_NEW_CUSTOMERS = env_bool("PORTAL_WELCOME_NEW_CUSTOMERS", True)
PORTAL_RESET_EMAILS_PER_HOUR = env_int("PORTAL_RESET_EMAILS_PER_HOUR", 3, minimum=1)
# Branding of the portal
PORTAL_LOGO_URL = env_str("PORTAL_LOGO_URL", "")
PORTAL_PRIMARY_COLOR = env_str("PORTAL_PRIMARY_COLOR", "#0b5394")
if not __import__("re").fullmatch(r"#[0-9a-fA-F]{6}", PORTAL_PRIMARY_COLOR):
    raise ConfigError(
        f"PORTAL_PRIMARY_COLOR={PORTAL_PRIMARY_COLOR!r}: expected a colour like #0b5394"
    )

ROOT_URLCONF = "isocnet.urls"
WSGI_APPLICATION = "isocnet.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [d for d in (TEMPLATE_OVERRIDES_DIR, PACKAGE_DIR / "templates") if d],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "isocnet.portal.context.branding",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
# Serve static files straight from the apps when collectstatic has not run
# (tests, development); `isocnet serve` collects them first.
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and PORTAL_URL.startswith("https://"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_FAILURE_VIEW = "isocnet.portal.views.errors.csrf_failure"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# A request body: at most 24 MB, so a bank file of up to 20 MB (deposits.bank_files.MAX_BYTES)
# fits in a JSON body with its escapes (docs/api.md, Limits).
DATA_UPLOAD_MAX_MEMORY_SIZE = 24 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
