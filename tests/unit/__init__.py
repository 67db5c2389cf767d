"""Unit tier: the pure domain layer, no database and no I/O."""
