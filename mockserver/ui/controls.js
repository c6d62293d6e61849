"use strict";
// The controls: the clock (an exact time, back to real time), reset, the scripted rules and injected
// faults (list, add as JSON, remove), and the state browser (GET /_mock/browse: every resource kind the
// server has, per project, with a detail view and the kind's actions).
(function () {
  let ui = null;
  const $ = (id) => document.getElementById(id);
  const browse = {project: "", kind: "", detail: null};
  const RULE_EXAMPLE = {match: {model: "gemini-2.5-flash", prompt: "weather"}, respond: {text: "Sunny."}, times: 1};
  const FAULT_EXAMPLE = {kind: "status", code: 503, match: {path: ":generateContent"}, times: 1};

  async function act(method, path, body) {
    try { await ui.call(method, path, body); } catch (e) { return false; }
    await ui.refresh(true);
    await Promise.all([drawRules(), drawBrowser()]);
    return true;
  }

  // -- rules and faults ----------------------------------------------------------------------------------
  function editor(id, example) {
    return ui.h("textarea", {class: "json", id, spellcheck: "false", "aria-label": id}, JSON.stringify(example, null, 2));
  }

  function scriptList(kind, items) {
    const h = ui.h;
    return ui.table(["id", kind === "rules" ? "match / respond" : "fault", "times", "hits", ""], items.map((item) =>
      h("tr", {"data-id": item.id, class: kind.slice(0, -1)}, h("td", {}, item.id),
        h("td", {class: "text"}, h("pre", {}, JSON.stringify(Object.fromEntries(Object.entries(item).filter(
          ([k]) => !["id", "times", "hits"].includes(k))), null, 1))),
        h("td", {}, item.times === null ? "always" : String(item.times)), h("td", {}, String(item.hits || 0)),
        h("td", {}, h("button", {type: "button", class: "remove", onclick: () => act("DELETE", "/" + kind + "/" + encodeURIComponent(item.id))}, "remove")))),
      "no " + kind);
  }

  async function drawRules() {
    const body = document.querySelector("#rules .body");
    let rules, faults;
    try { [rules, faults] = await Promise.all([ui.call("GET", "/rules"), ui.call("GET", "/faults")]); } catch (e) { return; }
    const h = ui.h;
    const ruleText = $("rule-json") || editor("rule-json", RULE_EXAMPLE);
    const faultText = $("fault-json") || editor("fault-json", FAULT_EXAMPLE);
    const add = (kind, text) => {
      let parsed;
      try { parsed = JSON.parse(text.value); } catch (e) { ui.notice("not JSON: " + e.message); return; }
      act("POST", "/" + kind, parsed);
    };
    body.replaceChildren(
      h("h3", {}, "Rules (first match answers)"), scriptList("rules", rules.rules), ruleText,
      h("button", {type: "button", id: "add-rule", onclick: () => add("rules", ruleText)}, "add rule"),
      h("h3", {}, "Faults"), scriptList("faults", faults.faults), faultText,
      h("button", {type: "button", id: "add-fault", onclick: () => add("faults", faultText)}, "add fault"));
  }

  // -- the state browser -----------------------------------------------------------------------------------
  async function drawBrowser() {
    const body = document.querySelector("#browser .body");
    let index;
    try { index = await ui.call("GET", "/browse"); } catch (e) { return; }
    const h = ui.h;
    if (!index.projects.includes(browse.project)) browse.project = index.projects[0] || "";
    const kinds = index.kinds;
    if (!kinds.find((k) => k.name === browse.kind)) browse.kind = (kinds[0] || {}).name || "";
    const kind = kinds.find((k) => k.name === browse.kind);
    const pick = h("select", {id: "browse-project", "aria-label": "project", onchange: (e) => { browse.project = e.target.value; browse.detail = null; drawBrowser(); }},
      index.projects.map((p) => h("option", {value: p, selected: p === browse.project}, p)));
    const tabs = kinds.map((k) => h("button", {type: "button", class: "kind", "data-kind": k.name, "aria-pressed": String(k.name === browse.kind),
      onclick: () => { browse.kind = k.name; browse.detail = null; drawBrowser(); }}, k.label));
    let items = [];
    if (browse.project && kind) {
      try { items = (await ui.call("GET", "/browse/" + encodeURIComponent(browse.project) + "/" + kind.name)).items; } catch (e) { items = []; }
    }
    const base = "/browse/" + encodeURIComponent(browse.project) + "/" + (kind ? kind.name : "");
    const list = ui.table(["name", "display name", "state", ""], items.map((item) =>
      h("tr", {"data-name": item.name, class: "browse-item"},
        h("td", {}, h("a", {href: "#browser", class: "open", onclick: (e) => { e.preventDefault(); browse.detail = item.name; drawBrowser(); }}, item.name)),
        h("td", {class: "text"}, item.displayName || (item.metadata || {}).displayName || ""),
        h("td", {class: "state"}, item.state || (item.metadata || {}).state || ""),
        h("td", {}, kind.actions.map((action) => h("button", {type: "button", class: "action-" + action,
          onclick: () => act("POST", base + "/" + action, {name: item.name})}, action === "expire" ? "expire now" : action))))),
      browse.project ? "none in this project" : "no project yet");
    const detail = items.find((item) => item.name === browse.detail);
    body.replaceChildren(h("div", {class: "form"}, "project ", pick, tabs), list,
      ...(detail ? [h("h3", {}, detail.name), h("pre", {class: "json", id: "browse-detail"}, JSON.stringify(detail, null, 2))] : []));
  }

  document.addEventListener("DOMContentLoaded", () => {
    ui = window.mockUI;
    $("clock-set").addEventListener("click", () => act("POST", "/clock", {now: $("clock-at").value.trim()}));
    $("clock-reset").addEventListener("click", () => act("POST", "/clock", {reset: true}));
    $("reset-all").addEventListener("click", () => act("POST", "/reset", {}));
    document.addEventListener("mock:script", (e) => {
      const text = $("rule-json");
      if (text) { text.value = JSON.stringify(e.detail, null, 2); text.focus(); location.hash = "#rules"; }
    });
    let pending = null;
    document.addEventListener("mock:journal", () => {
      if (pending === null) pending = setTimeout(() => { pending = null; drawBrowser(); }, 300);
    });
    drawRules();
    drawBrowser();
  });
})();
