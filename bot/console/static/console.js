/* Varde agent console: the live queue, a conversation with a customer, tickets.
 *
 * Everything live comes over one WebSocket (/console/ws, docs/gateway-protocol.md): no polling, no
 * reloads. Every piece of text that came from a customer, the bot or another agent is set with
 * textContent, never as HTML. Actions are POSTs with the session's CSRF token.
 */
(() => {
  "use strict";

  const page = document.body.dataset.page;
  if (page === "login" || page === "message") return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const initialNode = document.getElementById("initial");
  const initial = initialNode ? JSON.parse(initialNode.textContent) : {};
  const $ = (id) => document.getElementById(id);

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };

  const minutesSince = (iso) => Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
  const waited = (iso) => {
    const m = minutesSince(iso);
    return m < 1 ? "waiting < 1 min" : `waiting ${m} min`;
  };
  const clock = (iso) => {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  };

  function status(id, text) {
    const node = $(id);
    if (!node) return;
    node.hidden = !text;
    node.textContent = text || "";
  }

  async function post(url, data) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
      body: new URLSearchParams(data || {}),
    });
    let body = {};
    try { body = await response.json(); } catch (e) { /* an error page, not JSON */ }
    if (response.status === 401) { location.href = "/console/login"; }
    return { ok: response.ok, status: response.status, body };
  }

  // Forms marked data-fetch post in place; the answer's error (if any) shows in the status line.
  for (const form of document.querySelectorAll("form[data-fetch]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      data.delete("csrf_token");
      const result = await post(form.action, Object.fromEntries(data));
      if (!result.ok) { status("action-status", result.body.error || "That didn't work."); return; }
      status("action-status", null);
      if (form.dataset.then) location.href = form.dataset.then;
      if (form.hasAttribute("data-clear")) form.reset();
    });
  }
  const availability = $("availability");
  if (availability) {
    availability.addEventListener("change", () => post("/console/availability", { availability: availability.value }));
  }

  // --- the socket ----------------------------------------------------------------------------
  let socket = null;
  let retry = 0;
  let lastSeq = initial.last_seq || 0;

  function connect() {
    const url = new URL("/console/ws", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = (socket = new WebSocket(url));
    ws.onopen = () => {
      retry = 0;
      status("connection", null);
      if (page === "conversation") {
        ws.send(JSON.stringify({ type: "watch", conversation_id: initial.conversation_id, last_seq: lastSeq }));
      }
    };
    ws.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame === "object") receive(frame);
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      delete document.body.dataset.watching;
      if (event.code === 1008 && (event.reason === "signed out" || event.reason === "logged out")) {
        // The session ended (a log-out elsewhere, a new password, `staff sign-out`): say so, no reconnect.
        status("connection", "You have been signed out. Log in again to go on.");
        setTimeout(() => { location.href = "/console/login"; }, 4000);
        return;
      }
      status("connection", "Connection lost; reconnecting …");
      const delay = Math.min(15000, 500 * 2 ** retry++) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    };
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function receive(frame) {
    if (frame.type === "snapshot") showSnapshot(frame);
    else if (frame.type === "message") addMessage(frame);
    else if (frame.type === "typing") showTyping(frame);
    else if (frame.type === "state") showState(frame);
    else if (frame.type === "note") addNote(frame.note);
    else if (frame.type === "watching") document.body.dataset.watching = frame.conversation_id;
    else if (frame.type === "error" && frame.code === "forbidden") status("action-status", "This conversation is not one of yours.");
  }

  // --- dashboard: queue, my conversations, tickets ---------------------------------------------
  let snapshot = page === "dashboard" ? initial : null;

  function showSnapshot(frame) {
    if (availability && frame.availability) availability.value = frame.availability;
    if (page !== "dashboard") return;
    snapshot = frame;
    renderQueue(frame.queue || []);
    renderMine(frame.mine || []);
    renderTickets(frame.tickets || []);
  }

  function renderQueue(entries) {
    const list = $("queue");
    list.replaceChildren();
    $("queue-count").textContent = entries.length ? `(${entries.length})` : "";
    $("queue-empty").hidden = entries.length > 0;
    for (const entry of entries) {
      const item = el("li", "entry");
      item.dataset.conversationId = entry.conversation_id;
      const head = el("div", "entry-head");
      head.append(el("b", "customer", entry.customer), el("span", `tier ${entry.tier}`, entry.tier_label),
        el("span", "language", entry.language));
      const wait = el("time", "waited", waited(entry.queued_at));
      wait.dateTime = entry.queued_at;
      head.append(wait);
      const why = el("p", "reason", entry.reason_text);
      const said = el("blockquote", "last-message", entry.last_message);
      const claim = el("button", "claim", "Claim");
      claim.type = "button";
      claim.addEventListener("click", () => claimConversation(entry.conversation_id, claim));
      item.append(head, why, said, claim);
      list.append(item);
    }
  }

  async function claimConversation(conversationId, button) {
    button.disabled = true;
    const result = await post(`/console/conversations/${encodeURIComponent(conversationId)}/claim`);
    if (result.ok && result.body.url) { location.href = result.body.url; return; }
    button.disabled = false;
    status("claim-status", result.body.error || "Could not claim that conversation.");
  }

  function renderMine(conversations) {
    const list = $("mine");
    list.replaceChildren();
    $("mine-empty").hidden = conversations.length > 0;
    for (const c of conversations) {
      const item = el("li");
      const link = el("a", null, `${c.customer} (${c.language})`);
      link.href = `/console/conversations/${encodeURIComponent(c.conversation_id)}`;
      item.append(link);
      list.append(item);
    }
  }

  function renderTickets(tickets) {
    const list = $("tickets");
    list.replaceChildren();
    $("tickets-count").textContent = tickets.length ? `(${tickets.length})` : "";
    $("tickets-empty").hidden = tickets.length > 0;
    for (const t of tickets) {
      const item = el("li", "ticket");
      const link = el("a", null, `Message ${t.id} from ${t.email}`);
      link.href = `/console/tickets/${t.id}`;
      item.append(link, el("span", "reason", ` · ${t.reason_text} · ${t.language}`),
        el("blockquote", "last-message", t.message));
      list.append(item);
    }
  }

  // --- a conversation ---------------------------------------------------------------------------
  const WHO = { customer: "Customer", bot: "Bot", system: "Notice" };

  function addMessage(frame) {
    if (frame.conversation_id !== initial.conversation_id || !(frame.seq > lastSeq)) return;
    lastSeq = frame.seq;
    const item = el("li", `msg ${frame.role}`);
    item.dataset.seq = frame.seq;
    const who = frame.role === "agent" ? frame.author || "Agent" : WHO[frame.role] || "Notice";
    const time = el("time", null, clock(frame.ts));
    time.dateTime = frame.ts;
    item.append(el("span", "who", who), el("p", "text", frame.text), time);
    $("transcript").append(item);
    if (frame.role === "customer") showTyping({ role: "customer", on: false });
    item.scrollIntoView({ block: "nearest" });
  }

  let typingTimer = null;
  function showTyping(frame) {
    const node = $("customer-typing");
    if (!node || frame.role !== "customer") return;
    node.hidden = !frame.on;
    clearTimeout(typingTimer);
    if (frame.on) typingTimer = setTimeout(() => { node.hidden = true; }, 15000); // never forever
  }

  const STATES = { bot: "With the bot", queued: "In the queue", agent: "With an agent", closed: "Closed" };
  function showState(frame) {
    if (page !== "conversation" || frame.conversation_id !== initial.conversation_id) return;
    $("state").textContent = STATES[frame.state] || frame.state;
    if (frame.state !== "agent") {
      $("reply-area").hidden = true;
      $("not-mine").hidden = false;
    }
  }

  function addNote(note) {
    const list = $("notes");
    if (!list || !note) return;
    const item = el("li");
    item.append(el("b", null, note.author), document.createTextNode(" "), el("span", "text", note.text));
    list.append(item);
  }

  if (page === "conversation") {
    for (const time of document.querySelectorAll("#transcript time")) time.textContent = clock(time.dateTime);
    const box = $("reply-text");
    let typing = false;
    let idle = null;
    const stopTyping = () => {
      if (typing) send({ type: "typing", conversation_id: initial.conversation_id, on: false });
      typing = false;
    };
    box.addEventListener("input", () => {
      if (!typing) send({ type: "typing", conversation_id: initial.conversation_id, on: true });
      typing = true;
      clearTimeout(idle);
      idle = setTimeout(stopTyping, 3000);
    });
    box.form.addEventListener("submit", () => { clearTimeout(idle); typing = false; });
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        box.form.requestSubmit();
      }
    });
    for (const button of document.querySelectorAll(".canned-reply")) {
      button.addEventListener("click", () => {
        box.value = button.dataset.text;
        box.focus();
        box.dispatchEvent(new Event("input"));
      });
    }
    $("transcript").lastElementChild?.scrollIntoView({ block: "nearest" });
  }
  if (page === "ticket") {
    for (const time of document.querySelectorAll("time")) time.textContent = clock(time.dateTime);
  }
  if (page === "dashboard") {
    showSnapshot(initial);
    // The waiting times move on with the clock; the queue itself only changes when the server says so.
    setInterval(() => {
      for (const time of document.querySelectorAll("#queue time.waited")) time.textContent = waited(time.dateTime);
    }, 15000);
  }
  connect();
})();
