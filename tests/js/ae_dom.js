// A model of the After Effects scripting DOM, enough to run aebridge scripts under node.
//
// It follows /work/shared/AE_SCRIPTING.md (the official scripting guide's facts) and is
// strict where After Effects is strict or where a mistake would be silent in AE:
// - every DOM object rejects writes to attributes it does not have or that are
//   read-only (a Proxy set trap), so a typo in the library fails the tests;
// - enums throw on unknown members (BlendingMode.SILHOUETTE_ALPHA is a bug: AE spells
//   it SILHOUETE_ALPHA), values are opaque numbers;
// - setValue throws on a property with keys, premulColor needs a premultiplied alpha
//   mode, conformFrameRate throws on a still, KeyframeEase arrays must be as long as the
//   property's value type asks, influence is 0.1..100;
// - undo groups are counted, and DOM writes outside an open group are recorded.
// The model lives in node's realm; scripts run in a vm context whose ES5+ built-ins
// are removed (see makeSandbox), and arrays handed to scripts are made in that realm.
"use strict";

const fs = require("fs");
const path = require("path");
const vm = require("vm");
const aeMath = require("./ae_math");

// ---------------------------------------------------------------------------------
// Enums

let enumCounter = 4000;
const ENUM_NAMES = new Map(); // value -> "Enum.MEMBER"

function makeEnum(enumName, members) {
  const values = {};
  for (const m of members) {
    enumCounter += 1;
    values[m] = enumCounter;
    ENUM_NAMES.set(enumCounter, `${enumName}.${m}`);
  }
  return new Proxy(values, {
    get(target, prop) {
      if (typeof prop === "string" && !(prop in target) && !(prop in Object.prototype)) {
        throw new TypeError(`${enumName}.${prop} does not exist`);
      }
      return target[prop];
    },
    set(_t, prop) {
      throw new TypeError(`${enumName}.${String(prop)} is read-only`);
    },
  });
}

function enumName(value) {
  return ENUM_NAMES.has(value) ? ENUM_NAMES.get(value) : null;
}

function isEnumOf(value, enumLabel) {
  return typeof value === "number" && enumName(value) !== null &&
    enumName(value).startsWith(enumLabel + ".");
}

const BLEND_MEMBERS = [
  "NORMAL", "DISSOLVE", "DANCING_DISSOLVE", "DARKEN", "MULTIPLY", "COLOR_BURN",
  "CLASSIC_COLOR_BURN", "LINEAR_BURN", "DARKER_COLOR", "ADD", "LIGHTEN", "SCREEN",
  "COLOR_DODGE", "CLASSIC_COLOR_DODGE", "LINEAR_DODGE", "LIGHTER_COLOR", "OVERLAY",
  "SOFT_LIGHT", "HARD_LIGHT", "LINEAR_LIGHT", "VIVID_LIGHT", "PIN_LIGHT", "HARD_MIX",
  "DIFFERENCE", "CLASSIC_DIFFERENCE", "EXCLUSION", "SUBTRACT", "DIVIDE", "HUE",
  "SATURATION", "COLOR", "LUMINOSITY", "STENCIL_ALPHA", "STENCIL_LUMA",
  "SILHOUETE_ALPHA", "SILHOUETTE_LUMA", "ALPHA_ADD", "LUMINESCENT_PREMUL",
];

const ENUMS = {
  BlendingMode: makeEnum("BlendingMode", BLEND_MEMBERS),
  TrackMatteType: makeEnum("TrackMatteType",
    ["NO_TRACK_MATTE", "ALPHA", "ALPHA_INVERTED", "LUMA", "LUMA_INVERTED"]),
  AlphaMode: makeEnum("AlphaMode", ["IGNORE", "STRAIGHT", "PREMULTIPLIED"]),
  KeyframeInterpolationType: makeEnum("KeyframeInterpolationType",
    ["LINEAR", "BEZIER", "HOLD"]),
  ImportAsType: makeEnum("ImportAsType", ["COMP_CROPPED_LAYERS", "FOOTAGE", "COMP", "PROJECT"]),
  FieldSeparationType: makeEnum("FieldSeparationType", ["OFF", "UPPER_FIELD_FIRST",
    "LOWER_FIELD_FIRST"]),
  // Types-for-Adobe AfterEffects/23.0 (the scripting guide lists the phases).
  PulldownPhase: makeEnum("PulldownPhase", ["OFF", "WSSWW", "SSWWW", "SWWWS", "WWWSS",
    "WWSSW", "WWWSW_24P_ADVANCE", "WWSWW_24P_ADVANCE", "WSWWW_24P_ADVANCE",
    "SWWWW_24P_ADVANCE", "WWWWS_24P_ADVANCE"]),
  AutoOrientType: makeEnum("AutoOrientType", ["ALONG_PATH", "CAMERA_OR_POINT_OF_INTEREST",
    "CHARACTERS_TOWARD_CAMERA", "NO_AUTO_ORIENT"]),
  PropertyValueType: makeEnum("PropertyValueType", ["NO_VALUE", "ThreeD_SPATIAL", "ThreeD",
    "TwoD_SPATIAL", "TwoD", "OneD", "COLOR", "CUSTOM_VALUE", "MARKER", "LAYER_INDEX",
    "MASK_INDEX", "SHAPE", "TEXT_DOCUMENT"]),
};

// ---------------------------------------------------------------------------------
// Strict objects: a Proxy that rejects unknown or read-only writes

class Model {
  constructor() {
    this.log = [];
    this.undoDepth = 0;
    this.undoBegun = 0;
    this.undoEnded = 0;
    this.undoErrors = [];
    this.writesOutsideUndo = [];
    this.alerts = [];
    this.written = [];
    this.exitCode = 0;
    this.nextId = 1;
    this.saved = [];
    this.imports = 0;
    this.guessCalls = 0;
    this.env = {};
    this.toScript = null; // converts node arrays/objects into the sandbox realm
    this.scriptPath = "";
    this.profiles = null;
    this.suppressDepth = 0;
    this.suppressBegun = 0;
    this.suppressEnded = 0;
    this.unsuppressedWrites = [];
  }

  touch(what) {
    if (this.undoDepth === 0) {
      this.writesOutsideUndo.push(what);
    }
    // Run unattended (AEBRIDGE_NO_ALERT=1), a change AE might answer with a dialog
    // must happen while dialogs are suppressed.
    if (this.env.AEBRIDGE_NO_ALERT === "1" && this.suppressDepth === 0) {
      this.unsuppressedWrites.push(what);
    }
  }
}

const DOM_OBJECTS = new WeakSet();

// Every DOM class declares WRITABLE: attribute names with setters. Anything else throws.
// The model's own state lives in "_" fields created in the constructors; methods may
// update those, but no new field can appear.
function strict(obj, className, writable, model, guard) {
  const proxy = new Proxy(obj, {
    set(target, prop, value) {
      if (typeof prop === "string" && writable.has(prop)) {
        if (guard) { guard(target, prop); }
        model.touch(`${className}.${prop}`);
        return Reflect.set(target, prop, value, target);
      }
      if (typeof prop === "string" && prop.startsWith("_") &&
          Object.prototype.hasOwnProperty.call(target, prop)) {
        target[prop] = value;
        return true;
      }
      throw new TypeError(`${className}.${String(prop)} is read-only or does not exist`);
    },
    deleteProperty(_t, prop) {
      throw new TypeError(`cannot delete ${className}.${String(prop)}`);
    },
    defineProperty(_t, prop) {
      throw new TypeError(`cannot define ${className}.${String(prop)}`);
    },
  });
  DOM_OBJECTS.add(proxy);
  return proxy;
}

function checkNumber(value, what, lo, hi) {
  if (typeof value !== "number" || !isFinite(value)) {
    throw new TypeError(`${what}: expected a number, got ${String(value)}`);
  }
  if ((lo !== undefined && value < lo) || (hi !== undefined && value > hi)) {
    throw new RangeError(`${what}: ${value} is outside ${lo}..${hi}`);
  }
  return value;
}

function checkInteger(value, what, lo, hi) {
  checkNumber(value, what, lo, hi);
  if (Math.floor(value) !== value) { throw new TypeError(`${what}: ${value} is not an integer`); }
  return value;
}

function checkBool(value, what) {
  if (typeof value !== "boolean") {
    throw new TypeError(`${what}: expected true or false, got ${String(value)}`);
  }
  return value;
}

function checkString(value, what) {
  if (typeof value !== "string") {
    throw new TypeError(`${what}: expected a string, got ${String(value)}`);
  }
  return value;
}

