"""HIL validation of battery management systems: emulated pack, CAN decode, pytest verdicts."""

__version__ = "0.1.0"
