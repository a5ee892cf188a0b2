"""Shared test fixtures: where the CASCADE reference data lives (never copied into the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TRACE_DIR = SHARED / "cascade-traces"


@pytest.fixture
def trace_dir() -> Path:
    """The original's trace tree; tests that need it skip cleanly when it is absent."""
    if not TRACE_DIR.is_dir():
        pytest.skip(f"CASCADE traces not found at {TRACE_DIR}")
    return TRACE_DIR
