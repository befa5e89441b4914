# presslens serving image: the HTTP service on the embedded default model, CPU only.
#
#   docker build -t presslens .
#   docker run --rm -p 8000:8000 presslens
#
# Two stages: "build" makes a virtual environment with the package and its serving
# dependencies (the base `dependencies` of pyproject.toml: ONNX Runtime, no torch, no CUDA);
# the final stage copies only that environment onto a clean base, so pip's caches, wheels and
# the build step's tools stay out. The training stack (torch, sentence-transformers, the
# encoder weights package) is the `train` extra and is not installed: the default model
# carries its encoder exported to ONNX (model/default/onnx/), which is all serving runs.

FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Dependencies first, from pyproject alone, so editing the code does not re-download them.
COPY pyproject.toml /src/
RUN python3 -c "import tomllib; print('\n'.join(tomllib.load(open('/src/pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && pip install -q -r /tmp/requirements.txt

# The package itself, with the default model as package data (not editable: /src is dropped).
COPY . /src
RUN pip install -q --no-deps /src

# Fail the build, not the deployment: serving must import no torch, and the baked-in default
# model must load on the backend the service will pick. The run also decides which bytecode
# ships: pip compiled every module; only what serving imports is kept compiled (the rest,
# e.g. most of scipy, would compile in memory if ever imported), which saves ~30 MB.
RUN find /opt/venv/lib -name __pycache__ -prune -exec rm -rf {} + \
 && cd / && PYTHONDONTWRITEBYTECODE= python3 -c "\
import importlib.util; \
import presslens.cli, service.app, uvicorn.main, uvicorn.lifespan.on, uvicorn.loops.asyncio; \
import uvicorn.protocols.http.h11_impl; \
from model.predict import DEFAULT_MODEL_DIR, Presslens, default_backend; \
assert importlib.util.find_spec('torch') is None, 'torch is in the serving image'; \
service.app.create_app(); \
model = Presslens.load(None, default_backend()); \
first = model.classify('Russia and Iran signed a treaty on Friday, officials said.')[0]; \
print('default model', model.card.model_id, model.card.version, 'loads from', \
      DEFAULT_MODEL_DIR, 'on', default_backend(), '->', first.framing.label)"

# Not needed at run time: pip, setuptools, and the libraries' own test suites (~60 MB).
RUN pip uninstall -q -y pip setuptools \
 && find /opt/venv/lib -depth -type d -name tests -prune -exec rm -rf {} +


FROM python:3.11-slim

LABEL org.opencontainers.image.title="presslens" \
      org.opencontainers.image.description="Sentence-level framing and stance of news articles (HTTP service)"

# A fixed, unprivileged user; the environment is root-owned and read-only to it.
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin presslens
COPY --from=build /opt/venv /opt/venv

# PORT is the port to listen on (the convention of Cloud Run, Heroku, ...); PRESSLENS_PORT,
# when set, wins. Containers must listen on all interfaces, not the loopback default.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    PORT=8000 \
    PRESSLENS_HOST=0.0.0.0

USER presslens
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; port = os.environ.get('PRESSLENS_PORT') or os.environ.get('PORT') or '8000'; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2)"]

# Exec form: `sh` only maps PORT and then `exec`s, so the server is PID 1 and receives
# `docker stop`'s SIGTERM itself. uvicorn then stops accepting connections and lets requests
# in flight finish (bounded by the serve command's graceful-shutdown timeout, below Docker's
# default 10 s stop grace period) before it exits.
STOPSIGNAL SIGTERM
CMD ["/bin/sh", "-c", "export PRESSLENS_PORT=\"${PRESSLENS_PORT:-${PORT:-8000}}\"; exec presslens serve"]
