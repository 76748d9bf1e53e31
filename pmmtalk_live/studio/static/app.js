// The studio page: the face the sinks drive, its meters, the preset editor, session control and playback.
//
//   /ws frames (binary) --> frame queue --> requestAnimationFrame: the frame due now --> face, plot
//   /ws "curves" --> the editor's live values; "meters" --> latency, real-time factor, dropped frames,
//   recording, preset state
//   controls --> /api/preset (editor.js), /api/command (the remote-control commands), /api/takes
//
// Timing: each frame carries its number; frame n is shown at (n / fps) after the stream's clock anchor,
// a short delay behind the newest frame received, so network jitter does not make the face stutter.

import {FacePreview, NAMES} from "./face.js";
import {PresetEditor, el, request} from "./editor.js";
import {ScrollingPlot} from "./plot.js";

const DELAY_MS = 80;          // how far behind the newest frame the face is drawn (frames come 20 times a second)
const REANCHOR_MS = 500;      // a frame this far from where the clock expects it restarts the clock
const MAX_QUEUE = 600;

const SOURCES = NAMES.map(n => n[0].toLowerCase() + n.slice(1));
const $ = id => document.getElementById(id);

const face = new FacePreview($("face"));
const plot = new ScrollingPlot($("plot"));
const editor = new PresetEditor($("editor"), SOURCES, showMessage);
window.studio = {face, plot, editor, state: null, shown: null};  // for scripts and tests poking at the page

let queue = [];               // live frames waiting for their time: {n, wire, aperture, level}
let anchor = null;            // performance.now() at which frame 0 is due
let fps = 60;
let presetVersion = -1;
let playback = null;          // {take, audio, clock} while a take plays

async function main() {
  const state = await request("GET", "/api/state");
  window.studio.state = state;
  $("takes-folder").textContent = state.takes_folder;
  if (state.mode === "live") {
    fps = state.fps;
    plot.resize(fps);
    $("mode").textContent = `live · ${state.animator} · ${fps} fps`;
    await Promise.all([loadPreset(state.preset), loadPresetList()]);
    showEmotions(state.emotions, state.emotion);
    connect();
  } else {
    $("mode").textContent = "playback";
    for (const id of ["tune-panel"]) $(id).hidden = true;
    for (const id of ["preset-select", "preset-switch", "record-start", "record-stop", "slate", "take",
                      "emotion-select", "emotion-intensity"]) $(id).disabled = true;
  }
  wireControls();
  await loadTakes();
  if (state.open_take) await openTake(state.open_take);
  requestAnimationFrame(tick);
}

// --- the live feed -------------------------------------------------------------------------------------

