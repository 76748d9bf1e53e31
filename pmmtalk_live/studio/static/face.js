// The studio's face preview: a 2D vector face drawn on a canvas from the 61 Live Link Face values.
//
// Everything is drawn in face units: x from the character's right (-1) to its left (+1), so the
// character's left is the viewer's right; y grows downwards, the eyes sit near y = 0 and the chin
// near y = 1.2. Points on the face's front get a depth from a head-shaped ellipsoid, so head yaw and
// pitch move near features more than far ones (the far side compresses); roll turns the whole head
// about the top of the neck. No animation loop: the page calls draw() once per frame it receives.
// docs/studio-face.md says which shape moves what.

export const NAMES = Object.freeze([
  "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft",
  "EyeSquintLeft", "EyeWideLeft",
  "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
  "EyeSquintRight", "EyeWideRight",
  "JawForward", "JawLeft", "JawRight", "JawOpen",
  "MouthClose", "MouthFunnel", "MouthPucker", "MouthLeft", "MouthRight",
  "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft", "MouthFrownRight",
  "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
  "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper",
  "MouthPressLeft", "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight",
  "MouthUpperUpLeft", "MouthUpperUpRight",
  "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight",
  "CheekPuff", "CheekSquintLeft", "CheekSquintRight",
  "NoseSneerLeft", "NoseSneerRight",
  "TongueOut",
  "HeadYaw", "HeadPitch", "HeadRoll",
  "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
  "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
]);  // pmmtalk_live/rig.py LIVE_LINK_FACE_NAMES, wire order

const NUM_BLENDSHAPES = 52;  // the rest are signed rotations in radians
const MAX_ROTATION_RAD = 0.8;
const LIP_GAP_PER_APERTURE = 0.42;  // face units between the lips per unit of rig.lip_aperture
const VIEW = { width: 3.0, height: 3.15, top: -1.56 };  // the face-unit box the canvas fits
const MOUTH_Y = 0.64;
const NECK_PIVOT = [0, 1.0];  // roll turns the head about this point

// Side: +1 is the character's left (the viewer's right), -1 its right.
const SIDES = [{ sign: -1, name: "Right", eye: "RightEye" }, { sign: 1, name: "Left", eye: "LeftEye" }];

const COLOR = {
  skin: "#efc3a0", skinLight: "#f8dcc3", skinShade: "#c98f6e", outline: "#a66a4e",
  neck: "#dcaa88", shirt: "#3f6076", shirtEdge: "#2c4558",
  hair: "#5b3b2b", hairLight: "#6b4636", brow: "#4a2f22", lash: "#2a1a14",
  eyeWhite: "#f6f3ee", iris: "#3d7fae", irisDark: "#22506f", irisFleck: "#8fc1dc", pupil: "#0e0e14",
  catchLight: "rgba(255,255,255,0.9)", lidShadow: "rgba(90,50,40,0.35)", lowerLash: "rgba(110,60,45,0.55)",
  nostril: "rgba(90,40,35,0.85)",
  upperLip: "#b4555a", lowerLip: "#c9686a", lipLine: "#6e2a30", lipShine: "rgba(255,210,205,0.45)",
  mouth: "#2a0a12", gum: "#c9636d", teeth: "#f3efe6", toothLine: "#c9c2b4", tongue: "#d26f78",
  tongueGroove: "#a24a55", crease: "rgba(140,80,55,", blush: "rgba(235,120,110,",
};

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const lerp = (a, b, t) => a + (b - a) * t;

/** Non-finite -> 0; blendshapes clamped to 0..1, rotations to +-MAX_ROTATION_RAD. Returns {name: value}. */
function readValues(values) {
  const shape = {};
  NAMES.forEach((name, i) => {
    const v = Number(values?.[i]);
    const limit = i < NUM_BLENDSHAPES ? [0, 1] : [-MAX_ROTATION_RAD, MAX_ROTATION_RAD];
    shape[name] = Number.isFinite(v) ? clamp(v, limit[0], limit[1]) : 0;
  });
  return shape;
}

// How far each lip leaves the closed seam, in face units: the ARKit convention of rig.lip_aperture.
const jawGap = (s) => clamp(s.JawOpen - s.MouthClose, 0, 1) * LIP_GAP_PER_APERTURE;
const lowerDrop = (s, side) => jawGap(s) + 0.5 * LIP_GAP_PER_APERTURE * s["MouthLowerDown" + side];
const upperLift = (s, side) => 0.5 * LIP_GAP_PER_APERTURE * s["MouthUpperUp" + side];

/** The drawn distance between the lips at the middle of the mouth, in face units; 0 when they meet. */
export function lipGap(values) {
  const s = readValues(values);
  return (lowerDrop(s, "Left") + lowerDrop(s, "Right") + upperLift(s, "Left") + upperLift(s, "Right")) / 2;
}

