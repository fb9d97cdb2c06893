"""Storage: the one ``Store`` interface (``base``) and its backends, chosen by ``factory``.

- ``base``: the contract (``Store``, ``SheetSpec``, ``Column``, the store errors).
- ``entries``, ``state``, ``codec``: the log entries, the in-memory view of a log and the value
  codec, shared by both backends.
- ``local/``: the JSON-lines log on disk with the ``.xlsx`` workbook as its view.
- ``sheets/``: a Google spreadsheet, its hidden ``_log`` sheet the truth.

Importing this package imports no backend (and not pandas): callers import what they use.
"""
