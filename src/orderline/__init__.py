"""orderline: an order-lifecycle service that cancels and deletes orders correctly."""

__version__ = "0.1.0"