/** Depth of the face's front at (x, y): an ellipsoid, 0 at the silhouette. */
function depthAt(x, y) {
  return 0.85 * Math.sqrt(Math.max(0, 1 - (x / 1.1) ** 2 - ((y - 0.1) / 1.5) ** 2));
}

/** Head yaw and pitch as a projection of face points to view points (face units). */
class Pose {
  constructor(yaw, pitch) {
    [this.cosYaw, this.sinYaw, this.cosPitch, this.sinPitch] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch)];
  }

  /** A point on the face's front, raised by dz above the ellipsoid (the nose). */
  front(x, y, dz = 0) {
    const z = depthAt(x, y) + dz;
    const turnedDepth = z * this.cosYaw - x * this.sinYaw;
    return [x * this.cosYaw + z * this.sinYaw, y * this.cosPitch + turnedDepth * this.sinPitch];
  }

  /** A point of the silhouette (outline, ears, hair): it slides with depth z but keeps its width. */
  edge(x, y, z) {
    return [x + z * this.sinYaw, y * this.cosPitch + z * this.sinPitch];
  }
}

/** A smooth Catmull-Rom curve through points, as Bezier segments; continues the path unless move. */
function curve(ctx, pts, { closed = false, move = true } = {}) {
  const n = pts.length;
  if (move) ctx.moveTo(pts[0][0], pts[0][1]);
  else ctx.lineTo(pts[0][0], pts[0][1]);
  const at = (i) => pts[closed ? (i + n) % n : clamp(i, 0, n - 1)];
  for (let i = 0; i < (closed ? n : n - 1); i++) {
    const [p0, p1, p2, p3] = [at(i - 1), at(i), at(i + 1), at(i + 2)];
    ctx.bezierCurveTo(p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6,
      p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6, p2[0], p2[1]);
  }
  if (closed) ctx.closePath();
}

function fillCurve(ctx, pts, fill) {
  ctx.beginPath();
  curve(ctx, pts, { closed: true });
  ctx.fillStyle = fill;
  ctx.fill();
}

function strokeCurve(ctx, pts, stroke, width) {
  ctx.beginPath();
  curve(ctx, pts);
  ctx.strokeStyle = stroke;
  ctx.lineWidth = width;
  ctx.stroke();
}

/** A closed region between two open curves that share their end points (a lip, the mouth opening). */
function region(ctx, outer, inner) {
  ctx.beginPath();
  curve(ctx, outer);
  curve(ctx, [...inner].reverse(), { move: false });
  ctx.closePath();
}

const crease = (alpha) => COLOR.crease + clamp(alpha, 0, 1).toFixed(3) + ")";

/** The jaw: how far the chin drops, slides (towards the character's left is +x) and comes forward. */
function jawPose(s) {
  return { drop: 0.3 * s.JawOpen, shift: 0.17 * (s.JawLeft - s.JawRight), forward: s.JawForward };
}

export class FacePreview {
  /** Draws the neutral face at once; draw(values) redraws it to fit the canvas's current size. */
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.draw([]);
  }

  /** values: 61 numbers in NAMES order (blendshapes 0..1, then 9 rotations in radians). */
  draw(values) {
    const s = readValues(values);
    const ctx = this.ctx;
    this.fitCanvas();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const unit = Math.min(this.canvas.width / VIEW.width, this.canvas.height / VIEW.height);
    ctx.setTransform(unit, 0, 0, unit, this.canvas.width / 2, -VIEW.top * unit);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    drawBody(ctx);
    ctx.translate(NECK_PIVOT[0], NECK_PIVOT[1]);
    ctx.rotate(s.HeadRoll);
    ctx.translate(-NECK_PIVOT[0], -NECK_PIVOT[1]);
    const pose = new Pose(s.HeadYaw, s.HeadPitch);
    const mouth = mouthShape(s, pose);
    drawHead(ctx, s, pose);
    drawCheeks(ctx, s, pose, mouth);
    for (const side of SIDES) drawEye(ctx, s, pose, side);
    for (const side of SIDES) drawBrow(ctx, s, pose, side);
    drawNose(ctx, s, pose);
    drawMouth(ctx, s, pose, mouth);
    drawHair(ctx, pose);
  }

  /** Backing store = CSS size x devicePixelRatio; pins the CSS size when no style sets it. */
  fitCanvas() {
    const canvas = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const cssWidth = canvas.clientWidth || canvas.width / dpr;
    const cssHeight = canvas.clientHeight || canvas.height / dpr;
    const [width, height] = [Math.max(1, Math.round(cssWidth * dpr)), Math.max(1, Math.round(cssHeight * dpr))];
    if (canvas.width === width && canvas.height === height) return;
    [canvas.width, canvas.height] = [width, height];
    if (canvas.clientWidth && canvas.clientWidth !== cssWidth) {
      canvas.style.width = `${cssWidth}px`;
      canvas.style.height = `${cssHeight}px`;
    }
  }
}

