"""Shouwang settings: one module, everything that varies comes from the environment.

Every variable read here is listed in README.md and .env.example.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SHOUWANG_VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

ENV = os.environ.get("SHOUWANG_ENV", "development")
PRODUCTION = ENV == "production"


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_file(name: str, *, nbytes: int) -> str:
    """A secret generated once into var/ for the embedded default.

    Production must pass secrets in the environment: a key on the same disk as the
    database would let one stolen backup reveal everything.
    """
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


def _required_secret(env_name: str, file_name: str, *, nbytes: int) -> str:
    value = os.environ.get(env_name, "").strip()
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(
            f"{env_name} must be set when SHOUWANG_ENV=production (see README, 'Configuration')."
        )
    return _secret_file(file_name, nbytes=nbytes)


SECRET_KEY = _required_secret("SHOUWANG_SECRET_KEY", "secret_key", nbytes=50)
# Encrypts ID numbers and phones at rest and keys their blind index. Kept outside the database.
FIELD_KEY = _required_secret("SHOUWANG_FIELD_KEY", "field_key", nbytes=32)

DEBUG = _flag("SHOUWANG_DEBUG", default=False)

_hosts = [h.strip() for h in os.environ.get("SHOUWANG_ALLOWED_HOSTS", "").split(",") if h.strip()]
if PRODUCTION and not _hosts:
    raise ImproperlyConfigured(
        "SHOUWANG_ALLOWED_HOSTS must list the host names when SHOUWANG_ENV=production."
    )
ALLOWED_HOSTS = _hosts or ["127.0.0.1", "localhost", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("SHOUWANG_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "shouwang.core",
    "shouwang.accounts",
    "shouwang.registry",
    "shouwang.grids",
    "shouwang.residents",
    "shouwang.queues",
    "shouwang.supplies.relief",
    "shouwang.screening",
    "shouwang.supplies.buying",
    "shouwang.supplies.materials",
    "shouwang.control",
    "shouwang.checkpoints",
    "shouwang.volunteers",
    "shouwang.helpline",
    "shouwang.medicine",
    "shouwang.care",
]

# Kept short on purpose: the default stack costs ~30 % of throughput (shared/PERFORMANCE.md).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "shouwang.core.context.RequestContextMiddleware",
    "shouwang.accounts.middleware.SessionExpiryMiddleware",
    "shouwang.residents.access.ResidentAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shouwang.accounts.context_processors.navigation",
                "shouwang.residents.access.resident_context",
                "shouwang.helpline.context_processors.urgent",
            ],
        },
    }
]

# --- database -----------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'shouwang.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # Without IMMEDIATE, concurrent writers fail with "database is locked" (36 % measured).
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # WAL + NORMAL loses no committed data on a process crash and doubles write rate.
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA cache_size=-64000;"
            "PRAGMA temp_store=MEMORY;"
        ),
    }
    _db["CONN_MAX_AGE"] = None
else:
    _db["CONN_MAX_AGE"] = int(os.environ.get("SHOUWANG_CONN_MAX_AGE", "600"))
    _db["CONN_HEALTH_CHECKS"] = True
_db["TEST"] = {"NAME": os.environ.get("SHOUWANG_TEST_DATABASE") or None}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and sessions ----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "registry:overview"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SESSION_IDLE_SECONDS = int(os.environ.get("SHOUWANG_SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SHOUWANG_SESSION_ABSOLUTE_SECONDS", str(12 * 3600)))
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Guessing protection: failures per (account, address) before a lock, and per account per hour.
LOGIN_LOCK_FAILURES = int(os.environ.get("SHOUWANG_LOGIN_LOCK_FAILURES", "5"))
LOGIN_LOCK_SECONDS = int(os.environ.get("SHOUWANG_LOGIN_LOCK_SECONDS", "900"))
LOGIN_ACCOUNT_HOURLY_CAP = int(os.environ.get("SHOUWANG_LOGIN_ACCOUNT_HOURLY_CAP", "20"))

# Reverse proxies in front of the app that append to X-Forwarded-For (nginx, Caddy: 1). The
# sign-in locks and SMS limits count per client address; 0 trusts nothing but REMOTE_ADDR.
TRUSTED_PROXY_HOPS = int(os.environ.get("SHOUWANG_TRUSTED_PROXY_HOPS", "0"))

# --- residents' side ---------------------------------------------------------------------
# The address residents reach the site at, for links printed on cards and sent by SMS
# (e.g. https://shouwang.example.org). Empty: taken from the request.
PUBLIC_URL = os.environ.get("SHOUWANG_PUBLIC_URL", "").rstrip("/")
# Household pages opened by link or SMS code stay signed in this long (a lockdown's length).
RESIDENT_SESSION_DAYS = int(os.environ.get("SHOUWANG_RESIDENT_SESSION_DAYS", "30"))
# SMS: a class with send(phone, text, *, kind) (docs/sms.md). The console gateway prints the
# message to standard output and sends nothing.
SMS_GATEWAY = os.environ.get("SHOUWANG_SMS_GATEWAY", "shouwang.residents.sms.ConsoleGateway")
SMS_HTTP_URL = os.environ.get("SHOUWANG_SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = os.environ.get("SHOUWANG_SMS_HTTP_TOKEN", "")
SMS_SIGNATURE = os.environ.get("SHOUWANG_SMS_SIGNATURE", "【守望】")
# Sign-in codes: lifetime, and the limits on sending and guessing.
OTP_TTL_SECONDS = int(os.environ.get("SHOUWANG_OTP_TTL_SECONDS", "300"))
OTP_RESEND_SECONDS = int(os.environ.get("SHOUWANG_OTP_RESEND_SECONDS", "60"))
OTP_SENDS_PER_PHONE_HOUR = int(os.environ.get("SHOUWANG_OTP_SENDS_PER_PHONE_HOUR", "5"))
OTP_SENDS_PER_ADDRESS_HOUR = int(os.environ.get("SHOUWANG_OTP_SENDS_PER_ADDRESS_HOUR", "20"))
OTP_ATTEMPTS_PER_CODE = int(os.environ.get("SHOUWANG_OTP_ATTEMPTS_PER_CODE", "5"))
OTP_FAILURES_PER_PHONE_HOUR = int(os.environ.get("SHOUWANG_OTP_FAILURES_PER_PHONE_HOUR", "10"))
OTP_FAILURES_PER_ADDRESS_HOUR = int(os.environ.get("SHOUWANG_OTP_FAILURES_PER_ADDRESS_HOUR", "30"))

# --- take-a-number queue: live streams -----------------------------------------------------
# Where browsers open the queue's Server-Sent Events (docs/decisions/0005-queue.md):
#   empty     same origin (a reverse proxy sends /q/stream/ to the ASGI stream server);
#   ":8001"   the page's own host name on that port (what `shouwang serve` sets when it starts
#             the stream server next to the WSGI one);
#   a URL     e.g. https://live.example.org.
STREAM_URL = os.environ.get("SHOUWANG_STREAM_URL", "").rstrip("/")
# The port `shouwang serve` starts the ASGI stream server on (0: do not start one).
STREAM_PORT = int(os.environ.get("SHOUWANG_STREAM_PORT", "8001"))
# How often each stream process reads the live rows (one query per tick for all its watchers).
STREAM_TICK_MS = int(os.environ.get("SHOUWANG_STREAM_TICK_MS", "250"))
# A comment line this often keeps proxies and phones from dropping an idle stream.
STREAM_HEARTBEAT_SECONDS = int(os.environ.get("SHOUWANG_STREAM_HEARTBEAT_SECONDS", "15"))

# "Come now" texts are sent in a background thread after a counter press (0: in the request,
# after commit — what the tests use, so they can read the outbox at once).
QUEUE_SMS_BACKGROUND = _flag("SHOUWANG_QUEUE_SMS_BACKGROUND", default=True)
# A household's own "take a number" press answered by a quick path in front of the middleware
# stack (shouwang/queues/quick.py); 0 sends every press through Django's full stack.
QUICK_TAKE = _flag("SHOUWANG_QUICK_TAKE", default=True)
# The sampling page's scans are answered without the middleware stack (screening/quick.py).
QUICK_SCAN = _flag("SHOUWANG_QUICK_SCAN", default=True)
# The checkpoint pass decision (POST /checkpoints/pass/) answered in front of the middleware
# (shouwang/checkpoints/quick.py).
QUICK_PASS = _flag("SHOUWANG_QUICK_PASS", default=True)
# A volunteer grabbing a place (POST /volunteers/grab/) in front of the middleware
# (shouwang/volunteers/quick.py).
QUICK_GRAB = _flag("SHOUWANG_QUICK_GRAB", default=True)
# How long a disinfected parcel rests on the gate shelf before it goes in (minutes).
CHECKPOINT_PARCEL_HOLD_MINUTES = int(os.environ.get("SHOUWANG_PARCEL_HOLD_MINUTES", "120"))

# --- language and time --------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "shouwang" / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Outside production, serve straight from static/ so a fresh checkout needs no collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- imports ------------------------------------------------------------------------------
IMPORT_MAX_BYTES = int(os.environ.get("SHOUWANG_IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
IMPORT_MAX_ROWS = int(os.environ.get("SHOUWANG_IMPORT_MAX_ROWS", "200000"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- security -----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = _flag("SHOUWANG_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SHOUWANG_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SHOUWANG_LOG_LEVEL", "WARNING")},
}

# Display labels for the product name, translatable.
PRODUCT_NAME = _("Shouwang")
