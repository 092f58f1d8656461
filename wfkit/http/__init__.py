"""The HTTP API (Dapr's workflow routes) served by ``wfr.serve_http()``, with its access
checks and OpenAPI description (docs/architecture.md)."""
