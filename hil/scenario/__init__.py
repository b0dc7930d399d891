"""Scenario files: the YAML language, its loader, its checks and the real-time engine."""
