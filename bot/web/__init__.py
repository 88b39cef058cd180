"""What the two web parts share: the customer's widget gateway (bot/gateway) and the staff console
(bot/console) both build on this package, and neither imports the other.

- keys: typed AppKeys for what the composition root (bot/gateway/app.py) builds once per process.
- database, rasa_client, broker: the database's worker threads, the HTTP client to Rasa, and the
  events between gateway processes.
- relay (with watchers, broker_events, work_queues, rasa_turns, rasa_answers): a conversation's
  transcript writes, its turns to Rasa, and delivery to every socket that shows it.
- sender: in-order, exactly-once delivery of a transcript to one socket, with catch-up.
- frames, texts, addresses: frames every socket understands, what the system says to a customer,
  and who is at the other end of a request.
"""
