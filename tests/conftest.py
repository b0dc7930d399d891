"""Shared test helpers: where the team's third-party data lives, and the repository root."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data" / "third_party"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data/third_party, or skip when this checkout has no shared folder beside it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"third-party data not present ({SHARED_DATA})")
    return SHARED_DATA
