// The preset editor: every field of the preset file as a control, grouped by face region, with the
// live value of each output curve and of the source channels behind it.
//
// A change becomes a merge patch of the preset file's own shape ({"outputs": {"JawOpen": {"gain": 0.9}}})
// sent with PATCH /api/preset. One request is in flight at a time; changes made meanwhile are merged and
// sent next, so dragging a slider never queues up stale requests. A refused change shows the server's
// message (the preset file's validation) and the control goes back to the value in use.

const FILTERS = {none: [], one_euro: ["min_cutoff_hz", "beta", "d_cutoff_hz"], spring: ["half_life_ms"]};
const REGION_ORDER = ["jaw", "lips", "cheeks", "nose", "eyes", "brows", "tongue", "head", "constant"];

export class PresetEditor {
  constructor(root, sources, onMessage) {
    this.root = root;
    this.sources = sources;          // every source channel name, camelCase, wire order
    this.onMessage = onMessage;      // (text, isError) => void
    this.doc = null;
    this.outputMeters = new Map();   // output name -> meter element
    this.sourceMeters = new Map();   // source name -> [meter elements]
    this.pending = null;             // merged changes not sent yet
    this.inFlight = false;
  }

  // --- building the controls ------------------------------------------------------------------

  show(doc) {
    this.doc = doc;
    this.outputMeters.clear();
    this.sourceMeters.clear();
    this.root.replaceChildren(this.descriptionBlock(), this.idleBlock(), this.expressionBlock(), ...this.regionBlocks());
  }

  descriptionBlock() {
    const input = el("input", {value: this.doc.description, size: 50, "data-path": "description"});
    input.addEventListener("change", () => this.change({description: input.value}));
    return el("div", {class: "row"}, [el("label", {}, ["description ", input])]);
  }

  idleBlock() {
    const idle = this.doc.idle;
    const rows = [];
    for (const [name, value] of Object.entries(idle)) {
      if (typeof value === "boolean") {
        const box = el("input", {type: "checkbox", "data-path": `idle.${name}`});
        box.checked = value;
        box.addEventListener("change", () => this.change({idle: {[name]: box.checked}}));
        rows.push(el("label", {class: "switch"}, [box, " " + name]));
      } else {
        rows.push(numberControl(`idle.${name}`, name, value, 0, 3, 0.05,
                                v => this.change({idle: {[name]: v}})));
      }
    }
    return el("details", {class: "group", open: ""}, [el("summary", {}, ["idle layer (blinks, gaze, head)"]), ...rows]);
  }

  expressionBlock() {
    const rows = Object.entries(this.doc.expression || {}).map(([name, value]) =>
      numberControl(`expression.${name}`, name, value, 0, name === "blend_ms" ? 2000 : 3, name === "blend_ms" ? 10 : 0.05,
                    v => this.change({expression: {[name]: v}})));
    return el("details", {class: "group"}, [el("summary", {}, ["expression layer and emotion (scales per region)"]), ...rows]);
  }

  regionBlocks() {
    const byRegion = new Map(REGION_ORDER.map(r => [r, []]));
    for (const [name, curve] of Object.entries(this.doc.outputs)) {
      byRegion.get(curve.region || "constant").push(name);
    }
    const blocks = [];
    for (const [region, names] of byRegion) {
      const smoothing = this.doc.smoothing[region];
      if (!names.length && !smoothing) continue;
      const children = [el("summary", {}, [`${region} `, el("span", {class: "dim"}, [`${names.length} curves`])])];
      if (smoothing) children.push(this.smoothingRow(region, smoothing));
      for (const name of names) children.push(this.curveBlock(name, this.doc.outputs[name]));
      blocks.push(el("details", {class: "group", "data-region": region}, children));
    }
    return blocks;
  }

  smoothingRow(region, smoothing) {
    const select = el("select", {"data-path": `smoothing.${region}.filter`},
                      Object.keys(FILTERS).map(f => el("option", {value: f}, [f])));
    select.value = smoothing.filter;
    select.addEventListener("change", () => {
      // a new filter needs its parameters: start from sensible values the user then tunes
      const defaults = {none: {}, one_euro: {min_cutoff_hz: 3, beta: 1, d_cutoff_hz: 1}, spring: {half_life_ms: 40}};
      this.change({smoothing: {[region]: {filter: select.value, min_cutoff_hz: null, beta: null, d_cutoff_hz: null,
                                          half_life_ms: null, ...defaults[select.value]}}}, true);
    });
    const params = FILTERS[smoothing.filter].map(p =>
      numberControl(`smoothing.${region}.${p}`, p, smoothing[p], 0, p === "half_life_ms" ? 500 : 20,
                    p === "half_life_ms" ? 1 : 0.05,
                    v => this.change({smoothing: {[region]: {filter: smoothing.filter, [p]: v}}})));
    return el("div", {class: "smoothing"}, [el("label", {}, ["smoothing ", select]), ...params]);
  }

