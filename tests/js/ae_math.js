// How After Effects evaluates what a script builds: keyframe interpolation and easing,
// which footage frame a layer shows, and where a camera looks. The DOM model
// (ae_dom.js) uses these for Property.valueAtTime, Layer.activeAtTime and its frame
// evaluation; tests/e2e/test_crosscheck.py holds them against aebridge's preview.
//
// Written from these sources, not from aebridge's Python (the point of the
// cross-check is that two independent readings agree):
// - After Effects Scripting Guide (ae-scripting.docsforadobe.dev): KeyframeEase
//   (speed in the property's units per second, influence 0.1..100 %, "as shown in the
//   Keyframe Velocity dialog box"), Property.setTemporalEaseAtKey (one ease per
//   dimension for TwoD/ThreeD, one for spatial and 1-D values), Layer.activeAtTime
//   (enabled, and time between inPoint and outPoint), Layer.autoOrient, CompItem
//   .activeCamera ("the front-most camera layer that is enabled").
// - Adobe help "Speed" (helpx.adobe.com/after-effects/using/speed.html): speed is the
//   rate of change in units per second, influence "the amount of influence toward
//   the previous keyframe (incoming) or the next keyframe (outgoing)".
// - Lottie's After Effects exporter, airbnb/lottie-web
//   extension/jsx/utils/keyframeHelper.jsx: how those two numbers become a cubic
//   Bezier per segment (handle x = influence, handle y = speed * influence * duration
//   in value units), that a segment whose out side is HOLD holds, that a linear
//   segment is straight, that a spatial segment eases the distance travelled along
//   its path, and that a spatial handle's influence is capped at
//   100 * length / (speed * duration). UNVERIFIED in a running After Effects.
// - Adobe help "Auto-Orientation options" (help.adobe.com/en_US/AfterEffects/9.0/
//   WS3878526689cb91655866c1103906c6dea-7e1da.html): a camera set to Orient Towards
//   Point Of Interest "always points at its point of interest"; "the automatic
//   orientation ... occurs before the Rotation and Orientation transformations are
//   applied"; Off: "rotates freely, independent of ... point of interest".
// - After Effects 5.5 help, "3D rendering": "After Effects renders the X, Y, and Z
//   rotation Transform properties in their descending Timeline order" (Orientation,
//   then X, Y, Z as the Timeline lists them). Read here as: the rotation applied to
//   the layer is Orientation * Rx * Ry * Rz (Z acts first on the layer's own axes).
//   UNVERIFIED; aebridge's camera keys only Z Rotation, which does not depend on it.
// - The aim of a camera at its point of interest keeps the horizon level (it turns
//   about the world's vertical, then tilts): the camera's view is "yaw then pitch",
//   never rolled by the aim itself (After Effects' lookAt expression returns an
//   Orientation with no Z component). UNVERIFIED beyond that.
"use strict";

// --- keyframes ------------------------------------------------------------------------

// Times are compared with this tolerance: in/out points, key times and frame times are
// computed from rates in floating point, and a frame is never shorter than 1/99 s.
const TIME_EPSILON = 1e-7;

// A number every spatial handle, linear side and "what AE reports" uses: influence of
// a linear key's sides, in percent.
const LINEAR_SIDE_INFLUENCE = 100 / 6;

function bezier(p0, p1, p2, p3, u) {
  const v = 1 - u;
  return v * v * v * p0 + 3 * v * v * u * p1 + 3 * v * u * u * p2 + u * u * u * p3;
}

function bezierSlope(p0, p1, p2, p3, u) {
  const v = 1 - u;
  return 3 * v * v * (p1 - p0) + 6 * v * u * (p2 - p1) + 3 * u * u * (p3 - p2);
}