function drawBody(ctx) {
  ctx.beginPath();
  curve(ctx, [[-0.4, 0.6], [-0.43, 1.25], [-0.47, 1.75]]);
  curve(ctx, [[0.47, 1.75], [0.43, 1.25], [0.4, 0.6]], { move: false });
  ctx.closePath();
  ctx.fillStyle = COLOR.neck;
  ctx.fill();
  strokeCurve(ctx, [[-0.3, 1.3], [0, 1.4], [0.3, 1.3]], crease(0.35), 0.02);
  ctx.beginPath();
  curve(ctx, [[-1.7, 2.2], [-1.45, 1.7], [-0.9, 1.48], [-0.45, 1.42]]);
  curve(ctx, [[-0.45, 1.42], [0, 1.64], [0.45, 1.42]], { move: false });
  curve(ctx, [[0.45, 1.42], [0.9, 1.48], [1.45, 1.7], [1.7, 2.2]], { move: false });
  ctx.closePath();
  ctx.fillStyle = COLOR.shirt;
  ctx.fill();
  ctx.strokeStyle = COLOR.shirtEdge;
  ctx.lineWidth = 0.03;
  ctx.stroke();
}

/** The head's outline, clockwise from the crown; the chin and jaw follow the jaw, the cheeks puff. */
function headOutline(s, pose) {
  const jaw = jawPose(s);
  const puff = 0.13 * s.CheekPuff;
  const chinWiden = 1 + 0.3 * jaw.forward;
  const chinDrop = jaw.drop + 0.07 * jaw.forward;
  const side = (sign) => [
    pose.edge(sign * 0.72, -1.2, 0.15),
    pose.edge(sign * 0.98, -0.62, 0),
    pose.edge(sign * 1.0, -0.1, 0),
    pose.edge(sign * (0.97 + puff), 0.33, 0.05),
    pose.edge(sign * (0.8 + 0.6 * puff) + 0.55 * jaw.shift, 0.84 + 0.45 * jaw.drop, 0.15),
    pose.edge(sign * 0.4 * chinWiden + jaw.shift, 1.12 + chinDrop, 0.5 + 0.2 * jaw.forward),
  ];
  const left = side(1);
  const right = side(-1).reverse();
  return [pose.edge(0, -1.42, 0.3), ...left, pose.edge(jaw.shift, 1.19 + chinDrop, 0.6 + 0.2 * jaw.forward), ...right];
}

function drawHead(ctx, s, pose) {
  for (const sign of [-1, 1]) {  // ears first: the head hides the far one when it turns
    const ear = [[0.97, -0.24], [1.12, -0.22], [1.16, 0.0], [1.1, 0.22], [1.05, 0.33], [0.96, 0.3]]
      .map(([x, y]) => pose.edge(sign * x, y, -0.3));
    fillCurve(ctx, ear, COLOR.skinShade);
    strokeCurve(ctx, [[1.0, -0.16], [1.09, -0.12], [1.1, 0.06], [1.04, 0.18]].map(([x, y]) => pose.edge(sign * x, y, -0.3)),
      crease(0.6), 0.025);
  }
  const outline = headOutline(s, pose);
  const light = pose.front(-0.35, -0.5);
  const gradient = ctx.createRadialGradient(light[0], light[1], 0.1, light[0], light[1], 1.9);
  gradient.addColorStop(0, COLOR.skinLight);
  gradient.addColorStop(0.55, COLOR.skin);
  gradient.addColorStop(1, COLOR.skinShade);
  fillCurve(ctx, outline, gradient);
  ctx.strokeStyle = COLOR.outline;
  ctx.lineWidth = 0.02;
  ctx.stroke();
  const jaw = jawPose(s);
  if (jaw.forward > 0) {  // the chin comes towards the light
    const [x, y] = pose.front(jaw.shift, 1.02 + jaw.drop, 0.1);
    const radius = 0.2 + 0.08 * jaw.forward;
    const shine = ctx.createRadialGradient(x, y, 0, x, y, radius);
    shine.addColorStop(0, `rgba(255,240,228,${(0.55 * jaw.forward).toFixed(3)})`);
    shine.addColorStop(0.5, `rgba(255,240,228,${(0.35 * jaw.forward).toFixed(3)})`);
    shine.addColorStop(1, "rgba(255,240,228,0)");
    ctx.fillStyle = shine;
    ctx.fillRect(x - radius, y - radius, 2 * radius, 2 * radius);
  }
}

