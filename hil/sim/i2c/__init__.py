"""Simulated I2C: a bus with the smbus2 interface and register-level models of the HAT's chips."""
