"""The token-signing secret in a key file readable by its owner only.

A secret kept in the database lets anyone who can read the database (a dump, a replica,
a reporting account) mint an admin token. gridgov therefore takes the secret from
``GRIDGOV_SECRET_KEY`` or from a key file (``GRIDGOV_SECRET_KEY_FILE``), never from the
database. Without either, a key file is created on first use, mode 0600: beside the
SQLite file (``gridgov.sqlite.key``), or ``~/.config/gridgov/signing.key`` for a
PostgreSQL store (set one explicitly when several hosts serve the same database). A key
file that group or others can read is refused.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from sqlalchemy import URL

from gis_core.auth.tokens import MIN_SECRET_LENGTH


class KeyFileError(RuntimeError):
    """The key file is unusable: readable by others, too short, or not readable."""


def default_key_file(url: URL) -> Path:
    """Where the signing key lives when no key or key file is configured."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).with_name(Path(url.database).name + ".key")
    return Path.home() / ".config" / "gridgov" / "signing.key"


def read_or_create(path: Path) -> str:
    """The secret in ``path``, created (0600, 64 random characters) when missing."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker won the race: read its key
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_urlsafe(48) + "\n")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(f"{path} is readable by others (mode {mode:o}): chmod 600 {path}")
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise KeyFileError(f"{path} holds fewer than {MIN_SECRET_LENGTH} characters")
    return secret
