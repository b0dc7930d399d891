"""Benchmarks: `make bench` (python -m benchmarks) runs every bench_*.py and prints a table.

Speed is reported as ratios against a baseline measured in the same process, never as a timed
pass/fail: machines differ, ratios travel.
"""
