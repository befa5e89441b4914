// Shared by every view: tabs, the API call, small DOM helpers. No framework, no build step.
"use strict";

const presslens = (() => {
  const FRAMING_COLOURS = {
    neutral_reporting: "#cfe3f7",
    official_claim: "#fde7b0",
    advocacy: "#f7c6d9",
  };
  const FALLBACK_COLOURS = ["#d5ecd4", "#e3d7f4", "#f3dcc7"];

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  function svg(tag, attrs = {}) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    return node;
  }

  function colour(label, labels) {
    return FRAMING_COLOURS[label] ||
      FALLBACK_COLOURS[Math.max(0, labels.indexOf(label)) % FALLBACK_COLOURS.length];
  }

  function percent(x) {
    return `${Math.round(x * 100)}%`;
  }

  // POST JSON (or GET when body is undefined); throws an Error carrying the API's detail.
  async function api(path, body) {
    const headers = {};
    const key = document.getElementById("api-key").value.trim();
    if (key) headers["X-API-Key"] = key;
    const init = { method: body === undefined ? "GET" : "POST", headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(`${response.status}: ${data.detail || response.statusText}`);
    }
    return data;
  }

  function showTab(name) {
    for (const tab of document.querySelectorAll("#tabs [data-tab]")) {
      tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    }
    for (const panel of document.querySelectorAll("[data-panel]")) {
      panel.hidden = panel.dataset.panel !== name;
    }
  }

  function initTabs() {
    const tabs = [...document.querySelectorAll("#tabs [data-tab]")];
    for (const tab of tabs) {
      tab.addEventListener("click", () => {
        history.replaceState(null, "", `#${tab.dataset.tab}`);
        showTab(tab.dataset.tab);
      });
    }
    const wanted = location.hash.slice(1);
    showTab(tabs.some((t) => t.dataset.tab === wanted) ? wanted : tabs[0].dataset.tab);
  }

  async function showModel() {
    try {
      const card = await api("/v1/model");
      document.getElementById("model-info").textContent = `model ${card.model_id} ${card.version}`;
    } catch (error) {
      document.getElementById("model-info").textContent = "model unavailable";
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    initTabs();
    showModel();
  });

  return { api, el, svg, colour, percent, showTab };
})();
