"""Reports: the run manifest, evidence plots, and the results history with its pages.

Every test run is appended to one SQLite file (`history`), so a team sees what got worse
between two firmware versions without a server: `compare` judges two runs (verdict changes,
measurement regressions, flaky tests), `trend` plots each measurement over runs, and
`commands` is `hil report`. `manifest` and `plots` feed the per-run HTML and JUnit reports.
"""
