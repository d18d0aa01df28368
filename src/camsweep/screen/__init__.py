"""Screen suppliers and bids against the restricted-entity graph (pure core + data).

    from camsweep.screen import Screener
    screener = Screener.bundled()                      # bundled FtM graph, compiled once
    r = screener.screen("Hikvision UK Ltd", country="GB")
    r.match, r.entity, r.relation, r.score, r.explanation

Store-facing helpers live beside it: `camsweep.screen.imports` (OpenSanctions-style FtM
imports, `load_screener(store)`), `camsweep.screen.cases` (cases, decisions, exclusion
register) and `camsweep.screen.bid` (bids: parties by name, products by identification).
"""

from __future__ import annotations

from camsweep.screen.graph import GraphPolicy
from camsweep.screen.matcher import ALGORITHM, Algorithm, Query, Screener, ScreenResult
from camsweep.screen.normalise import NameForm, normalise

__all__ = [
    "ALGORITHM",
    "Algorithm",
    "GraphPolicy",
    "NameForm",
    "Query",
    "ScreenResult",
    "Screener",
    "normalise",
]
