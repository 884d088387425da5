"""Settings for clea_platform, read from the environment.

With nothing set the platform runs embedded: SQLite in the project folder, Celery tasks executed eagerly,
e-mail printed to the console. `DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and a real broker.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

EMBEDDED = "DATABASE_URL" not in os.environ
DEBUG = env.bool("DEBUG", default=EMBEDDED)
EMBEDDED_SECRET_KEY = "insecure-development-key-only-for-the-embedded-mode"  # noqa: S105 (public: refused below)
# Keys that were published (this file, CI, docker-compose.yml and the Dockerfile once had them): whoever knows the key
# forges sessions, password-reset links and signed links, so none of them may sign anything outside the embedded mode.
PUBLISHED_SECRET_KEYS = frozenset(
    {
        EMBEDDED_SECRET_KEY,
        "ci-only-secret-key-not-for-production",
        "insecure-local-only-change-me",
        "build-only-dummy-secret-key",
        "bench-only-secret-key",
    }
)
SECRET_KEY = env.str("SECRET_KEY", default=EMBEDDED_SECRET_KEY if DEBUG else "")
if not DEBUG:
    _MAKE_ONE = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'
    if not SECRET_KEY:
        raise environ.ImproperlyConfigured(f"SECRET_KEY must be set when DEBUG is off. Make one with: {_MAKE_ONE}")
    # A published key padded or repeated to length is no more secret than the key itself.
    if any(published in SECRET_KEY for published in PUBLISHED_SECRET_KEYS):
        raise environ.ImproperlyConfigured(
            f"SECRET_KEY is (or contains) a published example key and may not be used when DEBUG is off. "
            f"Make one with: {_MAKE_ONE}"
        )
    # Django's own threshold (check --deploy, security.W009): 50 characters, 5 different ones at least.
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):
        raise environ.ImproperlyConfigured(
            f"SECRET_KEY is too weak for DEBUG off ({len(SECRET_KEY)} characters; 50 random ones at least). "
            f"Make one with: {_MAKE_ONE}"
        )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Days an evaluator organisation has to answer a France Travail referral before it expires.
REFERRAL_EXPIRY_DAYS = env.int("REFERRAL_EXPIRY_DAYS", default=30)
# Dossiers of another organisation one member may look for (reference and birth date) in an hour, to take them in.
TRANSFER_LOOKUPS_PER_HOUR = env.int("TRANSFER_LOOKUPS_PER_HOUR", default=20)
# Days an information dossier may stay untouched (no event, note, change or planned appointment) before it closes by
# itself « sans suite après l'information » (candidates.services.dossiers_close_idle_information, daily); it enters
# the counsellor's « À faire » INFORMATION_IDLE_WARNING_DAYS before. The person may come back later: a new dossier.
INFORMATION_IDLE_DAYS = env.int("INFORMATION_IDLE_DAYS", default=180)
INFORMATION_IDLE_WARNING_DAYS = env.int("INFORMATION_IDLE_WARNING_DAYS", default=30)
# Interview requests sent from the directory (app intake): the e-mail confirmation link lasts this long; an
# organisation that has not proposed a meeting this many working days after the request reached it is reminded,
# and the request expires this many working days after the reminder (the person is pointed to other sites).
INTAKE_CONFIRM_LINK_HOURS = env.int("INTAKE_CONFIRM_LINK_HOURS", default=48)
INTAKE_REMIND_AFTER_WORKING_DAYS = env.int("INTAKE_REMIND_AFTER_WORKING_DAYS", default=3)
INTAKE_EXPIRE_AFTER_WORKING_DAYS = env.int("INTAKE_EXPIRE_AFTER_WORKING_DAYS", default=5)
# The public request form: at most this many requests per client address, and per e-mail address, in a period.
INTAKE_REQUESTS_PER_ADDRESS = env.int("INTAKE_REQUESTS_PER_ADDRESS", default=5)
INTAKE_REQUESTS_PER_EMAIL = env.int("INTAKE_REQUESTS_PER_EMAIL", default=3)
INTAKE_REQUEST_PERIOD = 60 * 60
# How many reverse proxies of the platform's own (load balancer, nginx) stand in front of it, each appending to
# X-Forwarded-For the address it received the request from: the client's address is the entry the outermost one
# wrote (clea_platform/request_meta.py), for every rate limit, throttle, audit row and login lockout. 0: the header
# is ignored. More than there are lets clients choose their address; fewer keys every client on a proxy.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise environ.ImproperlyConfigured(f"TRUSTED_PROXY_COUNT must be 0 or more: {TRUSTED_PROXY_COUNT}")
if "TRUST_X_FORWARDED_FOR" in os.environ:
    # Read as "1 proxy" it could be wrong either way; ignored, every client would share the balancer's address.
    raise environ.ImproperlyConfigured(
        "TRUST_X_FORWARDED_FOR is replaced by TRUSTED_PROXY_COUNT: the number of proxies in front of the platform "
        "(0 without any, 1 behind one load balancer)."
    )
# Public address of the platform, the start of every absolute link it writes (certificate QR codes and PDFs,
# e-mails, directory sheets). Guessed only in the embedded mode (`make run` sets it from its port); with DEBUG
# off it must be said, and a wrong one stops the start rather than printing dead links on certificates.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
if not SITE_URL:
    raise environ.ImproperlyConfigured(
        "SITE_URL must be set when DEBUG is off: the address the platform is served at, e.g. https://clea.example.fr"
    )
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.hostname or _site.path or _site.query or _site.fragment:
    raise environ.ImproperlyConfigured(
        f"SITE_URL must be a scheme and a host, like https://clea.example.fr: {SITE_URL}"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_fsm",
    "django_htmx",
    "csp",
    "axes",
    # The audit log's append-only trigger (organisations.AuditLog), installed by its migration on PostgreSQL.
    "pgtrigger",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "clea_platform",
    "organisations",
    "outbox",
    "referentiels",
    "candidates",
    "directory",
    "scheduling",
    "referrals",
    "intake",
    "evaluations",
    "training",
    "juries",
    "funding",
    "credentials",
    "webhooks",
    "journey",
    "privacy",
    "notifications",
    "indicators",
    "space",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, reading the user and their memberships from the shared cache (organisations/identity.py).
    "organisations.middleware.CachedAuthenticationMiddleware",
    "clea_platform.private_pages.NoStoreForSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle and absolute session lifetimes: an expired session is logged out before anything reads the user's data.
    "organisations.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clea_platform.tenancy.CurrentMembershipMiddleware",
    # After the memberships: whether a second factor is required depends on the roles they hold.
    "organisations.middleware.TwoFactorMiddleware",
    # The candidate of a sign-in link's session (their own space): after the staff user is known, whom it yields to.
    "space.middleware.CandidatePersonMiddleware",
    # The API's safe writes (README, "API REST"), once the request's user and membership are known: a POST sent again
    # with its Idempotency-Key replays the stored answer, before the conditional headers (If-Match) are checked...
    "organisations.api_idempotency.IdempotencyMiddleware",
    # ...then ETag / If-None-Match / If-Match, the RateLimit-* headers and Deprecation / Sunset on /api/ answers.
    "clea_platform.api_headers.ApiHeadersMiddleware",
    # Axes must come last: it inspects the response of the login view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clea_platform.urls"
WSGI_APPLICATION = "clea_platform.wsgi.application"
ASGI_APPLICATION = "clea_platform.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clea_platform.tenancy.membership_context",
                "notifications.context_processors.unread_notifications",
                "clea_platform.polling.poll_interval",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # One connection per request costs ~9x throughput on PostgreSQL (see STACK.md): keep them.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The web server's short reads run best without parallel query: launching workers cost more than it saved (the
    # name search's page of 25 dossiers: 150 ms parallel, 7 ms not, at 1,000,000 dossiers; bench/README.md), and the
    # requests already share the cores. Set for the web service only (docker-compose.yml): the statistics rebuild
    # and the exports of the workers keep the server's setting. Added to any `options` of DATABASE_URL; a
    # connection pooler must let the startup parameter through (README).
    if (parallel := env.str("PG_PARALLEL_WORKERS", default="")) != "":
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c max_parallel_workers_per_gather={int(parallel)}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "clea",
            # Rate-limit and throttle counters only (clea_platform/ratelimit.py): never wait long on a dead Redis.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "organisations.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# CNIL / ANSSI guidance: length over composition rules, and refuse the guessable passwords: zxcvbn's estimate with
# French dictionaries and the user's own words, at least 3 of 4 (README, "Mots de passe et connexions").
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "organisations.password_strength.PasswordStrengthValidator", "OPTIONS": {"min_score": 3}},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
# Password-reset requests (README, "Mots de passe et connexions"), per hour: for one e-mail address as typed (whether an
# account has it or not, so that the refusal tells nothing), and from one client address (an agency's colleagues
# share one).
PASSWORD_RESET_LIMIT_PER_ACCOUNT = 3
PASSWORD_RESET_LIMIT_PER_ADDRESS = 20
PASSWORD_RESET_LIMIT_PERIOD = 60 * 60

# Login lockouts (README, "Mots de passe et connexions"): failed logins within the cool-off that lock, per account
# (whatever the addresses: a targeted attack) and per client address (whatever the accounts: password spraying). A
# France Travail agency or a training centre puts all its staff behind one public address: the address's threshold
# is the higher one. Each lock lifts 30 minutes after the last failure that counts for it; attempts while locked do
# not push it back, so that the page can say when to try again. organisations/login_lockout.py gives each parameter
# its threshold (axes itself has one for all).
LOGIN_FAILURE_LIMITS = {
    "username": env.int("LOGIN_FAILURE_LIMIT_PER_ACCOUNT", default=5),
    "ip_address": env.int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=20),
}
AXES_HANDLER = "organisations.login_lockout.PerParameterLimitsHandler"
AXES_LOCKOUT_PARAMETERS = list(LOGIN_FAILURE_LIMITS)
# Axes' one limit, the scale on which the handler puts each parameter's failures: the account's.
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMITS["username"]
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The login form posts the e-mail address as "username" (Django's AuthenticationForm).
AXES_USERNAME_FORM_FIELD = "username"
# A successful login clears the account's failures, not its address's (PerParameterLimitsHandler).
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "organisations.login_lockout.lockout_response"
AXES_VERBOSE = False
# The lockout and its records read the client's address by the platform's rule, not ipware's defaults.
AXES_CLIENT_IP_CALLABLE = "clea_platform.request_meta.client_ip"
# axes.W006 (no lockout per address) no longer applies: the address is locked too, at its own threshold.
SILENCED_SYSTEM_CHECKS: list[str] = []

# Recorded in every backup's manifest, read in the dump's snapshot (clea_platform/backup.py): the audit chain's last
# row and hash, the anchor `manage.py audit_verify --expect ID:HASH` checks later.
BACKUP_MANIFEST_ANCHORS = {"audit_chain": "organisations.services.audit_chain_head"}

# Sessions live in the database, never in Redis: losing the cache or the broker logs nobody out, and session keys
# (bearer tokens) are never in the broker's Redis. Not cached_db: its load() writes a session read while a revocation
# is not committed back to the cache, where it outlives the revocation (security review of 1c07be6, H1), and a cache
# that cannot be written to made every signed-in page a 500 (H2). The price is one indexed query per request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# The signed-in user and their active memberships, cached per user under a version that their changes replace
# (organisations/identity.py): with the shared cache only, even if asked for, since a per-process cache would keep
# access that another process has removed.
IDENTITY_CACHE = bool(REDIS_URL) and env.bool("IDENTITY_CACHE", default=True)
# Shared office PCs (organisations/middleware.py): a session ends after this many minutes without a request, and
# this many hours after its login whatever happens; the cookie itself dies with the browser.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
SESSION_ABSOLUTE_LIFETIME_HOURS = env.int("SESSION_ABSOLUTE_LIFETIME_HOURS", default=12)
if SESSION_IDLE_TIMEOUT_MINUTES < 1 or SESSION_ABSOLUTE_LIFETIME_HOURS < 1:
    raise environ.ImproperlyConfigured(
        "SESSION_IDLE_TIMEOUT_MINUTES and SESSION_ABSOLUTE_LIFETIME_HOURS must be 1 or more."
    )
# A session's last activity is written at most once per this many seconds (one UPDATE of the session and one of
# its row in the user's list), not on every request; an idle session therefore ends between the timeout and the
# timeout plus this, never before the timeout.
SESSION_ACTIVITY_GRANULARITY_SECONDS = 60
# A candidate's own space (space.middleware): their session ends after this long without a request.
CANDIDATE_SESSION_IDLE = timedelta(minutes=env.int("CANDIDATE_SESSION_IDLE_MINUTES", default=30))
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME_HOURS * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Second factor (django-otp): the issuer shown in authenticator apps, and its exponential back-off after a wrong
# code (1, 2, 4, 8... seconds per device, TOTP and recovery codes alike).
OTP_TOTP_ISSUER = "CléA"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# ASVS 3.3.3: the `__Host-` prefix makes browsers refuse these cookies unless Secure, for path /, without a Domain: a
# neighbouring subdomain (or a network attacker over plain HTTP) cannot plant a session or a CSRF token of its own.
# Only where the cookies are Secure (browsers refuse the prefix otherwise): a local http server keeps the usual names.
SESSION_COOKIE_NAME = "__Host-sessionid" if SESSION_COOKIE_SECURE else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if CSRF_COOKIE_SECURE else "csrftoken"
# HTTPS (README, "Sécurité"). With DEBUG off and an https SITE_URL: plain HTTP is redirected, and browsers are told to
# come back over HTTPS only for a year, subdomains included (HSTS). An http SITE_URL (a local `docker compose up`,
# CI's live server) leaves both off by default, and `check --deploy` says so. Each can be set from the environment.
_SERVED_OVER_HTTPS = not DEBUG and _site.scheme == "https"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_SERVED_OVER_HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if _SERVED_OVER_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading binds the whole domain and its subdomains into the browsers' own lists, for months after it is taken
# back: the operator's decision, not a default. security.W021 ("not preloaded") is that decision, silenced below.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")
# The scheme of the request is read from X-Forwarded-Proto only behind a declared proxy (TRUSTED_PROXY_COUNT), which
# sets that header itself: anyone else could claim HTTPS with it. Without a declared proxy, TLS must end at gunicorn
# or the redirect above loops (README, "Sécurité").
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4): the platform's own scripts and stylesheets only, no inline script, style
# attribute or event handler (tests/test_security_headers.py walks the templates for them), no eval. `data:` images
# are the API documentation's icons (Swagger UI's stylesheet).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Without a collectstatic run (embedded mode, tests) whitenoise serves from the finders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"
# A stored file no row names is removed once this old (clea_platform.documents): a producer stores its file then
# commits its row within seconds, and a task is killed after LONG_TASK_TIME_LIMIT (5 min), so an hour never takes
# a file that is about to be committed.
ORPHAN_FILES_GRACE_MINUTES = 60

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CléA <ne-pas-repondre@clea.example>")
# Where the accessibility declaration (/accessibilite/) tells people to report a barrier: a mailbox someone reads,
# as the RGAA's declaration model requires ("retour d'information et contact").
ACCESSIBILITY_CONTACT_EMAIL = env.str("ACCESSIBILITY_CONTACT_EMAIL", default="accessibilite@clea.example")

# Celery: a real broker when REDIS_URL is set; otherwise tasks run in-process, at once.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Tasks are idempotent, so a task may be delivered again: ack after running, and give a message back to the queue
# when its worker dies under it (OOM killer, kill -9). Without reject_on_worker_lost, a prefork child killed
# mid-task has its message acked and the document is lost (issue 13: 13 of 300 attestations).
# The price: a task that kills its worker every time comes back every time; the side-effect rows planned in
# issue 13 will count its attempts.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message reserved at a time: a PDF worker does not sit on tasks another idle worker could take.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# Two kinds of tasks, two queues: PDF rendering (seconds, ~170 MB per process, see bench/README.md) on "pdf", so a
# burst of certificates never delays a password-reset e-mail; everything else (mail, daily sweeps) on Celery's
# default queue "celery" (kept by name: messages queued before a deploy still find a consumer).
CELERY_PDF_QUEUE = "pdf"
CELERY_LIGHT_QUEUE = CELERY_TASK_DEFAULT_QUEUE = "celery"
PDF_TASKS = (
    "evaluations.tasks.attestation_generate_task",
    "juries.tasks.certificate_generate_task",
    "juries.tasks.minutes_generate_task",
    "funding.tasks.batch_generate_task",
    "funding.tasks.statement_generate_task",
    "organisations.tasks.directory_sheet_generate_task",
)
# Daily sweeps over national tables: light on memory, but they may scan for a while.
SWEEP_TASKS = (
    "candidates.tasks.dossier_deadlines_task",
    "funding.tasks.fee_entries_sync_task",
    "referrals.tasks.referrals_expire_task",
    "organisations.tasks.documents_collect_orphans_task",
    "privacy.tasks.retention_apply_task",
    "scheduling.tasks.sites_availability_refresh_task",
)
CELERY_TASK_ROUTES = {name: {"queue": CELERY_PDF_QUEUE} for name in PDF_TASKS}
# On one queue, what someone waits for on screen before what comes by the hundred (issue 22: an attestation queued
# behind a jury session's 200 certificates waited for all of them). Redis has no priorities of its own: kombu keeps
# one list per step of "priority_steps" (the queue's own name for step 0, then "pdf\x06\x163"...) and its BRPOP
# asks for every queue's step 0 first, then step 3...: on Redis 0 is the most urgent, the reverse of RabbitMQ. With
# one message prefetched per process, an attestation waits at most for the renders under way. Both the publishers
# and the workers read the steps from CELERY_BROKER_TRANSPORT_OPTIONS; queue_depth counts every step's list.
CELERY_INTERACTIVE_PRIORITY = 0
CELERY_BULK_PRIORITY = 6
# Time limits (seconds). The soft limit raises SoftTimeLimitExceeded in the task (a batch records "failed"), the
# hard one kills the process (the prefork pool enforces both; the solo pool of the tests neither). An attestation
# renders in ~0.2 s (bench/README.md); the longest document is a funding batch (a CSV, an XLSX and a PDF of
# thousands of lines), given 4 minutes. The daily sweeps scan national tables: the same. Light tasks: 1 minute.
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
LONG_TASK_SOFT_TIME_LIMIT = 240
LONG_TASK_TIME_LIMIT = 300
CELERY_TASK_ANNOTATIONS = {
    name: {"soft_time_limit": LONG_TASK_SOFT_TIME_LIMIT, "time_limit": LONG_TASK_TIME_LIMIT}
    for name in PDF_TASKS + SWEEP_TASKS
}
# Retries of the document tasks wait at most this long (exponential backoff with jitter, clea_platform.tasks_queue).
TASK_RETRY_BACKOFF_MAX = 300
# Redis redelivers a message left unacked this long. It must outlast the longest a message stays reserved: a
# retry's countdown (<= 300 s) plus the hard limit (300 s) = 600 s, hence 900 s (15 min). The default, one hour,
# left the messages of killed solo workers stuck for an hour (issue 13: 12 of 500).
CELERY_VISIBILITY_TIMEOUT = 900
# A web request that queues a task must not hang when Redis is down (issue 13: a password reset held a web
# worker 19 s, the result store's 20 reconnections 1 s apart). Connect in 1 s, give up a synchronous command on a
# stuck socket in 2 s (a consumer's BRPOP is not one: kombu polls it, 1 s at a time), and retry a publish twice
# 0.2 s apart. Measured with Redis refused: 0.2 s per enqueue; with Redis accepting but mute: 2 s.
# The result store (written by workers; the web asks for no result) gets the same short reconnection policy.
_SHORT_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "priority_steps": [0, 3, 6, 9],  # kombu's default, written out: CELERY_BULK_PRIORITY must be one of them
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = _SHORT_RETRY
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": _SHORT_RETRY}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
CELERY_REDIS_SOCKET_TIMEOUT = 5
# A worker started while Redis is down keeps trying instead of exiting (and Celery 6 will require the choice).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# The outbox (outbox/services.py): a side effect failing this many times stays "failed" for an operator to retry;
# a pending one whose message was queued more than SIDE_EFFECT_REQUEUE_AFTER seconds ago and is not waiting on
# the broker is queued again by the job of every minute; done rows are forgotten after the retention.
SIDE_EFFECT_MAX_ATTEMPTS = 5
SIDE_EFFECT_REQUEUE_AFTER = env.int("SIDE_EFFECT_REQUEUE_AFTER", default=120)
SIDE_EFFECT_RETENTION_DAYS = 90
# Notifications (issue 17) name candidates: deleted this long after they were written, read or not (daily job).
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", default=365)
# Webhooks (issue 20, README "Webhooks"): each delivery is an outbox side effect, retried with the outbox's backoff
# (10 s, 20 s, 40 s... 5 min at most) up to WEBHOOK_MAX_ATTEMPTS times (12: about 35 minutes); a subscription whose
# deliveries fail WEBHOOK_PAUSE_AFTER_FAILURES times in a row, or for WEBHOOK_PAUSE_AFTER_DAYS, is paused. Plain http
# and addresses on a private network only where WEBHOOK_ALLOW_HTTP (DEBUG; the tests' receiver on 127.0.0.1).
WEBHOOK_TIMEOUT = 10
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=12)
WEBHOOK_PAUSE_AFTER_FAILURES = env.int("WEBHOOK_PAUSE_AFTER_FAILURES", default=50)
WEBHOOK_PAUSE_AFTER_DAYS = env.int("WEBHOOK_PAUSE_AFTER_DAYS", default=3)
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=DEBUG)
WEBHOOK_RESPONSE_KEPT_CHARS = 1000
# How often htmx polls a status fragment while a worker runs (clea_platform/polling.py).
POLL_INTERVAL_MS = 2000
# An API POST's Idempotency-Key and its stored answer are replayed this long (then deleted by the retention job).
IDEMPOTENCY_KEY_HOURS = 24
CELERY_BEAT_SCHEDULE = {
    # What the broker lost (a restart without persistence, a dead web process, a backoff that ended) is queued
    # again: the delay of a lost document is at most this period plus SIDE_EFFECT_REQUEUE_AFTER.
    "outbox-requeue": {"task": "outbox.tasks.side_effects_requeue_task", "schedule": 60},
    "outbox-purge": {"task": "outbox.tasks.side_effects_purge_task", "schedule": 60 * 60 * 24},
    # The 5-year window: warn counsellors 3 months ahead, expire dossiers past it (idempotent, daily).
    "dossier-deadlines": {"task": "candidates.tasks.dossier_deadlines_task", "schedule": 60 * 60 * 24},
    # Information dossiers untouched for INFORMATION_IDLE_DAYS close « sans suite » (idempotent, daily).
    "information-idle-close": {"task": "candidates.tasks.information_idle_close_task", "schedule": 60 * 60 * 24},
    # Certif'Pro fees for events that have none yet (habilitations entered in the admin): a daily catch-up.
    "funding-fee-entries": {"task": "funding.tasks.fee_entries_sync_task", "schedule": 60 * 60 * 24},
    # France Travail referrals left unanswered expire.
    "referrals-expire": {"task": "referrals.tasks.referrals_expire_task", "schedule": 60 * 60 * 24},
    # Interview requests from the directory left unanswered: reminded to the organisation, then expired.
    "interview-requests-follow-up": {
        "task": "intake.tasks.interview_requests_follow_up_task",
        "schedule": 60 * 60 * 24,
    },
    # The list of each person's sessions forgets those their limits ended; expired sessions leave the store.
    "user-sessions-purge": {"task": "organisations.tasks.user_sessions_purge_task", "schedule": 60 * 60 * 24},
    # Files a killed worker stored without committing their row (issue 13), past the grace period.
    "documents-collect-orphans": {
        "task": "organisations.tasks.documents_collect_orphans_task",
        "schedule": 60 * 60 * 24,
    },
    # Personal data past its retention (DATA_RETENTION below): anonymised or deleted, idempotent, daily.
    "privacy-retention": {"task": "privacy.tasks.retention_apply_task", "schedule": 60 * 60 * 24},
    # The directory's availability of sites whose organisation uses the platform's agenda (the next free day moves
    # with the calendar): also refreshed on each booking at the site.
    "sites-availability": {"task": "scheduling.tasks.sites_availability_refresh_task", "schedule": 60 * 60 * 24},
    # Notifications (issue 17): the deadlines and referrals that time brings, and each user's digest of the days
    # gone by; both keyed on their events, so a second run sends nothing more.
    "notifications-daily": {"task": "notifications.tasks.notifications_daily_task", "schedule": 60 * 60 * 24},
    "notification-digests": {"task": "notifications.tasks.notification_digests_task", "schedule": 60 * 60},
    # Tomorrow's appointments, reminded from 9:00 (Paris) the day before: hourly so that the first run after 9:00
    # sends them whenever beat started, and those booked later in the day still get theirs (keyed: sent once).
    "appointment-reminders": {"task": "notifications.tasks.appointment_reminders_task", "schedule": 60 * 60},
    # Statistics (issue 21): the facts follow each step as it happens; the nightly rebuild catches what no step
    # announced (a funder added, a birth date anonymised, a dossier deleted). Idempotent.
    "indicators-rebuild": {"task": "indicators.tasks.facts_rebuild_task", "schedule": 60 * 60 * 24},
    # The national and regional views read a monthly cube counted from the facts: this is how late they may be.
    "indicators-cube": {"task": "indicators.tasks.cube_rebuild_task", "schedule": 60 * 30},
}

# -- Personal data: how long each category is kept, why, and what happens at the deadline (GDPR art. 5.1.e) -----
# `manage.py anonymise` (daily from beat, task privacy.tasks.retention_apply_task) applies every category whose
# `action` it implements (privacy/retention.py); the others say what is kept and why. `duration` is counted from
# `start`; None: no end. The README's table ("Données personnelles et conservation") says the same in French and
# tests/privacy/test_retention.py checks that it does. Shorten or lengthen a duration here, nowhere else.
DATA_RETENTION: dict[str, dict[str, Any]] = {
    "closed_dossiers": {
        "label": _("Dossiers ouverts puis clos sans certificat (abandon, refus du jury, délai de 5 ans expiré)"),
        "duration": {"years": 5},
        "start": _("la clôture du dossier"),
        "ground": _(
            "Mission de certification de Certif'Pro (intérêt légitime) : une personne a 5 ans pour achever son "
            "parcours CléA, et une contestation se prescrit par 5 ans (article 2224 du Code civil)."
        ),
        "action": "anonymise",
        "at_deadline": _(
            "Anonymisation : nom, prénoms, coordonnées, lieu de naissance et notes effacés, date de naissance "
            "réduite à l'année ; fichiers des attestations et justificatifs supprimés. Restent, pour les "
            "statistiques : étapes et leurs dates, résultats, organisme, région, certification, civilité, statut."
        ),
    },
    "stalled_dossiers": {
        "label": _("Dossiers restés en information ou ouverts, sans évaluation préalable"),
        "duration": {"years": 2},
        "start": _("leur dernière activité (dernier événement du dossier)"),
        "ground": _(
            "Intérêt légitime et minimisation (article 5.1.c et e du RGPD) : sans évaluation préalable, la fenêtre "
            "de 5 ans de CléA n'a pas commencé et le dossier n'a aucun résultat à conserver ; 2 ans sans activité "
            "signifient que la personne ne poursuit plus. La CNIL retient 3 ans après le dernier contact pour des "
            "prospects (référentiel « gestion commerciale ») : un parcours qui n'a pas commencé reste en deçà."
        ),
        "action": "anonymise",
        "at_deadline": _(
            "Dossier clos (abandon, par la plateforme) puis anonymisé comme un dossier clos, si aucun autre dossier "
            "de la personne n'est en cours ni dans sa durée de conservation."
        ),
    },
    "closed_information": {
        "label": _(
            "Dossiers clos à l'étape d'information, jamais ouverts (sans suite après l'information, abandon), et leurs "
            "notes d'entretien"
        ),
        "duration": {"years": 2},
        "start": _("la clôture du dossier"),
        "ground": _(
            "Intérêt légitime et minimisation (article 5.1.c et e du RGPD) : la personne n'a pas donné son accord, "
            "aucun parcours n'a commencé ; 2 ans permettent de retrouver ses notes si elle revient. Avec les jours "
            "sans activité qui précèdent la clôture automatique (INFORMATION_IDLE_DAYS, 180 par défaut), le dossier "
            "reste en deçà des 3 ans après le dernier contact que retient la CNIL pour des prospects."
        ),
        "action": "anonymise",
        "at_deadline": _(
            "Anonymisé comme un dossier clos (notes d'entretien effacées avec les autres textes libres), si aucun "
            "autre dossier de la personne n'est en cours ni dans sa durée de conservation."
        ),
    },
    "invoiced_funding": {
        "label": _("Financements facturés (lignes, justificatifs, lots de réclamation)"),
        "duration": {"years": 10},
        "start": _("la date de facturation"),
        "ground": _("Obligation légale comptable (article L123-22 du Code de commerce)."),
        "action": "hold",
        "at_deadline": _(
            "Retarde l'anonymisation du dossier jusque-là, comme toute ligne encore en attente de paiement ; "
            "les fichiers des lots ne sont pas modifiés."
        ),
    },
    "certified_contacts": {
        "label": _("Dossiers certifiés : coordonnées de la personne"),
        "duration": {"years": 5},
        "start": _("la délivrance du certificat"),
        "ground": _(
            "Échanges sur le certificat (duplicata, déclaration à la Caisse des Dépôts, contestation : article "
            "2224 du Code civil)."
        ),
        "action": "erase_contacts",
        "at_deadline": _(
            "E-mail, téléphone et adresse effacés, comme ceux de l'orientation qui a ouvert le dossier ; l'identité "
            "du titulaire est conservée."
        ),
    },
    "certificates": {
        "label": _("Certificats, identité de leur titulaire et dossier certifié"),
        "duration": None,
        "start": _("la délivrance"),
        "ground": _(
            "Le certificat n'a pas de fin de validité : Certif'Pro doit pouvoir le vérifier, en délivrer un "
            "duplicata et le déclarer à la Caisse des Dépôts (exceptions de l'article 17.3 du RGPD)."
        ),
        "action": "keep",
        "at_deadline": _(
            "Conservés : la page publique de vérification montre toujours le titulaire, la certification, la "
            "date, le numéro et le statut ; les documents du dossier restent."
        ),
    },
    "jury_minutes": {
        "label": _("Procès-verbaux des jurys (noms des candidats et des jurés)"),
        "duration": None,
        "start": _("la clôture de la session"),
        "ground": _(
            "Preuve des décisions des jurys paritaires, certificats comme refus : le procès-verbal fonde chaque "
            "certificat, qui n'a pas de fin de validité (duplicata, vérification, contestation), et ne peut être "
            "caviardé sans perdre sa signature et son empreinte (exceptions de l'article 17.3.b et e du RGPD)."
        ),
        "action": "keep",
        "at_deadline": _("Conservés tels que signés."),
    },
    "funding_files": {
        "label": _("Fichiers des lots de réclamation et des relevés de frais (noms des personnes, montants)"),
        "duration": {"years": 10},
        "start": _("leur émission"),
        "ground": _(
            "Obligation légale : pièces comptables (article L123-22 du Code de commerce, 10 ans), qui couvrent les "
            "contrôles des financeurs (6 ans pour l'administration fiscale, article L102 B du Livre des procédures "
            "fiscales ; durée de la convention et de ses contrôles pour les OPCO, la Région ou le FSE+)."
        ),
        "action": "keep",
        "at_deadline": _(
            "Rien par l'application : les fichiers émis sont figés et leur empreinte vérifiée par les sauvegardes ; "
            "leur suppression au-delà de 10 ans est une opération d'exploitation, comme la purge du journal d'audit."
        ),
    },
    "inactive_accounts": {
        "label": _("Comptes des personnels (conseillers, évaluateurs, formateurs, jurés, administrateurs)"),
        "duration": {"years": 2},
        "start": _("la dernière connexion (la création pour un compte jamais utilisé)"),
        "ground": _(
            "Sécurité du traitement (article 32 du RGPD) : un compte dormant est une porte d'entrée ; minimisation "
            "(article 5.1.c). 2 ans couvrent un juré ou un formateur qui n'intervient qu'une fois par an."
        ),
        "action": "anonymise",
        "at_deadline": _(
            "Compte désactivé (ses rattachements aussi), mot de passe inutilisable, second facteur supprimé, nom et "
            "adresse e-mail remplacés ; la ligne reste pour le journal d'audit et les historiques qui la citent. "
            "Jamais un superutilisateur."
        ),
    },
    "closed_referrals": {
        "label": _("Orientations France Travail déclinées ou expirées"),
        "duration": {"years": 1},
        "start": _("la réponse de l'organisme ou l'expiration"),
        "ground": _(
            "Suivi de l'orientation par France Travail et l'organisme, puis statistiques annuelles (intérêt légitime)."
        ),
        "action": "anonymise",
        "at_deadline": _("Anonymisation de la personne orientée et de la note ; l'orientation reste comptée."),
    },
    "unconfirmed_interview_requests": {
        "label": _("Demandes d'entretien envoyées depuis l'annuaire et jamais confirmées par e-mail"),
        "duration": {"days": 2},
        "start": _("leur envoi"),
        "ground": _(
            "Minimisation (article 5.1.c du RGPD) : l'adresse n'est pas prouvée, personne ne les a vues ; le lien "
            "de confirmation dure 48 heures."
        ),
        "action": "delete",
        "at_deadline": _("Supprimées, avec leur historique."),
    },
    "closed_interview_requests": {
        "label": _("Demandes d'entretien closes (dossier ouvert ou expirées sans réponse)"),
        "duration": {"years": 1},
        "start": _("leur clôture"),
        "ground": _(
            "Suivi de la demande par l'organisme (consentement de la personne à être contactée) ; une fois le "
            "dossier ouvert, ses données vivent dans le dossier."
        ),
        "action": "delete",
        "at_deadline": _(
            "Supprimées, avec leur historique ; les rendez-vous qu'elles ont proposés sans qu'un dossier les reprenne "
            "restent dans l'agenda, sans le nom ni l'adresse de la personne (« Personne effacée ») ; le journal "
            "d'audit garde le numéro de la demande."
        ),
    },
    "api_tokens": {
        "label": _("Jetons d'API révoqués ou expirés"),
        "duration": {"years": 1},
        "start": _("la révocation ou l'expiration"),
        "ground": _("Sécurité du traitement (article 32 du RGPD) : expliquer les accès passés lors d'un incident."),
        "action": "delete",
        "at_deadline": _("Supprimés."),
    },
    "idempotency_keys": {
        "label": _("Clés d'idempotence de l'API et réponses enregistrées (qui peuvent nommer une personne)"),
        "duration": {"days": IDEMPOTENCY_KEY_HOURS // 24},
        "start": _("leur réception"),
        "ground": _(
            "Exécution du service (intérêt légitime) : un logiciel qui renvoie une requête après une coupure reçoit "
            "la même réponse au lieu de créer une seconde fois ; 24 heures couvrent ses nouvelles tentatives."
        ),
        "action": "delete",
        "at_deadline": _("Supprimées."),
    },
    "sessions": {
        "label": _("Sessions de connexion"),
        "duration": {"days": 0},
        "start": _("leur expiration"),
        "ground": _("Sécurité du traitement (article 32 du RGPD)."),
        "action": "delete",
        "at_deadline": _("Supprimées."),
    },
    "sign_in_links": {
        "label": _(
            "Liens de connexion à l'espace de la personne candidate (empreinte du lien, dates d'envoi et d'usage)"
        ),
        "duration": {"days": 30},
        "start": _("leur expiration"),
        "ground": _(
            "Sécurité du traitement (article 32 du RGPD) : expliquer un usage suspect ; l'audit garde l'envoi et "
            "l'usage."
        ),
        "action": "delete",
        "at_deadline": _("Supprimés."),
    },
    "outbox_emails": {
        "label": _("Courriels de la file d'envoi"),
        "duration": {"days": SIDE_EFFECT_RETENTION_DAYS},
        "start": _("leur création (le texte est effacé dès l'envoi)"),
        "ground": _("Acheminement des courriels et reprise d'un envoi en échec."),
        "action": "delete",
        "at_deadline": _("Supprimés, envoyés ou en échec."),
    },
    "webhook_deliveries": {
        "label": _("Journal des webhooks (événements envoyés, tentatives, début des réponses des destinataires)"),
        "duration": {"days": 30},
        "start": _("l'événement"),
        "ground": _(
            "Suivi des envois et diagnostic d'un destinataire en panne ; les messages ne portent que des "
            "identifiants, mais la réponse d'un destinataire peut en dire davantage (minimisation, article 5.1.c du "
            "RGPD)."
        ),
        "action": "delete",
        "at_deadline": _("Supprimés, avec leurs tentatives."),
    },
    "pix_imports": {
        "label": _(
            "Fichiers de résultats Pix reçus, et leurs lignes rapprochées d'aucun dossier (à rapprocher, ignorées, "
            "en erreur)"
        ),
        "duration": {"days": 180},
        "start": _("leur import"),
        "ground": _(
            "Exécution de la mission (rapprocher les résultats des dossiers) ; le fichier nomme aussi des personnes "
            "sans dossier sur la plateforme (minimisation, article 5.1.c du RGPD)."
        ),
        "action": "delete",
        "at_deadline": _(
            "Fichier et lignes sans dossier supprimés ; les lignes d'un dossier suivent sa conservation et son "
            "anonymisation."
        ),
    },
    "audit_log": {
        "label": _("Journal d'audit"),
        "duration": {"years": 6},
        "start": _("l'action journalisée"),
        "ground": _(
            "Sécurité et responsabilité (articles 5.2 et 32 du RGPD) : prouver qui a décidé quoi sur un dossier, "
            "un certificat ou un financement pendant le délai de contestation (5 ans) et une année de marge."
        ),
        "action": "keep",
        "at_deadline": _(
            "Rien par l'application, dont le journal refuse toute modification : la purge des lignes de plus de "
            "6 ans est une opération d'exploitation."
        ),
    },
}

REST_FRAMEWORK = {
    # The token first: its "WWW-Authenticate: Token" header makes a missing login a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organisations.api_auth.ApiTokenAuthentication",
        # A session counts only once its second factor is verified where one is due (organisations/middleware.py).
        "organisations.api_auth.TwoFactorSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Every viewset pages its lists through FeedViewSetMixin (cursor over updated_at, id); the default says so for
    # any new one. Its page size is api_feed.PAGE_SIZE.
    "DEFAULT_PAGINATION_CLASS": "clea_platform.api_feed.FeedPagination",
    "DEFAULT_THROTTLE_CLASSES": ["organisations.api_auth.TokenRateThrottle"],
    # Every throttle keys on clea_platform.request_meta.client_ip (PlatformThrottleMixin); DRF's own reading of
    # X-Forwarded-For is set to the same count for any throttle that would not.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "api": env.str("API_THROTTLE_RATE", default="1200/hour"),
        "certificate_verify": "30/minute",
    },
    "EXCEPTION_HANDLER": "clea_platform.api_errors.api_exception_handler",
    # JSON in, JSON out: one body type per operation, which generated clients can send (a form or multipart body
    # was accepted and declared too, and broke them); a view that takes a file says so itself (credentials/api.py).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "clea_platform.api_schema.AutoSchema",
    # ISO 8601 only (README, "API REST"): "1990-04-03", "2026-12-04T09:30:00+01:00"; the screens' French formats
    # ("03/04/1990") are a 400 on the field. The API's forms follow (organisations.api_fields.bound_form).
    "DATE_INPUT_FORMATS": ["iso-8601"],
    "DATETIME_INPUT_FORMATS": ["iso-8601"],
    "TIME_INPUT_FORMATS": ["iso-8601"],
}
SPECTACULAR_SETTINGS = {
    # ASCII: generators make the package name from it ("clea-api-client", import clea_api_client).
    "TITLE": "CleA API",
    "DESCRIPTION": "Dossiers, évaluations, formation, jurys et financements des certifications CléA, avec les "
    "mêmes droits que les écrans. Authentification : session du navigateur ou jeton personnel (/compte/jetons/).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The documentation's assets come from drf-spectacular-sidecar, served by the platform: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # OpenAPI 3.1: a nullable reference is `oneOf: [{$ref}, {type: null}]`, which validates a null; 3.0's
    # `nullable` beside `allOf` does not (it only widens a `type` in the same schema).
    "OAS_VERSION": "3.1.0",
    # Two sets of choices share the field name "modality": an evaluation's and an appointment's.
    "ENUM_NAME_OVERRIDES": {
        "EvaluationModalityEnum": "evaluations.models.Modality",
        "AppointmentModalityEnum": "scheduling.models.AppointmentModality",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "clea_platform.api_schema.add_error_responses",
        # After the error answers: Idempotency-Key, If-Match, If-None-Match, ETag and RateLimit-* (README, "API REST").
        "clea_platform.api_schema_headers.add_safe_write_headers",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Eager tasks (embedded mode) would log each execution into the web server's console.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
    },
}
