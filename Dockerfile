# The portal's image for compose.yaml: the web server and every Celery worker run it, each with its own command.
# torch's CPU build (scripts/install.sh); a GPU host's heavy worker installs torch's CUDA build on top instead.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt ./
COPY scripts/install.sh scripts/
RUN bash scripts/install.sh
COPY . .
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1
