"use strict";
// The request list: filled from GET /_mock/requests, kept live by the journal's feed
// (GET /_mock/requests:stream, read with fetch so the control token can go in a header), filtered on the
// server (search looks into the bodies), errors highlighted; a click opens the detail pane with what was
// sent and answered, media previews and copy-as-curl. Text always goes into the page as text nodes.
(function () {
  const ROWS = 500;
  let ui = null;
  let rows = [];            // summaries, oldest first
  let selected = null;      // the id in the detail pane
  let refetch = null;

  const $ = (id) => document.getElementById(id);
  const FILTERS = {q: "text", "f-status": "status", "f-method": "method", "f-source": "source",
                   "f-model": "model", "f-project": "project"};

  function query() {
    const params = new URLSearchParams();
    for (const [id, name] of Object.entries(FILTERS)) {
      const value = $(id).value.trim();
      if (value) params.set(name, value);
    }
    return params;
  }

  async function load() {
    try {
      const data = await ui.call("GET", "/requests?" + query().toString());
      rows = data.requests.slice(-ROWS);
      draw(data.dropped);
    } catch (e) { /* the notice says why */ }
  }

  function later() {
    clearTimeout(refetch);
    refetch = setTimeout(load, 250);
  }

  function rowClass(r) {
    let name = "req";
    if (r.status >= 500) name += " error server-error";
    else if (r.status >= 400) name += " error";
    if (r.id === selected) name += " selected";
    return name;
  }

  function row(r) {
    const h = ui.h;
    const source = r.source && r.source !== "emulated" ? h("span", {class: "badge " + r.source}, r.source) : null;
    return h("tr", {class: rowClass(r), "data-id": r.id, onclick: () => open(r.id)},
      h("td", {}, r.time.replace("T", " ").replace(/\.\d+Z$/, "Z")), h("td", {}, r.method),
      h("td", {class: "text"}, r.path, r.error ? h("div", {class: "error-message"}, r.error) : null),
      h("td", {}, r.model || ""), h("td", {class: "status"}, String(r.status), " ", source),
      h("td", {class: "muted"}, r.project || ""));
  }

  function draw(dropped) {
    const newest = rows.slice().reverse();
    const list = $("request-list");
    list.replaceChildren(
      ui.h("p", {class: "muted"}, rows.length + " shown, newest first" + (dropped ? "; " + dropped + " dropped from the journal" : "")),
      ui.table(["time", "method", "path", "model", "status", "project"], newest.map(row), "no requests yet"));
  }

  function matchesFilters(r) {
    const f = query();
    if (f.get("text")) return null;   // only the server can search the bodies: ask it again
    if (f.get("status") && !String(r.status).startsWith(f.get("status").replace("xx", ""))) return false;
    if (f.get("method") && r.method !== f.get("method")) return false;
    if (f.get("source") && (r.source || "emulated") !== f.get("source")) return false;
    if (f.get("model") && (r.model || "").replace(/^models\//, "") !== f.get("model").replace(/^models\//, "")) return false;
    if (f.get("project") && r.project !== f.get("project")) return false;
    return true;
  }

  function pushed(entry) {
    document.dispatchEvent(new CustomEvent("mock:journal", {detail: entry}));
    const fits = matchesFilters(entry);
    if (fits === null) { later(); return; }
    const at = rows.findIndex((r) => r.id === entry.id);
    if (at >= 0) rows[at] = entry;
    else if (fits) { rows.push(entry); rows = rows.slice(-ROWS); }
    draw();
    if (entry.id === selected) open(entry.id);   // a stream that finished: its events are all there now
  }

  async function listen() {
    const state = $("feed-state");
    try {
      const response = await fetch(ui.BASE + "/requests:stream", {headers: ui.AUTH, cache: "no-store"});
      if (!response.ok) throw new Error("HTTP " + response.status);
      state.textContent = "live";
      document.body.dataset.feed = "1";
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, {stream: true});
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data) pushed(JSON.parse(data));
        }
      }
    } catch (e) {
      state.textContent = "feed lost (" + e.message + "); retrying";
    }
    delete document.body.dataset.feed;
    setTimeout(listen, 2000);
  }

  // -- the detail pane -------------------------------------------------------------------------------
  const MEDIA_CHARS = 200;

  // A copy of `value` with long base64 media data replaced by its size; the media found go to `media`.
  function summarised(value, media) {
    if (Array.isArray(value)) return value.map((v) => summarised(v, media));
    if (!value || typeof value !== "object") return value;
    const out = {};
    for (const [key, item] of Object.entries(value)) {
      if ((key === "inlineData" || key === "inline_data") && item && typeof item.data === "string") {
        media.push({mimeType: item.mimeType || item.mime_type || "", data: item.data});
        out[key] = {...item, data: item.data.length > MEDIA_CHARS ? "[" + item.data.length + " base64 characters]" : item.data};
      } else out[key] = summarised(item, media);
    }
    return out;
  }

  // Raw 16-bit little-endian PCM (the Live API's and speech output's audio/pcm;rate=24000, audio/L16) wrapped
  // in a WAV header, so the browser's player takes it.
  function pcmAsWav(mimeType, data) {
    const rate = Number((/rate=(\d+)/.exec(mimeType) || [0, 24000])[1]);
    const pcm = atob(data);
    const header = new DataView(new ArrayBuffer(44));
    const text = (at, word) => { for (let i = 0; i < 4; i++) header.setUint8(at + i, word.charCodeAt(i)); };
    text(0, "RIFF"); header.setUint32(4, 36 + pcm.length, true); text(8, "WAVE"); text(12, "fmt ");
    header.setUint32(16, 16, true); header.setUint16(20, 1, true); header.setUint16(22, 1, true);
    header.setUint32(24, rate, true); header.setUint32(28, rate * 2, true); header.setUint16(32, 2, true);
    header.setUint16(34, 16, true); text(36, "data"); header.setUint32(40, pcm.length, true);
    let head = "";
    for (let i = 0; i < 44; i++) head += String.fromCharCode(header.getUint8(i));
    return "data:audio/wav;base64," + btoa(head + pcm);
  }

  function mediaView(list) {
    const h = ui.h;
    return list.map((m) => {
      const complete = /^[A-Za-z0-9+/=]+$/.test(m.data);
      const url = "data:" + m.mimeType + ";base64," + m.data;
      if (complete && m.mimeType.startsWith("image/")) return h("div", {class: "media"}, h("img", {src: url, alt: m.mimeType}));
      if (complete && m.mimeType.startsWith("audio/")) {
        const raw = /audio\/(pcm|l16)/i.test(m.mimeType);
        return h("div", {class: "media"}, h("audio", {controls: true, src: raw ? pcmAsWav(m.mimeType, m.data) : url}),
          h("span", {class: "muted"}, " " + m.mimeType));
      }
      return h("div", {class: "media muted"}, m.mimeType + ": " + m.data.length + " base64 characters" +
        (complete ? "" : " (left out of the journal)"));
    });
  }

  function json(value) {
    const media = [];
    const shown = summarised(value, media);
    return [ui.h("pre", {class: "json"}, typeof shown === "string" ? shown : JSON.stringify(shown, null, 2)), mediaView(media)];
  }

  function headers(map) {
    return ui.h("details", {}, ui.h("summary", {}, "headers (" + Object.keys(map || {}).length + ")"),
      ui.h("pre", {}, Object.entries(map || {}).map(([k, v]) => k + ": " + v).join("\n")));
  }

  function side(title, part) {
    const h = ui.h;
    const out = [h("h3", {}, title + (part.status ? " " + part.status : "")), headers(part.headers)];
    if (part.query && Object.keys(part.query).length) out.push(h("pre", {}, "query: " + JSON.stringify(part.query)));
    if (part.summary) out.push(h("p", {class: "muted"}, part.summary));
    if (part.body !== undefined && part.body !== null) out.push(h("div", {class: "body-json"}, json(part.body)));
    if (part.truncated) out.push(h("p", {class: "muted"}, "cut to the journal's per-entry limit (" + part.bodyBytes + " bytes sent)"));
    if (part.events) {
      out.push(h("p", {class: "muted"}, part.events.length + " events, in order" + (part.eventsDropped ? " (" + part.eventsDropped + " more not kept)" : "")));
      part.events.forEach((event, i) => out.push(h("div", {class: "event"}, h("span", {class: "muted"}, "#" + (i + 1)), json(event))));
    }
    if (part.messages) {
      part.messages.forEach((m, i) => out.push(h("div", {class: "event"},
        h("span", {class: "muted"}, "#" + (i + 1) + " " + m.from + " " + m.type), m.message ? json(m.message) : null)));
    }
    return out;
  }

  function promptOf(body) {
    const contents = (body && body.contents) || [];
    const last = contents[contents.length - 1] || {};
    return ((last.parts || []).find((p) => typeof p.text === "string") || {}).text || "";
  }

  async function open(id) {
    selected = id;
    for (const tr of document.querySelectorAll("#request-list tr.req")) tr.classList.toggle("selected", Number(tr.dataset.id) === id);
    let entry;
    try { entry = await ui.call("GET", "/requests/" + id); } catch (e) { return; }
    const h = ui.h;
    const pane = $("detail");
    pane.hidden = false;
    const copy = h("button", {type: "button", id: "copy-curl", onclick: () => {
      const done = () => { copy.textContent = "copied"; };
      if (navigator.clipboard) navigator.clipboard.writeText(entry.curl).then(done, () => { copy.textContent = "select the command below"; });
    }}, "copy as curl");
    const script = h("button", {type: "button", id: "script-next", onclick: () => {
      const prompt = promptOf((entry.request || {}).body);
      const rule = {match: {}, respond: {text: "..."}, times: 1};
      if (entry.model) rule.match.model = entry.model;
      if (prompt) rule.match.prompt = prompt.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").slice(0, 200);
      document.dispatchEvent(new CustomEvent("mock:script", {detail: rule}));
    }}, "script the next answer");
    pane.replaceChildren(...[
      h("div", {class: "form"}, h("strong", {}, "#" + entry.id + " " + entry.method + " " + entry.status),
        entry.source ? h("span", {class: "badge " + entry.source}, entry.source + (entry.rule ? " " + entry.rule : "")) : null,
        copy, script, h("button", {type: "button", onclick: () => { pane.hidden = true; selected = null; draw(); }}, "close")),
      h("p", {class: "text"}, entry.path), entry.error ? h("p", {class: "error-message"}, entry.error) : null,
      h("pre", {id: "curl", class: "muted"}, entry.curl),
      side("request", entry.request || {}), side("response", entry.response || {})].flat(Infinity).filter((x) => x));
  }

  document.addEventListener("DOMContentLoaded", () => {
    ui = window.mockUI;
    for (const id of Object.keys(FILTERS)) $(id).addEventListener(id === "q" || id.startsWith("f-m") || id === "f-project" ? "input" : "change", later);
    $("clear-journal").addEventListener("click", async () => { await ui.call("DELETE", "/requests").catch(() => {}); load(); });
    load().then(listen);
  });
})();
