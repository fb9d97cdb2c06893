"""The campaign's own logic, one folder per feature, as functions on store snapshots.

- ``schedule``: the forms the campaign follows, its cities, phases and deadlines.
- ``board/``: the live status boards (progress, late lists, detail tables) and who sees what.
- ``register/``: the province's registers (import, validation) and their reconciliation with reports.
"""
