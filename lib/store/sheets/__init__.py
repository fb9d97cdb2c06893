"""The Google Sheets backend: a hidden ``_log`` sheet is the truth, one readable sheet per form and
``_audit`` are views, and a durable local outbox holds what Google has not taken yet.

``store`` is the ``Store``; ``client`` the HTTP session and quota; ``log`` the ``_log`` rows;
``view`` the readable sheets; ``outbox`` the local queue; ``sync`` the engine (reads the log,
writes the views) and ``delivery`` the writer thread it owns (sends new entries, through the
engine's small ``Engine`` interface).
"""
