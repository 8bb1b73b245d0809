# Production image: slim Python, non-root, uvicorn behind `member-api serve`.
FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
COPY migrations ./migrations
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install -c constraints.txt .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app --create-home member-api
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
USER member-api
EXPOSE 8000
# Ready = database and cache reachable, asked on the port the server was given; the
# start period covers migrations on a first start.
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
  CMD ["member-api", "healthcheck"]
CMD ["sh", "-c", "member-api migrate && exec member-api serve"]
