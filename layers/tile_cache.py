"""Encoded vector tiles of layers that change only with a boundary generation.

Grids, communities, streets, districts, buildings and components are the same for every
caller until a planner switches the active generation (or an operator re-imports
buildings or components), so their tiles are rendered once per generation and served from
memory after that. The key names the generation the tile was drawn from (the requested one
for versioned layers, the active one for the others): a switch makes every old key
unreachable at once, in every worker and on every node, as soon as that process resolves
the new active generation; :meth:`TileCache.clear` (called by each process's switch
watcher, ``gis_core.planning.watch``) also frees the memory. A re-import that is not a
switch shows after ``ttl`` seconds, the same time browsers may keep the tile
(``Cache-Control: max-age``).

Only unfiltered tiles of public layers are cached (a filter or a jurisdiction makes the
tile someone's own); events are never cached (their lights change with time).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from gis_core.storage.features import FeatureQuery
from layers.model import Layer

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_TTL = 300.0

TileKey = tuple[str, int, int, int, int]
"""(layer id, generation id, z, x, y)."""


@dataclass(frozen=True)
class CachedTile:
    data: bytes
    """The encoded tile; ``b""`` for an empty one (answered 204)."""
    etag: str
    expires: float


def etag_of(data: bytes) -> str:
    """A strong ETag: the tile's content hash (the same on every worker and node)."""
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def cacheable(layer: Layer, query: FeatureQuery) -> bool:
    """Whether this tile is the same for every caller: a generation-bound public layer,
    no filters, no jurisdiction."""
    return (
        layer.generation_cached
        and layer.scope is None
        and layer.compute is None
        and not query.equals
        and query.interval is None
        and query.filter is None
        and query.area_prefix is None
        and query.bbox is None
    )


class TileCache:
    """A byte-bounded LRU of tiles, thread-safe; ``max_bytes=0`` turns it off."""

    def __init__(
        self,
        max_bytes: int = DEFAULT_MAX_BYTES,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self._bytes = 0
        self._tiles: OrderedDict[TileKey, CachedTile] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._tiles)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def get(self, key: TileKey) -> CachedTile | None:
        """The tile if cached and fresh (counted as a hit), else None (a miss)."""
        now = self.clock()
        with self._lock:
            tile = self._tiles.get(key)
            if tile is None or tile.expires <= now:
                if tile is not None:
                    self._drop(key)
                self.misses += 1
                return None
            self._tiles.move_to_end(key)
            self.hits += 1
            return tile

    def put(self, key: TileKey, data: bytes) -> CachedTile:
        """Keep ``data`` under ``key`` (unless it alone exceeds the budget); the entry."""
        tile = CachedTile(data, etag_of(data), self.clock() + self.ttl)
        cost = len(data) + 200  # the key and entry themselves
        if not self.enabled or cost > self.max_bytes:
            return tile
        with self._lock:
            if key in self._tiles:
                self._drop(key)
            self._tiles[key] = tile
            self._bytes += cost
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._tiles)))
        return tile

    def clear(self, *_: object) -> None:
        """Forget every tile (a generation switch; takes the watcher's argument)."""
        with self._lock:
            self._tiles.clear()
            self._bytes = 0

    def _drop(self, key: TileKey) -> None:
        tile = self._tiles.pop(key)
        self._bytes -= len(tile.data) + 200
