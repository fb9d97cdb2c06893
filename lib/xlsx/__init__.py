"""Workbook files a person uploads: what reading one may cost (``bounds``), checked before any reader
parses it, and the bounded reader itself (``reader``)."""
