"""The campaign's own logic, one folder per feature, as functions on store snapshots.

- ``schedule``: the forms the campaign follows, its cities, phases and deadlines.
- ``register/``: the province's registers (import, validation) and their reconciliation with reports.
- ``board/``: the live status boards (progress, late lists, detail tables) and what each viewer may read.

Later features get their own folder beside these (``sampling/``: the random draw of items to inspect;
``rectification/``: the state machine of a finding until it is put right). Inside the package imports
point one way: ``schedule`` <- ``register`` <- ``board`` (a feature may use an earlier one, never a later).
"""
