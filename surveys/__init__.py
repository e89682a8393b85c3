"""Apertura's questionnaire engine: definitions, expressions, checks and answer validation."""