function drawHair(ctx, pose) {
  // Hairline and strands turn like the outline, with a depth that fades to 0 at the temples (x = +-1),
  // so the sideburns stay on the outline when the head turns.
  const onHead = ([x, y]) => pose.edge(x, y, depthAt(x, y) * (1 - x * x));
  const outer = [[-1.0, -0.15], [-1.04, -0.7], [-0.78, -1.3], [0, -1.53], [0.78, -1.3], [1.04, -0.7], [1.0, -0.15]]
    .map(([x, y]) => pose.edge(x, y, y < -1 ? 0.3 : 0));
  const hairline = [[-1.0, -0.15], [-0.92, -0.5], [-0.62, -0.78], [-0.22, -0.9], [-0.05, -0.8], [0.35, -0.85], [0.72, -0.72], [0.95, -0.48], [1.0, -0.15]].map(onHead);
  region(ctx, outer, hairline);
  ctx.fillStyle = COLOR.hair;
  ctx.fill();
  strokeCurve(ctx, [[-0.2, -0.9], [-0.45, -1.2], [-0.6, -1.35]].map(onHead), COLOR.hairLight, 0.025);
  strokeCurve(ctx, [[0.1, -0.85], [0.45, -1.15], [0.7, -1.22]].map(onHead), COLOR.hairLight, 0.025);
}

/** The lips' seam, inner edges and outer contours (view points), ordered from the character's right. */
function mouthShape(s, pose) {
  const jaw = jawPose(s);
  const cx = 0.13 * (s.MouthLeft - s.MouthRight) + 0.5 * jaw.shift;
  const cy = MOUTH_Y - 0.035 * s.MouthShrugLower;
  const narrow = (1 - 0.4 * s.MouthPucker - 0.25 * s.MouthFunnel) * (1 - 0.1 * s.MouthClose);
  const fullness = (1 + 0.45 * s.MouthFunnel + 0.3 * s.MouthPucker) * (1 - 0.35 * s.MouthClose);
  const upperThick = 0.085 * fullness * (1 - 0.9 * s.MouthRollUpper) * (1 + 1.0 * s.MouthShrugUpper);
  const lowerThick = 0.11 * fullness * (1 - 0.9 * s.MouthRollLower) * (1 + 0.4 * s.MouthShrugLower + 0.35 * jaw.forward);
  const openJaw = jawGap(s);
  const side = {};
  for (const { sign, name } of SIDES) {
    const smile = s["MouthSmile" + name], frown = s["MouthFrown" + name];
    const stretch = s["MouthStretch" + name], dimple = s["MouthDimple" + name];
    const halfWidth = 0.33 * narrow - 0.07 * openJaw + 0.07 * smile + 0.15 * dimple + 0.14 * stretch - 0.02 * frown;
    const cornerY = cy - 0.16 * smile - 0.03 * dimple + 0.16 * frown + 0.09 * stretch + 0.45 * openJaw;
    const press = 1 - 0.85 * s["MouthPress" + name];
    side[name] = {
      sign, halfWidth, press, dimple, frown, stretch,
      corner: [cx + sign * halfWidth, cornerY],
      upper: lerp(cornerY, cy - upperLift(s, name), 0.7),
      lower: lerp(cornerY, cy + lowerDrop(s, name), 0.7),
      sneer: 0.05 * s["NoseSneer" + name],
    };
  }
  const [R, L] = [side.Right, side.Left];
  const upperMid = cy - (upperLift(s, "Left") + upperLift(s, "Right")) / 2;
  const lowerMid = cy + (lowerDrop(s, "Left") + lowerDrop(s, "Right")) / 2;
  const at = (x, y) => pose.front(x, y);
  const sideX = (sd, f) => cx + sd.sign * f * sd.halfWidth;
  const upperInner = [R.corner, [sideX(R, 0.55), R.upper], [cx, upperMid], [sideX(L, 0.55), L.upper], L.corner];
  const lowerInner = [R.corner, [sideX(R, 0.55), R.lower], [cx, lowerMid], [sideX(L, 0.55), L.lower], L.corner];
  const bow = 0.8 + 0.18 * Math.max(s.MouthFunnel, s.MouthPucker);
  const middlePress = lerp(1, (R.press + L.press) / 2, 0.5);
  const peak = (sd) => [sideX(sd, 0.2), upperMid - upperThick * 1.05 * lerp(1, sd.press, 0.5) - sd.sneer];
  const upperOuter = [R.corner, [sideX(R, 0.6), R.upper - upperThick * R.press - R.sneer], peak(R),
    [cx, upperMid - upperThick * bow * middlePress], peak(L), [sideX(L, 0.6), L.upper - upperThick * L.press - L.sneer], L.corner];
  const lowerShift = 0.5 * jaw.shift;
  const lowerOuter = [R.corner, [sideX(R, 0.55) + lowerShift, R.lower + lowerThick * R.press * 0.85],
    [cx + lowerShift, lowerMid + lowerThick * middlePress], [sideX(L, 0.55) + lowerShift, L.lower + lowerThick * L.press * 0.85], L.corner];
  return {
    cx, cy, side, jaw, lowerMid,
    gapMax: Math.max(upperLift(s, "Left") + lowerDrop(s, "Left"), upperLift(s, "Right") + lowerDrop(s, "Right")),
    upperInner: upperInner.map(([x, y]) => at(x, y)),
    lowerInner: lowerInner.map(([x, y]) => at(x, y)),
    upperOuter: upperOuter.map(([x, y]) => at(x, y)),
    lowerOuter: lowerOuter.map(([x, y]) => at(x, y)),
    chinCrease: [[-0.16, 0.09], [0, 0.065], [0.16, 0.09]].map(([dx, dy]) => at(cx + lowerShift + dx, lowerMid + lowerThick + dy)),
  };
}

