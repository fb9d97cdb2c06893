"""The province's registers: reading and checking an upload, storing it, reconciling it with reports."""
