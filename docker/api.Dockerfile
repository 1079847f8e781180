# The example API (tests/app) and the test runner: Debian's Python packages only.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-fastapi python3-uvicorn python3-sqlalchemy \
       python3-psycopg2 python3-httpx python3-pytest \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY tests/app /app/tests/app
COPY tests/scenario.py /app/tests/scenario.py
COPY integrations /app/integrations
USER nobody
CMD ["/usr/bin/python3", "-m", "uvicorn", "main:app", "--app-dir", "/app/tests/app", "--host", "0.0.0.0", "--port", "8000"]
