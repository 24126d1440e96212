# One image for web, worker, beat and the one-shot migration: only the command differs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GRANTMATCH_INSTANCE_PATH=/srv/instance

WORKDIR /srv/app
COPY pyproject.toml requirements.lock README.md alembic.ini ./
COPY matcher ./matcher
COPY core ./core
COPY web ./web
COPY workers ./workers
COPY migrations ./migrations
COPY babel.cfg ./
RUN pip install -r requirements.lock \
    && pip install --no-deps -e . \
    && pip check \
    && pybabel compile -d core/translations \
    && useradd --system --home /srv grantmatch \
    && mkdir -p /srv/instance && chown grantmatch /srv/instance
USER grantmatch
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "web.wsgi:app"]
