# syntax=docker/dockerfile:1
# Image de la plateforme CléA : Django + gunicorn, WeasyPrint, Celery.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Bibliothèques d'exécution de WeasyPrint (+ libpq5 pour psycopg sans wheel binaire), et le client PostgreSQL 15
# de Debian bookworm (pg_dump, pg_restore, createdb, dropdb) pour `manage.py backup` et `restore_check` : même
# version majeure que le serveur de docker-compose.yml.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
        libpq5 \
        postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# Utilisateur non privilégié.
RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app

# Dépendances d'abord, pour profiter du cache des couches.
COPY requirements/ requirements/
RUN pip install -r requirements/base.txt

COPY --chown=app:app . .
RUN mkdir -p /app/media /app/staticfiles && chown -R app:app /app

USER app

# Fichiers statiques collectés à la construction (valeurs factices : rien n'est
# connecté à la base ici, et ces variables ne restent pas dans l'image). La clé est tirée au hasard à
# chaque construction : avec DEBUG désactivé, les réglages refusent une clé courte ou publiée.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    DEBUG=false \
    ALLOWED_HOSTS=localhost \
    SITE_URL=http://localhost:8000 \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput

EXPOSE 8000

CMD ["gunicorn", "clea_platform.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
