/*! Varde chat widget: one <script> tag, no dependencies.
 *
 *   <script src="https://gateway/widget.js" data-gateway="/ws" data-language="nb"
 *           data-customer-token="JWT" data-shop-name="Tindra Sport" async></script>
 *
 * data-language is nb, en, sv or da (anything else: nb). The page may call
 * window.VardeChat.setIdentity(token, language) when the customer signs in or out, and
 * VardeChat.open() / VardeChat.close().
 * Speaks the protocol in docs/gateway-protocol.md.
 */
(() => {
  "use strict";
  if (window.customElements.get("varde-chat")) return; // the tag was included twice

  const script = document.currentScript;
  const conf = (script && script.dataset) || {};
  // The widget is served by the gateway but runs on the shop's origin: resolve the socket
  // address against the script's own URL, not the page's.
  const base = (script && script.src) || location.href;
  const STORE = "varde-chat";

  const TEXTS = {
    nb: {
      open: "Chat med oss", close: "Lukk chatten", title: "Kundeservice",
      log: "Samtale", input: "Skriv en melding", send: "Send", placeholder: "Skriv en melding …",
      typing: "Assistenten skriver …", typingAgent: "Kundeservice skriver …", suggestions: "Forslag", you: "Du", bot: "Assistent",
      agent: "Kundebehandler", system: "Melding", connecting: "Kobler til …",
      offline: "Du er frakoblet. Vi prøver igjen, og meldingene dine sendes når forbindelsen er tilbake.",
      pending: "Sendes …", failed: "Ikke sendt", queued: "Du står i kø for å snakke med en av oss.",
      agentOn: "Du chatter nå med en av oss i kundeservice.", closed: "Samtalen er avsluttet.",
      hint: "Vi svarer døgnet rundt", hello: "Hei! Hva kan vi hjelpe deg med i dag?",
      rateQ: "Hvordan var hjelpen du fikk?",
      rates: ["1 – svært dårlig", "2 – dårlig", "3 – helt grei", "4 – god", "5 – svært god"],
      rateComment: "Kommentar (valgfritt)", rateSend: "Send vurdering", rateSkip: "Nei takk",
      rateThanks: "Takk for tilbakemeldingen!", ratePick: "Velg en vurdering fra 1 til 5.",
      rateAlready: "Takk! Vurderingen din var allerede lagret.",
      tooLong: "En melding kan ha høyst {max} tegn. Denne har {n}.",
    },
    en: {
      open: "Chat with us", close: "Close the chat", title: "Customer service",
      log: "Conversation", input: "Type a message", send: "Send", placeholder: "Type a message …",
      typing: "The assistant is typing …", typingAgent: "Customer service is typing …", suggestions: "Suggestions", you: "You", bot: "Assistant",
      agent: "Agent", system: "Notice", connecting: "Connecting …",
      offline: "You're offline. We keep trying, and your messages will be sent when the connection is back.",
      pending: "Sending …", failed: "Not sent", queued: "You're in the queue to talk to one of us.",
      agentOn: "You're now chatting with one of our customer service team.", closed: "This conversation has ended.",
      hint: "We answer around the clock", hello: "Hi! How can we help you today?",
      rateQ: "How was the help you got?",
      rates: ["1 – very poor", "2 – poor", "3 – okay", "4 – good", "5 – very good"],
      rateComment: "Comment (optional)", rateSend: "Send rating", rateSkip: "No thanks",
      rateThanks: "Thank you for your feedback!", ratePick: "Choose a rating from 1 to 5.",
      rateAlready: "Thank you! Your rating was already saved.",
      tooLong: "A message can have at most {max} characters. This one has {n}.",
    },
    sv: {
      open: "Chatta med oss", close: "Stäng chatten", title: "Kundtjänst",
      log: "Konversation", input: "Skriv ett meddelande", send: "Skicka", placeholder: "Skriv ett meddelande …",
      typing: "Assistenten skriver …", typingAgent: "Kundtjänst skriver …", suggestions: "Förslag", you: "Du", bot: "Assistent",
      agent: "Kundtjänst", system: "Meddelande", connecting: "Ansluter …",
      offline: "Du är offline. Vi fortsätter att försöka, och dina meddelanden skickas när anslutningen är tillbaka.",
      pending: "Skickas …", failed: "Inte skickat", queued: "Du står i kö för att prata med någon av oss.",
      agentOn: "Nu chattar du med någon av oss på kundtjänst.", closed: "Konversationen är avslutad.",
      hint: "Vi svarar dygnet runt", hello: "Hej! Vad kan vi hjälpa dig med i dag?",
      rateQ: "Hur var hjälpen du fick?",
      rates: ["1 – mycket dålig", "2 – dålig", "3 – helt okej", "4 – bra", "5 – mycket bra"],
      rateComment: "Kommentar (valfritt)", rateSend: "Skicka betyg", rateSkip: "Nej tack",
      rateThanks: "Tack för din feedback!", ratePick: "Välj ett betyg från 1 till 5.",
      rateAlready: "Tack! Ditt betyg var redan sparat.",
      tooLong: "Ett meddelande kan ha högst {max} tecken. Det här har {n}.",
    },
    da: {
      open: "Chat med os", close: "Luk chatten", title: "Kundeservice",
      log: "Samtale", input: "Skriv en besked", send: "Send", placeholder: "Skriv en besked …",
      typing: "Assistenten skriver …", typingAgent: "Kundeservice skriver …", suggestions: "Forslag", you: "Du", bot: "Assistent",
      agent: "Kundeservice", system: "Besked", connecting: "Forbinder …",
      offline: "Du er offline. Vi bliver ved med at prøve, og dine beskeder bliver sendt, når forbindelsen er tilbage.",
      pending: "Sender …", failed: "Ikke sendt", queued: "Du er i kø til at tale med en af os.",
      agentOn: "Nu chatter du med en af os fra kundeservice.", closed: "Samtalen er afsluttet.",
      hint: "Vi svarer døgnet rundt", hello: "Hej! Hvad kan vi hjælpe dig med i dag?",
      rateQ: "Hvordan var den hjælp, du fik?",
      rates: ["1 – meget dårlig", "2 – dårlig", "3 – helt okay", "4 – god", "5 – rigtig god"],
      rateComment: "Kommentar (valgfri)", rateSend: "Send bedømmelse", rateSkip: "Nej tak",
      rateThanks: "Tak for din feedback!", ratePick: "Vælg en bedømmelse fra 1 til 5.",
      rateAlready: "Tak! Din bedømmelse var allerede gemt.",
      tooLong: "En besked kan højst have {max} tegn. Denne har {n}.",
    },
  };
  // nb, en, sv or da; anything else (a page's "no", "de", nothing at all) gets the shop's default, nb.
  const pickLang = (l) => (Object.prototype.hasOwnProperty.call(TEXTS, l) ? l : "nb");
  const known = (l) => pickLang(l) === l;
  const LOCALES = { nb: "nb-NO", en: "en-GB", sv: "sv-SE", da: "da-DK" };
  // The gateway's message length (docs/gateway-protocol.md), counted as it counts: in characters (code
  // points), so an emoji is one, not the two UTF-16 units of String.length.
  const MAX_CHARS = 2000;
  const chars = (s) => [...s].length;

  // Who a token is about, only to keep one customer's history from being resumed for the next
  // person on the same browser. The gateway verifies tokens; this never grants anything.
  const who = (token) => {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return "c:" + JSON.parse(atob(part)).sub;
    } catch (e) {
      return token ? "?" + token.slice(-16) : "guest";
    }
  };
  // Whether a conversation of `before` may go on as `after`: a guest's becomes the customer's when
  // they sign in (the gateway does the same); a customer's is never shown to anyone else.
  const same = (before, after) => !before || before === after || before === "guest";
  const load = () => {
    try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  };
  const save = (v) => {
    try { localStorage.setItem(STORE, JSON.stringify(v)); } catch (e) { /* private mode: no resume */ }
  };
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID()
    : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)));

  // Text with http(s) links made clickable, built from DOM nodes only: message data never
  // passes through innerHTML, so "<img onerror=…>" is shown as the characters it is.
  const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
  const rich = (text) => {
    const frag = document.createDocumentFragment();
    let last = 0;
    for (const m of String(text).matchAll(URL_RE)) {
      const url = m[0].replace(/[.,;:!?)\]]+$/, ""); // "see https://x.no." ends before the dot
      frag.append(text.slice(last, m.index));
      let href = null;
      try { href = new URL(url); } catch (e) { /* not a URL after all */ }
      if (href && /^https?:$/.test(href.protocol)) {
        const a = document.createElement("a");
        a.href = href.href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.textContent = url;
        frag.append(a);
      } else frag.append(url);
      last = m.index + url.length;
    }
    frag.append(text.slice(last));
    return frag;
  };

  const CSS = `
:host{all:initial;--accent:#14532d;--ink:#1a1f1c;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink)}
*{box-sizing:border-box;font:inherit}
[hidden]{display:none!important}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
button{cursor:pointer;border:0;background:none;color:inherit}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;display:flex;align-items:center;gap:8px;padding:12px 18px;border-radius:999px;background:var(--accent);color:#fff;font-weight:600;box-shadow:0 6px 20px #0004}
.launch svg{width:22px;height:22px;fill:currentColor}
.panel{position:fixed;right:20px;bottom:88px;z-index:2147483001;width:380px;height:min(620px,calc(100vh - 110px));display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 12px 40px #0005;overflow:hidden}
header{display:flex;align-items:center;gap:10px;padding:12px 12px 12px 16px;background:var(--accent);color:#fff}
header div{flex:1;min-width:0}
h2{margin:0;font-size:16px;font-weight:700}
header p{margin:0;font-size:13px;opacity:.85}
.x{width:40px;height:40px;border-radius:8px;font-size:26px;line-height:1;color:#fff}
.x:hover{background:#fff2}
.log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:8px;background:#f6f7f6}
.m{max-width:85%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}
.bot,.agent,.hello{align-self:flex-start;background:#fff;border:1px solid #dfe3e0;border-bottom-left-radius:4px}
.customer{align-self:flex-end;background:var(--accent);color:#fff;border-bottom-right-radius:4px}
.customer a{color:#fff}
a{color:#0b5cad}
.agent b{display:block;font-size:12px;color:#555}
.hello{margin:0}
.system{align-self:center;max-width:95%;font-size:13px;color:#444;text-align:center;background:#eceeed;border-radius:8px}
.m small{display:block;font-size:12px;opacity:.85}
.failed{background:#8b1c1c}
.quick{display:flex;flex-wrap:wrap;gap:6px;align-self:flex-start}
.quick button{padding:7px 12px;border:1.5px solid var(--accent);border-radius:999px;color:var(--accent);background:#fff;font-size:14px}
.quick button:hover{background:#e8f0eb}
.typing{padding:0 16px 6px;background:#f6f7f6;font-size:13px;color:#555;display:flex;align-items:center;gap:6px}
.typing i{width:6px;height:6px;border-radius:50%;background:#777;animation:b 1s infinite alternate}
.typing i:nth-child(2){animation-delay:.2s}.typing i:nth-child(3){animation-delay:.4s}
@keyframes b{to{opacity:.2;transform:translateY(-3px)}}
@media (prefers-reduced-motion:reduce){.typing i{animation:none}}
.rate{align-self:stretch;margin:0;padding:10px 12px;border:1px solid #dfe3e0;border-radius:12px;background:#fff}
.rate legend{font-weight:700;padding:0 4px}
.rate .stars{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0}
.rate .stars label{display:flex;align-items:center;gap:4px;padding:4px 8px;border:1.5px solid #b8c0bb;border-radius:8px;font-size:13px;cursor:pointer}
.rate .stars label:has(input:checked){border-color:var(--accent);background:#e8f0eb}
.rate textarea{width:100%;margin:4px 0 8px;padding:6px 8px}
.rate .row{display:flex;gap:8px}
.rate .row button{padding:7px 12px;border-radius:8px;border:1.5px solid var(--accent)}
.rate .row .go{background:var(--accent);color:#fff;font-weight:600}
.rate .err{color:#8b1c1c;font-size:13px;margin:0}
.note{padding:8px 14px;font-size:13px;background:#fff7e0;color:#5c4500;border-top:1px solid #f0dca0}
form{display:flex;gap:8px;align-items:flex-end;padding:10px;border-top:1px solid #dfe3e0;background:#fff}
textarea{flex:1;resize:none;max-height:120px;padding:9px 12px;border:1.5px solid #b8c0bb;border-radius:10px;color:var(--ink);background:#fff}
textarea:focus-visible{outline-offset:0;border-color:var(--accent)}
.send{padding:9px 16px;border-radius:10px;background:var(--accent);color:#fff;font-weight:600}
.limit{margin:0;padding:0 12px 10px;background:#fff;color:#8b1c1c;font-size:13px}
textarea[aria-invalid=true]{border-color:#8b1c1c}
@media (max-width:480px){
.panel{inset:0;width:auto;height:auto;border-radius:0}
.launch{right:12px;bottom:12px}
.open .launch{display:none}
}`;

  const ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
  // Fixed markup only; everything that comes from the gateway or the customer is set as text below.
  const HTML = `<div class="root">
<button class="launch" type="button" aria-expanded="false" aria-controls="p">${ICON}<span class="lt"></span></button>
<section class="panel" id="p" role="dialog" aria-labelledby="t" hidden>
<header><div><h2 id="t"></h2><p class="hint"></p></div><button class="x" type="button"><span aria-hidden="true">×</span></button></header>
<div class="log" role="log" aria-live="polite" tabindex="0"><p class="m hello"></p></div>
<div class="typing" role="status" hidden><i></i><i></i><i></i><span></span></div>
<div class="note" role="status" hidden></div>
<form><label class="sr" for="i"></label><textarea id="i" rows="1" autocomplete="off"></textarea><button class="send" type="submit"></button></form>
<p class="limit" id="lim" role="status" hidden></p>
</section></div>`;

  class VardeChat extends HTMLElement {
    constructor() {
      super();
      const root = this.attachShadow({ mode: "open" }); // open, so tests and assistive tools can look in
      root.innerHTML = `<style>${CSS}</style>${HTML}`;
      const $ = (s) => root.querySelector(s);
      this.el = { root: $(".root"), launch: $(".launch"), panel: $(".panel"), log: $(".log"), typing: $(".typing"),
        note: $(".note"), form: $("form"), input: $("textarea"), x: $(".x"), limit: $(".limit") };
      this.seq = 0;              // last seq shown; 0 on a fresh page so the history is replayed
      this.spoken = null;        // the conversation's language as its last turn showed it; null: the page's
      this.outbox = new Map();   // client_id -> {frame, el}: sent but not yet echoed by the gateway
      this.retry = 0;
      this.ws = null;
      this.bind();
    }

    connectedCallback() {
      if (this.started) return; // moved around the page: already running
      this.started = true;
      // Read the tag's data- attributes only now (after DOMContentLoaded): the page's own
      // scripts may have set the token of a customer who is already signed in.
      if (this.token === undefined) this.token = conf.customerToken || null;
      this.lang = this.lang || pickLang(conf.language);
      this.texts();
      const saved = load();
      if (!same(saved.who, who(this.token))) save({});
      // Open a socket at once only to resume a conversation; a visitor who never opens the chat
      // costs the gateway nothing.
      if (load().id) this.connect();
      try { if (sessionStorage.getItem(STORE + ":open")) this.open(false); } catch (e) { /* no storage */ }
      window.addEventListener("online", () => this.connect(true));
      // Offline, a closing socket may wait long for the server's goodbye: count it as lost at once.
      window.addEventListener("offline", () => this.ws && this.lost());
    }

    // The widget's own words are in the conversation's language once it has shown one (a guest on a Norwegian
    // page who writes English is answered in English), else in the page's; `this.lang` stays the page's guess
    // that every hello carries.
    shown() { return this.spoken || this.lang; }

    t(key) { return TEXTS[this.shown()][key]; }

    // A bot, agent or system turn (or a rating request) says what the conversation speaks now.
    follow(language) {
      if (!known(language) || language === this.shown()) return;
      this.spoken = language;
      this.texts();
    }

    texts() {
      const e = this.el;
      e.root.lang = this.shown();
      e.launch.setAttribute("aria-label", this.t("open"));
      e.launch.querySelector(".lt").textContent = "Chat";
      e.panel.querySelector("h2").textContent = conf.shopName ? `${conf.shopName} – ${this.t("title").toLowerCase()}` : this.t("title");
      e.panel.querySelector(".hint").textContent = this.t("hint");
      e.x.setAttribute("aria-label", this.t("close"));
      e.log.setAttribute("aria-label", this.t("log"));
      e.log.querySelector(".hello").textContent = this.t("hello");
      e.typing.lastChild.textContent = this.t(this.typingRole === "agent" ? "typingAgent" : "typing");
      e.form.querySelector("label").textContent = this.t("input");
      e.input.placeholder = this.t("placeholder");
      e.form.querySelector(".send").textContent = this.t("send");
      // What the customer's own messages say about themselves ("Sending …", "Not sent"), in the new words too.
      for (const o of this.outbox.values()) this.mark(o.el, "pending");
      for (const el of e.log.querySelectorAll(".m.customer.failed")) this.mark(el, "failed");
      this.checkLength();
    }

    bind() {
      const e = this.el;
      e.launch.addEventListener("click", () => (e.panel.hidden ? this.open(true) : this.close()));
      e.x.addEventListener("click", () => this.close());
      e.panel.addEventListener("keydown", (ev) => { if (ev.key === "Escape") this.close(); });
      e.form.addEventListener("submit", (ev) => { ev.preventDefault(); this.sendText(); });
      e.input.addEventListener("keydown", (ev) => {
        // Enter sends, Shift+Enter is a new line; not while an input method is composing a word.
        if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); this.sendText(); }
      });
      e.input.addEventListener("input", () => {
        e.input.style.height = "auto";
        e.input.style.height = Math.min(e.input.scrollHeight + 3, 120) + "px";
        this.checkLength();
        this.typingOn();
      });
    }

    open(focus) {
      const e = this.el;
      e.panel.hidden = false;
      e.root.classList.add("open");
      e.launch.setAttribute("aria-expanded", "true");
      try { sessionStorage.setItem(STORE + ":open", "1"); } catch (err) { /* no storage */ }
      this.connect();
      this.scroll();
      if (focus) e.input.focus();
    }

    close() {
      const e = this.el;
      if (e.panel.hidden) return;
      e.panel.hidden = true;
      e.root.classList.remove("open");
      e.launch.setAttribute("aria-expanded", "false");
      try { sessionStorage.removeItem(STORE + ":open"); } catch (err) { /* no storage */ }
      e.launch.focus();
    }

    // A new token for the same customer, or a guest signing in, keeps the conversation (reconnect so
    // the gateway sees the token); another customer, or signing out, starts afresh with an empty list.
    setIdentity(token, language) {
      token = token || null;
      if (!this.started) { this.token = token; this.lang = language ? pickLang(language) : this.lang; return; }
      const changed = !same(who(this.token), who(token));
      const reconnect = token !== this.token || (language && pickLang(language) !== this.lang);
      this.token = token;
      // Another customer, or the page chose a language anew: the page's language until the chat shows one.
      if (changed || (language && pickLang(language) !== this.lang)) this.spoken = null;
      if (language) this.lang = pickLang(language);
      if (changed) {
        save({});
        this.seq = 0;
        this.outbox.clear();
        this.clearLog();
      }
      this.texts();
      if (reconnect && this.ws) { this.drop(); this.connect(); }
    }

    // --- the socket -------------------------------------------------------------------------
    connect(now) {
      if (this.ws || this.fatal) return;
      const later = (this.helloAt || 0) - Date.now(); // a refused hello: not before the gateway said
      if (later > 0) { clearTimeout(this.timer); this.timer = setTimeout(() => this.connect(), later); return; }
      if (now) this.retry = 0;
      clearTimeout(this.timer);
      const url = new URL(conf.gateway || "/ws", base);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      const ws = (this.ws = new WebSocket(url));
      this.welcomed = false;
      if (!this.seq) this.notice(this.t("connecting"));
      ws.onopen = () => {
        // The resume secret came with the conversation's first welcome: without it the gateway starts a
        // new conversation rather than show a guest's chat to whoever has its id.
        const saved = load();
        this.frame({ type: "hello", conversation_id: saved.id || null, resume_secret: saved.secret || null,
          last_seq: this.seq, customer_token: this.token, language: this.lang });
      };
      ws.onmessage = (ev) => {
        if (this.ws !== ws) return; // a socket we let go (another customer signed in)
        let f;
        try { f = JSON.parse(ev.data); } catch (err) { return; }
        if (f && typeof f === "object") this.receive(f);
      };
      ws.onclose = () => { if (this.ws === ws) this.lost(); }; // not for a socket we let go
    }

    lost() {
      this.drop();
      this.showTyping(false);
      if (this.fatal) return;
      this.notice(this.t("offline"));
      clearTimeout(this.timer);
      // Exponential backoff with jitter, so a restarted gateway isn't hit by every widget at once.
      const delay = Math.min(30000, 1000 * 2 ** this.retry++) * (0.5 + Math.random() / 2);
      this.timer = setTimeout(() => this.connect(), delay);
    }

    drop() {
      if (!this.ws) return;
      const ws = this.ws;
      this.ws = null;
      ws.close();
    }

    frame(f) {
      if (this.ws && this.ws.readyState === 1) { this.ws.send(JSON.stringify(f)); return true; }
      return false;
    }

    receive(f) {
      if (f.type === "welcome") {
        const saved = load();
        if (saved.id !== f.conversation_id && this.seq) { // the gateway no longer knows ours
          this.seq = 0;
          this.clearLog();
          for (const o of this.outbox.values()) this.el.log.append(o.el); // still to be sent, below
        }
        // A new conversation's welcome carries its resume secret, once; a resumed one keeps the stored one.
        const secret = f.resume_secret || (saved.id === f.conversation_id ? saved.secret : null);
        save({ id: f.conversation_id, secret: secret || undefined, who: who(this.token) });
        this.welcomed = true;
        this.retry = 0;
        this.notice(null);
        this.state(f.state);
        this.quiet();
        // Resend what the gateway never echoed; it answers each client_id once, so a message that
        // did arrive before the connection broke is not answered twice.
        for (const [, o] of this.outbox) this.frame(o.frame);
      } else if (f.type === "message") {
        if (!(f.seq > this.seq)) return; // already shown
        if (f.seq > this.seq + 1 && this.seq) { this.drop(); this.connect(true); return; } // a gap: ask again
        this.seq = f.seq;
        this.quiet();
        if (f.role !== "customer") this.follow(f.language);
        this.add(f);
      } else if (f.type === "typing") {
        this.showTyping(!!f.on, f.role);
      } else if (f.type === "state") {
        // Who has the chat now. The transcript says it in words ("Anne has joined"), so only note it;
        // a "closed" here is where a rating prompt would start.
        this.lastState = f.state;
      } else if (f.type === "rating_request") {
        this.follow(f.language);
        this.askRating(f.language);
      } else if (f.type === "rating_saved") {
        // Rated, here or in another tab of the conversation (every tab is told): no tab asks any more.
        if (this.rateBox) {
          const focused = this.rateBox.contains(this.shadowRoot.activeElement);
          this.rateBox.remove();
          this.rateBox = null;
          if (focused) this.el.input.focus();
        }
        this.system(this.t(f.already ? "rateAlready" : "rateThanks"));
      } else if (f.type === "error") {
        if (f.code === "rate_limited") { this.wait(f); return; }
        if (f.code === "bad_origin") { // this page may not use the chat: retrying can't help
          this.fatal = true;
          this.notice(null);
          for (const o of this.outbox.values()) this.mark(o.el, "failed");
          this.outbox.clear();
        }
        const o = this.outbox.get(f.client_id) || (["too_long", "bad_frame"].includes(f.code)
          ? [...this.outbox.values()].pop() : null);
        if (o) { this.outbox.delete(o.frame.client_id); this.mark(o.el, "failed"); }
        this.system(String(f.message || this.t("failed")));
      }
    }

    // Over a limit (docs/gateway-protocol.md) nothing is dropped: a refused message stays pending and
    // goes again after retry_after; a refused hello (no welcome on this socket) reconnects then.
    wait(f) {
      const ms = Math.min(600, Math.max(1, Number(f.retry_after) || 5)) * 1000;
      this.system(String(f.message || this.t("failed")));
      const o = this.outbox.get(f.client_id);
      if (o) {
        clearTimeout(o.again);
        o.again = setTimeout(() => { if (this.outbox.get(o.frame.client_id) === o) this.frame(o.frame); }, ms);
      } else if (!this.welcomed) {
        this.helloAt = Date.now() + ms;
        this.drop();
        this.connect(); // waits for helloAt
      }
    }

    state(s) {
      const text = { queued: "queued", agent: "agentOn", closed: "closed" }[s];
      if (text && s !== this.lastState) this.system(this.t(text));
      this.lastState = s;
    }

    // History replayed after a reload would be read out message by message; keep the live region
    // busy until the replay has settled, and let only new turns be announced.
    quiet() {
      this.el.log.setAttribute("aria-busy", "true");
      clearTimeout(this.busy);
      this.busy = setTimeout(() => this.el.log.removeAttribute("aria-busy"), 400);
    }

    // --- messages ---------------------------------------------------------------------------
    sendText() {
      // Over the limit nothing is cut and nothing is sent: the text stays for the customer to shorten, and
      // the hint under it says why (checkLength).
      if (!this.checkLength()) { this.el.input.focus(); return; }
      const text = this.el.input.value.trim();
      if (!text) return;
      this.el.input.value = "";
      this.el.input.style.height = "";
      this.checkLength();
      this.send(text);
    }

    // Whether what is in the input may be sent; if not, the hint under it says the limit and the length, as
    // text, in the widget's language.
    checkLength() {
      const e = this.el;
      const n = chars(e.input.value.trim());
      const over = n > MAX_CHARS;
      const num = (x) => x.toLocaleString(LOCALES[this.shown()]);
      const hint = over ? this.t("tooLong").replace("{max}", num(MAX_CHARS)).replace("{n}", num(n)) : "";
      if (e.limit.textContent !== hint) e.limit.textContent = hint;
      e.limit.hidden = !over;
      if (over) {
        e.input.setAttribute("aria-invalid", "true");
        e.input.setAttribute("aria-describedby", "lim");
      } else {
        e.input.removeAttribute("aria-invalid");
        e.input.removeAttribute("aria-describedby");
      }
      return !over;
    }

    send(text, payload) {
      const frame = { type: "message", client_id: uuid(), text };
      if (payload) frame.payload = payload;
      const el = this.bubble("customer", text);
      this.mark(el, this.fatal ? "failed" : "pending");
      if (!this.fatal) this.outbox.set(frame.client_id, { frame, el });
      this.clearQuick();
      clearTimeout(this.typer);
      this.typerOn = false;
      if (!this.ws) this.connect(true); // offline, or the very first message: it is sent after welcome
      else this.frame(frame);
      this.scroll();
    }

    typingOn() {
      if (!this.typerOn) { this.typerOn = this.frame({ type: "typing", on: true }); }
      clearTimeout(this.typer);
      this.typer = setTimeout(() => { this.typerOn = false; this.frame({ type: "typing", on: false }); }, 3000);
    }

    add(f) {
      const role = ["customer", "bot", "agent", "system"].includes(f.role) ? f.role : "system";
      const text = String(f.text == null ? "" : f.text);
      const mine = role === "customer" && this.outbox.get(f.client_id);
      if (mine) { // our own message, echoed: it has arrived
        this.outbox.delete(f.client_id);
        this.mark(mine.el, null);
        return;
      }
      if (role !== "customer") this.showTyping(false);
      this.clearQuick();
      if (!text && !(f.buttons || []).length) return;
      if (text) this.bubble(role, text, f.author);
      const buttons = Array.isArray(f.buttons) ? f.buttons.filter((b) => b && b.title) : [];
      if (role === "bot" && buttons.length) {
        const box = document.createElement("div");
        box.className = "quick";
        box.setAttribute("role", "group");
        box.setAttribute("aria-label", this.t("suggestions"));
        for (const b of buttons) {
          const btn = document.createElement("button");
          btn.type = "button";
          btn.textContent = String(b.title);
          btn.addEventListener("click", () => { this.send(String(b.title), b.payload ? String(b.payload) : null); this.el.input.focus(); });
          box.append(btn);
        }
        this.el.log.append(box);
      }
      this.scroll();
    }

    bubble(role, text, author) {
      const div = document.createElement("div");
      div.className = "m " + role;
      // Who said it, for screen readers; agents are also named on screen.
      const label = document.createElement(role === "agent" ? "b" : "span");
      if (role !== "agent") label.className = "sr";
      label.textContent = (role === "agent" && author ? String(author) : this.t(role === "customer" ? "you" : role)) + ": ";
      div.append(label, rich(text));
      this.el.log.append(div);
      return div;
    }

    system(text) { this.bubble("system", text); this.scroll(); }

    // The conversation ended: a rating 1-5 (a radio group: arrow keys move, Space picks) and an optional
    // comment, in the conversation's language. The gateway asks once; "No thanks" just removes it.
    askRating(language) {
      if (this.rateBox) return;
      const T = TEXTS[pickLang(language || this.lang)];
      const id = uuid().slice(0, 8);
      const box = (this.rateBox = document.createElement("form"));
      box.className = "rate";
      const set = document.createElement("fieldset");
      set.style.border = "0"; set.style.padding = "0"; set.style.margin = "0";
      const legend = document.createElement("legend");
      legend.textContent = T.rateQ;
      const stars = document.createElement("div");
      stars.className = "stars";
      stars.setAttribute("role", "radiogroup");
      stars.setAttribute("aria-label", T.rateQ);
      T.rates.forEach((words, i) => {
        const label = document.createElement("label");
        const input = document.createElement("input");
        input.type = "radio"; input.name = "rating-" + id; input.value = String(i + 1);
        label.append(input, words);
        stars.append(label);
      });
      const commentLabel = document.createElement("label");
      commentLabel.htmlFor = "rc-" + id;
      commentLabel.textContent = T.rateComment;
      const comment = document.createElement("textarea");
      comment.id = "rc-" + id; comment.rows = 2; comment.maxLength = 1000;
      const err = document.createElement("p");
      err.className = "err"; err.setAttribute("role", "alert");
      const row = document.createElement("div");
      row.className = "row";
      const go = document.createElement("button");
      go.type = "submit"; go.className = "go"; go.textContent = T.rateSend;
      const skip = document.createElement("button");
      skip.type = "button"; skip.textContent = T.rateSkip;
      skip.addEventListener("click", () => { box.remove(); this.rateBox = null; this.el.input.focus(); });
      row.append(go, skip);
      set.append(legend, stars, commentLabel, comment, err, row);
      box.append(set);
      box.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const picked = box.querySelector("input:checked");
        if (!picked) { err.textContent = T.ratePick; return; }
        const frame = { type: "rating", rating: Number(picked.value) };
        if (comment.value.trim()) frame.comment = comment.value.trim();
        if (this.frame(frame)) go.disabled = true;
      });
      this.el.log.append(box);
      this.scroll();
    }

    mark(el, status) {
      const old = el.querySelector("small");
      if (old) old.remove();
      el.classList.toggle("failed", status === "failed");
      if (status) {
        const s = document.createElement("small");
        s.textContent = this.t(status);
        el.append(s);
      }
    }

    clearLog() { for (const m of this.el.log.querySelectorAll(":scope > :not(.hello)")) m.remove(); }

    clearQuick() { for (const q of this.el.log.querySelectorAll(".quick")) q.remove(); }

    showTyping(on, role) {
      this.typingRole = role;
      this.el.typing.hidden = !on;
      if (on) this.el.typing.lastChild.textContent = this.t(role === "agent" ? "typingAgent" : "typing");
      clearTimeout(this.typingTimer);
      // Never a spinner forever: the gateway answers within 10 s even when Rasa is down.
      if (on) this.typingTimer = setTimeout(() => this.showTyping(false), 15000);
      this.scroll();
    }

    notice(text) {
      this.el.note.hidden = !text;
      this.el.note.textContent = text || "";
    }

    scroll() { const l = this.el.log; l.scrollTop = l.scrollHeight; }
  }

  window.customElements.define("varde-chat", VardeChat);
  const chat = document.createElement("varde-chat");
  const mount = () => document.body.append(chat);
  // Wait for the page's own scripts, so a page can still adjust the data- attributes of our tag.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();

  window.VardeChat = {
    setIdentity: (token, language) => chat.setIdentity(token, language),
    open: () => chat.open(true),
    close: () => chat.close(),
  };
})();
