"""Hostile and awkward files, generated at test time (nothing binary is committed)."""
