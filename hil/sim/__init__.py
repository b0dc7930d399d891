"""Simulated twins of the rig's hardware and the reference BMS that the simulated rig tests."""
