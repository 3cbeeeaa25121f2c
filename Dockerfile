# One image for the four agencies and the supervision service; docker-compose.yml picks the agency
# with `guichet run AGENCY`, the supervision service with `guichet supervise`.
# The base image is a variable so that a site without a registry builds on a local stand-in
# (scripts/build-base-images); by default it is the public python:3.11-slim.
ARG GUICHET_BASE_IMAGE=python:3.11-slim
FROM ${GUICHET_BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The dependencies first, in a layer of their own: a change of code does not download them again.
# They are pinned (requirements/ops.txt, made by scripts/lock: the runtime and the supervision
# console's web stack): the image runs the versions the tests ran with. --no-deps installs the
# lock's packages and nothing else (nothing resolved at build time), `--require-hashes` refuses any
# file whose SHA-256 is not the one the lock records (a tampered mirror, a re-uploaded release), and
# `pip check` proves the lock complete.
COPY requirements/ops.txt ./requirements.txt
RUN pip install --no-cache-dir --no-deps --require-hashes -r requirements.txt \
 && pip check \
 && useradd --create-home --uid 10001 --user-group guichet \
 && mkdir -p /data /secrets /console-secrets /keys/public /keys/own /keys/portal /keys/ofii /keys/smoe /keys/consulat /keys/prefecture \
 && chown guichet:guichet /data /secrets /console-secrets \
 && chown -R guichet:guichet /keys

# Then the code (.dockerignore leaves out tests, scripts and local state).
COPY . .
RUN pip install --no-cache-dir --no-deps . \
 && rm -rf build *.egg-info requirements.txt

# /data, /secrets and the keys folders belong to the service user, so named volumes mounted there
# start out writable by it.
USER guichet
WORKDIR /data

# An agency's container is healthy while its service loop beats (docker-compose.yml says the same
# per agency); GUICHET_AGENCY names it when the image runs outside compose.
ENV GUICHET_AGENCY=""
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD guichet health "$GUICHET_AGENCY" --data-dir /data || exit 1

CMD ["guichet", "--help"]
