"""The gateway: the only service the browser talks to (widget socket, demo page, health)."""
