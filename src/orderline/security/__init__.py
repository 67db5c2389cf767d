"""Cryptographic adapters: password hashing (argon2) and bearer tokens (JWT, ours and a trusted issuer's)."""