// The curve parameter at which the time coordinate reaches `t` (0 <= t <= T): Newton
// steps from a linear guess, kept inside a shrinking bracket (the time coordinate
// never decreases for influences in 0..1).
function parameterAt(t, T, t1, t2) {
  let lo = 0;
  let hi = 1;
  let u = t / T;
  for (let i = 0; i < 100; i++) {
    const x = bezier(0, t1, t2, T, u) - t;
    if (Math.abs(x) <= 1e-15 * T) { return u; }
    if (x > 0) { hi = u; } else { lo = u; }
    const slope = bezierSlope(0, t1, t2, T, u);
    let next = slope > 0 ? u - x / slope : (lo + hi) / 2;
    if (!(next > lo && next < hi)) { next = (lo + hi) / 2; }
    if (hi - lo < 1e-16) { return next; }
    u = next;
  }
  return u;
}

// One segment of one value: from v0 at time 0 to v1 at time T, leaving with `out`
// and arriving with `into` ({speed, influence}); the value at time t.
function segmentValue(v0, v1, T, t, out, into) {
  const a = out.influence / 100;
  const b = into.influence / 100;
  const u = parameterAt(t, T, a * T, T - b * T);
  return bezier(v0, v0 + out.speed * a * T, v1 - into.speed * b * T, v1, u);
}

function sameLength(a, b) {
  return a.length === b.length ? a.length : Math.min(a.length, b.length);
}

// The value of a keyed property at `time`. keys: [{time, value (number or array),
// inType, outType ("LINEAR" | "BEZIER" | "HOLD"), inEase, outEase (arrays of
// {speed, influence})}], sorted by time; spatial: the property moves along a path
// (straight here: aebridge sets zero tangents, and a model of curved paths is not
// needed).
function keyedValue(keys, time, spatial) {
  // A time within TIME_EPSILON of a key is the key's time: frame times and key times
  // come from the same rate by different float paths.
  if (time <= keys[0].time + TIME_EPSILON) { return keys[0].value; }
  const last = keys[keys.length - 1];
  if (time >= last.time - TIME_EPSILON) { return last.value; }
  let i = 0;
  while (keys[i + 1].time <= time + TIME_EPSILON) { i += 1; }
  if (Math.abs(time - keys[i].time) <= TIME_EPSILON) { return keys[i].value; }
  const k0 = keys[i];
  const k1 = keys[i + 1];
  if (k0.outType === "HOLD") { return k0.value; }
  const T = k1.time - k0.time;
  const t = time - k0.time;
  const linear = k0.outType === "LINEAR" && k1.inType === "LINEAR";
  const scalar = typeof k0.value === "number";
  const from = scalar ? [k0.value] : k0.value;
  const to = scalar ? [k1.value] : k1.value;
  if (spatial) {
    const n = sameLength(from, to);
    let length = 0;
    for (let d = 0; d < n; d++) { length += (to[d] - from[d]) ** 2; }
    length = Math.sqrt(length);
    let fraction;
    if (length === 0) {
      fraction = 0;
    } else if (linear) {
      fraction = t / T;
    } else {
      const side = (kind, ease) => {
        if (kind === "LINEAR") {
          return { speed: length / T, influence: LINEAR_SIDE_INFLUENCE };
        }
        const cap = ease.speed > 0 ? (100 * length) / (ease.speed * T) : Infinity;
        return { speed: ease.speed, influence: Math.min(ease.influence, cap) };
      };
      const out = side(k0.outType, k0.outEase[0]);
      const into = side(k1.inType, k1.inEase[0]);
      fraction = segmentValue(0, length, T, t, out, into) / length;
    }
    const value = [];
    for (let d = 0; d < n; d++) { value.push(from[d] + (to[d] - from[d]) * fraction); }
    return value;
  }
  const value = [];
  for (let d = 0; d < sameLength(from, to); d++) {
    if (linear) {
      value.push(from[d] + ((to[d] - from[d]) * t) / T);
      continue;
    }
    const chord = { speed: (to[d] - from[d]) / T, influence: LINEAR_SIDE_INFLUENCE };
    const pick = (eases) => eases[Math.min(d, eases.length - 1)];
    const out = k0.outType === "LINEAR" ? chord : pick(k0.outEase);
    const into = k1.inType === "LINEAR" ? chord : pick(k1.inEase);
    value.push(segmentValue(from[d], to[d], T, t, out, into));
  }
  return scalar ? value[0] : value;
}

