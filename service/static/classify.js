// The Classify view: post the pasted article, read it back sentence by sentence.
"use strict";

(() => {
  const { api, el, svg, colour, percent } = presslens;

  function describe(prediction) {
    const scores = Object.entries(prediction.scores)
      .map(([label, p]) => `${label} ${p.toFixed(2)}`).join(", ");
    return `${prediction.label} (${prediction.confidence.toFixed(2)}; ${scores})`;
  }

  function tooltip(sentence) {
    const lines = [`framing: ${describe(sentence.framing)}`];
    for (const stance of sentence.stance) {
      lines.push(`stance${stance.target ? ` toward ${stance.target}` : ""}: ${describe(stance)}`);
    }
    return lines.join("\n");
  }

  function sentenceNode(sentence, labels) {
    if (sentence.boilerplate || !sentence.framing) {
      return el("span", { class: "sentence boilerplate", title: "boilerplate (not labelled)",
                          "data-index": sentence.index }, sentence.text);
    }
    const node = el("span", {
      class: "sentence labelled",
      title: tooltip(sentence),
      "data-index": sentence.index,
      "data-framing": sentence.framing.label,
      style: `background: ${colour(sentence.framing.label, labels)}`,
    }, sentence.text);
    const wrapper = el("span", { class: "unit" }, node);
    for (const stance of sentence.stance) {
      wrapper.append(el("span", {
        class: `stance stance-${stance.label}`,
        title: `stance${stance.target ? ` toward ${stance.target}` : ""}: ${describe(stance)}`,
        "data-target": stance.target || "",
        text: stance.target ? `${stance.label} · ${stance.target}` : stance.label,
      }));
    }
    return wrapper;
  }

  // Offsets count Unicode code points, as the API does; JS strings index UTF-16 units.
  function renderReading(text, sentences, labels) {
    const reading = document.getElementById("reading");
    reading.replaceChildren();
    const points = Array.from(text);
    let at = 0;
    for (const sentence of sentences) {
      reading.append(points.slice(at, sentence.start).join(""));
      reading.append(sentenceNode(sentence, labels));
      at = sentence.end;
    }
    reading.append(points.slice(at).join(""));
  }

  function renderChart(shares) {
    const chart = document.getElementById("framing-chart");
    const labels = Object.keys(shares);
    const row = 26, labelWidth = 150, barWidth = 220;
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

  function renderSummary(summary) {
    document.getElementById("counts").textContent =
      `${summary.sentences} sentences: ${summary.content} labelled, ` +
      `${summary.boilerplate} boilerplate (greyed out). Hover a sentence for confidences.`;
    const table = document.getElementById("stance-summary");
    table.replaceChildren();
    if (!summary.stance.length) return;
    const labels = Object.keys(summary.stance[0].counts);
    table.append(el("caption", { text: "Stance, sentences per target" }),
                 el("tr", {}, el("th", { text: "target" }),
                    ...labels.map((l) => el("th", { text: l }))));
    for (const row of summary.stance) {
      table.append(el("tr", {}, el("td", { text: row.target || "(overall)" }),
                      ...labels.map((l) => el("td", { text: String(row.counts[l]) }))));
    }
  }

  function renderLegend(labels) {
    const legend = document.getElementById("legend");
    legend.replaceChildren("Framing: ");
    for (const label of labels) {
      legend.append(el("span", { class: "swatch", style: `background: ${colour(label, labels)}`,
                                 text: label }));
    }
    legend.append(el("span", { class: "swatch boilerplate", text: "boilerplate" }));
  }

  async function submit(event) {
    event.preventDefault();
    const text = document.getElementById("article").value;
    const targets = document.getElementById("targets").value
      .split(",").map((t) => t.trim()).filter(Boolean);
    const status = document.getElementById("classify-status");
    const button = document.getElementById("classify-button");
    status.textContent = "Labelling…";
    button.disabled = true;
    try {
      const result = await api("/v1/classify", { text, targets });
      const labels = Object.keys(result.summary.framing);
      renderReading(text, result.sentences, labels);
      renderChart(result.summary.framing);
      renderSummary(result.summary);
      renderLegend(labels);
      document.getElementById("classify-result").hidden = false;
      status.textContent = `Done: ${result.sentences.length} sentences ` +
        `(${result.model.id} ${result.model.version}).`;
    } catch (error) {
      status.textContent = error.message;
      status.classList.add("error");
      return;
    } finally {
      button.disabled = false;
    }
    status.classList.remove("error");
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("classify-form").addEventListener("submit", submit);
  });
})();
