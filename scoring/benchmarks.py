"""Published MGA reference figures shipped under `scoring/data/benchmarks/` (see its README)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent / "data" / "benchmarks"


def national() -> pd.DataFrame:
    """National averages per MGA edition (2017, 2019, 2021, 2023)."""
    return pd.read_csv(DATA / "metrica_national_editions.csv")


def by_state() -> pd.DataFrame:
    """MGA 2017 state means (`state` = INEGI code, `00` = federal bodies)."""
    frame = pd.read_csv(DATA / "metrica_2017_by_state.csv", dtype={"cve_ent": str})
    return frame.rename(columns={"cve_ent": "state"})


def by_type() -> pd.DataFrame:
    """MGA 2017 counts and means by order of government and type of body."""
    return pd.read_csv(DATA / "metrica_2017_by_type.csv")
