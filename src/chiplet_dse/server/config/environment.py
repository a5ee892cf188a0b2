"""Reading the environment for the settings: data directory, secret key, database."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def data_home() -> Path:
    """The data directory (``CHIPLET_DSE_HOME``, default ``./chiplet-server``), absolute."""
    return Path(os.environ.get("CHIPLET_DSE_HOME", "chiplet-server")).expanduser().resolve()


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def secret_key(home: Path) -> str:
    """``CHIPLET_DSE_SECRET_KEY``, else a key generated once and kept in the data directory."""
    if key := os.environ.get("CHIPLET_DSE_SECRET_KEY"):
        return key
    path = home / "secret_key"
    if not path.exists():
        # Created with owner-only permissions before the key is written.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def _sqlite(path: Path) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # Readers never block the writer and a writer waits instead of failing.
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
        },
        "TEST": {"NAME": str(path.with_name(f"test-{path.name}"))},
    }


def database_from_env(home: Path) -> dict[str, Any]:
    """``DATABASE_URL`` (``postgres://…`` or ``sqlite:////absolute/path``), else SQLite in the
    data directory; SQLite runs in WAL mode with a busy timeout."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return _sqlite(home / "db.sqlite3")
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return _sqlite(Path("/" + unquote(parsed.path).lstrip("/")))
    if parsed.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgres:// or sqlite:/// URL, got {parsed.scheme}://"
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def plotly_bundle_dir() -> Path:
    """The folder holding ``plotly.min.js`` inside the installed plotly package."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise ImproperlyConfigured("the plotly package is not installed")
    return Path(spec.origin).parent / "package_data"
