"""What the assistant does for a customer, independent of Rasa: orders, returns, loyalty, handoff."""
