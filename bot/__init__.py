"""Varde: a customer support assistant for online shops, built on Rasa Open Source."""
