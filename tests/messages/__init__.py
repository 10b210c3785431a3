"""Tests of ``messages/``: construction checks, the codec, and the catalogue."""
