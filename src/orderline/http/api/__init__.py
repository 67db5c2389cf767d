"""The native API under /v1: Pet Store field names, camelCase, UPPER_CASE enums, decimal-string money."""
