"""Settings for the test suite: a throw-away data directory, tasks executed immediately."""

import os
import tempfile

# One data directory per test process: xdist workers must not share exports or results files.
_base = os.environ.setdefault("CHIPLET_DSE_TEST_HOME", tempfile.mkdtemp(prefix="chiplet-dse-test-"))
os.environ["CHIPLET_DSE_HOME"] = os.path.join(_base, os.environ.get("PYTEST_XDIST_WORKER", "main"))
os.environ.setdefault("CHIPLET_DSE_EVAL_WORKERS", "1")
# The heartbeat thread writes through its own connection; inside a test's transaction that
# would wait on the test's own lock, so in-process tests never let it fire.
os.environ.setdefault("CHIPLET_DSE_HEARTBEAT_SECONDS", "3600")
# Analytics after every completed run would dominate the suite's time; tests that want them
# switch them on.
os.environ.setdefault("CHIPLET_DSE_AUTO_ANALYTICS", "0")
os.environ.setdefault(
    "CHIPLET_DSE_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
)

from chiplet_dse.server.config.settings import *  # noqa: E402,F403