function checkEnum(value, enumLabel, what) {
  if (!isEnumOf(value, enumLabel)) {
    throw new TypeError(`${what}: expected a ${enumLabel} value, got ${String(value)}`);
  }
  return value;
}

function numberArray(value, what, lengths) {
  if (value === null || typeof value !== "object" || typeof value.length !== "number") {
    throw new TypeError(`${what}: expected an array, got ${String(value)}`);
  }
  const out = Array.from(value);
  if (lengths && !lengths.includes(out.length)) {
    throw new RangeError(`${what}: expected ${lengths.join(" or ")} values, got ${out.length}`);
  }
  out.forEach((v, i) => checkNumber(v, `${what}[${i}]`));
  return out;
}

// Item and layer comments as After Effects hands them back: every line end is \r.
function readBackLines(text) {
  return String(text).replace(/\r\n|\n/g, "\r");
}

// ---------------------------------------------------------------------------------
// File and Folder (ExtendScript decodes URI escapes in path strings)

function decodePath(p) {
  try {
    return decodeURI(String(p));
  } catch (_e) {
    return String(p);
  }
}

function makeFileClasses(model) {
  // RAW marks a path that is already decoded (File.parent, FootageItem.file): only
  // strings a script passes are URI-decoded, as ExtendScript does.
  const RAW = Symbol("raw");
  class FsEntry {
    constructor(p) {
      this._path = (p && p[RAW]) ? p.path : path.resolve(decodePath(p));
    }
    get fsName() { return this._path; }
    get fullName() { return this._path; }
    get absoluteURI() {
      return this._path.split("/").map((s) => encodeURIComponent(s)).join("/");
    }
    get name() { return path.basename(this._path); }
    get parent() { return new Folder({ [RAW]: true, path: path.dirname(this._path) }); }
    toString() { return this._path; }
  }
  class File extends FsEntry {
    constructor(p) {
      super(p);
      return strict(this, "File", new Set(["encoding"]), { touch() {} });
    }
    get exists() { return fs.existsSync(this._path) && fs.statSync(this._path).isFile(); }
    set encoding(_v) { /* accepted, no effect in the model */ }
    get encoding() { return "UTF-8"; }
  }
  class Folder extends FsEntry {
    constructor(p) {
      super(p);
      return strict(this, "Folder", new Set(), { touch() {} });
    }
    get exists() {
      return fs.existsSync(this._path) && fs.statSync(this._path).isDirectory();
    }
  }
  // Both `new File(p)` and `File(p)` work in ExtendScript.
  function FileCtor(p) { return new File(p); }
  FileCtor.prototype = File.prototype;
  FileCtor.encode = (s) => encodeURIComponent(String(s));
  FileCtor.decode = (s) => decodeURIComponent(String(s));
  function FolderCtor(p) { return new Folder(p); }
  FolderCtor.prototype = Folder.prototype;
  FileCtor.raw = (p) => new File({ [RAW]: true, path: p });
  return { File: FileCtor, Folder: FolderCtor, FileClass: File };
}

// ---------------------------------------------------------------------------------
// Keyframes, properties

