"""The agent console: log-in, the live queue, conversations with customers, tickets (setup in routes.py)."""
