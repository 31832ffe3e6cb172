# One image for every role: web (gunicorn, the default command), celery, beat, bootstrap.
# Production only: the runtime requirements.txt, no test tools (requirements-dev.txt),
# no tests (.dockerignore); it runs as the unprivileged user `app`.
FROM python:3.11-slim

# DJANGO_ENV_FILE empty: the settings read the container's environment (docker-compose.yml),
# never a .env file.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_ENV_FILE=

RUN groupadd --system app && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=app:app . .
# The app user writes var/, staticfiles/ and gunicorn's control socket under its home, /app.
RUN mkdir -p /app/var /app/staticfiles && chown app:app /app /app/var /app/staticfiles

USER app

# Static files are collected into the image and served by whitenoise. The settings need a
# secret key to load at all; this one exists only in this build step, never at run time.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-build-only-not-a-runtime-secret \
    python manage.py collectstatic --noinput

EXPOSE 8000
# WEB_CONCURRENCY sets the number of gunicorn workers (gunicorn reads it itself).
ENV WEB_CONCURRENCY=3
CMD ["gunicorn", "budget_system.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