function makeDom(model, scriptPath) {
  const { File: FileCtor, Folder: FolderCtor, FileClass } = makeFileClasses(model);
  const E = ENUMS;
  const PVT = E.PropertyValueType;

  class KeyframeEase {
    constructor(speed, influence) {
      this._speed = checkNumber(speed, "KeyframeEase speed");
      this._influence = checkNumber(influence, "KeyframeEase influence", 0.1, 100);
      return strict(this, "KeyframeEase", new Set(["speed", "influence"]), { touch() {} });
    }
    get speed() { return this._speed; }
    set speed(v) { this._speed = checkNumber(v, "KeyframeEase.speed"); }
    get influence() { return this._influence; }
    set influence(v) { this._influence = checkNumber(v, "KeyframeEase.influence", 0.1, 100); }
  }

  // MarkerValue (scripting guide, other/markervalue.md): text attributes, duration,
  // label 0..16, two flags, and string parameters.
  const MARKER_TEXT = ["comment", "chapter", "cuePointName", "frameTarget", "url"];
  const MARKER_FLAGS = ["eventCuePoint", "protectedRegion"];

  class MarkerValue {
    constructor(comment) {
      this._text = { comment: checkString(comment, "MarkerValue comment"), chapter: "",
        cuePointName: "", frameTarget: "", url: "" };
      this._flags = { eventCuePoint: false, protectedRegion: false };
      this._duration = 0;
      this._label = 0;
      this._params = {};
      const self = strict(this, "MarkerValue",
        new Set(MARKER_TEXT.concat(MARKER_FLAGS, ["duration", "label"])), { touch() {} });
      return self;
    }
    get comment() { return this._text.comment; }
    set comment(v) { this._text.comment = checkString(v, "MarkerValue.comment"); }
    get chapter() { return this._text.chapter; }
    set chapter(v) { this._text.chapter = checkString(v, "MarkerValue.chapter"); }
    get cuePointName() { return this._text.cuePointName; }
    set cuePointName(v) { this._text.cuePointName = checkString(v, "MarkerValue.cuePointName"); }
    get frameTarget() { return this._text.frameTarget; }
    set frameTarget(v) { this._text.frameTarget = checkString(v, "MarkerValue.frameTarget"); }
    get url() { return this._text.url; }
    set url(v) { this._text.url = checkString(v, "MarkerValue.url"); }
    get eventCuePoint() { return this._flags.eventCuePoint; }
    set eventCuePoint(v) { this._flags.eventCuePoint = checkBool(v, "MarkerValue.eventCuePoint"); }
    get protectedRegion() { return this._flags.protectedRegion; }
    set protectedRegion(v) {
      this._flags.protectedRegion = checkBool(v, "MarkerValue.protectedRegion");
    }
    get duration() { return this._duration; }
    set duration(v) { this._duration = checkNumber(v, "MarkerValue.duration", 0); }
    get label() { return this._label; }
    set label(v) {
      checkNumber(v, "MarkerValue.label", 0, 16);
      if (Math.floor(v) !== v) { throw new TypeError("MarkerValue.label: an integer"); }
      this._label = v;
    }
    setParameters(obj) {
      const params = {};
      for (const k of Object.keys(obj)) {
        params[k] = checkString(obj[k], `MarkerValue.setParameters ${k}`);
      }
      this._params = params;
    }
    getParameters() { return model.toScript(this._params); }
    // A key's value is handed out as a copy: changing it changes nothing until it is
    // set again (the scripting guide does not say AE shares it; a script must not
    // rely on that).
    _copy() {
      const m = new MarkerValue(this._text.comment);
      m._text = Object.assign({}, this._text);
      m._flags = Object.assign({}, this._flags);
      m._duration = this._duration;
      m._label = this._label;
      m._params = Object.assign({}, this._params);
      return m;
    }
  }

  function defaultEase(dims) {
    const out = [];
    for (let i = 0; i < dims; i++) { out.push({ speed: 0, influence: 16.666667 }); }
    return out;
  }

  class Property {
    constructor(matchName, valueType, value, opts) {
      this._matchName = matchName;
      this._type = valueType;
      this._value = value;
      this._keys = [];
      this._spatial = !!(opts && opts.spatial);
      this._dims = (opts && opts.dims) || [1];
      this._layer = null;
      return strict(this, "Property", new Set(), model);
    }
    // Every change goes through here: a property of a locked layer refuses it.
    _edit(what) {
      model.touch(`${this._matchName}.${what}`);
      if (this._layer !== null) { this._layer._refuseIfLocked(`${this._matchName}.${what}`); }
    }
    get matchName() { return this._matchName; }
    get propertyValueType() { return this._type; }
    get isSpatial() { return this._spatial; }
    get numKeys() { return this._keys.length; }
    get value() { return model.toScript(this._value); }
    // The value at a comp time (scripting guide, Property.valueAtTime); there are no
    // expressions in this model, so preExpression changes nothing.
    valueAtTime(t, preExpression) {
      checkNumber(t, `${this._matchName}.valueAtTime time`);
      checkBool(preExpression, `${this._matchName}.valueAtTime preExpression`);
      return model.toScript(this._valueAt(t));
    }
    _valueAt(t) {
      if (this._keys.length === 0) { return this._value; }
      const name = (v) => enumName(v).split(".")[1];
      const keys = this._keys.map((k) => ({
        time: k.time, value: k.value, inType: name(k.inType), outType: name(k.outType),
        inEase: k.inEase, outEase: k.outEase,
      }));
      return aeMath.keyedValue(keys, t, this._spatial);
    }
    _checkValue(v, what) {
      if (this._type === PVT.MARKER) {
        if (!(v instanceof MarkerValue)) { throw new TypeError(`${what}: a MarkerValue`); }
        return v;
      }
      if (this._type === PVT.OneD) { return checkNumber(v, what); }
      return numberArray(v, what, this._dims);
    }
    _key(k, what) {
      if (typeof k !== "number" || k < 1 || k > this._keys.length || Math.floor(k) !== k) {
        throw new RangeError(`${this._matchName}.${what}: key index ${k} outside 1..${this._keys.length}`);
      }
      return this._keys[k - 1];
    }
    _dimsForEase() {
      if (this._type === PVT.ThreeD) { return 3; }
      if (this._type === PVT.TwoD) { return 2; }
      return 1;
    }
    setValue(v) {
      this._edit("setValue");
      if (this._keys.length > 0) {
        throw new Error(`${this._matchName}: setValue on a property with keyframes`);
      }
      this._value = this._checkValue(v, `${this._matchName}.setValue`);
    }
    // "Creates a new keyframe ... if one does not currently exist for the specified
    // time, and sets its value" (scripting guide, Property.setValueAtTime): a key at
    // the same time is replaced, so two markers on one frame leave only the last.
    setValueAtTime(t, v) {
      this._edit("setValueAtTime");
      checkNumber(t, `${this._matchName}.setValueAtTime time`);
      const checked = this._checkValue(v, `${this._matchName}.setValueAtTime`);
      const value = checked instanceof MarkerValue ? checked._copy() : checked;
      const existing = this._keys.find((key) => Math.abs(key.time - t) < 1e-9);
      if (existing) {
        existing.value = value;
      } else {
        const dims = this._dimsForEase();
        this._keys.push({
          time: t, value, inType: E.KeyframeInterpolationType.LINEAR,
          outType: E.KeyframeInterpolationType.LINEAR,
          inEase: defaultEase(dims), outEase: defaultEase(dims),
          spatialAuto: this._spatial, spatialContinuous: this._spatial,
          inTangent: null, outTangent: null,
        });
        this._keys.sort((a, b) => a.time - b.time);
      }
    }
    setValuesAtTimes(times, values) {
      const ts = numberArray(times, `${this._matchName}.setValuesAtTimes times`);
      if (!values || values.length !== ts.length) {
        throw new RangeError(`${this._matchName}.setValuesAtTimes: times and values differ in length`);
      }
      for (let i = 0; i < ts.length; i++) { this.setValueAtTime(ts[i], values[i]); }
    }
    removeKey(k) {
      this._edit("removeKey");
      this._key(k, "removeKey");
      this._keys.splice(k - 1, 1);
    }
    nearestKeyIndex(t) {
      checkNumber(t, `${this._matchName}.nearestKeyIndex`);
      if (this._keys.length === 0) { throw new Error(`${this._matchName}: no keys`); }
      let best = 0;
      this._keys.forEach((key, i) => {
        if (Math.abs(key.time - t) < Math.abs(this._keys[best].time - t)) { best = i; }
      });
      return best + 1;
    }
    keyTime(k) { return this._key(k, "keyTime").time; }
    keyValue(k) {
      const v = this._key(k, "keyValue").value;
      return v instanceof MarkerValue ? v._copy() : model.toScript(v);
    }
    setInterpolationTypeAtKey(k, inType, outType) {
      this._edit("setInterpolationTypeAtKey");
      const key = this._key(k, "setInterpolationTypeAtKey");
      key.inType = checkEnum(inType, "KeyframeInterpolationType", "inType");
      key.outType = checkEnum(outType === undefined ? inType : outType,
        "KeyframeInterpolationType", "outType");
    }
    keyInInterpolationType(k) { return this._key(k, "keyInInterpolationType").inType; }
    keyOutInterpolationType(k) { return this._key(k, "keyOutInterpolationType").outType; }
    _eases(arr, what) {
      const dims = this._dimsForEase();
      if (!arr || arr.length !== dims) {
        throw new RangeError(`${this._matchName}.${what}: ${dims} KeyframeEase expected for ` +
          `${enumName(this._type)}, got ${arr ? arr.length : arr}`);
      }
      return Array.from(arr).map((e) => {
        if (!(e instanceof KeyframeEase)) { throw new TypeError(`${what}: not a KeyframeEase`); }
        return { speed: e.speed, influence: e.influence };
      });
    }
    setTemporalEaseAtKey(k, inEases, outEases) {
      this._edit("setTemporalEaseAtKey");
      const key = this._key(k, "setTemporalEaseAtKey");
      key.inEase = this._eases(inEases, "setTemporalEaseAtKey in");
      key.outEase = this._eases(outEases === undefined ? inEases : outEases,
        "setTemporalEaseAtKey out");
    }
    _easeOut(list) {
      return model.toScript(list.map((e) => new KeyframeEase(e.speed, e.influence)));
    }
    keyInTemporalEase(k) { return this._easeOut(this._key(k, "keyInTemporalEase").inEase); }
    keyOutTemporalEase(k) { return this._easeOut(this._key(k, "keyOutTemporalEase").outEase); }
    _spatialOnly(what) {
      if (!this._spatial) { throw new Error(`${this._matchName}.${what}: not a spatial property`); }
    }
    setSpatialAutoBezierAtKey(k, v) {
      this._spatialOnly("setSpatialAutoBezierAtKey");
      this._edit("setSpatialAutoBezierAtKey");
      this._key(k, "setSpatialAutoBezierAtKey").spatialAuto = checkBool(v, "autoBezier");
    }
    setSpatialContinuousAtKey(k, v) {
      this._spatialOnly("setSpatialContinuousAtKey");
      this._edit("setSpatialContinuousAtKey");
      this._key(k, "setSpatialContinuousAtKey").spatialContinuous = checkBool(v, "continuous");
    }
    setSpatialTangentsAtKey(k, inT, outT) {
      this._spatialOnly("setSpatialTangentsAtKey");
      this._edit("setSpatialTangentsAtKey");
      const key = this._key(k, "setSpatialTangentsAtKey");
      // The tangent length follows the value type, not the value given.
      const n = this._type === PVT.TwoD_SPATIAL ? 2 : 3;
      key.inTangent = numberArray(inT, "inTangent", [n]);
      key.outTangent = numberArray(outT === undefined ? inT : outT, "outTangent", [n]);
    }
    snapshot() {
      if (this._keys.length === 0) {
        return { value: this._value instanceof MarkerValue ? null : this._value };
      }
      return {
        keys: this._keys.map((key) => ({
          time: key.time,
          value: key.value instanceof MarkerValue ? markerSnapshot(key.value) : key.value,
          in_type: enumName(key.inType),
          out_type: enumName(key.outType),
          in_ease: key.inEase,
          out_ease: key.outEase,
          spatial_auto_bezier: key.spatialAuto,
          in_tangent: key.inTangent,
          out_tangent: key.outTangent,
        })),
      };
    }
  }

  function markerSnapshot(m) {
    return { comment: m._text.comment, chapter: m._text.chapter, duration: m._duration,
      label: m._label, params: m._params };
  }

  class PropertyGroup {
    constructor(matchName, children) {
      this._matchName = matchName;
      this._children = children;
      return strict(this, "PropertyGroup", new Set(), model);
    }
    _attach(layer) {
      for (const child of this._children) {
        if (child instanceof PropertyGroup) { child._attach(layer); } else { child._layer = layer; }
      }
    }
    get matchName() { return this._matchName; }
    get numProperties() { return this._children.length; }
    property(name) {
      const found = this._children.find((c) => c.matchName === name);
      return found === undefined ? null : found;
    }
  }

  // ---------------------------------------------------------------------------------
  // Items

  const ITEM_WRITABLE = ["name", "comment", "parentFolder", "label"];

  class Item {
    _initItem(name) {
      this._id = model.nextId++;
      this._name = name;
      this._comment = "";
      this._label = 0;
      this._parent = null; // set to the root folder after construction
    }
    get id() { return this._id; }
    get name() { return this._name; }
    set name(v) { this._name = checkString(v, `${this.typeName}.name`); }
    // Comments come back with \r line ends (AE_SCRIPTING.md, "Folders, comps, layers";
    // not in the scripting guide, which only says "String; read/write").
    get comment() { return readBackLines(this._comment); }
    set comment(v) { this._comment = checkString(v, `${this.typeName}.comment`); }
    get label() { return this._label; }
    set label(v) { this._label = checkNumber(v, "label", 0, 16); }
    get parentFolder() { return this._parent; }
    set parentFolder(f) {
      if (!(f instanceof FolderItem)) { throw new TypeError("parentFolder: a FolderItem"); }
      this._parent = f;
    }
    remove() {
      model.touch(`${this.typeName}.remove`);
      project._items = project._items.filter((i) => i !== this);
    }
  }

  class FolderItem extends Item {
    constructor(name) {
      super();
      this._initItem(checkString(name, "addFolder name"));
      return strict(this, "FolderItem", new Set(ITEM_WRITABLE), model);
    }
    get typeName() { return "Folder"; }
  }

  // FootageSource (scripting guide, sources/footagesource.md): setting
  // conformFrameRate, fieldSeparationType, removePulldown or loop is an error when
  // isStill is true; conformFrameRate is 0..99, and 0 is an error while removePulldown
  // is not OFF (set to non-OFF with conformFrameRate 0, conformFrameRate becomes the
  // native rate); fieldSeparationType cannot be set OFF while removePulldown is not
  // OFF, nor removePulldown set to a phase while fieldSeparationType is OFF; the
  // displayed rate is conformFrameRate * 0.8 while pulldown is removed; loop is
  // 1..9999; invertAlpha is a boolean, ignored without alpha or with AlphaMode.IGNORE.
  class FileSource {
    constructor(isStill) {
      this._isStill = isStill;
      this._alphaMode = E.AlphaMode.STRAIGHT;
      this._premul = [0, 0, 0];
      this._conform = 0;
      this._fields = E.FieldSeparationType.OFF;
      this._pulldown = E.PulldownPhase.OFF;
      this._invert = false;
      this._loop = 1;
      return strict(this, "FileSource", new Set(["alphaMode", "premulColor",
        "conformFrameRate", "fieldSeparationType", "removePulldown", "invertAlpha",
        "loop"]), model);
    }
    get isStill() { return this._isStill; }
    get hasAlpha() { return true; }
    get alphaMode() { return this._alphaMode; }
    set alphaMode(v) { this._alphaMode = checkEnum(v, "AlphaMode", "alphaMode"); }
    get premulColor() { return model.toScript(this._premul); }
    set premulColor(v) {
      if (this._alphaMode !== E.AlphaMode.PREMULTIPLIED) {
        throw new Error("premulColor: only valid when alphaMode is PREMULTIPLIED");
      }
      this._premul = numberArray(v, "premulColor", [3]);
    }
    get conformFrameRate() { return this._conform; }
    set conformFrameRate(v) {
      if (this._isStill) { throw new Error("conformFrameRate: a still has no frame rate"); }
      const rate = checkNumber(v, "conformFrameRate", 0, 99);
      if (rate === 0 && this._pulldown !== E.PulldownPhase.OFF) {
        throw new Error("conformFrameRate: it is an error to set 0 while removePulldown " +
          "is not PulldownPhase.OFF");
      }
      this._conform = rate;
    }
    get fieldSeparationType() { return this._fields; }
    set fieldSeparationType(v) {
      if (this._isStill) {
        throw new Error("fieldSeparationType: it is an error to set it on a still");
      }
      const fields = checkEnum(v, "FieldSeparationType", "fieldSeparationType");
      if (fields === E.FieldSeparationType.OFF && this._pulldown !== E.PulldownPhase.OFF) {
        throw new Error("fieldSeparationType: it is an error to set OFF while " +
          "removePulldown is not PulldownPhase.OFF");
      }
      this._fields = fields;
    }
    get removePulldown() { return this._pulldown; }
    set removePulldown(v) {
      if (this._isStill) {
        throw new Error("removePulldown: it is an error to set it on a still");
      }
      const phase = checkEnum(v, "PulldownPhase", "removePulldown");
      if (phase !== E.PulldownPhase.OFF && this._fields === E.FieldSeparationType.OFF) {
        throw new Error("removePulldown: it is an error to set a phase while " +
          "fieldSeparationType is OFF");
      }
      if (phase !== E.PulldownPhase.OFF && this._conform === 0) {
        this._conform = IMPORT_PREFERENCE_RATE;
      }
      this._pulldown = phase;
    }
    get invertAlpha() { return this._invert; }
    set invertAlpha(v) {
      if (typeof v !== "boolean") { throw new TypeError("invertAlpha: a boolean"); }
      this._invert = v;
    }
    get loop() { return this._loop; }
    set loop(v) {
      if (this._isStill) { throw new Error("loop: it is an error to set it on a still"); }
      this._loop = checkInteger(v, "loop", 1, 9999);
    }
    guessAlphaMode() { model.guessCalls += 1; }
  }

  // What AE's sequence importer takes from one file (AE_SCRIPTING.md, "Importing an
  // image sequence" and "Interpreting footage"; Adobe help "Import an image
  // sequence"): every file in the folder whose name differs from the given one only
  // in its number, from the lowest number to the highest, missing numbers becoming
  // placeholder frames; a file with no numbered neighbours imports as a still.
  function scanSequence(filePath) {
    const dir = path.dirname(filePath);
    const base = path.basename(filePath);
    const m = /^(.*?)(\d+)(\.[^.]+)$/.exec(base);
    if (!m) { return { still: true, frames: 1, first: null, last: null, files: 1 }; }
    const [, prefix, , ext] = m;
    const numbers = [];
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith(prefix) && name.endsWith(ext) &&
          name.length > prefix.length + ext.length) {
        const digits = name.slice(prefix.length, name.length - ext.length);
        if (/^\d+$/.test(digits)) { numbers.push(parseInt(digits, 10)); }
      }
    }
    if (numbers.length <= 1) {
      return { still: true, frames: 1, first: null, last: null, files: 1 };
    }
    const first = Math.min(...numbers);
    const last = Math.max(...numbers);
    return { still: false, frames: last - first + 1, first, last, files: numbers.length };
  }

  const IMPORT_PREFERENCE_RATE = 30; // AE's "Sequence Footage" preference default

  // The display window of an OpenEXR file (AE's footage size), read from its header:
  // magic 20000630, version, then attributes "name\0type\0<int32 size><value>" up to
  // an empty name; displayWindow is a box2i (xMin, yMin, xMax, yMax). Files that are
  // not EXR (the empty stand-ins some tests write) are 64 x 36.
  function readExrSize(filePath) {
    let data;
    try {
      const fd = fs.openSync(filePath, "r");
      const buffer = Buffer.alloc(65536);
      const n = fs.readSync(fd, buffer, 0, buffer.length, 0);
      fs.closeSync(fd);
      data = buffer.subarray(0, n);
    } catch (_e) {
      return [64, 36];
    }
    if (data.length < 8 || data.readUInt32LE(0) !== 20000630) { return [64, 36]; }
    let at = 8;
    const text = () => {
      const end = data.indexOf(0, at);
      if (end < 0) { throw new RangeError("truncated EXR header"); }
      const value = data.toString("latin1", at, end);
      at = end + 1;
      return value;
    };
    try {
      for (;;) {
        const name = text();
        if (name === "") { break; }
        const type = text();
        const size = data.readInt32LE(at);
        at += 4;
        if (name === "displayWindow" && type === "box2i") {
          const x0 = data.readInt32LE(at);
          const y0 = data.readInt32LE(at + 4);
          const x1 = data.readInt32LE(at + 8);
          const y1 = data.readInt32LE(at + 12);
          return [x1 - x0 + 1, y1 - y0 + 1];
        }
        at += size;
      }
    } catch (_e) {
      return [64, 36];
    }
    return [64, 36];
  }

  class FootageItem extends Item {
    constructor(file, sequence) {
      super();
      this._initItem(file.name);
      this._replaced = 0;
      this._forceAlphabetical = false;
      this._pixelAspect = 1;
      this._setFile(file, sequence);
      return strict(this, "FootageItem", new Set(ITEM_WRITABLE.concat(["pixelAspect"])), model);
    }
    // A new FileSource for the file, keeping the interpretation (replace and
    // replaceWithSequence "preserve interpretation parameters", footageitem.md) except
    // what a still cannot have.
    _setFile(file, sequence) {
      if (!file.exists) { throw new Error(`File not found: ${file.fsName}`); }
      const scan = sequence ? scanSequence(file.fsName) : { still: true, frames: 1 };
      const old = this._source;
      this._file = file.fsName;
      this._sequence = !scan.still;
      this._frames = scan.frames;
      this._scan = scan;
      this._size = readExrSize(file.fsName);
      this._source = new FileSource(scan.still);
      if (old) { // replace() and replaceWithSequence() keep the interpretation
        this._source._alphaMode = old._alphaMode;
        this._source._premul = old._premul;
        this._source._invert = old._invert;
        if (!scan.still) {
          this._source._conform = old._conform;
          this._source._fields = old._fields;
          this._source._pulldown = old._pulldown;
          this._source._loop = old._loop;
        }
      }
    }
    get typeName() { return "Footage"; }
    get mainSource() { return this._source; }
    get file() { return FileCtor.raw(this._file); }
    // displayFrameRate: the conformed (or native) rate, times 0.8 while pulldown is
    // removed (scripting guide, FootageSource.displayFrameRate); a looped footage
    // lasts its loops (FootageSource.loop).
    get frameRate() {
      if (!this._sequence) { return 0; }
      const rate = this._source._conform || IMPORT_PREFERENCE_RATE;
      return this._source._pulldown === E.PulldownPhase.OFF ? rate : rate * 0.8;
    }
    set frameRate(_v) { throw new Error("frameRate is read-only"); }
    get frameDuration() { return this._sequence ? 1 / this.frameRate : 0; }
    get duration() {
      return this._sequence ? this._frames * this._source._loop / this.frameRate : 0;
    }
    get pixelAspect() { return this._pixelAspect; }
    set pixelAspect(v) { this._pixelAspect = checkNumber(v, "pixelAspect", 0.01, 100); }
    get width() { return this._size[0]; }
    get height() { return this._size[1]; }
    // The comps with a layer of this item, as AE's AVItem.usedIn.
    get usedIn() {
      return project._items.filter((i) => i instanceof CompItem &&
        i._layers.some((l) => l._source === this));
    }
    replaceWithSequence(file, forceAlphabetical) {
      model.touch("FootageItem.replaceWithSequence");
      checkBool(forceAlphabetical, "replaceWithSequence forceAlphabetical");
      this._setFile(file, true);
      this._replaced = (this._replaced || 0) + 1;
    }
    replace(file) {
      // AE's replace() makes the item a single still: the bug this model exposes.
      model.touch("FootageItem.replace");
      this._setFile(file, false);
      this._replaced = (this._replaced || 0) + 1;
    }
  }

  class ImportOptions {
    constructor(file) {
      if (!(file instanceof FileClass)) { throw new TypeError("ImportOptions: a File"); }
      this._file = file;
      this._sequence = false;
      this._forceAlphabetical = false;
      this._importAs = E.ImportAsType.FOOTAGE;
      return strict(this, "ImportOptions", new Set(["sequence", "forceAlphabetical",
        "importAs", "file"]), { touch() {} });
    }
    get file() { return this._file; }
    set file(f) { this._file = f; }
    get sequence() { return this._sequence; }
    set sequence(v) { this._sequence = checkBool(v, "ImportOptions.sequence"); }
    get forceAlphabetical() { return this._forceAlphabetical; }
    set forceAlphabetical(v) {
      this._forceAlphabetical = checkBool(v, "ImportOptions.forceAlphabetical");
    }
    get importAs() { return this._importAs; }
    set importAs(v) { this._importAs = checkEnum(v, "ImportAsType", "importAs"); }
    canImportAs(t) {
      checkEnum(t, "ImportAsType", "canImportAs");
      return t === E.ImportAsType.FOOTAGE;
    }
  }

  // ---------------------------------------------------------------------------------
  // Layers

  function transformGroup(anchor, position, spatialDims) {
    return new PropertyGroup("ADBE Transform Group", [
      new Property("ADBE Anchor Point", PVT.ThreeD_SPATIAL, anchor,
        { spatial: true, dims: spatialDims }),
      new Property("ADBE Position", PVT.ThreeD_SPATIAL, position,
        { spatial: true, dims: spatialDims }),
      new Property("ADBE Scale", PVT.ThreeD, [100, 100, 100], { dims: [2, 3] }),
      new Property("ADBE Orientation", PVT.ThreeD, [0, 0, 0], { dims: [3] }),
      new Property("ADBE Rotate X", PVT.OneD, 0),
      new Property("ADBE Rotate Y", PVT.OneD, 0),
      new Property("ADBE Rotate Z", PVT.OneD, 0),
      new Property("ADBE Opacity", PVT.OneD, 100),
    ]);
  }

  const LAYER_WRITABLE = ["name", "comment", "enabled", "locked", "shy", "label",
    "startTime", "inPoint", "outPoint", "stretch", "threeDLayer"];

  // A locked layer refuses every change but unlocking (AE_SCRIPTING.md: "Setting
  // properties of a locked layer fails"; the scripting guide's Layer.locked is the
  // lock switch of the Layer panel).
  function lockGuard(target, prop) {
    if (prop !== "locked") { target._refuseIfLocked(`layer.${prop}`); }
  }

  class Layer {
    _refuseIfLocked(what) {
      if (this._locked) {
        throw new Error(`${what}: layer '${this._name}' is locked`);
      }
    }
    _initLayer(comp, name) {
      this._comp = comp;
      this._name = name;
      this._comment = "";
      this._enabled = true;
      this._locked = false;
      this._shy = false;
      this._label = 0;
      this._start = 0;
      this._in = 0;
      this._out = comp._duration;
      this._stretch = 100;
      this._threeD = false;
    }
    get index() { return this._comp._layers.indexOf(this._self) + 1; }
    get containingComp() { return this._comp; }
    get name() { return this._name; }
    set name(v) { this._name = checkString(v, "layer.name"); }
    get comment() { return readBackLines(this._comment); }
    set comment(v) { this._comment = checkString(v, "layer.comment"); }
    get enabled() { return this._enabled; }
    set enabled(v) { this._enabled = checkBool(v, "layer.enabled"); }
    get locked() { return this._locked; }
    set locked(v) { this._locked = checkBool(v, "layer.locked"); }
    get shy() { return this._shy; }
    set shy(v) { this._shy = checkBool(v, "layer.shy"); }
    get label() { return this._label; }
    set label(v) { this._label = checkNumber(v, "layer.label", 0, 16); }
    get threeDLayer() { return this._threeD; }
    set threeDLayer(v) { this._threeD = checkBool(v, "layer.threeDLayer"); }
    get startTime() { return this._start; }
    // Moving the start moves the whole layer, in and out points included, as in AE.
    set startTime(v) {
      checkNumber(v, "layer.startTime", -10800, 10800);
      const delta = v - this._start;
      this._start = v;
      this._in += delta;
      this._out += delta;
    }
    get inPoint() { return this._in; }
    set inPoint(v) {
      checkNumber(v, "layer.inPoint", -10800, 10800);
      if (v >= this._out) { throw new RangeError(`layer.inPoint ${v} is not before outPoint ${this._out}`); }
      this._in = v;
    }
    get outPoint() { return this._out; }
    set outPoint(v) {
      checkNumber(v, "layer.outPoint", -10800, 10800);
      if (v <= this._in) { throw new RangeError(`layer.outPoint ${v} is not after inPoint ${this._in}`); }
      this._out = v;
    }
    get stretch() { return this._stretch; }
    // Stretch rescales the in and out points about the start time; a change of sign
    // mirrors the layer about its start (a reversed layer ends at its start time), and
    // AE keeps the earlier of the two as the in point. "Values between 0 and 1 are set
    // to 1, and values between -1 and 0 (not including 0) are set to -1" (scripting
    // guide, Layer.stretch).
    set stretch(value) {
      checkNumber(value, "layer.stretch", -9900, 9900);
      if (value === 0) { throw new RangeError("layer.stretch: 0 is not allowed"); }
      let v = value;
      if (v > 0 && v < 1) { v = 1; }
      if (v < 0 && v > -1) { v = -1; }
      const k = v / this._stretch;
      const a = this._start + (this._in - this._start) * k;
      const b = this._start + (this._out - this._start) * k;
      this._in = Math.min(a, b);
      this._out = Math.max(a, b);
      this._stretch = v;
    }
    property(name) { return this._group.property(name); }
    get transform() { return this._group.property("ADBE Transform Group"); }
    // Scripting guide, Layer.activeAtTime: enabled, and the time between inPoint and
    // outPoint (no layer is soloed in this model).
    activeAtTime(t) {
      checkNumber(t, "layer.activeAtTime time");
      return aeMath.activeAt({ enabled: this._enabled, inPoint: this._in,
        outPoint: this._out }, t);
    }
    _transformAt(t) {
      const group = this._group.property("ADBE Transform Group");
      const at = (match) => group.property(match)._valueAt(t);
      return {
        anchor: at("ADBE Anchor Point"), position: at("ADBE Position"),
        scale: at("ADBE Scale"), orientation: at("ADBE Orientation"),
        rotation_x: at("ADBE Rotate X"), rotation_y: at("ADBE Rotate Y"),
        rotation: at("ADBE Rotate Z"), opacity: at("ADBE Opacity"),
      };
    }
    _move(to) {
      model.touch("layer.move");
      this._refuseIfLocked("layer.move");
      const list = this._comp._layers;
      list.splice(list.indexOf(this._self), 1);
      list.splice(to, 0, this._self);
    }
    moveToBeginning() { this._move(0); }
    moveToEnd() { this._move(this._comp._layers.length - 1); }
    moveBefore(other) {
      this._move(0);
      const list = this._comp._layers;
      list.splice(list.indexOf(this._self), 1);
      list.splice(list.indexOf(other), 0, this._self);
    }
    moveAfter(other) {
      this._move(0);
      const list = this._comp._layers;
      list.splice(list.indexOf(this._self), 1);
      list.splice(list.indexOf(other) + 1, 0, this._self);
    }
    remove() {
      model.touch("layer.remove");
      this._refuseIfLocked("layer.remove");
      const list = this._comp._layers;
      list.splice(list.indexOf(this._self), 1);
      for (const l of list) {
        if (l._matte === this._self) { l._matte = null; l._matteType = E.TrackMatteType.NO_TRACK_MATTE; }
      }
    }
  }

  class AVLayer extends Layer {
    constructor(comp, item) {
      super();
      this._initLayer(comp, item.name);
      this._source = item;
      this._out = item.duration > 0 ? item.duration : comp._duration;
      this._guide = false;
      this._blend = E.BlendingMode.NORMAL;
      this._matte = null;
      this._matteType = E.TrackMatteType.NO_TRACK_MATTE;
      const w = item.width || comp._width;
      const h = item.height || comp._height;
      this._group = new PropertyGroup("ADBE Root Vectors Group", [
        transformGroup([w / 2, h / 2, 0], [comp._width / 2, comp._height / 2, 0], [2, 3]),
        new PropertyGroup("ADBE Effect Parade", []),
        new PropertyGroup("ADBE Marker", []),
      ]);
      this._self = strict(this, "AVLayer", new Set(LAYER_WRITABLE.concat(
        ["guideLayer", "blendingMode"])), model, lockGuard);
      this._group._attach(this._self);
      return this._self;
    }
    get source() { return this._source; }
    get guideLayer() { return this._guide; }
    set guideLayer(v) { this._guide = checkBool(v, "layer.guideLayer"); }
    get blendingMode() { return this._blend; }
    set blendingMode(v) { this._blend = checkEnum(v, "BlendingMode", "layer.blendingMode"); }
    get hasTrackMatte() { return this._matte !== null; }
    get trackMatteLayer() { return this._matte; }
    get trackMatteType() { return this._matteType; }
    get isTrackMatte() { return this._comp._layers.some((l) => l._matte === this._self); }
    replaceSource(item, fixExpressions) {
      model.touch("layer.replaceSource");
      this._refuseIfLocked("layer.replaceSource");
      checkBool(fixExpressions, "replaceSource fixExpressions");
      if (!(item instanceof FootageItem || item instanceof CompItem)) {
        throw new TypeError("replaceSource: an AVItem");
      }
      this._source = item;
    }
    setTrackMatte(layer, type) {
      model.touch("layer.setTrackMatte");
      this._refuseIfLocked("layer.setTrackMatte");
      if (!(layer instanceof AVLayer) || layer._comp !== this._comp) {
        throw new TypeError("setTrackMatte: a layer of the same comp");
      }
      if (layer === this._self) { throw new Error("setTrackMatte: a layer cannot matte itself"); }
      checkEnum(type, "TrackMatteType", "setTrackMatte type");
      this._matte = layer;
      this._matteType = type;
    }
    removeTrackMatte() {
      model.touch("layer.removeTrackMatte");
      this._refuseIfLocked("layer.removeTrackMatte");
      this._matte = null;
      this._matteType = E.TrackMatteType.NO_TRACK_MATTE;
    }
  }

  class CameraLayer extends Layer {
    constructor(comp, name, center) {
      super();
      this._initLayer(comp, name);
      const zoom = comp._width * 50 / 36; // any default; the library must set its own
      this._autoOrient = E.AutoOrientType.CAMERA_OR_POINT_OF_INTEREST;
      this._group = new PropertyGroup("ADBE Root Vectors Group", [
        transformGroup([center[0], center[1], 0], [center[0], center[1], -zoom], [3]),
        new PropertyGroup("ADBE Camera Options Group", [
          new Property("ADBE Camera Zoom", PVT.OneD, zoom),
          new Property("ADBE Camera Depth of Field", PVT.OneD, 0),
          new Property("ADBE Camera Focus Distance", PVT.OneD, zoom),
          new Property("ADBE Camera Aperture", PVT.OneD, 25),
        ]),
        new PropertyGroup("ADBE Marker", []),
      ]);
      this._self = strict(this, "CameraLayer", new Set(LAYER_WRITABLE.concat(["autoOrient"])),
        model, lockGuard);
      this._group._attach(this._self);
      return this._self;
    }
    get autoOrient() { return this._autoOrient; }
    set autoOrient(v) { this._autoOrient = checkEnum(v, "AutoOrientType", "autoOrient"); }
  }

  // A collection indexed 1..length like AE's (items[1], layers[1]).
  function collection(getList, methods, className) {
    const target = Object.assign({}, methods);
    return new Proxy(target, {
      get(t, prop) {
        if (prop === "length") { return getList().length; }
        if (typeof prop === "string" && /^\d+$/.test(prop)) {
          const i = parseInt(prop, 10);
          const list = getList();
          if (i < 1 || i > list.length) { throw new RangeError(`${className}[${i}]: outside 1..${list.length}`); }
          return list[i - 1];
        }
        return t[prop];
      },
      set(_t, prop) { throw new TypeError(`${className}.${String(prop)} is read-only`); },
    });
  }

  class CompItem extends Item {
    constructor(name, width, height, par, duration, rate) {
      super();
      this._initItem(checkString(name, "addComp name"));
      // ItemCollection.addComp: width and height integers 4..30000, pixel aspect
      // 0.01..100, duration 0..10800 s, rate 1..99 (scripting guide).
      this._width = checkInteger(width, "addComp width", 4, 30000);
      this._height = checkInteger(height, "addComp height", 4, 30000);
      this._pixelAspect = checkNumber(par, "addComp pixelAspect", 0.01, 100);
      this._duration = checkNumber(duration, "addComp duration", 0, 10800);
      this._frameRate = checkNumber(rate, "addComp frameRate", 1, 99);
      this._displayStartFrame = 0;
      this._bgColor = [0, 0, 0];
      // CompItem.renderer/renderers: module names as the Advanced tab lists them
      // ("ADBE Advanced 3d" is Classic 3D; KraftyFX/aex names the others). New comps
      // here start on another renderer, as a current AE's may.
      this._renderers = ["ADBE Advanced 3d", "ADBE Ernst", "ADBE Calder"];
      this._renderer = "ADBE Ernst";
      this._layers = [];
      const comp = this;
      this._markers = new Property("ADBE Marker", PVT.MARKER, null);
      this._layerCollection = collection(() => comp._layers, {
        add(item) {
          model.touch("layers.add");
          if (!(item instanceof FootageItem || item instanceof CompItem)) {
            throw new TypeError("layers.add: an AVItem");
          }
          const layer = new AVLayer(comp._self, item);
          comp._layers.unshift(layer); // new layers appear on top
          return layer;
        },
        addCamera(cname, center) {
          model.touch("layers.addCamera");
          checkString(cname, "addCamera name");
          const c = numberArray(center, "addCamera centerPoint", [2]);
          const layer = new CameraLayer(comp._self, cname, c);
          comp._layers.unshift(layer);
          return layer;
        },
      }, "LayerCollection");
      this._self = strict(this, "CompItem", new Set(ITEM_WRITABLE.concat(["width", "height",
        "pixelAspect", "frameRate", "duration", "displayStartFrame", "bgColor", "renderer"])),
        model);
      return this._self;
    }
    get typeName() { return "Composition"; }
    get width() { return this._width; }
    set width(v) { this._width = checkInteger(v, "comp.width", 4, 30000); }
    get height() { return this._height; }
    set height(v) { this._height = checkInteger(v, "comp.height", 4, 30000); }
    get pixelAspect() { return this._pixelAspect; }
    set pixelAspect(v) { this._pixelAspect = checkNumber(v, "comp.pixelAspect", 0.01, 100); }
    get frameRate() { return this._frameRate; }
    set frameRate(v) { this._frameRate = checkNumber(v, "comp.frameRate", 1, 99); }
    get frameDuration() { return 1 / this._frameRate; }
    get duration() { return this._duration; }
    set duration(v) { this._duration = checkNumber(v, "comp.duration", 0, 10800); }
    get displayStartFrame() { return this._displayStartFrame; }
    set displayStartFrame(v) {
      checkNumber(v, "comp.displayStartFrame");
      if (Math.floor(v) !== v) { throw new TypeError("comp.displayStartFrame: an integer"); }
      this._displayStartFrame = v;
    }
    get bgColor() { return model.toScript(this._bgColor); }
    set bgColor(v) {
      const c = numberArray(v, "comp.bgColor", [3]);
      c.forEach((x, i) => checkNumber(x, `comp.bgColor[${i}]`, 0, 1));
      this._bgColor = c;
    }
    get renderers() { return model.toScript(this._renderers); }
    get renderer() { return this._renderer; }
    set renderer(v) {
      checkString(v, "comp.renderer");
      if (!this._renderers.includes(v)) { throw new Error(`comp.renderer: ${v} is not installed`); }
      this._renderer = v;
    }
    get layers() { return this._layerCollection; }
    get numLayers() { return this._layers.length; }
    layer(i) {
      if (typeof i !== "number" || i < 1 || i > this._layers.length) {
        throw new RangeError(`comp.layer(${i}): outside 1..${this._layers.length}`);
      }
      return this._layers[i - 1];
    }
    get markerProperty() { return this._markers; }
  }

  // ---------------------------------------------------------------------------------
  // Project and app

  // Colour profiles the project offers (Project.listColorProfiles). AE's list depends
  // on the platform and version; this one is plausible, and run.js --profiles swaps
  // it for another (tests use that to model an AE without an ACEScg profile).
  const PROFILES = model.profiles || ["Adobe RGB (1998)", "Apple RGB", "ColorMatch RGB",
    "HDTV (Rec. 709)", "HDTV (Rec. 709) 16-235", "ProPhoto RGB", "Rec.709 Gamma 2.4",
    "Rec.2020 Gamma 2.4", "SDTV NTSC", "SDTV PAL", "sRGB IEC61966-2.1",
    "Wide Gamut RGB", "ACEScg ACES Working Space AMPAS S-2014-004"];

  const root = new FolderItem("Root");
  const project = {
    _items: [],
    _bpc: 8,
    _linear: false,
    // "" is None (scripting guide, Project.workingSpace): no colour management.
    _workingSpace: "",
    _linearize: false,
    _compensate: true,
  };
  function addItem(item) {
    item._parent = root;
    project._items.push(item);
    return item;
  }
  const items = collection(() => project._items, {
    addFolder(name) { model.touch("items.addFolder"); return addItem(new FolderItem(name)); },
    addComp(name, w, h, par, dur, rate) {
      model.touch("items.addComp");
      if (arguments.length !== 6) { throw new Error("addComp: all six arguments are required"); }
      return addItem(new CompItem(name, w, h, par, dur, rate));
    },
  }, "ItemCollection");

  class Project {
    constructor() {
      return strict(this, "Project", new Set(["bitsPerChannel", "linearBlending",
        "workingSpace", "linearizeWorkingSpace", "compensateForSceneReferredProfiles"]),
        model);
    }
    get items() { return items; }
    get numItems() { return project._items.length; }
    get rootFolder() { return root; }
    item(i) { return items[i]; }
    get bitsPerChannel() { return project._bpc; }
    set bitsPerChannel(v) {
      if (![8, 16, 32].includes(v)) { throw new RangeError(`bitsPerChannel: ${v} is not 8, 16 or 32`); }
      project._bpc = v;
    }
    get linearBlending() { return project._linear; }
    set linearBlending(v) { project._linear = checkBool(v, "linearBlending"); }
    get workingSpace() { return project._workingSpace; }
    set workingSpace(v) {
      checkString(v, "workingSpace");
      if (v !== "" && !PROFILES.includes(v)) {
        throw new Error(`workingSpace: unknown profile ${v}`);
      }
      project._workingSpace = v;
    }
    get linearizeWorkingSpace() { return project._linearize; }
    set linearizeWorkingSpace(v) { project._linearize = checkBool(v, "linearizeWorkingSpace"); }
    get compensateForSceneReferredProfiles() { return project._compensate; }
    set compensateForSceneReferredProfiles(v) {
      project._compensate = checkBool(v, "compensateForSceneReferredProfiles");
    }
    listColorProfiles() { return model.toScript(PROFILES); }
    importFile(options) {
      model.touch("project.importFile");
      if (!(options instanceof ImportOptions)) { throw new TypeError("importFile: ImportOptions"); }
      model.imports += 1;
      if (options.sequence && options.forceAlphabetical) {
        throw new Error("importFile: this model covers numbered sequences only");
      }
      const item = new FootageItem(options.file, options.sequence);
      item._forceAlphabetical = options.forceAlphabetical;
      return addItem(item);
    }
    save(file) {
      if (!(file instanceof FileClass)) { throw new TypeError("project.save: a File"); }
      model.saved.push(file.fsName);
    }
  }

  class App {
    constructor() {
      this._project = new Project();
      return strict(this, "App", new Set(["exitCode"]), { touch() {} });
    }
    get project() { return this._project; }
    get version() { return "23.0x53"; }
    get exitCode() { return model.exitCode; }
    set exitCode(v) { model.exitCode = checkNumber(v, "app.exitCode"); }
    beginUndoGroup(name) {
      checkString(name, "beginUndoGroup name");
      model.undoDepth += 1;
      model.undoBegun += 1;
    }
    // Error dialogs from AE itself; a script run from the command line must not leave
    // one waiting (scripting guide, app.beginSuppressDialogs/endSuppressDialogs).
    beginSuppressDialogs() { model.suppressDepth += 1; model.suppressBegun += 1; }
    endSuppressDialogs(alertErrors) {
      checkBool(alertErrors, "endSuppressDialogs alert");
      if (model.suppressDepth > 0) { model.suppressDepth -= 1; }
      model.suppressEnded += 1;
    }
    endUndoGroup() {
      if (model.undoDepth === 0) { model.undoErrors.push("endUndoGroup without a group"); return; }
      model.undoDepth -= 1;
      model.undoEnded += 1;
    }
  }

  const dollar = strict({
    get fileName() { return model.scriptPath; },
    writeln(s) { model.written.push(String(s)); },
    getenv(name) { return Object.prototype.hasOwnProperty.call(model.env, name) ? model.env[name] : null; },
  }, "$", new Set(), { touch() {} });

  const globals = Object.assign({}, ENUMS, {
    app: new App(),
    File: FileCtor,
    Folder: FolderCtor,
    ImportOptions,
    KeyframeEase,
    MarkerValue,
    FolderItem,
    FootageItem,
    CompItem,
    AVLayer,
    CameraLayer,
    Property,
    PropertyGroup,
    $: dollar,
    alert(msg) { model.alerts.push(String(msg)); },
  });

  function snapshotItem(item) {
    const base = {
      id: item._id, type: item.typeName, name: item._name, comment: item._comment,
      parent: item._parent === root ? null : item._parent._name,
    };
    if (item instanceof FootageItem) {
      const s = item._source;
      Object.assign(base, {
        file: item._file, sequence: item._sequence, frames: item._frames,
        still: s._isStill, files_found: item._scan.files,
        force_alphabetical: !!item._forceAlphabetical, replaced: item._replaced || 0,
        pixel_aspect: item._pixelAspect, frame_rate: item.frameRate, duration: item.duration,
        main_source: {
          alpha_mode: enumName(s._alphaMode), premul_color: s._premul,
          conform_frame_rate: s._conform, field_separation: enumName(s._fields),
          remove_pulldown: enumName(s._pulldown), invert_alpha: s._invert, loop: s._loop,
        },
      });
    }
    if (item instanceof CompItem) {
      Object.assign(base, {
        width: item._width, height: item._height, pixel_aspect: item._pixelAspect,
        frame_rate: item._frameRate, duration: item._duration,
        display_start_frame: item._displayStartFrame, bg_color: item._bgColor,
        renderer: item._renderer,
        markers: item._markers.snapshot(),
        layers: item._layers.map((l) => snapshotLayer(l)),
      });
    }
    return base;
  }

  function snapshotGroup(group, out) {
    for (const child of group._children) {
      if (child instanceof PropertyGroup) { snapshotGroup(child, out); } else { out[child._matchName] = child.snapshot(); }
    }
    return out;
  }

  function snapshotLayer(l) {
    const out = {
      index: l.index, name: l._name, comment: l._comment, enabled: l._enabled,
      locked: l._locked,
      start_time: l._start, in_point: l._in, out_point: l._out, stretch: l._stretch,
      three_d: l._threeD, properties: snapshotGroup(l._group, {}),
    };
    if (l instanceof AVLayer) {
      Object.assign(out, {
        type: "AVLayer", source: l._source._name, source_id: l._source._id,
        guide: l._guide, blend: enumName(l._blend),
        track_matte: l._matte === null ? null : { layer: l._matte._name, type: enumName(l._matteType) },
      });
    } else {
      Object.assign(out, { type: "CameraLayer", auto_orient: enumName(l._autoOrient) });
    }
    return out;
  }

  function snapshot() {
    return {
      project: {
        bits_per_channel: project._bpc, linear_blending: project._linear,
        working_space: project._workingSpace, linearize: project._linearize,
      },
      dialogs: {
        suppressed: model.suppressBegun, resumed: model.suppressEnded,
        unattended_writes_shown: model.unsuppressedWrites.slice(0, 5),
      },
      items: project._items.map(snapshotItem),
      undo: {
        begun: model.undoBegun, ended: model.undoEnded, open: model.undoDepth,
        errors: model.undoErrors.slice(),
      },
      writes_outside_undo: model.writesOutsideUndo.slice(),
      alerts: model.alerts.slice(),
      written: model.written.slice(),
      exit_code: model.exitCode,
      saved: model.saved.slice(),
      imports: model.imports,
      guess_alpha_calls: model.guessCalls,
    };
  }

  // The comp as After Effects would render it, frame by frame: for every layer
  // whether it renders (activeAtTime, not a guide, a footage frame to show), which
  // footage frame, and its transform after easing; and the active camera (the
  // top-most camera layer active at that time, CompItem.activeCamera) with where it
  // looks. Frame k of the comp is at time k * frameDuration.
  function evaluateComp(comp) {
    const frames = [];
    const count = Math.round(comp._duration * comp._frameRate);
    for (let k = 0; k < count; k++) {
      const t = k / comp._frameRate;
      const layers = comp._layers.map((l) => {
        const out = {
          index: l.index, name: l._name, tag: firstLine(l._comment),
          type: l instanceof AVLayer ? "AVLayer" : "CameraLayer",
          active: l.activeAtTime(t), three_d: l._threeD,
          transform: l._transformAt(t),
        };
        if (l instanceof AVLayer) {
          const item = l._source;
          const still = item instanceof FootageItem && item._source._isStill;
          const rate = item instanceof FootageItem ? item.frameRate : comp._frameRate;
          const frame = aeMath.footageFrameAt(
            { startTime: l._start, stretch: l._stretch }, t, rate, item._frames || 1,
            still);
          Object.assign(out, {
            source_frame: frame,
            renders: out.active && !l._guide && frame !== null,
            blend: enumName(l._blend),
            track_matte: l._matte === null ? null : firstLine(l._matte._comment),
          });
        }
        return out;
      });
      const camera = comp._layers.find((l) => l instanceof CameraLayer && l.activeAtTime(t));
      let cam = null;
      if (camera) {
        const tr = camera._transformAt(t);
        const zoom = camera._group.property("ADBE Camera Options Group")
          .property("ADBE Camera Zoom")._valueAt(t);
        const axes = aeMath.cameraAxes(enumName(camera._autoOrient).split(".")[1],
          tr.position, tr.anchor, tr.orientation, tr.rotation_x, tr.rotation_y,
          tr.rotation);
        cam = { name: camera._name, tag: firstLine(camera._comment),
          position: tr.position, point_of_interest: tr.anchor, zoom,
          direction: axes.direction, up: axes.up };
      }
      frames.push({ frame: comp._displayStartFrame + k, time: t, layers, camera: cam });
    }
    return {
      name: comp._name, width: comp._width, height: comp._height,
      frame_rate: comp._frameRate, start_frame: comp._displayStartFrame, frames,
    };
  }

  function firstLine(text) {
    return String(text).split(/\r\n|\r|\n/)[0];
  }

  function evaluate() {
    return project._items.filter((i) => i instanceof CompItem).map(evaluateComp);
  }

  return { globals, snapshot, evaluate };
}

