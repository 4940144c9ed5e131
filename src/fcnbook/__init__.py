"""fcnbook."""
