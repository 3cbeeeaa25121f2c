# One image for the four agencies; docker-compose.yml picks the agency with `guichet run AGENCY`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
RUN pip install --no-cache-dir . \
 && useradd --create-home --uid 10001 --user-group guichet \
 && mkdir -p /data /secrets \
 && chown guichet:guichet /data /secrets

# /data and /secrets belong to the service user, so named volumes mounted there start out writable by it.
USER guichet
WORKDIR /data

CMD ["guichet", "--help"]
