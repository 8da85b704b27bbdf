"""Boundary generations (MapIt-style versioned boundary sets): where a generation's layers
come from (files or the store), cached generation-aware lookups, and one grid in full."""