function connect() {
  const socket = new WebSocket(`ws://${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => { $("connection").textContent = "connected"; $("connection").className = "badge ok"; };
  socket.onclose = () => {
    $("connection").textContent = "disconnected: retrying";
    $("connection").className = "badge warn";
    anchor = null;
    setTimeout(connect, 1000);
  };
  socket.onmessage = event => {
    if (event.data instanceof ArrayBuffer) return onFrames(event.data);
    const message = JSON.parse(event.data);
    if (message.type === "curves") editor.showValues(message.names, message.outputs, message.sources);
    else if (message.type === "meters") onMeters(message);
  };
}

// A frames message (studio/feed.py, FrameView): int32 count, float32 fps, float32 level (dB), then
// int32 numbers[count], float32 values[count * 61], float32 aperture[count]; little-endian.
function onFrames(buffer) {
  const head = new DataView(buffer);
  const count = head.getInt32(0, true), rate = head.getFloat32(4, true), level = head.getFloat32(8, true);
  const numbers = new Int32Array(buffer, 12, count);
  const values = new Float32Array(buffer, 12 + 4 * count, count * NAMES.length);
  const apertures = new Float32Array(buffer, 12 + 4 * count * (1 + NAMES.length), count);
  const now = performance.now();
  for (let i = 0; i < count; i++) {
    const n = numbers[i];
    const due = anchor === null ? null : anchor + (n / rate) * 1000;
    if (due === null || Math.abs(due - (now + DELAY_MS)) > REANCHOR_MS) anchor = now + DELAY_MS - (n / rate) * 1000;
    queue.push({n, wire: values.subarray(i * NAMES.length, (i + 1) * NAMES.length), aperture: apertures[i], level});
  }
  if (queue.length > MAX_QUEUE) queue = queue.slice(-MAX_QUEUE);
}

function onMeters(m) {
  const show = (id, value, digits = 0) => { $(id).textContent = value === null ? "–" : value.toFixed(digits); };
  show("lat50", m.latency_p50_ms);
  show("lat95", m.latency_p95_ms);
  show("rtf", m.real_time_factor, 2);
  show("level", m.level_db);
  $("sent").textContent = m.frames_sent;
  $("dropped").textContent = m.frames_dropped;
  $("rec").hidden = !m.recording;
  if (m.recording) $("rec").textContent = `● REC ${m.recording.take} ${(m.recording.frames / fps).toFixed(0)} s`;
  showPresetState(m.preset);
  $("emotion-shown").textContent = m.emotion;
  if (m.preset.version !== presetVersion) loadPreset(m.preset);
}

function tick() {
  if (playback) {
    drawPlayback();
  } else if (anchor !== null && queue.length) {
    const due = Math.floor(((performance.now() - anchor) / 1000) * fps);
    let frame = null;
    while (queue.length && queue[0].n <= due) {
      frame = queue.shift();
      plot.push(frame.aperture, frame.level);
    }
    if (frame) show(frame.wire);
  }
  plot.draw();
  requestAnimationFrame(tick);
}

function show(wire) {
  face.draw(wire);
  window.studio.shown = Array.from(wire);
}

// --- the preset ----------------------------------------------------------------------------------------

async function loadPreset(presetState) {
  presetVersion = presetState.version;
  editor.show(await request("GET", "/api/preset"));
  showPresetState(presetState);
}

function showPresetState(p) {
  $("preset-name").textContent = p.name;
  $("preset-changed").hidden = !p.changed;
  $("undo").disabled = p.undo === 0;
  for (const radio of document.querySelectorAll("input[name=ab]")) radio.checked = radio.value === p.showing;
  $("preset-select").value = p.name;
}

function showMessage(text, isError) {
  const box = $("message");
  box.textContent = text;
  box.className = isError ? "error" : "ok";
}

async function presetAction(action, body = {}) {
  try {
    const answer = await request("POST", `/api/preset/${action}`, body);
    if (answer.saved) {
      showMessage(`saved to ${answer.saved}`, false);
      await loadPresetList();
      await loadPreset(answer.state);
    } else {
      editor.show(answer);
      showMessage(action === "compare" ? `playing the ${body.use} preset` : `${action} done`, false);
    }
  } catch (error) {
    showMessage(error.message, true);
  }
}

async function loadPresetList() {
  const presets = await request("GET", "/api/presets");
  $("preset-select").replaceChildren(...presets.map(p =>
    el("option", {value: p.name, title: p.error || p.description}, [p.error ? `${p.name} (broken)` : p.name])));
  if (window.studio.state?.preset) $("preset-select").value = window.studio.state.preset.name;
}

// --- session control: the remote-control commands --------------------------------------------------------

async function command(address, args = []) {
  try {
    const answer = await request("POST", "/api/command", {address, args});
    showMessage(`${address}${answer.reply.length ? ": " + answer.reply.slice(1).join(" ") : ""}`, false);
    return answer;
  } catch (error) {
    showMessage(`${address}: ${error.message}`, true);
    return null;
  }
}

function wireControls() {
  $("undo").onclick = () => presetAction("undo");
  $("revert").onclick = () => presetAction("revert");
  $("save").onclick = () => presetAction("save");
  $("save-as").onclick = () => presetAction("save", {name: $("save-name").value.trim()});
  for (const radio of document.querySelectorAll("input[name=ab]")) {
    radio.onchange = () => presetAction("compare", {use: radio.value});
  }
  $("preset-switch").onclick = () => command("/Preset", [$("preset-select").value]);
  $("record-start").onclick = async () => {
    const take = $("take").value.trim();
    const args = [$("slate").value.trim() || "studio", ...(take ? [Number(take)] : [])];
    if (await command("/RecordStart", args)) $("take").value = "";
  };
  $("record-stop").onclick = async () => { if (await command("/RecordStop")) loadTakes(); };
  $("takes-refresh").onclick = loadTakes;
  $("playback-close").onclick = closeTake;
  const scrub = $("playback-scrub");
  scrub.oninput = () => {
    if (!playback) return;
    const t = Number(scrub.value) * playback.take.duration_s;
    if (playback.audio.src) playback.audio.currentTime = t; else playback.clock = {start: performance.now() - t * 1000, paused: true};
  };
}

function showEmotions(names, current) {
  $("emotion-select").replaceChildren(...names.map(n => el("option", {value: n}, [n])));
  $("emotion-select").value = current.name;
  $("emotion-intensity").value = current.intensity || 0.6;
  const send = () => command("/Emotion", [$("emotion-select").value, Number($("emotion-intensity").value)]);
  $("emotion-select").onchange = send;
  $("emotion-intensity").onchange = send;
}

async function loadTakes() {
  const takes = await request("GET", "/api/takes");
  $("takes").replaceChildren(...takes.map(t => {
    const play = el("button", {type: "button", "data-take": t.csv}, ["▶ play"]);
    play.onclick = () => openTake(t.csv);
    const links = [el("a", {href: `/takes/${encodeURIComponent(t.csv)}`, download: t.csv}, ["csv"])];
    if (t.wav) links.push(" ", el("a", {href: `/takes/${encodeURIComponent(t.wav)}`, download: t.wav}, ["wav"]));
    return el("li", {}, [play, " ", t.csv, " ", el("span", {class: "dim"}, links)]);
  }));
}

// --- playback of a recorded take ----------------------------------------------------------------------------

async function openTake(name) {
  let take;
  try {
    take = await request("GET", `/api/takes/${encodeURIComponent(name)}`);
  } catch (error) {
    showMessage(error.message, true);
    return;
  }
  const audio = $("playback-audio");
  audio.removeAttribute("src");
  if (take.wav) audio.src = `/takes/${encodeURIComponent(take.wav)}`;
  playback = {take, audio, clock: take.wav ? null : {start: performance.now(), paused: false}};
  plot.resize(take.fps);
  $("playback").hidden = false;
  $("playback-name").textContent = take.csv + (take.wav ? "" : " (no audio)");
  $("playback-duration").textContent = `${take.duration_s.toFixed(2)} s`;
  if (take.wav) audio.play().catch(() => showMessage("press play to hear the take", false));
}

function closeTake() {
  if (!playback) return;
  playback.audio.pause();
  playback = null;
  $("playback").hidden = true;
  plot.resize(fps);
}

function playbackTime() {
  const {audio, clock, take} = playback;
  if (!clock) return audio.currentTime;
  return Math.min(take.duration_s, (performance.now() - clock.start) / 1000);
}

function drawPlayback() {
  const {take} = playback;
  if (!take.frames) return;
  const t = playbackTime();
  const index = Math.max(0, Math.min(take.frames - 1, Math.floor(t * take.fps)));
  if (index !== playback.index) {
    playback.index = index;
    show(take.wire[index]);
    plot.push(take.aperture[index], -60);
  }
  $("playback-time").textContent = `${t.toFixed(2)} s`;
  if (document.activeElement !== $("playback-scrub")) $("playback-scrub").value = take.duration_s ? t / take.duration_s : 0;
}

main().catch(error => showMessage(`cannot start the studio: ${error.message}`, true));
