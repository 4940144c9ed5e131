"""report/chapters layer."""
