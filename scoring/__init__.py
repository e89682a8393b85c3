"""Apertura's scoring engine: answers to 0-1 openness indices (see scoring/README.md)."""
from scoring.model import IndexModel, ModelError
from scoring.pipeline import ScoreResult, compare, score

__all__ = ["IndexModel", "ModelError", "ScoreResult", "compare", "score"]
