"""Apertura's scoring engine: answers to 0-1 openness indices."""
