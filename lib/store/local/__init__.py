"""The local backend: an fsync'ed JSON-lines log is the truth, memory serves reads, and a child
process keeps ``campaign.xlsx`` (the workbook a person opens) up to date.

``store`` is the ``Store``; ``log`` the file; ``workbook`` and ``materialiser`` the ``.xlsx`` view;
``external`` imports what a person edited in it; ``verify`` checks the file against the log.
"""