function drawMouth(ctx, s, pose, mouth) {
  if (mouth.gapMax > 1e-4) drawMouthInside(ctx, pose, mouth);
  region(ctx, mouth.lowerOuter, mouth.lowerInner);
  ctx.fillStyle = COLOR.lowerLip;
  ctx.fill();
  const [shineX, shineY] = pose.front(mouth.cx + mouth.jaw.shift * 0.5 - 0.05, mouth.lowerMid + 0.04);
  ctx.beginPath();
  ctx.ellipse(shineX, shineY, 0.07, 0.018, -0.1, 0, 2 * Math.PI);
  ctx.fillStyle = COLOR.lipShine;
  ctx.fill();
  if (s.TongueOut > 0) drawTongueOut(ctx, s, pose, mouth);
  region(ctx, mouth.upperOuter, mouth.upperInner);
  ctx.fillStyle = COLOR.upperLip;
  ctx.fill();
  strokeCurve(ctx, mouth.upperInner, COLOR.lipLine, 0.014);
  if (mouth.gapMax > 1e-4) strokeCurve(ctx, mouth.lowerInner, COLOR.lipLine, 0.008);
  strokeCurve(ctx, mouth.chinCrease, crease(0.25 + 0.45 * s.MouthShrugLower + 0.3 * s.JawForward), 0.018);
  for (const { name, sign } of SIDES) {
    const sd = mouth.side[name];
    const [x, y] = sd.corner;
    const at = (pts) => pts.map(([px, py]) => pose.front(px, py));
    if (sd.dimple > 0) {  // a crescent just outside the corner, and the dimple's dent
      strokeCurve(ctx, at([[x + sign * 0.04, y - 0.1], [x + sign * 0.09, y], [x + sign * 0.04, y + 0.1]]), crease(0.9 * sd.dimple), 0.032);
      const [dx, dy] = pose.front(x + sign * 0.14, y - 0.02);
      ctx.beginPath();
      ctx.ellipse(dx, dy, 0.025, 0.04, 0, 0, 2 * Math.PI);
      ctx.fillStyle = crease(0.5 * sd.dimple);
      ctx.fill();
    }
    if (sd.frown + sd.stretch > 0) {  // the corner pulls a line down towards the jaw
      strokeCurve(ctx, at([[x + sign * 0.02, y + 0.03], [x + sign * 0.05, y + 0.13], [x + sign * 0.06, y + 0.25]]),
        crease(0.8 * sd.frown + 0.6 * sd.stretch), 0.028);
    }
    if (sd.press < 1) {  // pressed lips bunch the skin beside the corner
      strokeCurve(ctx, at([[x + sign * 0.03, y - 0.06], [x + sign * 0.05, y], [x + sign * 0.03, y + 0.06]]), crease(4 * (1 - sd.press)), 0.022);
    }
  }
  if (s.MouthPucker > 0) {  // puckering wrinkles above the upper lip
    for (const dx of [-0.09, -0.03, 0.03, 0.09]) {
      const wrinkle = [[mouth.cx + dx, MOUTH_Y - 0.16], [mouth.cx + 0.9 * dx, MOUTH_Y - 0.1]];
      strokeCurve(ctx, wrinkle.map(([px, py]) => pose.front(px, py)), crease(0.6 * s.MouthPucker), 0.012);
    }
  }
}

