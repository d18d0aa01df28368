"""Supplier screening in the web app: one screener per process, built on first use.

Building the entity index takes a moment, and it only changes when screening data is
imported, so it is kept; a new import (a new `screen_imports` row) rebuilds it.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from camsweep.screen.imports import load_screener
from camsweep.screen.matcher import Screener
from camsweep.store import Store
from camsweep.store.models import ScreenImport

_lock = threading.Lock()


def _data_mark(store: Store) -> Any:
    with store.session() as s:
        return s.execute(select(func.count(ScreenImport.id), func.max(ScreenImport.id))).one()


def screener_for(state: Any, store: Store) -> Screener:
    mark = tuple(_data_mark(store))
    with _lock:
        cached = getattr(state, "screener", None)
        if cached is not None and cached[0] == mark:
            return cached[1]  # type: ignore[no-any-return]
        screener = load_screener(store)
        state.screener = (mark, screener)
        return screener
