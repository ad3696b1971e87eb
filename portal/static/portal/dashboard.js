/* The discovery dashboard: while rounds, trainings or a benchmark are unfinished, the page asks
   /discovery/status.json every few seconds and updates their status, progress, reasons and buttons, and the
   queues' lengths and workers, in place (no reload); it stops once nothing is unfinished. The launch form shows the estimated duration of the round
   its numbers describe (/discovery/estimate.json). */
(function () {
  "use strict";

  var OPEN = ["pending", "running", "queued"];

  function isOpen(status) { return OPEN.indexOf(status) >= 0; }

  function show(node, text) {
    if (!node) return;
    node.textContent = text || "";
    node.hidden = !text;
  }

  function statusBadge(node, status) {
    if (!node) return;
    node.textContent = status;
    node.className = "status status-" + status;
  }

  function cell(tr, text) {
    var td = tr.appendChild(document.createElement("td"));
    if (text !== undefined) td.textContent = text;
    return td;
  }

  function stageRow(stage) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-stage", stage.name);
    cell(tr, stage.name);
    var badge = cell(tr).appendChild(document.createElement("span"));
    statusBadge(badge, stage.status);
    var progress = cell(tr);
    if (stage.total) {
      var bar = progress.appendChild(document.createElement("progress"));
      bar.max = stage.total;
      bar.value = stage.done;
      progress.appendChild(document.createTextNode(" " + stage.done + "/" + stage.total));
    } else {
      progress.textContent = "—";
    }
    cell(tr, stage.message);
    return tr;
  }

  function updateRound(section, data) {
    section.setAttribute("data-status", data.status);
    statusBadge(section.querySelector('[data-live="status"]'), data.status);
    show(section.querySelector('[data-live="waiting"]'), data.waiting);
    show(section.querySelector('[data-live="error"]'), data.error);
    section.querySelectorAll("[data-action]").forEach(function (button) {
      button.hidden = data.actions.indexOf(button.getAttribute("data-action")) < 0;
    });
    var body = section.querySelector('[data-live="stages"]');
    if (body && data.stages.length) {
      var fragment = document.createDocumentFragment();
      data.stages.forEach(function (stage) { fragment.appendChild(stageRow(stage)); });
      body.replaceChildren(fragment);
    }
  }

  function updateTraining(row, data) {
    row.setAttribute("data-status", data.status);
    statusBadge(row.querySelector('[data-live="status"]'), data.status);
    show(row.querySelector('[data-live="waiting"]'), data.waiting);
    show(row.querySelector('[data-live="error"]'), data.error);
    var bar = row.querySelector('[data-live="progress"]');
    if (bar) { bar.max = data.total; bar.value = data.done; }
    var count = row.querySelector('[data-live="count"]');
    if (count) count.textContent = data.done + "/" + data.total;
  }

  function updateQueues(queues) {
    (queues || []).forEach(function (queue) {
      var row = document.getElementById("queue-" + queue.kind);
      if (!row) return;
      row.querySelector('[data-live="length"]').textContent = queue.length_text;
      row.querySelector('[data-live="workers"]').textContent = queue.workers_text;
    });
  }

  // returns whether the job shown has just finished
  function updateBenchmark(data) {
    var line = document.getElementById("benchmark-status");
    if (!line || !data || line.getAttribute("data-name") !== data.name) return false;
    var was = line.getAttribute("data-status");
    line.setAttribute("data-status", data.status);
    statusBadge(line.querySelector('[data-live="status"]'), data.status);
    show(line.querySelector('[data-live="stage"]'), data.stage ? " — " + data.stage : "");
    show(document.getElementById("benchmark-waiting"), data.waiting);
    return isOpen(was) && !isOpen(data.status);
  }

  function editing() {
    var active = document.activeElement;
    return Boolean(active && active.form);
  }

  function setupPolling() {
    var marker = document.getElementById("live-status");
    if (!marker) return;
    var url = marker.getAttribute("data-status-url");
    var seconds = parseFloat(marker.getAttribute("data-poll-seconds")) || 3;
    var news = document.getElementById("live-news");
    var messages = [];
    var failures = 0;
    window.portalDashboardPolls = 0;

    function say(text) {
      if (messages.indexOf(text) >= 0) return;
      messages.push(text);
      show(news, messages.join(" "));
    }

    function openIds(selector, attribute) {
      var ids = [];
      document.querySelectorAll(selector).forEach(function (node) {
        if (isOpen(node.getAttribute("data-status"))) ids.push(node.getAttribute(attribute));
      });
      return ids;
    }

    function apply(data) {
      var reload = false;
      data.rounds.forEach(function (round) {
        var section = document.getElementById("round-" + round.number);
        if (!section) {
          say("Round " + round.number + " was launched: reload the page to see it.");
          return;
        }
        var was = section.getAttribute("data-status");
        updateRound(section, round);
        if (isOpen(was) && !isOpen(round.status)) {
          say("Round " + round.number + " " + round.status + ": reload the page for its metrics and entries.");
        }
      });
      data.training.forEach(function (job) {
        var row = document.getElementById("training-" + job.id);
        if (!row) return;
        var was = row.getAttribute("data-status");
        updateTraining(row, job);
        // a finished training changes the active models and what the launch form offers
        if (isOpen(was) && !isOpen(job.status)) reload = true;
      });
      updateQueues(data.queues);
      if (updateBenchmark(data.benchmark)) {
        say("The benchmark " + data.benchmark.status + ": reload the page for its table and chart.");
      }
      window.portalDashboardPolls += 1;
      // not over a refused form (its messages stay in view) nor while a form is being filled in
      if (reload && !editing() && !document.querySelector("form [role=alert]")) {
        window.location.assign(marker.getAttribute("data-page-url"));
        return false;
      }
      if (reload) say("A training finished: reload the page to use its model.");
      return data.unfinished;
    }

    function poll() {
      var query = new URLSearchParams({
        rounds: openIds("section.round[data-round]", "data-round").join(","),
        training: openIds("tr[data-training]", "data-training").join(",")
      });
      window.fetch(url + "?" + query.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("status " + response.status);
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          if (apply(data)) {
            window.setTimeout(poll, seconds * 1000);
          } else {
            marker.textContent = "Nothing is unfinished any more: the page has stopped updating itself.";
            window.portalDashboardStopped = true;
          }
        })
        .catch(function () {
          failures += 1; // the server restarting, the network gone: ask again, less often
          marker.textContent = "Could not ask the server for the state of the work; trying again.";
          window.setTimeout(poll, Math.min(60, seconds * Math.pow(2, failures)) * 1000);
        });
    }
    window.setTimeout(poll, seconds * 1000);
  }

  var ESTIMATED = ["budget", "eval_budget", "baseline_size", "ensemble_size", "volumes", "launch_hull_set"];

  function setupEstimate() {
    var form = document.getElementById("launch-form");
    var output = document.getElementById("round-estimate");
    if (!form || !output) return;
    var url = output.getAttribute("data-estimate-url");
    var timer = null;
    var asked = 0;
    function update() {
      timer = null;
      var query = new URLSearchParams();
      // by name through querySelector: the form's "elements" field shadows form.elements
      function field(name) { return form.querySelector('[name="' + name + '"]'); }
      ESTIMATED.forEach(function (name) {
        if (field(name)) query.set(name, field(name).value);
      });
      if (field("retrain") && field("retrain").checked) query.set("retrain", "on");
      var ticket = ++asked;
      window.fetch(url + "?" + query.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (data) { if (ticket === asked) output.textContent = data.text; })
        .catch(function () { if (ticket === asked) output.textContent = "no estimate: the server did not answer"; });
    }
    function later() {
      if (timer !== null) window.clearTimeout(timer);
      timer = window.setTimeout(update, 300);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  // Buttons that cannot be undone (Cancel) ask first: data-confirm holds the question.
  function setupConfirm() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button[data-confirm]") : null;
      if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
    });
  }

  function start() {
    setupPolling();
    setupEstimate();
    setupConfirm();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