/** Dark mouth, gums, teeth and the tongue, clipped to the opening between the lips. */
function drawMouthInside(ctx, pose, mouth) {
  ctx.save();
  region(ctx, mouth.upperInner, mouth.lowerInner);
  ctx.fillStyle = COLOR.mouth;
  ctx.fill();
  ctx.clip();
  const at = (x, y) => pose.front(x, y);
  const jaw = mouth.jaw;
  fillCurve(ctx, [[-0.3, MOUTH_Y - 0.4], [0.3, MOUTH_Y - 0.4], [0.3, MOUTH_Y - 0.11], [-0.3, MOUTH_Y - 0.11]].map(([x, y]) => at(x, y)), COLOR.gum);
  const upperTeeth = [[-0.24, MOUTH_Y - 0.13], [0.24, MOUTH_Y - 0.13], [0.22, MOUTH_Y + 0.03], [0, MOUTH_Y + 0.05], [-0.22, MOUTH_Y + 0.03]];
  ctx.beginPath();
  curve(ctx, upperTeeth.map(([x, y]) => at(x, y)), { closed: true });
  ctx.fillStyle = COLOR.teeth;
  ctx.fill();
  for (const x of [-0.14, -0.05, 0.05, 0.14]) strokeCurve(ctx, [at(x, MOUTH_Y - 0.05), at(x, MOUTH_Y + 0.04)], COLOR.toothLine, 0.007);
  const tongueY = MOUTH_Y + 0.06 + 0.85 * jaw.drop;
  const [tx, ty] = at(jaw.shift, tongueY);
  ctx.beginPath();
  ctx.ellipse(tx, ty, 0.17 * pose.cosYaw, 0.065, 0, 0, 2 * Math.PI);
  ctx.fillStyle = COLOR.tongue;
  ctx.fill();
  const lowerTop = MOUTH_Y + 0.03 + jaw.drop;
  const lowerTeeth = [[-0.2, lowerTop + 0.01], [0, lowerTop - 0.005], [0.2, lowerTop + 0.01], [0.2, lowerTop + 0.3], [-0.2, lowerTop + 0.3]];
  fillCurve(ctx, lowerTeeth.map(([x, y]) => at(x + jaw.shift, y)), COLOR.teeth);
  for (const x of [-0.1, 0, 0.1]) strokeCurve(ctx, [at(x + jaw.shift, lowerTop), at(x + jaw.shift, lowerTop + 0.07)], COLOR.toothLine, 0.006);
  ctx.restore();
}

function drawTongueOut(ctx, s, pose, mouth) {
  const top = mouth.cy - 0.02;
  const tip = mouth.lowerMid + 0.06 + 0.26 * s.TongueOut;
  const x = mouth.cx + 0.5 * mouth.jaw.shift;
  const halfWidth = 0.09 + 0.06 * s.TongueOut;
  const shape = [[x - halfWidth, top], [x - halfWidth * 1.05, lerp(top, tip, 0.6)], [x, tip], [x + halfWidth * 1.05, lerp(top, tip, 0.6)], [x + halfWidth, top]]
    .map(([px, py]) => pose.front(px, py));
  ctx.beginPath();
  curve(ctx, shape);
  ctx.closePath();
  ctx.fillStyle = COLOR.tongue;
  ctx.fill();
  ctx.strokeStyle = COLOR.tongueGroove;
  ctx.lineWidth = 0.01;
  ctx.stroke();
  strokeCurve(ctx, [pose.front(x, top + 0.02), pose.front(x, lerp(top, tip, 0.7))], COLOR.tongueGroove, 0.012);
}

function drawCheeks(ctx, s, pose, mouth) {
  for (const { sign, name } of SIDES) {
    const squint = s["CheekSquint" + name], smile = s["MouthSmile" + name];
    const [x, y] = pose.front(sign * (0.55 + 0.08 * s.CheekPuff), 0.33 - 0.1 * squint - 0.05 * smile);
    const radius = 0.24 * (1 + 0.45 * s.CheekPuff);
    const blush = ctx.createRadialGradient(x, y, 0, x, y, radius);
    blush.addColorStop(0, COLOR.blush + (0.3 + 0.25 * s.CheekPuff + 0.15 * squint).toFixed(3) + ")");
    blush.addColorStop(1, COLOR.blush + "0)");
    ctx.fillStyle = blush;
    ctx.fillRect(x - radius, y - radius, 2 * radius, 2 * radius);
    // The fold from the nose's wing to the mouth's corner: deeper with a smile, gone with a puff.
    const [cornerX, cornerY] = mouth.side[name].corner;
    const fold = [[sign * 0.19, 0.3 - 0.04 * s["NoseSneer" + name]], [sign * 0.3 + 0.03 * sign * squint, 0.48], [cornerX + sign * 0.08, cornerY + 0.05]]
      .map(([px, py]) => pose.front(px, py));
    strokeCurve(ctx, fold, crease((0.1 + 0.55 * smile + 0.25 * squint + 0.5 * s["NoseSneer" + name]) * (1 - s.CheekPuff)), 0.02);
    if (squint > 0) {  // the raised cheek's upper edge
      const cheekTop = [[sign * 0.26, 0.17], [sign * 0.47, 0.11], [sign * 0.7, 0.15]].map(([px, py]) => pose.front(px, py + 0.06 - 0.08 * squint));
      strokeCurve(ctx, cheekTop, crease(0.45 * squint), 0.02);
    }
  }
}