// --- layers in time -------------------------------------------------------------------

function activeAt(layer, time) {
  return layer.enabled && layer.inPoint <= time + TIME_EPSILON &&
    time + TIME_EPSILON < layer.outPoint;
}

// The footage frame (0-based) a footage layer shows at comp time `time`: the layer's
// time maps to footage time (time - startTime) * 100 / stretch; the frame shown is the
// one whose duration covers that instant, and for a reversed layer the one covering
// the instant just before it (footage played backwards shows each frame over the
// interval that ends at its start time). A still shows its one frame.
function footageFrameAt(layer, time, footageRate, frameCount, still) {
  if (still) { return 0; }
  const footageTime = ((time - layer.startTime) * 100) / layer.stretch;
  const position = footageTime * footageRate;
  const index = layer.stretch > 0 ?
    Math.floor(position + 1e-6) :
    Math.floor(position - 1e-6);
  return index >= 0 && index < frameCount ? index : null;
}

// --- cameras --------------------------------------------------------------------------

const RAD = Math.PI / 180;

// Rotation matrices in After Effects' world: x right, y down, z into the screen
// (right-handed). A positive Z rotation turns x towards y: clockwise on screen, as
// the Timeline's Rotation does.
function rotX(deg) {
  const c = Math.cos(deg * RAD);
  const s = Math.sin(deg * RAD);
  return [[1, 0, 0], [0, c, -s], [0, s, c]];
}

function rotY(deg) {
  const c = Math.cos(deg * RAD);
  const s = Math.sin(deg * RAD);
  return [[c, 0, s], [0, 1, 0], [-s, 0, c]];
}

function rotZ(deg) {
  const c = Math.cos(deg * RAD);
  const s = Math.sin(deg * RAD);
  return [[c, -s, 0], [s, c, 0], [0, 0, 1]];
}

function matMul(a, b) {
  const out = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[r][c] = a[r][0] * b[0][c] + a[r][1] * b[1][c] + a[r][2] * b[2][c];
    }
  }
  return out;
}

function apply(m, v) {
  return [
    m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2],
    m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
    m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2],
  ];
}

// The aim of a two-node camera: turn about the world vertical (yaw) so the view
// faces the point of interest's side, then tilt about the camera's own x axis
// (pitch) up or down to it. The horizon stays level.
function aim(position, poi) {
  const dx = poi[0] - position[0];
  const dy = poi[1] - position[1];
  const dz = poi[2] - position[2];
  const yaw = Math.atan2(dx, dz) / RAD;
  // Positive pitch looks up (towards -y): rotX(pitch) takes +z to (0, -sin, cos).
  const pitch = Math.atan2(-dy, Math.hypot(dx, dz)) / RAD;
  return matMul(rotY(yaw), rotX(pitch));
}

// Where a camera looks and which way is up on its screen, as unit vectors:
// autoOrient "CAMERA_OR_POINT_OF_INTEREST" aims first, then Orientation and the X, Y, Z
// Rotations turn the camera on its own axes; otherwise only the rotations count.
function cameraAxes(autoOrient, position, poi, orientation, rx, ry, rz) {
  let m = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  if (autoOrient === "CAMERA_OR_POINT_OF_INTEREST") { m = aim(position, poi); }
  const local = matMul(
    matMul(matMul(rotX(orientation[0]), rotY(orientation[1])), rotZ(orientation[2])),
    matMul(matMul(rotX(rx), rotY(ry)), rotZ(rz)),
  );
  m = matMul(m, local);
  return { direction: apply(m, [0, 0, 1]), up: apply(m, [0, -1, 0]) };
}

module.exports = {
  LINEAR_SIDE_INFLUENCE,
  TIME_EPSILON,
  activeAt,
  cameraAxes,
  footageFrameAt,
  keyedValue,
};
