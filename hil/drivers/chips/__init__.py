"""Chip drivers: each speaks one I2C chip's byte protocol over an smbus2-compatible bus."""
