"""Tests of the Delta Exchange client (exchange/delta/)."""
