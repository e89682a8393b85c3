"""Small in-process caches (per worker): a thread-safe LRU with an optional time to live."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any


class LRU:
    """A bounded least-recently-used map; entries older than `ttl` seconds are misses."""

    def __init__(self, size: int = 2048, ttl: float | None = None):
        self.size = size
        self.ttl = ttl
        self._data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        """The value for `key`, or None when absent or expired."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            stored, value = item
            if self.ttl is not None and time.monotonic() - stored > self.ttl:
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: Any, value: Any) -> None:
        """Store a value, evicting the least recently used entry when full."""
        with self._lock:
            self._data[key] = (time.monotonic(), value)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def pop(self, key: Any) -> None:
        """Forget a key."""
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()