/** The character's eye on one side: white, iris that follows the look shapes and eye rotations, lids. */
function drawEye(ctx, s, pose, { sign, name, eye }) {
  const v = (shape) => s["Eye" + shape + name];
  const [ex, ey] = [sign * 0.4, -0.08];
  const cheekSquint = s["CheekSquint" + name];
  const lowerOpen = 0.08 * (1 - 0.6 * v("Squint") - 0.45 * cheekSquint);
  const pitch = s[eye + "Pitch"];  // positive looks down
  const [lookDown, lookUp] = [clamp(v("LookDown") + 2.5 * pitch, 0, 1), clamp(v("LookUp") - 2.5 * pitch, 0, 1)];
  const upperOpenAwake = 0.16 + 0.08 * v("Wide") - 0.03 * v("Squint") - 0.06 * lookDown + 0.025 * lookUp - 0.02 * cheekSquint;
  const upperOpen = lerp(upperOpenAwake, -lowerOpen, v("Blink"));
  const inner = [sign * 0.19, ey + 0.01], outer = [sign * 0.63, ey - 0.025];
  const along = (t) => lerp(inner[0], outer[0], t);
  // Bezier control points at the same places on both lids, so a blink closes the eye exactly.
  const upper = [inner, [along(0.3), ey - upperOpen * 1.28], [along(0.72), ey - upperOpen * 1.28], outer];
  const lower = [inner, [along(0.3), ey + lowerOpen * 1.28], [along(0.72), ey + lowerOpen * 1.28], outer];
  const at = (pts) => pts.map(([x, y]) => pose.front(x, y));
  const [up, low] = [at(upper), at(lower)];
  const irisX = clamp(sign * 0.14 * (v("LookOut") - v("LookIn")) + 0.45 * s[eye + "Yaw"], -0.15, 0.15);
  const irisY = clamp(0.08 * (v("LookDown") - v("LookUp")) + 0.3 * pitch, -0.09, 0.09);
  ctx.save();
  lidPath(ctx, up);
  ctx.bezierCurveTo(...low[2], ...low[1], ...low[0]);
  ctx.closePath();
  ctx.fillStyle = COLOR.eyeWhite;
  ctx.fill();
  ctx.clip();
  drawIris(ctx, pose.front(ex + irisX, ey + irisY - 0.005), 0.1, pose.cosYaw, s[eye + "Roll"]);
  lidPath(ctx, up);  // the upper lid's shadow on the eye
  ctx.strokeStyle = COLOR.lidShadow;
  ctx.lineWidth = 0.05;
  ctx.stroke();
  ctx.restore();
  lidPath(ctx, up);
  ctx.strokeStyle = COLOR.lash;
  ctx.lineWidth = 0.026;
  ctx.stroke();
  lidPath(ctx, low);
  ctx.strokeStyle = COLOR.lowerLash;
  ctx.lineWidth = 0.01;
  ctx.stroke();
  const creaseY = ey - upperOpenAwake * 1.05 - 0.06;
  strokeCurve(ctx, at([[sign * 0.24, creaseY + 0.04], [sign * 0.42, creaseY], [sign * 0.6, creaseY + 0.03]]), crease(0.45), 0.016);
  const underY = ey + lowerOpen * 1.2 + 0.07;
  strokeCurve(ctx, at([[sign * 0.27, underY - 0.01], [sign * 0.42, underY], [sign * 0.56, underY - 0.02]]), crease(0.2 + 0.5 * v("Squint")), 0.014);
}

/** Starts a path along one lid: a cubic Bezier from the inner to the outer corner. */
function lidPath(ctx, [from, c1, c2, to]) {
  ctx.beginPath();
  ctx.moveTo(...from);
  ctx.bezierCurveTo(...c1, ...c2, ...to);
}

