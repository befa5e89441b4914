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

  // One bar per label: its share of the content sentences, in the label's framing colour.
  function shareChart(chart, shares, labels, barWidth) {
    const row = 26, labelWidth = 150;
    chart.replaceChildren();
    chart.setAttribute("viewBox", `0 0 ${labelWidth + barWidth + 50} ${row * labels.length}`);
    chart.setAttribute("height", String(row * labels.length));
    labels.forEach((label, i) => {
      const y = i * row;
      const name = svg("text", { x: labelWidth - 8, y: y + 17, "text-anchor": "end" });
      name.textContent = label;
      const bar = svg("rect", { x: labelWidth, y: y + 4, height: row - 8, rx: 3,
                                width: Math.max(1, shares[label] * barWidth),
                                fill: colour(label, labels), stroke: "#888", "data-label": label });
      const value = svg("text", { x: labelWidth + shares[label] * barWidth + 6, y: y + 17 });
      value.textContent = percent(shares[label]);
      chart.append(name, bar, value);
    });
  }

  // "Framing: ", a swatch per label, then the swatch (attributes of `extra`) of what else the
  // view marks.
  function legend(node, labels, extra) {
    node.replaceChildren("Framing: ");
    for (const label of labels) {
      node.append(el("span", { class: "swatch", style: `background: ${colour(label, labels)}`,
                               text: label }));
    }
    node.append(el("span", extra));
  }

  // The stance targets typed into a view's comma-separated field.
  function targets(input) {
    return input.value.split(",").map((t) => t.trim()).filter(Boolean);
  }

  // Every view's form ends in the controls of <template id="form-controls">: the stance
  // targets, the submit button and its status, given the ids and caption its data-* name.
  function addControls(form) {
    const controls = document.getElementById("form-controls").content.cloneNode(true);
    controls.querySelector("label").htmlFor = form.dataset.targets;
    controls.querySelector("input").id = form.dataset.targets;
    const button = controls.querySelector("button");
    button.id = `${form.dataset.view}-button`;
    button.textContent = form.dataset.submit;
    controls.querySelector("[role=status]").id = `${form.dataset.view}-status`;
    form.append(controls);
  }

  // Submitting a view's form: while `run` waits on the API the button is off and the status
  // says `busy`; then the status shows what `run` returns, or the error in the error style.
  function onSubmit(view, busy, run) {
    document.getElementById(`${view}-form`).addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = document.getElementById(`${view}-status`);
      const button = document.getElementById(`${view}-button`);
      status.textContent = busy;
      button.disabled = true;
      try {
        status.textContent = await run();
      } catch (error) {
        status.textContent = error.message;
        status.classList.add("error");
        return;
      } finally {
        button.disabled = false;
      }
      status.classList.remove("error");
    });
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
    document.querySelectorAll("form[data-view]").forEach(addControls);
    initTabs();
    showModel();
  });

  return { api, el, colour, shareChart, legend, targets, onSubmit, showTab };
})();