// ---------------------------------------------------------------------------------
// The sandbox: a vm context without the ES5+ built-ins ExtendScript lacks

const REMOVE = `
(function (g) {
  var gone = ["JSON", "Map", "Set", "WeakMap", "WeakSet", "Promise", "Symbol", "Proxy",
    "Reflect", "globalThis", "queueMicrotask", "structuredClone", "Intl", "BigInt",
    "WebAssembly", "SharedArrayBuffer", "Atomics", "WeakRef", "FinalizationRegistry"];
  var i;
  for (i = 0; i < gone.length; i++) { delete g[gone[i]]; }
  var arr = ["forEach", "map", "filter", "reduce", "reduceRight", "some", "every",
    "indexOf", "lastIndexOf", "find", "findIndex", "findLast", "findLastIndex", "includes",
    "fill", "flat", "flatMap", "keys", "values", "entries", "at", "copyWithin", "toSorted",
    "toReversed", "toSpliced", "with"];
  for (i = 0; i < arr.length; i++) { delete Array.prototype[arr[i]]; }
  delete Array.isArray; delete Array.from; delete Array.of;
  var obj = ["keys", "create", "defineProperty", "defineProperties", "freeze", "seal",
    "isFrozen", "isSealed", "preventExtensions", "isExtensible", "getPrototypeOf",
    "setPrototypeOf", "getOwnPropertyNames", "getOwnPropertyDescriptor",
    "getOwnPropertyDescriptors", "assign", "entries", "values", "fromEntries", "is",
    "getOwnPropertySymbols", "groupBy", "hasOwn"];
  for (i = 0; i < obj.length; i++) { delete Object[obj[i]]; }
  var str = ["trim", "trimStart", "trimEnd", "trimLeft", "trimRight", "startsWith",
    "endsWith", "includes", "repeat", "padStart", "padEnd", "codePointAt", "normalize",
    "at", "replaceAll", "matchAll"];
  for (i = 0; i < str.length; i++) { delete String.prototype[str[i]]; }
  delete String.fromCodePoint; delete String.raw;
  delete Function.prototype.bind;
  delete Date.now;
  delete Date.prototype.toISOString;
  delete Date.prototype.toJSON;
})(this);
`;