/** Iris with a rotating pattern (so eye roll shows), pupil and a fixed catch-light. */
function drawIris(ctx, [x, y], radius, squeeze, roll) {
  ctx.beginPath();
  ctx.ellipse(x, y, radius * squeeze, radius, 0, 0, 2 * Math.PI);
  ctx.fillStyle = COLOR.iris;
  ctx.fill();
  ctx.save();
  ctx.translate(x, y);
  ctx.scale(squeeze, 1);
  ctx.rotate(roll);
  ctx.fillStyle = COLOR.irisDark;
  for (let k = 0; k < 6; k++) {  // wedges of the iris pattern
    const a = (k * Math.PI) / 3;
    ctx.beginPath();
    ctx.moveTo(0, 0);
    ctx.arc(0, 0, radius * 0.92, a, a + 0.42);
    ctx.closePath();
    ctx.fill();
  }
  ctx.beginPath();  // a fleck that makes the pattern one-sided
  ctx.arc(radius * 0.62, 0, radius * 0.2, 0, 2 * Math.PI);
  ctx.fillStyle = COLOR.irisFleck;
  ctx.fill();
  ctx.restore();
  ctx.beginPath();
  ctx.ellipse(x, y, radius * squeeze, radius, 0, 0, 2 * Math.PI);
  ctx.strokeStyle = COLOR.irisDark;
  ctx.lineWidth = 0.014;
  ctx.stroke();
  ctx.beginPath();
  ctx.arc(x, y, radius * 0.42, 0, 2 * Math.PI);
  ctx.fillStyle = COLOR.pupil;
  ctx.fill();
  ctx.beginPath();
  ctx.arc(x - radius * 0.35, y - radius * 0.4, radius * 0.17, 0, 2 * Math.PI);
  ctx.fillStyle = COLOR.catchLight;
  ctx.fill();
}

function drawBrow(ctx, s, pose, { sign, name }) {
  const down = s["BrowDown" + name], innerUp = s.BrowInnerUp, outerUp = s["BrowOuterUp" + name];
  const inner = [sign * (0.16 - 0.04 * down), -0.37 + 0.11 * down - 0.14 * innerUp];
  const mid = [sign * 0.4, -0.46 + 0.07 * down - 0.05 * innerUp - 0.09 * outerUp];
  const outer = [sign * (0.65 + 0.03 * outerUp), -0.39 + 0.05 * down - 0.2 * outerUp];
  const brow = [[inner[0], inner[1] - 0.04], [mid[0], mid[1] - 0.032], [outer[0], outer[1]],
    [mid[0], mid[1] + 0.03], [inner[0], inner[1] + 0.04]];
  fillCurve(ctx, brow.map(([x, y]) => pose.front(x, y)), COLOR.brow);
  if (down > 0) {  // a frown line between the brows
    strokeCurve(ctx, [[sign * 0.07, -0.38], [sign * 0.09, -0.28]].map(([x, y]) => pose.front(x, y)), crease(0.7 * down), 0.016);
  }
  if (innerUp > 0 && sign > 0) {  // forehead lines, once
    for (const y of [-0.58, -0.66]) {
      strokeCurve(ctx, [[-0.25, y + 0.02], [0, y - 0.02], [0.25, y + 0.02]].map(([px, py]) => pose.front(px, py)), crease(0.55 * innerUp), 0.014);
    }
  }
}

function drawNose(ctx, s, pose) {
  const at = (x, y, dz) => pose.front(x, y, dz);
  strokeCurve(ctx, [at(-0.12, -0.05, 0.02), at(-0.1, 0.12, 0.12), at(-0.09, 0.26, 0.15)], crease(0.3), 0.02);  // bridge shade
  const [tx, ty] = at(0, 0.3, 0.3);
  const tipLight = ctx.createRadialGradient(tx - 0.02, ty - 0.03, 0, tx, ty, 0.1);
  tipLight.addColorStop(0, "rgba(255,235,220,0.7)");
  tipLight.addColorStop(1, "rgba(255,235,220,0)");
  ctx.fillStyle = tipLight;
  ctx.fillRect(tx - 0.1, ty - 0.1, 0.2, 0.2);
  for (const { sign, name } of SIDES) {
    const sneer = s["NoseSneer" + name];
    const lift = 0.1 * sneer;
    const wing = [at(sign * 0.1, 0.22 - lift, 0.14), at(sign * 0.165 + sign * 0.02 * sneer, 0.31 - lift, 0.08), at(sign * 0.12, 0.38 - lift, 0.1), at(sign * 0.04, 0.39 - 0.5 * lift, 0.22)];
    strokeCurve(ctx, wing, crease(0.75), 0.02);
    const [nx, ny] = at(sign * 0.075, 0.365 - lift, 0.15);
    ctx.beginPath();
    ctx.ellipse(nx, ny, 0.035 + 0.012 * sneer, 0.018 + 0.008 * sneer, sign * 0.35, 0, 2 * Math.PI);
    ctx.fillStyle = COLOR.nostril;
    ctx.fill();
    if (sneer > 0) {  // the sneer's crease up the side of the nose
      strokeCurve(ctx, [at(sign * 0.17, 0.24 - lift, 0.05), at(sign * 0.2, 0.12, 0.03), at(sign * 0.19, 0.02, 0.02)], crease(0.6 * sneer), 0.02);
    }
  }
}
