"""@pytest.mark.requires_fault skips on rigs that cannot make the fault, and fails on typos."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

TESTS = '''
import pytest

@pytest.mark.requires_fault("ntc_short")
def test_needs_a_short():
    raise AssertionError("should have been skipped")

@pytest.mark.requires_fault("open_wire")
def test_needs_open_wire():
    pass

@pytest.mark.requires_fault("open_wir")
def test_typo():
    pass
'''


def test_marker(pytester: pytest.Pytester) -> None:
    text = (REPO / "rigs" / "sim.yaml").read_text()
    text = text.replace("../dbc/", f"{REPO / 'dbc'}/")
    text = text.replace("calibration: calibration/", f"calibration: {REPO / 'rigs'}/calibration/")
    text = text.replace("  ntc_short: {by: rheostat}", "  ntc_short: unsupported")
    rig = pytester.path / "rig.yaml"
    rig.write_text(text)
    pytester.makepyfile(test_faults=TESTS)
    result = pytester.runpytest_subprocess("--rig", str(rig), "-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1, errors=1)
    result.stdout.fnmatch_lines([
        "*requires_fault: unknown fault 'open_wir' (did you mean 'open_wire'?)*",
        "*SKIPPED*rig 'sim' cannot inject ntc_short (declared unsupported)*",
    ])
