"""Settings for the test suite: a throw-away data directory, tasks executed immediately."""

import os
import tempfile

os.environ.setdefault("CHIPLET_DSE_HOME", tempfile.mkdtemp(prefix="chiplet-dse-test-"))
os.environ.setdefault("CHIPLET_DSE_EVAL_WORKERS", "1")
# The heartbeat thread writes through its own connection; inside a test's transaction that
# would wait on the test's own lock, so in-process tests never let it fire.
os.environ.setdefault("CHIPLET_DSE_HEARTBEAT_SECONDS", "3600")
os.environ.setdefault(
    "CHIPLET_DSE_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
)

from chiplet_dse.server.config.settings import *  # noqa: F403
