# Clarion application image: Daphne serving HTTP and WebSockets (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY clinic ./clinic
COPY phi ./phi
COPY audit ./audit
COPY voiceagent ./voiceagent
COPY templates ./templates
COPY manage.py ./
RUN pip install --no-cache-dir . && useradd --system --uid 10001 clarion
USER clarion
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
