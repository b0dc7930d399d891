"""Drivers: the code that provides capabilities on real hardware (I2C chips, python-can).

Each has a simulated twin in `hil.sim`; the rig file chooses which one a rig uses.
"""
