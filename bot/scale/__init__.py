"""The scaled stack: several Rasa servers, action servers and gateways behind HAProxy (docs/deploy.md)."""
