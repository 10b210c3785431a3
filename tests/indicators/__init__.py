"""Tests of the indicators package (batch, streaming, state bytes, TA-Lib agreement)."""
