"""Events leave the service: the outbox relayed to webhook deliveries, sent and signed, and where they may go."""
