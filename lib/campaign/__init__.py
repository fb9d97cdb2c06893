"""Campaign logic as pure functions on snapshots: registers, reconciliation, progress boards."""
