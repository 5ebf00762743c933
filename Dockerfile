FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/newsdesk
RUN useradd --create-home --uid 10001 newsdesk

COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
RUN pip install -e . && mkdir var && chown newsdesk:newsdesk var

USER newsdesk
EXPOSE 8000
# Point NEWSDESK_DATABASE_URL at PostgreSQL and run `newsdesk migrate` once before serving.
CMD ["newsdesk", "serve", "--host", "0.0.0.0", "--workers", "2"]
