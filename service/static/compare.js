// The Compare view: two versions side by side, counterpart sentences on the same row.
"use strict";

(() => {
  const { api, el, colour, shareChart, legend, targets, onSubmit } = presslens;

  function stanceText(stance) {
    return stance.map((s) => (s.target ? `${s.label} · ${s.target}` : s.label)).join(", ");
  }

  // One version's sentence in its cell, coloured by framing; a note says what changed.
  function cell(sentence, labels, note) {
    const td = el("td", { class: "compare-cell" });
    if (!sentence) {
      td.classList.add("missing");
      td.append(el("span", { class: "muted", text: note }));
      return td;
    }
    const framing = sentence.framing ? sentence.framing.label : "";
    td.append(el("span", {
      class: "sentence labelled", "data-index": sentence.index, "data-framing": framing,
      title: `framing: ${framing}; stance: ${stanceText(sentence.stance)}`,
      style: `background: ${colour(framing, labels)}`,
    }, sentence.text));
    if (note) td.append(el("span", { class: "change-note", text: note }));
    return td;
  }

  function renderRows(result, labels) {
    const body = document.querySelector("#compare-rows tbody");
    body.replaceChildren();
    const pairs = new Map(result.pairs.map((p) => [p.a, p]));
    for (const row of result.rows) {
      const a = row.a === null ? null : result.a.sentences[row.a];
      const b = row.b === null ? null : result.b.sentences[row.b];
      const pair = row.a === null ? null : pairs.get(row.a);
      const status = pair ? "pair" : (row.a === null ? "added" : "removed");
      const tr = el("tr", { class: `compare-row ${status}`, "data-status": status });
      let note = "";
      if (pair && pair.framing_changed) {
        tr.classList.add("framing-changed");
        note = `framing: ${pair.framing_a} → ${pair.framing_b}`;
      }
      if (pair && pair.stance_changed) {
        tr.classList.add("stance-changed");
        const moved = pair.stance.filter((s) => s.changed)
          .map((s) => `${s.target || "overall"} ${s.a} → ${s.b}`);
        note = [note, `stance: ${moved.join(", ")}`].filter(Boolean).join("; ");
      }
      tr.append(cell(a, labels, a ? "" : "(added in B)"),
                cell(b, labels, b ? note : "(removed from A)"));
      body.append(tr);
    }
  }

  function renderBoilerplate(version, id) {
    const list = document.getElementById(id);
    list.replaceChildren(...version.boilerplate.map((i) =>
      el("li", { class: "sentence boilerplate", text: version.sentences[i].text })));
  }

  function renderCounts(result) {
    const changed = result.pairs.filter((p) => p.framing_changed).length;
    const shift = Object.entries(result.framing_shift)
      .map(([label, d]) => `${label} ${d >= 0 ? "+" : ""}${Math.round(d * 100)} pts`).join(", ");
    document.getElementById("compare-counts").textContent =
      `${result.pairs.length} aligned pairs, ${changed} with a changed framing, ` +
      `${result.changes.length} changed in all; ${result.removed.length} removed, ` +
      `${result.added.length} added; boilerplate ${result.a.boilerplate.length} in A, ` +
      `${result.b.boilerplate.length} in B. Framing shift B − A: ${shift}.`;
  }

  async function compare() {
    const a = document.getElementById("compare-a").value;
    const b = document.getElementById("compare-b").value;
    const stanceTargets = targets(document.getElementById("compare-targets"));
    const result = await api("/v1/compare", { a, b, targets: stanceTargets });
    const labels = Object.keys(result.a.framing);
    shareChart(document.getElementById("compare-chart-a"), result.a.framing, labels, 200);
    shareChart(document.getElementById("compare-chart-b"), result.b.framing, labels, 200);
    renderRows(result, labels);
    renderBoilerplate(result.a, "compare-boilerplate-a");
    renderBoilerplate(result.b, "compare-boilerplate-b");
    renderCounts(result);
    legend(document.getElementById("compare-legend"), labels,
           { class: "swatch framing-changed", text: "framing changed" });
    document.getElementById("compare-result").hidden = false;
    return `Done (${result.model.id} ${result.model.version}).`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    onSubmit("compare", "Comparing…", compare);
  });
})();
