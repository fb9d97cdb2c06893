"""Excel in and out: reading uploaded workbooks into plain rows, exporting DataFrames to .xlsx bytes."""
