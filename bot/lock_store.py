"""Rasa's Redis lock store, each step in one atomic round trip (installed by bot/rasa_main.py).

Rasa serves a conversation's messages one at a time with a ticket lock kept in Redis (rasa/core/lock.py).
Its RedisLockStore takes seven synchronous commands per message, each one blocking the Rasa server's event
loop: issuing a ticket reads the lock and writes it back, and cleaning up reads it, writes it, reads it
again and deletes it. Read and write are separate commands, so two Rasa servers issuing tickets for one
conversation at the same moment can both read the same lock and hand out the same number: both then hold
the lock.

Here issuing a ticket and cleaning up are each one Lua script, run by Redis as one step: no two servers
get the same ticket, and a message takes three commands (issue, Rasa's own check that it is served, clean
up). The lock is stored in Rasa's own format (TicketLock.dumps: a JSON object whose tickets are JSON
strings), so Rasa's `get_lock` and `_acquire_lock` read it unchanged, and the expiry times are the Rasa
server's clock, as in Rasa. tests/store/test_lock_store.py compares both steps with Rasa's own.
"""

from __future__ import annotations

import time
from typing import Any

# KEYS[1]: the lock; ARGV: now, lifetime, conversation id. Rasa's TicketLock.issue_ticket: expired tickets
# go (kept while now <= expires), the new number is the last one's plus one (0 for the first).
_ISSUE = """
local now = tonumber(ARGV[1])
local tickets = {}
local raw = redis.call('GET', KEYS[1])
if raw then
  for _, text in ipairs(cjson.decode(raw)['tickets'] or {}) do
    local ticket = cjson.decode(text)
    if now <= ticket['expires'] then table.insert(tickets, text) end
  end
end
local number = 0
if #tickets > 0 then number = cjson.decode(tickets[#tickets])['number'] + 1 end
table.insert(tickets, cjson.encode({number = number, expires = now + tonumber(ARGV[2])}))
redis.call('SET', KEYS[1], cjson.encode({conversation_id = ARGV[3], tickets = tickets}))
return number
"""

# KEYS[1]: the lock; ARGV: now, ticket number. Rasa's LockStore.cleanup: the ticket and expired ones go;
# the lock is deleted when no ticket is left.
_CLEAN_UP = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local lock = cjson.decode(raw)
local now, served = tonumber(ARGV[1]), tonumber(ARGV[2])
local kept = {}
for _, text in ipairs(lock['tickets'] or {}) do
  local ticket = cjson.decode(text)
  if now <= ticket['expires'] and ticket['number'] ~= served then table.insert(kept, text) end
end
if #kept == 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], cjson.encode({conversation_id = lock['conversation_id'], tickets = kept}))
end
return #kept
"""


def _script(store: Any, name: str, source: str) -> Any:
    """The store's registered script (EVALSHA, loaded again by redis-py if Redis restarted)."""
    scripts = store.__dict__.setdefault("_varde_scripts", {})
    if name not in scripts:
        scripts[name] = store.red.register_script(source)
    return scripts[name]


def issue_ticket(self: Any, conversation_id: str, lock_lifetime: float | None = None) -> int:
    """RedisLockStore.issue_ticket: the next ticket of the conversation's lock, made if there is none."""
    from rasa.core.lock_store import LOCK_LIFETIME, LockError

    lifetime = LOCK_LIFETIME if lock_lifetime is None else lock_lifetime
    try:
        number = _script(self, "issue", _ISSUE)(
            keys=[self.key_prefix + conversation_id], args=[time.time(), lifetime, conversation_id]
        )
    except Exception as error:  # as Rasa's: every failure to get a ticket is a LockError
        raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
    return int(number)


def cleanup(self: Any, conversation_id: str, ticket_number: int) -> None:
    """RedisLockStore.cleanup: the served ticket removed; the lock deleted when nobody else waits."""
    _script(self, "clean_up", _CLEAN_UP)(keys=[self.key_prefix + conversation_id], args=[time.time(), ticket_number])
