"""Fixtures of the gate tests."""

import pytest
from gate_data import scored_rows


@pytest.fixture
def rows():
    return scored_rows()
