"""I2C facts shared by drivers, simulated chips and benchmarks (bus timing, the SMBus API)."""
