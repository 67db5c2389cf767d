"""Use cases, the ports they need, principals and application errors."""
