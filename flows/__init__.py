"""Prefect flows and the `profilegen` CLI: orchestration only; the work is in `pipeline`."""

import os

# Measured on 2 cores: the ephemeral server takes 16-22 s to start, right at Prefect's 20 s
# default, and offline telemetry logs errors. Users can still override both.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
