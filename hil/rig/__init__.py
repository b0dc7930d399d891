"""Rig files (`hil.rig.config`) and the Rig that opens them (`hil.rig.rig`)."""
