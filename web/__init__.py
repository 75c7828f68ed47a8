"""The web process: timeline, likes, webhooks and the HTTP API (`python -m web`)."""
