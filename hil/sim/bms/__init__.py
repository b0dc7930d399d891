"""The reference BMS: a separate OS process that behaves like a real BMS controller.

It sees only CAN frames and the analog harness, exactly what a real BMS sees on a rig. The
framework starts and stops it but never calls into it.
"""
