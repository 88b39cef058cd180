"""Rasa custom actions, one module per topic. They use bot's data layer and never the gateway's memory."""
