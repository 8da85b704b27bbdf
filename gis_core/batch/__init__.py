"""Batch assignment: many points (a file, a request body) to grids, keeping every row."""
