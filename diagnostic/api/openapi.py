"""The OpenAPI 3.1 document of API v1: data in `diagnostic/data/openapi.yaml` (package data)."""
from __future__ import annotations

from functools import cache
from importlib import resources

import yaml


@cache
def _text() -> str:
    return resources.files("diagnostic").joinpath("data", "openapi.yaml").read_text(encoding="utf-8")


def document() -> dict:
    """A fresh copy of the OpenAPI document."""
    return yaml.safe_load(_text())
