"""Trained terrain scores: texture descriptors, the shipped model and the two features the registry lists."""
