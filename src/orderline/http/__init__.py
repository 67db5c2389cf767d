"""The HTTP adapter: the Litestar app, problem+json, authentication and the native API."""
