"use strict";
(function () {
  const BASE = location.pathname.replace(/\/ui\/?$/, "");
  // The control token, when the server needs one: given to the page as ?token=, sent as a header.
  const TOKEN = new URLSearchParams(location.search).get("token");
  const AUTH = TOKEN ? {"X-Mock-Control-Token": TOKEN} : {};
  const selected = new Map();   // project -> Set of log names picked for a dataset
  const drafts = new Map();     // log name -> comment being written
  const forms = new Map();      // project -> {name, shared} of the dataset form
  let state = null;
  let busy = false;

  // Every node is built here; text always goes in as a text node, never as HTML.
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "checked" || key === "value" || key === "disabled") el[key] = value;
      else el.setAttribute(key, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function table(headers, rows, empty) {
    if (!rows.length) return h("p", {class: "empty"}, empty || "none");
    return h("table", {},
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
      h("tbody", {}, rows));
  }

  function relative(epoch) {
    if (epoch === null || epoch === undefined || !state) return "";
    const delta = Math.round(epoch - state.epochSeconds), a = Math.abs(delta);
    let text;
    if (a < 60) text = a + " s";
    else if (a < 3600) text = Math.floor(a / 60) + " min";
    else if (a < 2 * 86400) text = Math.floor(a / 3600) + " h " + Math.floor((a % 3600) / 60) + " min";
    else text = Math.floor(a / 86400) + " d " + Math.floor((a % 86400) / 3600) + " h";
    return delta >= 0 ? "in " + text : text + " ago";
  }

  function notice(text) {
    const el = document.getElementById("notice");
    el.textContent = text || "";
    el.hidden = !text;
  }

  async function call(method, path, body) {
    const options = {method, headers: {...AUTH}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(BASE + path, options);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = data.error || {};
      notice((error.status || response.status) + ": " + (error.message || "request failed"));
      throw new Error(error.message || "request failed");
    }
    notice("");
    return data;
  }

  async function act(method, path, body) {
    let ok = true;
    try { await call(method, path, body); } catch (e) { ok = false; /* shown in the notice */ }
    await refresh(true);
    return ok;
  }

  const enc = encodeURIComponent;
  const projectPath = (project) => "/projects/" + enc(project);
  const tail = (name) => name.split("/").pop();

  // -- sections ------------------------------------------------------------------------------------
  function projects() {
    return table(["project", "tier", "e-mail", "logging"], state.projects.map((p) => h("tr", {"data-project": p.project},
      h("td", {}, p.project), h("td", {}, p.tier), h("td", {}, p.emails.join(", ")),
      h("td", {}, p.loggingAvailable
        ? [p.loggingEnabled ? "on " : "off ",
           h("button", {type: "button", class: "logging-toggle",
                        onclick: () => act("PATCH", projectPath(p.project) + "/logging", {enabled: !p.loggingEnabled})},
             p.loggingEnabled ? "turn logging off" : "turn logging on")]
        : h("span", {class: "muted"}, "free tier: no logging")))), "no project has called yet");
  }

  function files() {
    return table(["project", "name", "display name", "type", "bytes", "state", "expires"], state.files.map((f) =>
      h("tr", {"data-name": f.name}, h("td", {}, f.project), h("td", {}, f.name), h("td", {class: "text"}, f.displayName || ""),
        h("td", {}, f.mimeType), h("td", {}, f.sizeBytes), h("td", {class: "state"}, f.state),
        h("td", {title: f.expirationTime}, relative(f.expireEpoch)))), "no files");
  }

  function batches() {
    return table(["project", "name", "display name", "model", "state", "requests (ok / failed / pending)", "next", "expires"],
      state.batches.map((b) => h("tr", {"data-name": b.name, class: "batch"},
        h("td", {}, b.project), h("td", {}, b.name), h("td", {class: "text"}, b.displayName),
        h("td", {}, b.model), h("td", {class: "state"}, b.state),
        h("td", {}, b.requestCount + " (" + b.successfulRequestCount + " / " + b.failedRequestCount + " / " + b.pendingRequestCount + ")"),
        h("td", {}, b.next ? b.next.state.replace("BATCH_STATE_", "") + " " + relative(b.next.epoch) : (b.endTime ? "ended " + b.endTime : "")),
        h("td", {}, b.done ? "" : relative(b.expireEpoch)))), "no batches");
  }

  function caches() {
    return table(["project", "name", "display name", "model", "tokens", "expires"], state.caches.map((c) =>
      h("tr", {"data-name": c.name}, h("td", {}, c.project), h("td", {}, c.name), h("td", {class: "text"}, c.displayName),
        h("td", {}, c.model), h("td", {}, c.totalTokenCount), h("td", {title: c.expireTime, class: "expires"}, relative(c.expireEpoch)))),
      "no caches");
  }

  function grants(list) {
    return list.map((g) => g.role + " " + (g.emailAddress || g.granteeType)).join(", ");
  }

  function tuned() {
    return [h("h3", {}, "Tuned models"),
      table(["name", "display name", "base model", "state", "owner project", "permissions"], state.tunedModels.map((t) =>
        h("tr", {"data-name": t.name}, h("td", {}, t.name), h("td", {class: "text"}, t.displayName), h("td", {}, t.baseModel),
          h("td", {class: "state"}, t.state + (t.readyEpoch ? " (ready " + relative(t.readyEpoch) + ")" : "")),
          h("td", {}, t.project), h("td", {class: "text"}, grants(t.permissions)))), "no tuned models"),
      h("h3", {}, "Corpora"),
      table(["name", "display name", "created", "permissions"], state.corpora.map((c) =>
        h("tr", {"data-name": c.name}, h("td", {}, c.name), h("td", {class: "text"}, c.displayName), h("td", {}, c.createTime),
          h("td", {class: "text"}, grants(c.permissions)))), "no corpora"),
      h("h3", {}, "File Search stores"),
      table(["name", "display name", "documents (active / pending / failed)", "bytes", "embedding model", "project"],
        (state.fileSearchStores || []).map((s) =>
          h("tr", {"data-name": s.name}, h("td", {}, s.name), h("td", {class: "text"}, s.displayName),
            h("td", {}, s.activeDocumentsCount + " / " + s.pendingDocumentsCount + " / " + s.failedDocumentsCount),
            h("td", {}, String(s.sizeBytes)), h("td", {}, s.embeddingModel), h("td", {}, s.project))),
        "no File Search stores")];
  }

  function operations() {
    return [h("h3", {}, "Model operations"),
      table(["project", "name", "model", "state"], state.modelOperations.map((o) =>
        h("tr", {"data-name": o.name}, h("td", {}, o.project), h("td", {}, o.name), h("td", {}, o.model),
          h("td", {class: "state"}, o.done ? "done" : "running (done " + relative(o.doneEpoch) + ")"))), "no model operations"),
      h("h3", {}, "Environments"),
      table(["project", "id", "mode", "files", "created"], state.environments.map((e) =>
        h("tr", {"data-name": e.id}, h("td", {}, e.project), h("td", {}, e.id), h("td", {}, e.mode),
          h("td", {}, e.fileCount), h("td", {}, e.created))), "no environments")];
  }

  function tokens(usage) {
    if (!usage || usage.totalTokenCount === undefined) return "";
    return (usage.promptTokenCount || 0) + " in / " + (usage.candidatesTokenCount || 0) + " out";
  }

  function logRow(project, entry) {
    const picked = selected.get(project) || new Set();
    const rating = (entry.feedback || {}).rating;
    const draft = drafts.has(entry.name) ? drafts.get(entry.name) : ((entry.feedback || {}).comment || "");
    const path = projectPath(project) + "/logs/" + enc(tail(entry.name)) + ":feedback";
    const comment = h("input", {type: "text", class: "comment", placeholder: "comment", value: draft,
      "data-log": entry.name, oninput: (e) => drafts.set(entry.name, e.target.value)});
    return h("tr", {"data-name": entry.name, class: "log"},
      h("td", {}, h("input", {type: "checkbox", class: "pick", checked: picked.has(entry.name),
        "aria-label": "select " + entry.name,
        onchange: (e) => { const s = selected.get(project) || new Set(); e.target.checked ? s.add(entry.name) : s.delete(entry.name); selected.set(project, s); }})),
      h("td", {}, entry.createTime), h("td", {}, entry.method), h("td", {}, entry.model),
      h("td", {}, entry.httpStatus + " " + entry.status), h("td", {}, tokens(entry.usageMetadata)), h("td", {}, entry.latency),
      h("td", {class: "text prompt"}, entry.prompt), h("td", {class: "text answer"}, entry.answer),
      h("td", {class: "keep"}, entry.datasets.length ? "kept in " + entry.datasets.length + " dataset(s)" : relative(entry.expireEpoch)),
      h("td", {class: "feedback"},
        h("span", {class: "rating rating-" + (rating || "none")}, rating ? rating.replace("THUMBS_", "thumbs ").toLowerCase() : "no rating"), " ",
        h("button", {type: "button", class: "thumbs-up", title: "thumbs up (press again to clear)",
          "aria-pressed": String(rating === "THUMBS_UP"),
          onclick: () => act("POST", path, {rating: rating === "THUMBS_UP" ? "RATING_UNSPECIFIED" : "THUMBS_UP"})}, "\u{1F44D} up"),
        h("button", {type: "button", class: "thumbs-down", title: "thumbs down (press again to clear)",
          "aria-pressed": String(rating === "THUMBS_DOWN"),
          onclick: () => act("POST", path, {rating: rating === "THUMBS_DOWN" ? "RATING_UNSPECIFIED" : "THUMBS_DOWN"})}, "\u{1F44E} down"),
        " ", comment,
        h("button", {type: "button", class: "save-comment",
          onclick: () => { const text = comment.value; drafts.delete(entry.name); act("POST", path, {comment: text}); }}, "save")));
  }

  function datasetForm(project) {
    const form = forms.get(project) || {name: "", shared: true};
    forms.set(project, form);
    const name = h("input", {type: "text", class: "dataset-name", placeholder: "dataset name", value: form.name,
      oninput: (e) => { form.name = e.target.value; }});
    const shared = h("input", {type: "checkbox", class: "dataset-shared", checked: form.shared,
      onchange: (e) => { form.shared = e.target.checked; }});
    return h("div", {class: "form"}, name, h("label", {}, shared, " share with Google"),
      h("button", {type: "button", class: "create-dataset", onclick: () => {
        const logs = Array.from(selected.get(project) || []);
        act("POST", projectPath(project) + "/datasets", {displayName: name.value, shared: shared.checked, logs})
          .then((ok) => { if (ok) { selected.delete(project); forms.delete(project); refresh(true); } });
      }}, "create dataset from selected logs"));
  }

  function logs() {
    if (!state.logs.length) return h("p", {class: "empty"}, "no paid-tier project: logging is only for projects with billing enabled");
    return state.logs.map((p) => h("div", {class: "log-project", "data-project": p.project},
      h("h3", {}, p.project + " \u2014 logging " + (p.enabled ? "on" : "off") + "; " + p.retained + " of " + p.limit + " logs kept in datasets"),
      table(["", "time", "method", "model", "status", "tokens", "latency", "prompt", "answer", "expires", "feedback"],
        p.logs.map((entry) => logRow(p.project, entry)), p.enabled ? "no logs yet" : "no logs (turn logging on)"),
      datasetForm(p.project),
      table(["dataset", "display name", "shared", "logs", "created", ""], p.datasets.map((d) =>
        h("tr", {"data-name": d.name, class: "dataset"}, h("td", {}, d.name), h("td", {class: "text"}, d.displayName || ""),
          h("td", {class: "shared"}, d.shared ? "shared" : "not shared"), h("td", {}, d.logCount), h("td", {}, d.createTime),
          h("td", {},
            h("button", {type: "button", class: "toggle-shared",
              onclick: () => act("PATCH", projectPath(p.project) + "/datasets/" + enc(tail(d.name)), {shared: !d.shared})},
              d.shared ? "stop sharing" : "share"), " ",
            h("button", {type: "button", class: "delete-dataset",
              onclick: () => act("DELETE", projectPath(p.project) + "/datasets/" + enc(tail(d.name)))}, "delete")))),
        "no datasets")));
  }

  function usage() {
    const u = state.usage;
    if (u === null || u === undefined) return h("p", {class: "empty"}, "usage is not tracked by this server");
    if (!Array.isArray(u.projects)) return h("pre", {}, JSON.stringify(u, null, 2));
    const money = (x) => (typeof x === "number" ? "$" + x.toFixed(6) : "");
    const rows = [];
    for (const p of u.projects) {
      rows.push(h("tr", {"data-project": p.project, class: "usage-project"},
        h("td", {}, p.project), h("td", {}, "all models"), h("td", {}, p.tier), h("td", {}, p.requests),
        h("td", {}, p.failedRequests), h("td", {}, p.rateLimitedRequests), h("td", {}, p.inputTokens),
        h("td", {}, p.cachedTokens), h("td", {}, p.outputTokens), h("td", {}, money(p.costUsd)),
        h("td", {}, money(p.paidTierCostUsd))));
      for (const m of p.models || []) {
        rows.push(h("tr", {class: "usage-model"},
          h("td", {}, ""), h("td", {}, m.model), h("td", {}, ""), h("td", {}, m.requests),
          h("td", {}, m.failedRequests), h("td", {}, m.rateLimitedRequests), h("td", {}, m.inputTokens),
          h("td", {}, m.cachedTokens), h("td", {}, m.outputTokens), h("td", {}, money(m.costUsd)),
          h("td", {}, money(m.paidTierCostUsd))));
      }
    }
    return [table(["project", "model", "tier", "requests", "failed", "rate-limited", "input tokens", "cached",
                   "output tokens", "cost", "at paid prices"], rows, "no usage yet"),
            u.pricing ? h("p", {class: "muted"}, String(u.pricing)) : null];
  }

  function interactions() {
    return [table(["project", "id", "model / agent", "status", "created", "previous", "steps"], state.interactions.map((i) =>
      h("tr", {"data-name": i.id, class: "interaction"}, h("td", {}, i.project), h("td", {}, i.id), h("td", {}, i.model),
        h("td", {class: "state"}, i.status + (i.background ? " (background)" : "")), h("td", {}, i.created),
        h("td", {}, i.previous || ""), h("td", {class: "text"}, i.steps.join("\n")))), "no stored interactions"),
      h("h3", {}, "Webhook deliveries"),
      table(["project", "webhook", "event", "message", "attempts", "statuses"], state.webhookDeliveries.map((d) =>
        h("tr", {"data-name": d.id}, h("td", {}, d.project), h("td", {}, d.webhook), h("td", {}, d.event), h("td", {}, d.id),
          h("td", {}, d.attempts + (d.done ? "" : " (retrying)")), h("td", {}, d.log.map((l) => l.status).join(", ")))),
        "no deliveries")];
  }

  // The request list (requests.js) and the controls (controls.js) draw themselves.
  const SECTIONS = {projects, files, batches, caches, tuned, operations, logs, usage, interactions};
  const drawn = {};

  function draw() {
    document.getElementById("now").textContent = state.now;
    const errors = document.getElementById("errors");
    const failed = Object.entries(state.errors || {});
    errors.hidden = !failed.length;
    errors.replaceChildren(...failed.map(([k, v]) => h("div", {}, "section " + k + " could not be read: " + v)));
    const active = document.activeElement;
    for (const [id, render] of Object.entries(SECTIONS)) {
      const body = document.querySelector("#" + id + " .body");
      // Do not redraw a section while something in it is being typed into.
      if (active && active.tagName === "INPUT" && active.type === "text" && body.contains(active)) continue;
      const content = render();
      body.replaceChildren(...[content].flat());
      drawn[id] = true;
    }
  }

  async function refresh(force) {
    if (busy && !force) return;
    busy = true;
    try {
      const response = await fetch(BASE + "/ui/state", {cache: "no-store", headers: AUTH});
      state = await response.json();
      draw();
      document.body.dataset.ready = "1";
    } catch (e) {
      notice("cannot reach the emulator: " + e.message);
    } finally {
      busy = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("[data-advance]")) {
      button.addEventListener("click", () => act("POST", "/clock", {advanceSeconds: Number(button.dataset.advance)}));
    }
    refresh(true);
    // Every journaled request may change the state: the live feed (requests.js) says when. The slow
    // tick only keeps the countdowns moving with the clock.
    let pending = null;
    document.addEventListener("mock:journal", () => {
      if (pending === null && document.getElementById("live").checked) {
        pending = setTimeout(() => { pending = null; refresh(false); }, 200);
      }
    });
    setInterval(() => { if (document.getElementById("live").checked) refresh(false); }, 5000);
  });

  window.mockUI = {h, table, call, act, notice, refresh, relative, BASE, AUTH, state: () => state};
})();
