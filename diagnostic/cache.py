"""Small in-process caches (per worker): a thread-safe LRU."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class LRU:
    """A bounded least-recently-used map."""

    def __init__(self, size: int = 2048):
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        """The value for `key`, or None when absent."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def set(self, key: Any, value: Any) -> None:
        """Store a value, evicting the least recently used entry when full."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
