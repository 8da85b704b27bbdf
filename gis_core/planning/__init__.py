"""Boundary planning: drafts, their validation report, edits with undo, the impact of a
draft on buildings, components, open events, units and rules, and the atomic, recorded
activation and rollback that re-route open events."""