function makeSandbox(scriptPath, env, profiles) {
  const model = new Model();
  model.env = env || {};
  model.profiles = profiles || null;
  model.scriptPath = scriptPath;
  const context = vm.createContext({});
  // Arrays and objects handed to the script are made in the sandbox's own realm, so
  // `x instanceof Array` works and no node-realm ES5 method leaks in through them;
  // DOM objects (KeyframeEase, MarkerValue) pass through unchanged.
  const toScriptRealm = vm.runInContext(`(function (isDom) {
    function c(v) {
      var i, out, k;
      if (v === null || typeof v !== "object" || isDom(v)) { return v; }
      if (typeof v.length === "number") {
        out = [];
        for (i = 0; i < v.length; i++) { out.push(c(v[i])); }
        return out;
      }
      out = {};
      for (k in v) { if (v.hasOwnProperty(k)) { out[k] = c(v[k]); } }
      return out;
    }
    return c;
  })`, context)((v) => DOM_OBJECTS.has(v));
  model.toScript = toScriptRealm;
  const dom = makeDom(model, scriptPath);
  for (const [k, v] of Object.entries(dom.globals)) { context[k] = v; }
  vm.runInContext(REMOVE, context);
  // The runner points $.fileName at each script it runs.
  const setScript = (p) => { model.scriptPath = p; };
  return { context, model, snapshot: dom.snapshot, evaluate: dom.evaluate, setScript };
}

module.exports = { makeSandbox, ENUMS, enumName };
