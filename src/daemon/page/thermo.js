// SPDX-License-Identifier: MIT
// The page of thermo-server(8): every sensor live, from /api/v1/sensors, /api/v1/history and the event
// stream /api/v1/events. Text from the server (labels come from sensors.conf) only ever goes in as text,
// never as markup. When the server goes, the page says so and tries again; when it is back, the page goes
// on from the last tick it had (after=), or, from a server that started afresh, from its history.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 300, HEIGHT = 100;      // the chart's own units; it is drawn to the card's width
  const WINDOW_MS = 10 * 60 * 1000;     // the span drawn when the server keeps no history
  const RETRY_MS = [1000, 2000, 5000];

  const state = {
    sensors: new Map(),   // name -> sensor, in the server's order
    seq: null,            // the newest tick had, null before any
    run: null,            // the server's run those seqs are of (a fresh start numbers from 1 again)
    windowMs: WINDOW_MS,
    source: null,
    retries: 0,
    lostAt: null,
    drawing: false,
    refreshing: false,
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svg(tag, attributes) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, v);
    return e;
  }

  const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const time = (ms) => clock.format(new Date(ms));
  const celsius = (c, digits) => c.toFixed(digits) + " °C";

  function setStatus(which, text) {
    const s = $("status");
    s.dataset.state = which;
    s.textContent = text;
  }

  // A card for a sensor the server has, and the sensor's state.
  function addSensor(info) {
    const card = el("section", "sensor");
    card.dataset.sensor = info.name;
    const title = el("h2");
    const name = el("p", "name");
    const reading = el("div", "reading");
    const value = el("span", "value");
    const level = el("span", "level");
    reading.append(value, level);
    const limits = el("p", "limits");
    const chart = svg("svg", { class: "chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none",
                               role: "img" });
    const frame = svg("rect", { class: "frame", x: 0, y: 0, width: WIDTH, height: HEIGHT });
    const trace = svg("path", { class: "trace", d: "" });
    const lines = svg("g", {});
    chart.append(frame, lines, trace);
    const axis = el("div", "axis");
    const from = el("span"), range = el("span"), to = el("span");
    axis.append(from, range, to);
    card.append(title, name, reading, limits, chart, axis);
    $("sensors").append(card);
    const sensor = { name: info.name, card, title, nameLine: name, value, level, limits, chart, trace, lines,
                     from, range, to, points: [], reading: null, levelSeq: 0, info: null };
    state.sensors.set(info.name, sensor);
    return sensor;
  }

  // What /api/v1/sensors says of each: its label, limits and level; and the newest reading.
  function applySensors(info) {
    const names = new Set(info.sensors.map((s) => s.name));
    for (const [name, sensor] of state.sensors)
      if (!names.has(name)) {
        sensor.card.remove();
        state.sensors.delete(name);
      }
    for (const s of info.sensors) {
      const sensor = state.sensors.get(s.name) || addSensor(s);
      sensor.info = s;
      $("sensors").append(sensor.card);   // in the server's order
      sensor.title.textContent = s.label || s.name;
      sensor.nameLine.textContent = s.label ? `${s.name} · ${s.source}` : s.source;
      const limits = [["low", s.limits.low], ["high", s.limits.high], ["crit", s.limits.crit]]
        .filter(([, v]) => v !== null).map(([k, v]) => `${k} ${celsius(v, 1)}`);
      sensor.limits.textContent = limits.length ? limits.join(" · ") : "no limits";
      // Unless the stream has told newer already: an alarm, or a tick.
      const seq = s.reading ? s.reading.seq : 0;
      if (sensor.levelSeq <= seq) setLevel(sensor, s.level);
      if (s.reading && !(sensor.reading && sensor.reading.seq > seq))
        setReading(sensor, { sensor: s.name, ...s.reading });
    }
    document.title = `${info.host} — thermo`;
    $("host").textContent = info.host;
    $("server").textContent = `${info.server} ${info.version} on ${info.host}, a reading every ` +
      (info.interval_ms >= 1000 ? `${info.interval_ms / 1000} s` : `${info.interval_ms} ms`);
    state.windowMs = info.history_ms > 0 ? info.history_ms : WINDOW_MS;
  }

  function setLevel(sensor, level) {
    sensor.card.dataset.level = level;
    sensor.level.dataset.level = level;
    sensor.level.textContent = level;
  }

  function setReading(sensor, r) {
    sensor.reading = r;
    const available = r.celsius !== null;
    sensor.card.dataset.available = available;
    sensor.value.textContent = available ? celsius(r.celsius, 1) : "no reading";
    if (available) sensor.value.dataset.celsius = r.celsius;
    else delete sensor.value.dataset.celsius;
    sensor.value.title = available ? `${celsius(r.celsius, 3)} at ${time(r.time_ms)}` : `none at ${time(r.time_ms)}`;
  }

  function addPoint(sensor, r) {
    const points = sensor.points;
    if (points.length && r.time_ms <= points[points.length - 1][0]) return;   // had it already
    points.push([r.time_ms, r.celsius]);
    const oldest = r.time_ms - state.windowMs;
    let drop = 0;
    while (drop < points.length && points[drop][0] < oldest) drop++;
    if (drop) points.splice(0, drop);
  }

  // The chart: the readings held, a gap where there was none, and each limit near enough to be drawn.
  function draw(sensor) {
    const points = sensor.points;
    const values = points.map((p) => p[1]).filter((v) => v !== null);
    const limits = sensor.info ? sensor.info.limits : {};
    if (!values.length) {
      sensor.trace.setAttribute("d", "");
      sensor.lines.replaceChildren();
      sensor.from.textContent = sensor.range.textContent = sensor.to.textContent = "";
      return;
    }
    let low = Math.min(...values), high = Math.max(...values);
    const reach = Math.max(10, 2 * (high - low));
    for (const k of ["low", "high", "crit"]) {
      const v = limits[k];
      if (v !== null && v !== undefined && v > low - reach && v < high + reach) {
        low = Math.min(low, v);
        high = Math.max(high, v);
      }
    }
    const pad = Math.max(0.5, (high - low) * 0.1);
    low -= pad;
    high += pad;
    const end = points[points.length - 1][0], start = Math.min(points[0][0], end - 1000);
    const x = (t) => ((t - start) / (end - start) * WIDTH).toFixed(1);
    const y = (v) => ((high - v) / (high - low) * HEIGHT).toFixed(1);
    let d = "", pen = false;
    for (const [t, v] of points) {
      if (v === null) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${x(t)} ${y(v)}`;
      pen = true;
    }
    sensor.trace.setAttribute("d", d);
    sensor.lines.replaceChildren();
    for (const k of ["low", "high", "crit"]) {
      const v = limits[k];
      if (v === null || v === undefined || v < low || v > high) continue;
      const line = svg("line", { class: `limit ${k}`, x1: 0, x2: WIDTH, y1: y(v), y2: y(v) });
      line.append(svg("title", {}));
      line.firstChild.textContent = `${k} ${celsius(v, 1)}`;
      sensor.lines.append(line);
    }
    sensor.chart.setAttribute("aria-label", `${sensor.title.textContent}: ${values.length} readings from ` +
      `${celsius(Math.min(...values), 1)} to ${celsius(Math.max(...values), 1)}`);
    sensor.from.textContent = time(start);
    sensor.range.textContent = `${celsius(low + pad, 1)} – ${celsius(high - pad, 1)}`;
    sensor.to.textContent = time(end);
  }

  // Drawn once a frame at most, however fast ticks come.
  function redraw() {
    if (state.drawing) return;
    state.drawing = true;
    requestAnimationFrame(() => {
      state.drawing = false;
      for (const sensor of state.sensors.values()) draw(sensor);
    });
  }

  function take(r) {
    const sensor = state.sensors.get(r.sensor);
    if (!sensor) return false;
    addPoint(sensor, r);
    setReading(sensor, r);
    return true;
  }

  function onTick(tick) {
    let known = true;
    for (const r of tick.readings) known = take(r) && known;
    if (tick.seq !== null) {
      state.seq = tick.seq;
      document.body.dataset.seq = tick.seq;
    }
    // A sensor the page has no card for: the server found new ones (a rescan).
    if (!known) refreshSensors();
    redraw();
  }

  function onAlarm(alarm) {
    const sensor = state.sensors.get(alarm.sensor);
    if (!sensor) return;
    sensor.levelSeq = alarm.seq;
    setLevel(sensor, alarm.level);
  }

  async function getJSON(path) {
    const response = await fetch(path, { cache: "no-store" });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  }

  async function refreshSensors() {
    if (state.refreshing) return;
    state.refreshing = true;
    try {
      applySensors(await getJSON("/api/v1/sensors"));
    } catch (e) {
      // The stream's error says the server went, if it did.
    } finally {
      state.refreshing = false;
    }
  }

  // Every held reading newer than the page has: at the start, and from a server that started afresh.
  async function loadHistory() {
    const history = await getJSON("/api/v1/history");
    for (const r of history.readings) {
      const sensor = state.sensors.get(r.sensor);
      if (sensor) addPoint(sensor, r);
    }
    state.seq = history.newest_seq;
  }

  async function connect() {
    if (state.lostAt) setStatus("gone", `Server gone since ${time(state.lostAt)}, connecting…`);
    else setStatus("connecting", "Connecting…");
    try {
      const info = await getJSON("/api/v1/sensors");
      // A server that started afresh counts from 1 again, and has none of the ticks after ours.
      const afresh = state.seq === null || info.run !== state.run;
      if (afresh)
        for (const sensor of state.sensors.values()) {
          sensor.levelSeq = 0;
          sensor.reading = null;
        }
      state.run = info.run;
      applySensors(info);
      if (afresh) await loadHistory();
      redraw();
      openStream();
    } catch (e) {
      lost();
    }
  }

  function openStream() {
    const source = new EventSource(`/api/v1/events?after=${state.seq}`);
    state.source = source;
    source.onopen = () => {
      // Alarms are not replayed: a level that changed since the sensors were read is read again.
      refreshSensors();
      state.retries = 0;
      setStatus("live", state.lostAt ? `Live, back since ${time(Date.now())}` : "Live");
      state.lostAt = null;
    };
    source.onmessage = (event) => onTick(JSON.parse(event.data));
    source.addEventListener("alarm", (event) => onAlarm(JSON.parse(event.data)));
    // Gone, or stopped (a restart ends each stream): the page tries again itself, from its own last tick.
    source.onerror = () => {
      source.close();
      if (state.source === source) lost();
    };
  }

  function lost() {
    state.source = null;
    if (!state.lostAt) state.lostAt = Date.now();
    const wait = RETRY_MS[Math.min(state.retries++, RETRY_MS.length - 1)];
    setStatus("gone", `Server gone since ${time(state.lostAt)}, trying again`);
    setTimeout(connect, wait);
  }

  connect();
})();
