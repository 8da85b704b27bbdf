"""The field force: members' position fixes and tracks, patrol coverage and anomalies, the
nearest member to an event, inspector rotation, spot checks, volunteers and their points.

By job: ``fixes`` (checks on fixes), ``tracks`` (ingest, tracks, last positions,
retention), ``members`` (who, their areas, duty), ``coverage``, ``anomalies``,
``nearest`` and ``dispatch`` (to people), ``rotation`` (CP-SAT), ``spot_checks``,
``volunteers`` (points ledger), ``mqtt`` (fixes from handhelds over MQTT).
docs/field.md describes the rules.
"""
