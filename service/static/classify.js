// The Classify view: post the pasted article, read it back sentence by sentence.
"use strict";

(() => {
  const { api, el, colour, shareChart, legend, targets, onSubmit } = presslens;

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

  async function classify() {
    const text = document.getElementById("article").value;
    const stanceTargets = targets(document.getElementById("targets"));
    const result = await api("/v1/classify", { text, targets: stanceTargets });
    const labels = Object.keys(result.summary.framing);
    renderReading(text, result.sentences, labels);
    shareChart(document.getElementById("framing-chart"), result.summary.framing, labels, 220);
    renderSummary(result.summary);
    legend(document.getElementById("legend"), labels,
           { class: "swatch boilerplate", text: "boilerplate" });
    document.getElementById("classify-result").hidden = false;
    return `Done: ${result.sentences.length} sentences ` +
      `(${result.model.id} ${result.model.version}).`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    onSubmit("classify", "Labelling…", classify);
  });
})();
