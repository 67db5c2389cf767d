"""The benchmark: the service's order endpoints under bounded loopback load, beside a no-op endpoint."""
