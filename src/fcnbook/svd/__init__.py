"""svd layer."""
