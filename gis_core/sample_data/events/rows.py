"""Events as parallel arrays while they are generated: one entry per intake record."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Rows:
    """Events as parallel arrays: one entry per intake record (retries added last)."""

    src: np.ndarray  # int8 index into SOURCES
    cat: np.ndarray  # object, 5-digit code
    comp: np.ndarray  # int64 index into components, -1
    dev: np.ndarray  # object device id or None
    x: np.ndarray  # float64 true position, metres
    y: np.ndarray
    t: np.ndarray  # int64 seconds since 1 January 00:00 local time
    storm: np.ndarray  # bool
    orig: np.ndarray  # int64 row of the first report (near duplicates), -1

    def __len__(self) -> int:
        return len(self.src)

    @staticmethod
    def concat(parts: list[Rows]) -> Rows:
        return Rows(
            **{f: np.concatenate([getattr(p, f) for p in parts]) for f in Rows.__dataclass_fields__}
        )

    @staticmethod
    def make(k: int, src: int) -> Rows:
        return Rows(
            src=np.full(k, src, dtype=np.int8),
            cat=np.full(k, "", dtype=object),
            comp=np.full(k, -1, dtype=np.int64),
            dev=np.full(k, None, dtype=object),
            x=np.zeros(k),
            y=np.zeros(k),
            t=np.zeros(k, dtype=np.int64),
            storm=np.zeros(k, dtype=bool),
            orig=np.full(k, -1, dtype=np.int64),
        )
