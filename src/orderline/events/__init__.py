"""Events leaving the service: the worker that relays the outbox to webhook subscriptions, signed and retried
(ADR 0029)."""
