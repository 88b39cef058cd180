// Varde trainer pages: the retrain button starts a training and follows its progress over
// server-sent events (no polling). Everything shown is set as text, never as HTML.
"use strict";

(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const form = document.getElementById("retrain");
  if (!form) return;
  const box = document.getElementById("progress");
  const bar = document.getElementById("progress-bar");
  const percent = document.getElementById("progress-percent");
  const time = document.getElementById("progress-time");
  const message = document.getElementById("progress-message");
  const result = document.getElementById("result");
  const button = document.getElementById("retrain-button");

  function f1(model, language) {
    const score = model && model.nlu && model.nlu[language];
    return score ? score.macro_f1.toFixed(3) : "–";
  }

  function showResult(event) {
    result.hidden = false;
    result.textContent = "";
    const head = document.createElement("p");
    if (event.error) {
      head.className = "refused";
      head.textContent = event.error;
      result.append(head);
      return;
    }
    head.className = event.deployed ? "deployed" : "refused";
    head.textContent = event.deployed
      ? `Model ${event.candidate.id} is live. Took ${event.elapsed} s.`
      : `Live model kept: ${event.reasons.join("; ")}. Took ${event.elapsed} s.`;
    result.append(head);
    const table = document.createElement("table");
    table.className = "comparison";
    const rows = [["", "candidate", "live before"]];
    for (const language of Object.keys(event.candidate.nlu || {})) {
      rows.push([`macro-F1 ${language}`, f1(event.candidate, language), f1(event.live, language)]);
    }
    const tests = (m) => (m ? `${m.conversations.passed} passed, ${m.conversations.failed} failed` : "–");
    rows.push(["conversation tests", tests(event.candidate), tests(event.live)]);
    for (const cells of rows) {
      const tr = document.createElement("tr");
      for (const cell of cells) {
        const td = document.createElement(rows[0] === cells ? "th" : "td");
        td.textContent = cell;
        tr.append(td);
      }
      table.append(tr);
    }
    result.append(table);
  }

  function follow() {
    box.hidden = false;
    button.disabled = true;
    const source = new EventSource("/console/trainer/retrain/events");
    source.onmessage = (raw) => {
      const event = JSON.parse(raw.data);
      if (event.elapsed !== undefined) time.textContent = `${Math.round(event.elapsed)} s`;
      if (event.type === "progress") {
        bar.value = event.percent;
        percent.textContent = `${event.percent} %`;
        message.textContent = `${event.stage}: ${event.message}`;
      } else if (event.type === "result") {
        bar.value = 100;
        percent.textContent = "100 %";
        showResult(event);
      } else if (event.type === "end" || event.type === "idle") {
        source.close();
        // The history table changed: load it again (the result stays on the page, from the server).
        setTimeout(() => window.location.reload(), 1500);
      }
    };
    source.onerror = () => { message.textContent = "Lost the connection to the progress; reload the page."; };
  }

  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    button.disabled = true;
    result.hidden = true;
    const response = await fetch(form.action, {
      method: "POST", headers: { "X-CSRF-Token": csrf, Accept: "application/json" }, credentials: "same-origin",
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok && !body.error) body.error = `The training did not start (${response.status}).`;
    if (body.error) { showResult({ error: body.error }); button.disabled = false; return; }
    follow();
  });

  if (box.dataset.running === "yes") follow();
})();
