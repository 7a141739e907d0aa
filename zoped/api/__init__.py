"""The JSON API: FastAPI routers over the services."""
