/* The console's scripts: the dashboard's charts (Chart.js, served from here) and the
   line in the browser. No inline script: the page's policy allows only files of this site. */
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var COLOURS = ["#1d4ed8", "#f59e0b", "#16a34a", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];

  function chart(name, type, labels, sets, options) {
    var canvas = document.querySelector('canvas[data-chart="' + name + '"]');
    if (!canvas || typeof Chart === "undefined") return;
    var datasets = sets.map(function (s, i) {
      return { label: s.label, data: s.data, backgroundColor: s.colour || COLOURS[i % COLOURS.length],
               borderColor: s.colour || COLOURS[i % COLOURS.length], borderWidth: type === "line" ? 2 : 0 };
    });
    var config = { type: type, data: { labels: labels, datasets: datasets },
      options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { display: sets.length > 1 } } }, options || {}) };
    canvas.chart = new Chart(canvas, config);
  }

  // JSON objects come with sorted keys: order them as the tables do (largest first)
  function ordered(obj) {
    return Object.keys(obj).sort(function (a, b) { return obj[b] - obj[a] || (a < b ? -1 : a > b ? 1 : 0); });
  }

  function dashboard(data) {
    var days = data.days.map(function (d) { return d.date.slice(5); });
    var col = function (name) { return data.days.map(function (d) { return d[name]; }); };
    chart("daily", "bar", days, [{ label: "Textos / Texts", data: col("texts") },
                                 { label: "Appels / Calls", data: col("calls") }]);
    var langs = ordered(data.languages);
    chart("languages", "bar", langs.map(function (c) { return data.language_names[c]; }),
          [{ label: "Personnes / People", data: langs.map(function (c) { return data.languages[c]; }) }],
          { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } });
    chart("funnel", "bar", data.funnel.map(function (s) { return s.step; }),
          [{ label: "Atteint / Reached", data: data.funnel.map(function (s) { return s.reached; }) },
           { label: "Arrêté là / Stopped there", data: data.funnel.map(function (s) { return s.left; }), colour: "#dc2626" }]);
    var outcomes = ordered(data.outcomes);
    chart("outcomes", "bar", outcomes, [{ label: "Résultats / Outcomes",
          data: outcomes.map(function (k) { return data.outcomes[k]; }), colour: "#16a34a" }]);
    var topics = ordered(data.topics);
    chart("topics", "bar", topics, [{ label: "Ouvert / Opened",
          data: topics.map(function (k) { return data.topics[k]; }), colour: "#0891b2" }]);
    var ends = ordered(data.call_ends);
    chart("call_ends", "bar", ends, [{ label: "Appels / Calls",
          data: ends.map(function (k) { return data.call_ends[k]; }), colour: "#7c3aed" }],
          { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } });
    chart("sms", "bar", days, [{ label: "Segments", data: col("sms_segments") },
                               { label: "Non remis / Failed", data: col("sms_failed"), colour: "#dc2626" }]);
    chart("optouts", "line", days, [{ label: "STOP", data: col("optouts"), colour: "#dc2626" },
                                    { label: "START", data: col("optins"), colour: "#16a34a" }]);
    var deps = ordered(data.postcodes);
    chart("postcodes", "bar", deps, [{ label: "Demandes / Lookups",
          data: deps.map(function (k) { return data.postcodes[k]; }), colour: "#0891b2" }]);
    var hours = []; for (var h = 0; h < 24; h++) hours.push((h < 10 ? "0" : "") + h);
    chart("hours", "bar", hours, [{ label: "Appels / Calls", data: data.hours.calls },
                                  { label: "Textos / Texts", data: data.hours.texts }]);
  }

  function post(url, fields) {
    var body = new URLSearchParams(fields);
    body.append("csrf_token", csrf);
    return fetch(url, { method: "POST", body: body, credentials: "same-origin",
                        headers: { "X-CSRF-Token": csrf } })
      .then(function (r) { return r.json().catch(function () { return { error: "HTTP " + r.status }; }); });
  }

  function item(list, cls, text) {
    var li = document.createElement("li");
    li.className = cls;
    li.textContent = text;
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
    return li;
  }

  function tryLine() {
    var thread = document.getElementById("thread");
    document.getElementById("sms-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var input = document.getElementById("sms-body");
      var text = input.value.trim();
      if (!text) return;
      item(thread, "me", text);
      input.value = "";
      post("try/sms", { body: text }).then(function (r) {
        if (r.error) { item(thread, "line error", r.error); return; }
        if (!r.messages.length) item(thread, "line silent", "(pas de réponse / no answer)");
        r.messages.forEach(function (m) { item(thread, "line", m); });
      });
    });

    var prompts = document.getElementById("prompts"), typed = document.getElementById("typed");
    var status = document.getElementById("call-status"), action = null, want = 0;
    var keys = document.querySelectorAll("#keypad button");
    var sendBtn = document.getElementById("call-send"), silenceBtn = document.getElementById("call-silence");
    function waiting(on) {
      keys.forEach(function (b) { b.disabled = !on; });
      sendBtn.disabled = !on; silenceBtn.disabled = !on;
    }
    function show(turn) {
      if (turn.error) { item(prompts, "error", turn.error); return; }
      prompts.querySelectorAll("audio").forEach(function (a) { a.pause(); a.removeAttribute("autoplay"); });
      var first = null, before = prompts.querySelectorAll("audio").length;
      turn.prompts.forEach(function (p) {
        var li = item(prompts, p.play ? "play" : "say", p.say || "(enregistrement / recording)");
        if (p.play) {
          var audio = document.createElement("audio");
          audio.controls = true; audio.preload = "auto"; audio.src = p.play;
          li.appendChild(audio);
          if (!first) first = audio;
        }
      });
      var audios = prompts.querySelectorAll("audio");
      for (var i = before; i < audios.length - 1; i++) {  // this turn's files, one after another
        (function (a, next) { a.onended = function () { next.play().catch(function () {}); }; })(audios[i], audios[i + 1]);
      }
      if (first) first.play().catch(function () {});
      action = turn.action || turn.redirect;
      want = parseInt(turn.keys || "0", 10);
      waiting(!!turn.action);
      status.textContent = turn.action ? "En attente de touches / Waiting for keys" +
        (turn.keys ? " (" + turn.keys + ")" : " (# pour finir / # to end)") :
        (turn.dial ? "Transféré vers une ligne / Connected to a line" : "Appel terminé / Call ended");
      if (!turn.action && turn.redirect) send("");
    }
    function send(digits) {
      if (digits) item(prompts, "me", "⌨ " + digits);
      else item(prompts, "me", "… silence");
      typed.value = "";
      waiting(false);
      post("try/call", { action: action, digits: digits }).then(show);
    }
    document.getElementById("call-start").addEventListener("click", function () {
      prompts.innerHTML = ""; action = null; typed.value = "";
      item(prompts, "me", "☎ Appel / Call");
      post("try/call", {}).then(show);
    });
    keys.forEach(function (b) {
      b.addEventListener("click", function () {
        typed.value = (typed.value || "") + b.dataset.key;
        if (want && typed.value.length >= want) send(typed.value);
      });
    });
    sendBtn.addEventListener("click", function () { send(typed.value || ""); });
    silenceBtn.addEventListener("click", function () { send(""); });
    document.getElementById("reset").addEventListener("click", function () {
      post("try/reset", {}).then(function () {
        thread.innerHTML = ""; prompts.innerHTML = ""; action = null; waiting(false);
        status.textContent = "Nouvelle personne / New person";
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var data = document.getElementById("dashboard-data");
    if (data) dashboard(JSON.parse(data.textContent));
    if (document.getElementById("sms-form")) tryLine();
  });
})();
