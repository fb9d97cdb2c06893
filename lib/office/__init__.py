"""The office's files: uploaded workbooks read into plain rows, DataFrames exported to ``.xlsx``, a
row's answers as a printable page."""
