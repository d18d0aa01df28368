// camsweep: draw the charts a page embeds as JSON. No inline script anywhere (CSP).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var nodes = document.querySelectorAll("[data-chart]");
  if (!nodes.length || typeof window.Plotly === "undefined") { return; }
  nodes.forEach(function (node) {
    var source = document.getElementById(node.getAttribute("data-chart"));
    if (!source) { return; }
    var fig = JSON.parse(source.textContent);
    window.Plotly.newPlot(node, fig.data, fig.layout,
      { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"] });
    node.setAttribute("data-drawn", "1");
  });
});
// Confirm buttons that carry data-confirm (disabling an account, discarding an upload).
document.addEventListener("submit", function (event) {
  var button = event.submitter || event.target.querySelector("[data-confirm]");
  var text = button && button.getAttribute && button.getAttribute("data-confirm");
  if (text && !window.confirm(text)) { event.preventDefault(); }
});
