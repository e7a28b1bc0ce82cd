"""Project wiring: every setting comes from the environment through `muhafiz.core.env`.

The defaults make a laptop installation work with nothing else installed: SQLite (WAL) in a data
directory, the database-backed task queue, files on the local disk. `MUHAFIZ_PROFILE=production`
turns on the strict settings that `manage.py check --deploy` expects.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from muhafiz.core.datadir import (
    DIR_MODE,
    FILE_MODE,
    private_umask,
    remove_stale_uploads,
    secure_database_files,
    secure_directory,
)
from muhafiz.core.env import (
    ConfigurationError,
    env_bool,
    env_int,
    env_list,
    env_optional,
    env_path,
    env_str,
)

PACKAGE_DIR = Path(__file__).resolve().parent
PROFILE = env_str("MUHAFIZ_PROFILE", "development")
if PROFILE not in {"development", "production", "test"}:
    raise ConfigurationError(f"MUHAFIZ_PROFILE={PROFILE!r} must be development, production or test")
PRODUCTION = PROFILE == "production"

# Everything this process creates is its owner's only; the data directory is 0700 (see
# muhafiz.core.datadir and docs/security.md).
private_umask()
DATA_DIR = secure_directory(env_path("MUHAFIZ_DATA_DIR", Path.cwd() / "var"))


def _secret_key() -> str:
    configured = env_optional("MUHAFIZ_SECRET_KEY")
    if configured:
        return configured
    if PRODUCTION:
        raise ConfigurationError(
            "MUHAFIZ_SECRET_KEY (or MUHAFIZ_SECRET_KEY_FILE) must be set in production"
        )
    # A laptop installation keeps a generated key in its data directory.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("MUHAFIZ_DEBUG", default=not PRODUCTION and PROFILE != "test")
ALLOWED_HOSTS = env_list("MUHAFIZ_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("MUHAFIZ_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "ninja",  # serves Swagger UI from our own static files, as the CSP requires (no CDN)
    "django_tasks",
    "django_tasks_db",
    "muhafiz.core",
    "muhafiz.catalogue",
    "muhafiz.accounts",
    "muhafiz.audit",
    "muhafiz.evidence",
    "muhafiz.cases",
    "muhafiz.proceedings",
    "muhafiz.register",
    "muhafiz.intake",
    "muhafiz.insights",
    "muhafiz.hashbank",
    "muhafiz.ops",
    "muhafiz.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "muhafiz.accounts.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "muhafiz.urls"
WSGI_APPLICATION = "muhafiz.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
_default_db_url = f"sqlite:///{DATA_DIR / 'muhafiz.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL", _default_db_url)
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("MUHAFIZ_DB_CONN_MAX_AGE", 0))
except ValueError as exc:
    raise ConfigurationError(f"DATABASE_URL is not a database URL: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # WAL lets readers go on while one writer commits; IMMEDIATE avoids lock upgrades.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        # How long a writer waits for another's transaction (the busy timeout). Readers never
        # wait in WAL mode; writes are kept short (per-request writes are throttled, bank imports
        # commit in batches of 2,000 rows), so a writer waits at most one such batch.
        "timeout": env_int("MUHAFIZ_SQLITE_BUSY_SECONDS", 30),
    }
# Test databases are named per process so that concurrent test runs on one machine never meet.
_test_db_name = env_str("MUHAFIZ_TEST_DB_NAME", f"test_muhafiz_{os.getpid()}")
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["TEST"] = {"NAME": str(DATA_DIR / f"{_test_db_name}.sqlite3")}
else:
    _db["TEST"] = {"NAME": _test_db_name}
DATABASES = {"default": _db}
if _db["ENGINE"] == "django.db.backends.sqlite3" and _db.get("NAME"):
    secure_database_files(Path(str(_db["NAME"])))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and sign-in -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AXES_FAILURE_LIMIT = env_int("MUHAFIZ_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = None  # a locked account stays locked until an administrator unlocks it
# Per account: an office behind one address must not be locked out by one person's typos.
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for "ip_address" too; per-account lockout is deliberate (above).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"

SESSION_COOKIE_AGE = env_int("MUHAFIZ_SESSION_MAX_SECONDS", 12 * 3600)
SESSION_IDLE_SECONDS = env_int("MUHAFIZ_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
OTP_TOTP_ISSUER = "Muhafiz"
# No per-device delay after a wrong code: a person who mistypes once is let in with the right
# code at once (issue 15). Guessing is limited by the lockout above: every wrong code counts as a
# failed sign-in, and AXES_FAILURE_LIMIT of them lock the account until an administrator unlocks
# it, so at most 5 of the 10^6 codes can ever be tried.
OTP_TOTP_THROTTLE_FACTOR = 0

# An API client's last_used_at is written at most this often (a write per request would queue
# every API read behind the database's write lock).
MUHAFIZ_TOKEN_TOUCH_SECONDS = env_int("MUHAFIZ_TOKEN_TOUCH_SECONDS", 300)

# Behind N reverse proxies, the audit log takes the client address from X-Forwarded-For.
MUHAFIZ_TRUSTED_PROXY_COUNT = env_int("MUHAFIZ_TRUSTED_PROXY_COUNT", 0)
# The register's rule set for periods (register.shipped): "sorna" (tiers) or "uk" (sentence
# length); and the days a registrant stays non-compliant before being flagged an absconder.
MUHAFIZ_REGISTER_RULE_SET = env_str("MUHAFIZ_REGISTER_RULE_SET", "uk")
if MUHAFIZ_REGISTER_RULE_SET not in {"sorna", "uk"}:
    raise ImproperlyConfigured("MUHAFIZ_REGISTER_RULE_SET must be 'sorna' or 'uk'")
MUHAFIZ_REGISTER_ABSCONDER_GRACE_DAYS = env_int("MUHAFIZ_REGISTER_ABSCONDER_GRACE_DAYS", 14)

# --- field encryption -----------------------------------------------------------------------
# A key ring: "id:base64key,id:base64key"; the first key encrypts, all keys decrypt.
MUHAFIZ_FIELD_KEYS = env_optional("MUHAFIZ_FIELD_KEYS")
MUHAFIZ_FIELD_KEYS_PATH = DATA_DIR / "field_keys"

# --- jobs -----------------------------------------------------------------------------------
# The database queue by default (a laptop has no Redis); RQ on Redis when REDIS_URL is set
# (decision 0003). MUHAFIZ_TASKS_BACKEND names another backend outright.
TASK_QUEUES = ["default", "scans", "clocks"]
REDIS_URL = env_optional("REDIS_URL")
DATABASE_TASKS_BACKEND = "django_tasks_db.DatabaseBackend"
# django-tasks-rq's backend with RQ's Retry for jobs whose worker died (core.jobs_rq).
RQ_TASKS_BACKEND = "muhafiz.core.jobs_rq.RQBackend"
# On the database queue, `muhafiz worker` (ops.db_worker) renews a heartbeat every few seconds;
# a job left RUNNING by a worker silent for MUHAFIZ_DB_ABANDONED_SECONDS is queued again, at most
# MUHAFIZ_DB_ABANDONED_RETRIES times (then kept as failed for an administrator), as on RQ.
MUHAFIZ_DB_HEARTBEAT_SECONDS = env_int("MUHAFIZ_DB_HEARTBEAT_SECONDS", 10)
MUHAFIZ_DB_ABANDONED_SECONDS = env_int("MUHAFIZ_DB_ABANDONED_SECONDS", 60)
MUHAFIZ_DB_ABANDONED_RETRIES = env_int("MUHAFIZ_DB_ABANDONED_RETRIES", 3)
TASKS = {
    "default": {
        "BACKEND": env_str(
            "MUHAFIZ_TASKS_BACKEND", RQ_TASKS_BACKEND if REDIS_URL else DATABASE_TASKS_BACKEND
        ),
        "QUEUES": TASK_QUEUES,
    }
}
if TASKS["default"]["BACKEND"] == RQ_TASKS_BACKEND:
    if not REDIS_URL:
        raise ConfigurationError(f"MUHAFIZ_TASKS_BACKEND={RQ_TASKS_BACKEND} needs REDIS_URL")
    INSTALLED_APPS.append("django_rq")
    # RQ stops a job after DEFAULT_TIMEOUT seconds; a server scan may take hours.
    RQ_QUEUES = {
        name: {
            "URL": REDIS_URL,
            "DEFAULT_TIMEOUT": env_int("MUHAFIZ_RQ_JOB_TIMEOUT_SECONDS", 12 * 3600),
            "DEFAULT_RESULT_TTL": env_int("MUHAFIZ_RQ_RESULT_TTL_SECONDS", 7 * 24 * 3600),
        }
        for name in TASK_QUEUES
    }
    # The job class a worker runs jobs with and the worker itself (core.jobs_rq): abandoned jobs
    # retried, a raised one kept failed, a prompt stop on SIGTERM.
    RQ = {"JOB_CLASS": "muhafiz.core.jobs_rq.Job", "WORKER_CLASS": "muhafiz.core.jobs_rq.Worker"}

# A server scan of a folder with more top-level files (or bytes) than one shard holds runs as shard
# jobs that any worker on any machine takes (evidence.actions.shards); 0 files: never. A shard
# whose worker has been silent for the lease is taken over by another worker.
# Folders server scans may read (comma-separated; evidence.actions.check_source_path).
MUHAFIZ_SCAN_ROOTS = [Path(p) for p in env_list("MUHAFIZ_SCAN_ROOTS", [str(DATA_DIR / "sources")])]
MUHAFIZ_SCAN_SHARD_FILES = env_int("MUHAFIZ_SCAN_SHARD_FILES", 2000)
MUHAFIZ_SCAN_SHARD_BYTES = env_int("MUHAFIZ_SCAN_SHARD_BYTES", 1024 * 1024 * 1024)
MUHAFIZ_SCAN_SHARD_LEASE_SECONDS = env_int("MUHAFIZ_SCAN_SHARD_LEASE_SECONDS", 120)

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ur", _("Urdu"))]
# The project catalogue, then Urdu for Django's own form and validator messages (django_locale),
# both ahead of Django's catalogue.
LOCALE_PATHS = [PACKAGE_DIR / "locale", PACKAGE_DIR / "django_locale"]
# One date format on every page in both languages (core/formats): 2026-12-07 14:30.
FORMAT_MODULE_PATH = ["muhafiz.core.formats"]
USE_I18N = True
TIME_ZONE = env_str("MUHAFIZ_TIME_ZONE", "Asia/Karachi")
USE_TZ = True

# --- files ----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
# Stored files (scan files; core.storage): the data directory, or an S3-compatible bucket shared
# by every web and worker machine (docs/deploy.md, docs/decisions/0015).
MUHAFIZ_STORAGE = env_str("MUHAFIZ_STORAGE", "filesystem")
MUHAFIZ_S3 = {
    "bucket": env_optional("MUHAFIZ_S3_BUCKET"),
    "prefix": env_str("MUHAFIZ_S3_PREFIX", "muhafiz"),
    "endpoint_url": env_optional("MUHAFIZ_S3_ENDPOINT_URL"),
    "region": env_optional("MUHAFIZ_S3_REGION"),
    "access_key": env_optional("MUHAFIZ_S3_ACCESS_KEY_ID"),
    "secret_key": env_optional("MUHAFIZ_S3_SECRET_ACCESS_KEY"),
    "sse": env_optional("MUHAFIZ_S3_SSE"),  # AES256 or aws:kms
    "sse_kms_key_id": env_optional("MUHAFIZ_S3_SSE_KMS_KEY_ID"),
    "addressing_style": env_optional("MUHAFIZ_S3_ADDRESSING_STYLE"),  # path for most gateways
}
if MUHAFIZ_STORAGE not in {"filesystem", "s3"}:
    raise ConfigurationError(f"MUHAFIZ_STORAGE={MUHAFIZ_STORAGE!r}: choose filesystem or s3")
if MUHAFIZ_STORAGE == "s3" and not MUHAFIZ_S3["bucket"]:
    raise ConfigurationError("MUHAFIZ_STORAGE=s3 needs MUHAFIZ_S3_BUCKET")
# The standing cross-case PDQ index (evidence.media_index): a local, rebuildable cache of every
# case's image hashes; put it on a fast local disk on each worker machine.
MUHAFIZ_MEDIA_INDEX_DIR = env_path("MUHAFIZ_MEDIA_INDEX_DIR", DATA_DIR / "evidence" / "media-index")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Uploads past the memory size are spooled here, not in the system's /tmp: inside the 0700 data
# directory, and cleaned at start of what a killed process left behind.
FILE_UPLOAD_TEMP_DIR = str(secure_directory(DATA_DIR / "tmp" / "uploads"))
FILE_UPLOAD_PERMISSIONS = FILE_MODE
FILE_UPLOAD_DIRECTORY_PERMISSIONS = DIR_MODE
remove_stale_uploads(
    [
        (Path(FILE_UPLOAD_TEMP_DIR), "*"),
        (DATA_DIR / "evidence" / "scans", "incoming-*.part"),
    ]
)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MUHAFIZ_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
MUHAFIZ_MAX_UPLOAD_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- security headers -----------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("MUHAFIZ_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("MUHAFIZ_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if len(SECRET_KEY) < 50:
        raise ConfigurationError("MUHAFIZ_SECRET_KEY must be at least 50 characters in production")

# --- logging --------------------------------------------------------------------------------
LOG_LEVEL = env_str("MUHAFIZ_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"axes": {"level": "WARNING"}},
}