  curveBlock(name, curve) {
    const meter = el("meter", {min: 0, max: 1, value: 0, title: name});
    this.outputMeters.set(name, meter);
    const head = el("div", {class: "curve-head"}, [el("b", {}, [name]), meter, el("span", {class: "num"}, [""])]);
    const set = (field, value) => this.change({outputs: {[name]: {[field]: value}}});
    const rows = [
      numberControl(`outputs.${name}.gain`, "gain", curve.gain, -2, 3, 0.01, v => set("gain", v)),
      numberControl(`outputs.${name}.offset`, "offset", curve.offset, -1, 1, 0.01, v => set("offset", v)),
      this.clampRow(name, curve.clamp),
    ];
    for (const [source, weight] of Object.entries(curve.mix)) rows.push(this.mixRow(name, source, weight));
    rows.push(this.addSourceRow(name, curve));
    return el("details", {class: "curve", "data-curve": name}, [el("summary", {}, [head]), ...rows]);
  }

  clampRow(name, clamp) {
    const none = clamp === "none";
    const low = el("input", {type: "number", step: 0.05, value: none ? 0 : clamp[0], "data-path": `outputs.${name}.clamp.0`});
    const high = el("input", {type: "number", step: 0.05, value: none ? 1 : clamp[1], "data-path": `outputs.${name}.clamp.1`});
    const off = el("input", {type: "checkbox", "data-path": `outputs.${name}.clamp.none`});
    off.checked = none;
    low.disabled = high.disabled = none;
    const send = () => {
      low.disabled = high.disabled = off.checked;
      this.change({outputs: {[name]: {clamp: off.checked ? "none" : [Number(low.value), Number(high.value)]}}});
    };
    for (const input of [low, high, off]) input.addEventListener("change", send);
    return el("div", {class: "control"}, [el("span", {class: "label"}, ["clamp"]), low, high,
                                          el("label", {}, [off, " none"])]);
  }

  mixRow(name, source, weight) {
    const meter = el("meter", {min: 0, max: 1, value: 0, title: source});
    if (!this.sourceMeters.has(source)) this.sourceMeters.set(source, []);
    this.sourceMeters.get(source).push(meter);
    const remove = el("button", {type: "button", title: `remove ${source} from ${name}`}, ["×"]);
    remove.addEventListener("click", () => this.change({outputs: {[name]: {mix: {[source]: null}}}}, true));
    const control = numberControl(`outputs.${name}.mix.${source}`, `× ${source}`, weight, -2, 2, 0.05,
                                  v => this.change({outputs: {[name]: {mix: {[source]: v}}}}));
    control.append(meter, remove);
    return control;
  }

  addSourceRow(name, curve) {
    const select = el("select", {"data-path": `outputs.${name}.mix.+`},
                      [el("option", {value: ""}, ["+ add a source"]),
                       ...this.sources.filter(s => !(s in curve.mix)).map(s => el("option", {value: s}, [s]))]);
    select.addEventListener("change", () => {
      if (select.value) this.change({outputs: {[name]: {mix: {[select.value]: 1}}}}, true);
    });
    return el("div", {class: "control"}, [select]);
  }

  // --- live values ------------------------------------------------------------------------------

  showValues(names, outputs, sources) {
    names.forEach((name, i) => {
      const meter = this.outputMeters.get(name);
      if (!meter) return;
      const value = outputs[i];
      meter.value = Math.min(1, Math.abs(value));
      meter.nextSibling.textContent = value.toFixed(2);
    });
    this.sources.forEach((source, i) => {
      for (const meter of this.sourceMeters.get(source) || []) meter.value = Math.min(1, Math.abs(sources[i]));
    });
  }

  // --- changes ------------------------------------------------------------------------------------

  change(patch, rebuild = false) {
    this.pending = merge(this.pending || {}, patch);
    this.rebuildAfter = this.rebuildAfter || rebuild;
    if (!this.inFlight) this.flush();
  }

  async flush() {
    const patch = this.pending, rebuild = this.rebuildAfter;
    this.pending = null;
    this.rebuildAfter = false;
    this.inFlight = true;
    try {
      const answer = await request("PATCH", "/api/preset", patch);
      this.doc = answer;
      this.onMessage("applied", false);
      if (rebuild) this.show(answer);
    } catch (error) {
      this.onMessage(error.message, true);
      this.show(this.doc);  // back to the values in use
    } finally {
      this.inFlight = false;
    }
    if (this.pending) this.flush();
  }
}

// --- helpers shared with app.js ---------------------------------------------------------------------

export async function request(method, url, body) {
  const init = {method, headers: {}};
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const answer = await response.json().catch(() => ({error: `${response.status} ${response.statusText}`}));
  if (!response.ok) throw new Error(answer.error || `${response.status}`);
  return answer;
}

export function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "value") node.value = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function merge(target, patch) {
  for (const [key, value] of Object.entries(patch)) {
    if (value && typeof value === "object" && !Array.isArray(value) &&
        target[key] && typeof target[key] === "object" && !Array.isArray(target[key])) {
      merge(target[key], value);
    } else {
      target[key] = value;
    }
  }
  return target;
}

// A slider with a number box beside it; both edit the same value. `onChange` gets a finite number.
function numberControl(path, label, value, min, max, step, onChange) {
  const slider = el("input", {type: "range", min: Math.min(min, value), max: Math.max(max, value), step,
                              value, "data-path": path});
  const box = el("input", {type: "number", step, value, "data-path": path + ".number"});
  slider.addEventListener("input", () => { box.value = slider.value; onChange(Number(slider.value)); });
  box.addEventListener("change", () => {
    const number = Number(box.value);
    if (box.value.trim() === "" || !Number.isFinite(number)) return;
    slider.value = number;
    onChange(number);
  });
  return el("div", {class: "control"}, [el("span", {class: "label"}, [label]), slider, box]);
}
