// aebridge.jsx - the hand-written ExtendScript library that holds every After Effects
// call aebridge makes. Generated scripts inline this file verbatim, then call
// aebridge_build(plan) with one data literal whose schema is jsx/PLAN.md.
//
// ECMAScript 3 only (ExtendScript): none of the ES5 members (JSON, the Array iteration
// and search methods, the Object reflection functions, string trimming, function
// binding), no let/const, no trailing commas, no reserved words as unquoted property
// names; tests/js/check_es3.js lists exactly what is refused. tests/js checks this
// with acorn (ecmaVersion 3) and runs the library against a model of the AE DOM.
//
// Minimum After Effects version: 23.0 (setTrackMatte).

var AEB_PLAN_SCHEMA = "aebridge.plan/2";

// Blend names (aebridge.model.BlendMode values) to BlendingMode constants, written out in
// full: never BlendingMode[name] and never numbers. AE spells SILHOUETE_ALPHA with one T.
function aeb_blendTable() {
    return {
        "normal": BlendingMode.NORMAL,
        "dissolve": BlendingMode.DISSOLVE,
        "dancing_dissolve": BlendingMode.DANCING_DISSOLVE,
        "darken": BlendingMode.DARKEN,
        "multiply": BlendingMode.MULTIPLY,
        "color_burn": BlendingMode.COLOR_BURN,
        "classic_color_burn": BlendingMode.CLASSIC_COLOR_BURN,
        "linear_burn": BlendingMode.LINEAR_BURN,
        "darker_color": BlendingMode.DARKER_COLOR,
        "add": BlendingMode.ADD,
        "lighten": BlendingMode.LIGHTEN,
        "screen": BlendingMode.SCREEN,
        "color_dodge": BlendingMode.COLOR_DODGE,
        "classic_color_dodge": BlendingMode.CLASSIC_COLOR_DODGE,
        "linear_dodge": BlendingMode.LINEAR_DODGE,
        "lighter_color": BlendingMode.LIGHTER_COLOR,
        "overlay": BlendingMode.OVERLAY,
        "soft_light": BlendingMode.SOFT_LIGHT,
        "hard_light": BlendingMode.HARD_LIGHT,
        "linear_light": BlendingMode.LINEAR_LIGHT,
        "vivid_light": BlendingMode.VIVID_LIGHT,
        "pin_light": BlendingMode.PIN_LIGHT,
        "hard_mix": BlendingMode.HARD_MIX,
        "difference": BlendingMode.DIFFERENCE,
        "classic_difference": BlendingMode.CLASSIC_DIFFERENCE,
        "exclusion": BlendingMode.EXCLUSION,
        "subtract": BlendingMode.SUBTRACT,
        "divide": BlendingMode.DIVIDE,
        "hue": BlendingMode.HUE,
        "saturation": BlendingMode.SATURATION,
        "color": BlendingMode.COLOR,
        "luminosity": BlendingMode.LUMINOSITY,
        "stencil_alpha": BlendingMode.STENCIL_ALPHA,
        "stencil_luma": BlendingMode.STENCIL_LUMA,
        "silhouette_alpha": BlendingMode.SILHOUETE_ALPHA,
        "silhouette_luma": BlendingMode.SILHOUETTE_LUMA,
        "alpha_add": BlendingMode.ALPHA_ADD,
        "luminescent_premul": BlendingMode.LUMINESCENT_PREMUL
    };
}

function aeb_matteTable() {
    return {
        "alpha": TrackMatteType.ALPHA,
        "alpha_inverted": TrackMatteType.ALPHA_INVERTED,
        "luma": TrackMatteType.LUMA,
        "luma_inverted": TrackMatteType.LUMA_INVERTED
    };
}

function aeb_interpolationTable() {
    return {
        "linear": KeyframeInterpolationType.LINEAR,
        "bezier": KeyframeInterpolationType.BEZIER,
        "hold": KeyframeInterpolationType.HOLD
    };
}

// Looks a name up in one of the tables above; an unknown name names the plan path and
// lists what the library knows (a plan from a newer aebridge, or a hand-edited script).
function aeb_lookup(table, name, where) {
    var key = String(name);
    if (table.hasOwnProperty(key)) {
        return table[key];
    }
    var known = [];
    var k;
    for (k in table) {
        if (table.hasOwnProperty(k)) {
            known.push(k);
        }
    }
    throw new Error(where + ": unknown value '" + key + "'; allowed: " + known.join(", "));
}

// ---------------------------------------------------------------------------------
// Small helpers

function aeb_errorText(e) {
    if (e && e.message) {
        return String(e.message);
    }
    return String(e);
}

// Comp seconds of a comp frame: comp time 0 is the comp's first frame whatever number
// displayStartFrame shows; dividing by the integer rate keeps 24000/1001 exact enough.
function aeb_time(plan, frame) {
    return (frame - plan.comp.start_frame) * plan.comp.rate_den / plan.comp.rate_num;
}

function aeb_tag(plan, kind, id) {
    return "[aebridge " + plan.build_id + " " + kind + " " + id + "]";
}

// The first line of a comment. After Effects may hand comments back with \r line ends
// whatever was written (AE_SCRIPTING.md), so \r\n, \r and \n all end a line.
function aeb_firstLine(comment) {
    var text = String(comment);
    var i;
    var c;
    for (i = 0; i < text.length; i++) {
        c = text.charAt(i);
        if (c === "\r" || c === "\n") {
            return text.substr(0, i);
        }
    }
    return text;
}

// True when the comment's first line is exactly the tag.
function aeb_hasTag(comment, tag) {
    return aeb_firstLine(comment) === tag;
}

function aeb_comment(tag, text) {
    if (text === null || text === undefined || text === "") {
        return tag;
    }
    return tag + "\n" + text;
}

// A file relative to the running script's folder. ExtendScript decodes URI escapes in
// path strings, so each segment is encoded and appended to the folder's absoluteURI:
// a file literally named "50%25.exr" stays that name.
function aeb_resolve(base, relative) {
    var parts = String(relative).split("/");
    var uri = base.absoluteURI;
    var i;
    for (i = 0; i < parts.length; i++) {
        uri += "/" + File.encode(parts[i]);
    }
    return new File(uri);
}

// A path string with every "/"-separated segment URI-encoded, so File() decodes it
// back to exactly these characters.
function aeb_encodePath(text) {
    var parts = String(text).split("/");
    var i;
    for (i = 0; i < parts.length; i++) {
        parts[i] = File.encode(parts[i]);
    }
    return parts.join("/");
}

// Whether $.fileName comes URI-encoded is not documented (unverified): a folder named
// "50%41" would otherwise resolve to "50A". Take it as given when that file exists,
// else encoded.
function aeb_scriptFolder() {
    var file = new File($.fileName);
    if (!file.exists) {
        file = new File(aeb_encodePath($.fileName));
    }
    return file.parent;
}

// ---------------------------------------------------------------------------------
// Finding what an earlier run made

function aeb_findItem(kindCheck, tag) {
    var project = app.project;
    var i;
    var item;
    for (i = 1; i <= project.numItems; i++) {
        item = project.item(i);
        if (kindCheck(item) && aeb_hasTag(item.comment, tag)) {
            return item;
        }
    }
    return null;
}

function aeb_isFolder(item) {
    return item instanceof FolderItem;
}

function aeb_isFootage(item) {
    return item instanceof FootageItem;
}

function aeb_isComp(item) {
    return item instanceof CompItem;
}

// ---------------------------------------------------------------------------------
// Project, folder, footage

function aeb_pad(frame, width) {
    var text = String(frame);
    while (text.length < width) {
        text = "0" + text;
    }
    return text;
}

// Every frame of every sequence must exist: AE would silently put placeholders in the
// gaps (and refuse a missing first frame). Reports up to five paths and the count.
function aeb_checkFootageFiles(plan, base) {
    var missing = [];
    var count = 0;
    var i;
    var f;
    var spec;
    var prefix;
    var file;
    var more;
    for (i = 0; i < plan.footage.length; i++) {
        spec = plan.footage[i];
        // The path ends with the padded first frame and ".exr" (the emitter writes it
        // so); the other frames differ only in the number.
        prefix = spec.path.substr(0,
            spec.path.length - (aeb_pad(spec.first, spec.padding) + ".exr").length);
        for (f = spec.first; f <= spec.last; f++) {
            file = aeb_resolve(base, prefix + aeb_pad(f, spec.padding) + ".exr");
            if (!file.exists) {
                count++;
                if (missing.length < 5) {
                    missing.push(file.fsName);
                }
            }
        }
    }
    if (count > 0) {
        more = count > missing.length ? " and " + (count - missing.length) + " more" : "";
        throw new Error("missing footage file(s): " + missing.join(", ") + more +
            " (paths are relative to the script's folder " + base.fsName + ")");
    }
}

// Working-space profile names by the primaries a comp needs, best first. AE lists
// its profiles by description (Project.listColorProfiles), which differ by platform
// and version, so the names are matched at run time (aeb_matchProfile). None of these
// has been seen in a running After Effects here: unverified.
function aeb_workingSpaceTable() {
    return {
        "rec709": ["sRGB IEC61966-2.1", "HDTV (Rec. 709)", "Rec.709 Gamma 2.4"],
        "ap1": ["ACEScg ACES Working Space AMPAS S-2014-004", "ACEScg"]
    };
}

// A profile name reduced to its lower-case letters and digits, so "sRGB IEC61966-2.1"
// matches "SRGB IEC61966 2.1".
function aeb_profileKey(name) {
    var text = String(name).toLowerCase();
    var out = "";
    var i;
    var c;
    for (i = 0; i < text.length; i++) {
        c = text.charAt(i);
        if ((c >= "a" && c <= "z") || (c >= "0" && c <= "9")) {
            out += c;
        }
    }
    return out;
}

// The first of `wanted` that AE lists (exactly, else by aeb_profileKey), as AE spells
// it; null when none is listed.
function aeb_matchProfile(wanted, available) {
    var i;
    var j;
    for (i = 0; i < wanted.length; i++) {
        for (j = 0; j < available.length; j++) {
            if (available[j] === wanted[i]) {
                return available[j];
            }
        }
        for (j = 0; j < available.length; j++) {
            if (aeb_profileKey(available[j]) === aeb_profileKey(wanted[i])) {
                return available[j];
            }
        }
    }
    return null;
}

// The working space this comp needs, or null (with a note saying why).
function aeb_workingSpace(plan, notes) {
    var p = plan.project;
    var table = aeb_workingSpaceTable();
    var available;
    var wanted;
    var found;
    if (typeof app.project.listColorProfiles === "undefined") {
        notes.push("this After Effects cannot list colour profiles (16.0 or later " +
            "is needed): the project's working space is left as it is");
        return null;
    }
    available = app.project.listColorProfiles();
    if (p.working_space !== null) {
        found = aeb_matchProfile([p.working_space], available);
        if (found === null) {
            notes.push("project.working_space: '" + p.working_space + "' is not a " +
                "colour profile this After Effects lists; the working space is left " +
                "as it is");
        }
        return found;
    }
    if (p.primaries === null || !table.hasOwnProperty(p.primaries)) {
        notes.push("no After Effects working space is known for the colour space '" +
            p.colorspace + "'; the working space is left as it is");
        return null;
    }
    wanted = table[p.primaries];
    found = aeb_matchProfile(wanted, available);
    if (found === null) {
        notes.push("this After Effects lists no " + (p.primaries === "ap1" ?
            "ACEScg" : "Rec.709/sRGB") + " working space (looked for: " +
            wanted.join(", ") + ") for the comp's colour space '" + p.colorspace +
            "': the working space is left as it is; set one by hand, or convert to " +
            "another colour space");
    }
    return found;
}

// True when the project holds nothing, or only what this build made: its project-wide
// settings are then this comp's to choose.
function aeb_projectIsOurs(plan) {
    var prefix = "[aebridge " + plan.build_id + " ";
    var i;
    for (i = 1; i <= app.project.numItems; i++) {
        if (aeb_firstLine(app.project.item(i).comment).substr(0, prefix.length) !==
                prefix) {
            return false;
        }
    }
    return true;
}

// Project-wide settings: 32 bpc, linear blending and a linearized working space
// (scripting guide, Project.bitsPerChannel, .linearBlending, .workingSpace,
// .linearizeWorkingSpace, 16.0+). Without a working space AE shows scene-linear EXR
// values as display values and blends them through a second gamma. They are shared
// by every comp of the project, so they change only in a project of this comp's own
// ("auto") or when the plan says "set"; otherwise every difference is reported.
function aeb_setProject(plan, notes, ours) {
    var p = plan.project;
    var project = app.project;
    var profile = aeb_workingSpace(plan, notes);
    var apply = p.settings === "set" || (p.settings === "auto" && ours);
    var linearize = typeof project.linearizeWorkingSpace !== "undefined";
    var why;
    var differs = [];
    if (apply) {
        project.bitsPerChannel = p.bpc;
        project.linearBlending = p.linear_blending;
        if (profile !== null) {
            project.workingSpace = profile;
            if (linearize) {
                project.linearizeWorkingSpace = true;
            }
        }
        return;
    }
    if (project.bitsPerChannel !== p.bpc) {
        differs.push("bits per channel is " + project.bitsPerChannel + " (the comp " +
            "needs " + p.bpc + ")");
    }
    if (project.linearBlending !== p.linear_blending) {
        differs.push("linear blending is " + (project.linearBlending ? "on" : "off") +
            " (the comp needs it " + (p.linear_blending ? "on" : "off") + ")");
    }
    if (profile !== null && project.workingSpace !== profile) {
        differs.push("the working space is '" + project.workingSpace + "' (the comp " +
            "needs '" + profile + "')");
    }
    if (profile !== null && linearize && !project.linearizeWorkingSpace) {
        differs.push("the working space is not linearized (the comp needs it " +
            "linearized)");
    }
    if (differs.length > 0) {
        why = p.settings === "keep" ? "project_settings is 'keep'" :
            "the project holds other items";
        notes.push("project settings left as they are (" + why + "): " +
            differs.join("; ") + "; set comp.project_settings to 'set' to change them");
    }
}

function aeb_folder(plan) {
    var tag = aeb_tag(plan, "folder", "comp");
    var folder = aeb_findItem(aeb_isFolder, tag);
    if (folder === null) {
        folder = app.project.items.addFolder(plan.folder);
    }
    folder.name = plan.folder;
    folder.comment = aeb_comment(tag, "aebridge build " + plan.build_id);
    return folder;
}

function aeb_alphaTable() {
    return {
        "premultiplied": AlphaMode.PREMULTIPLIED,
        "ignore": AlphaMode.IGNORE
    };
}

function aeb_interpret(item, spec) {
    var source = item.mainSource;
    // The frames are premultiplied over black, so never guessAlphaMode(); premulColor
    // is only accepted once the alpha mode is PREMULTIPLIED. A layer's light copy
    // ignores alpha (its colour is added as stored).
    source.alphaMode = aeb_lookup(aeb_alphaTable(), spec.alpha,
        "footage '" + spec.id + "'.alpha");
    if (spec.alpha === "premultiplied") {
        source.premulColor = [0, 0, 0];
    }
    // What a user may have set since the last run is set back: inverted alpha, and
    // (not on a still, where setting them is an error) pulldown removal, field
    // separation and loops. Pulldown goes off first: field separation cannot be
    // turned off while it is on (scripting guide, FootageSource.removePulldown,
    // .fieldSeparationType, .conformFrameRate, .loop, .invertAlpha).
    if (source.hasAlpha) {
        source.invertAlpha = false;
    }
    if (!source.isStill) {
        source.removePulldown = PulldownPhase.OFF;
        source.fieldSeparationType = FieldSeparationType.OFF;
        source.loop = 1;
        // AE reads no rate from EXR files: without this the import preference decides.
        source.conformFrameRate = spec.rate_num / spec.rate_den;
    }
    item.pixelAspect = spec.pixel_aspect;
}

// AE's sequence importer takes every file in the folder that is numbered like the
// one given, gaps included (AE_SCRIPTING.md, "Interpreting footage"): compare what it
// took with the frames the plan names, so stray frames of an older conversion cannot
// lengthen or shift the layer unnoticed. A new item that fails is removed again.
function aeb_checkFrames(item, spec, file, fresh) {
    var expected = spec.last - spec.first + 1;
    var got;
    var what;
    if (spec.still) {
        return;
    }
    got = item.mainSource.isStill ? 1 : Math.round(item.duration * item.frameRate);
    if (got === expected) {
        return;
    }
    if (fresh) {
        item.remove();
    }
    what = aeb_pad(spec.first, spec.padding) + "-" + aeb_pad(spec.last, spec.padding);
    throw new Error("footage '" + spec.id + "': After Effects took " + got +
        " frames from the folder " + file.parent.fsName + ", expected " + expected +
        " (frames " + what + "): move other files numbered like " + file.name +
        " out of that folder");
}

function aeb_footage(plan, base, folder, spec) {
    var tag = aeb_tag(plan, "footage", spec.id);
    var file = aeb_resolve(base, spec.path);
    var item = aeb_findItem(aeb_isFootage, tag);
    var fresh = item === null;
    var options;
    if (!fresh) {
        if (spec.still) {
            item.replace(file);
        } else {
            // replace() would collapse the sequence to one frame; this keeps it.
            item.replaceWithSequence(file, false);
        }
    } else {
        options = new ImportOptions(file);
        // One file alone is a still: imported as a sequence AE makes it a still
        // anyway, and conforming it would then throw.
        options.sequence = !spec.still;
        // true would silently close gaps in the numbering and shift timing.
        options.forceAlphabetical = false;
        if (options.canImportAs(ImportAsType.FOOTAGE)) {
            options.importAs = ImportAsType.FOOTAGE;
        }
        item = app.project.importFile(options);
        if (!(item instanceof FootageItem)) {
            throw new Error("footage '" + spec.id + "': importing " + file.fsName +
                " did not give a footage item");
        }
    }
    aeb_interpret(item, spec);
    aeb_checkFrames(item, spec, file, fresh);
    item.name = spec.name;
    item.parentFolder = folder;
    item.comment = aeb_comment(tag, spec.comment);
    return item;
}

// ---------------------------------------------------------------------------------
// Comp

function aeb_rendererTable() {
    // "ADBE Advanced 3d" is the module AE names Classic 3D (module names as seen in
    // scripts such as KraftyFX/aex; the scripting guide lists none): unverified.
    return {
        "classic_3d": "ADBE Advanced 3d"
    };
}

// The 3D renderer the preview models (CompItem.renderer, one of CompItem.renderers).
function aeb_renderer(comp, c, notes) {
    var name = aeb_lookup(aeb_rendererTable(), c.renderer, "comp.renderer");
    var list;
    var i;
    if (typeof comp.renderers === "undefined") {
        return;
    }
    list = comp.renderers;
    for (i = 0; i < list.length; i++) {
        if (list[i] === name) {
            if (comp.renderer !== name) {
                comp.renderer = name;
            }
            return;
        }
    }
    notes.push("comp renderer: this After Effects offers no Classic 3D renderer ('" +
        name + "'; it offers " + list.join(", ") + "): 3D layers render with '" +
        comp.renderer + "', which the preview does not model");
}

function aeb_comp(plan, folder, notes) {
    var c = plan.comp;
    var tag = aeb_tag(plan, "comp", "comp");
    var rate = c.rate_num / c.rate_den;
    var seconds = c.duration * c.rate_den / c.rate_num;
    var comp = aeb_findItem(aeb_isComp, tag);
    if (comp === null) {
        comp = app.project.items.addComp(c.name, c.width, c.height, c.pixel_aspect,
            seconds, rate);
    } else {
        comp.width = c.width;
        comp.height = c.height;
        comp.pixelAspect = c.pixel_aspect;
        comp.frameRate = rate;
        comp.duration = seconds;
    }
    comp.name = c.name;
    aeb_renderer(comp, c, notes);
    comp.displayStartFrame = c.start_frame;
    comp.bgColor = [c.bg[0], c.bg[1], c.bg[2]];
    comp.parentFolder = folder;
    comp.comment = aeb_comment(tag, c.comment);
    return comp;
}

// ---------------------------------------------------------------------------------
// Properties and keyframes

function aeb_transform(layer, matchName) {
    var p = layer.property("ADBE Transform Group").property(matchName);
    if (p === null) {
        throw new Error("layer '" + layer.name + "' has no property " + matchName);
    }
    return p;
}

function aeb_clearKeys(prop) {
    var k;
    for (k = prop.numKeys; k >= 1; k--) {
        prop.removeKey(k);
    }
}

// KeyframeEase arrays must be as long as the property's value type asks: 3 for ThreeD
// (scale), 2 for TwoD, 1 for everything else, spatial properties included.
function aeb_easeCount(prop) {
    if (prop.propertyValueType === PropertyValueType.ThreeD) {
        return 3;
    }
    if (prop.propertyValueType === PropertyValueType.TwoD) {
        return 2;
    }
    return 1;
}

function aeb_eases(prop, ease, existing) {
    var n = aeb_easeCount(prop);
    var out = [];
    var i;
    var speed;
    if (ease === null) {
        return existing;
    }
    for (i = 0; i < n; i++) {
        if (ease.speed instanceof Array) {
            speed = i < ease.speed.length ? ease.speed[i] : 0;
        } else {
            speed = ease.speed;
        }
        out.push(new KeyframeEase(speed, ease.influence));
    }
    return out;
}

// Zero spatial tangents, as long as the property's value type asks: a 2D layer's
// position is still ThreeD_SPATIAL, only TwoD_SPATIAL takes two.
function aeb_zeroTangent(prop) {
    if (prop.propertyValueType === PropertyValueType.TwoD_SPATIAL) {
        return [0, 0];
    }
    return [0, 0, 0];
}

function aeb_setProperty(plan, prop, spec, where) {
    var interp = aeb_interpolationTable();
    var times = [];
    var values = [];
    var keys;
    var key;
    var i;
    var k;
    var inType;
    var outType;
    aeb_clearKeys(prop);
    if (!spec.hasOwnProperty("keys")) {
        // setValue throws on a property with keys: they were removed above.
        prop.setValue(spec.value);
        return;
    }
    keys = spec.keys;
    for (i = 0; i < keys.length; i++) {
        times.push(aeb_time(plan, keys[i].frame));
        values.push(keys[i].value);
    }
    prop.setValuesAtTimes(times, values);
    for (i = 0; i < keys.length; i++) {
        key = keys[i];
        k = prop.nearestKeyIndex(times[i]);
        inType = aeb_lookup(interp, key.in_type, where + ".keys[" + i + "].in_type");
        outType = aeb_lookup(interp, key.out_type, where + ".keys[" + i + "].out_type");
        // The interpolation type goes first: setting an ease on a LINEAR side would
        // otherwise be overridden.
        prop.setInterpolationTypeAtKey(k, inType, outType);
        if ((key.in_type === "bezier" || key.out_type === "bezier") &&
                (key.ease_in !== null || key.ease_out !== null)) {
            prop.setTemporalEaseAtKey(k,
                aeb_eases(prop, key.ease_in, prop.keyInTemporalEase(k)),
                aeb_eases(prop, key.ease_out, prop.keyOutTemporalEase(k)));
        }
        if (prop.isSpatial) {
            // Straight segments between position keys: AE's default auto-bezier paths
            // overshoot and would not match the preview renderer.
            prop.setSpatialAutoBezierAtKey(k, false);
            prop.setSpatialContinuousAtKey(k, false);
            prop.setSpatialTangentsAtKey(k, aeb_zeroTangent(prop), aeb_zeroTangent(prop));
        }
    }
}

var AEB_TRANSFORM = [
    ["anchor", "ADBE Anchor Point"],
    ["position", "ADBE Position"],
    ["scale", "ADBE Scale"],
    ["rotation", "ADBE Rotate Z"],
    ["opacity", "ADBE Opacity"]
];

function aeb_setTransform(plan, layer, transform, where) {
    var i;
    var name;
    for (i = 0; i < AEB_TRANSFORM.length; i++) {
        name = AEB_TRANSFORM[i][0];
        if (transform.hasOwnProperty(name)) {
            aeb_setProperty(plan, aeb_transform(layer, AEB_TRANSFORM[i][1]),
                transform[name], where + ".transform." + name);
        }
    }
}

// ---------------------------------------------------------------------------------
// Layers

function aeb_taggedLayers(plan, comp, kind) {
    var found = {};
    var prefix = "[aebridge " + plan.build_id + " " + kind + " ";
    var i;
    var layer;
    var text;
    for (i = 1; i <= comp.numLayers; i++) {
        layer = comp.layer(i);
        text = String(layer.comment);
        if (text.substr(0, prefix.length) === prefix) {
            text = aeb_firstLine(text);
            if (text.charAt(text.length - 1) === "]") {
                found["k_" + text.substring(prefix.length, text.length - 1)] = layer;
            }
        }
    }
    return found;
}

function aeb_removeStale(plan, comp) {
    var keep = {};
    var i;
    var layer;
    var text;
    var prefix = "[aebridge " + plan.build_id + " ";
    for (i = 0; i < plan.layers.length; i++) {
        keep[aeb_tag(plan, "layer", plan.layers[i].id)] = true;
    }
    if (plan.camera !== null) {
        keep[aeb_tag(plan, "camera", "camera")] = true;
    }
    // Backwards so removal does not shift the layers still to visit.
    for (i = comp.numLayers; i >= 1; i--) {
        layer = comp.layer(i);
        text = String(layer.comment);
        if (text.substr(0, prefix.length) === prefix) {
            text = aeb_firstLine(text);
            if (!keep.hasOwnProperty(text)) {
                layer.remove();
            }
        }
    }
}

// Footage an earlier run imported for a layer the spec no longer has: removed once no
// comp uses it (the stale layers went first), so a re-run leaves the same project as
// a fresh run. Footage someone placed in another comp by hand stays.
function aeb_removeStaleFootage(plan) {
    var keep = {};
    var prefix = "[aebridge " + plan.build_id + " footage ";
    var project = app.project;
    var i;
    var item;
    var text;
    for (i = 0; i < plan.footage.length; i++) {
        keep[aeb_tag(plan, "footage", plan.footage[i].id)] = true;
    }
    // Backwards so removal does not shift the items still to visit.
    for (i = project.numItems; i >= 1; i--) {
        item = project.item(i);
        if (aeb_isFootage(item)) {
            text = aeb_firstLine(item.comment);
            if (text.substr(0, prefix.length) === prefix &&
                    !keep.hasOwnProperty(text) && item.usedIn.length === 0) {
                item.remove();
            }
        }
    }
}

// Layers the user locked refuse every change (AE_SCRIPTING.md; the scripting guide's
// Layer.locked is the panel's lock switch). Ours are unlocked for the update and
// locked again afterwards, even when the build fails half way.
function aeb_unlockOurs(plan, comp) {
    var prefix = "[aebridge " + plan.build_id + " ";
    var unlocked = [];
    var i;
    var layer;
    for (i = 1; i <= comp.numLayers; i++) {
        layer = comp.layer(i);
        if (aeb_firstLine(layer.comment).substr(0, prefix.length) === prefix &&
                layer.locked) {
            layer.locked = false;
            unlocked.push(layer);
        }
    }
    return unlocked;
}

function aeb_relock(layers) {
    var i;
    for (i = 0; i < layers.length; i++) {
        try {
            layers[i].locked = true;
        } catch (ignored) {
            // The layer was removed (gone from the plan): nothing to lock.
        }
    }
}

// Start, in and out points in comp seconds. In before out, unless the new in point
// lies past the current out point (a layer from an earlier run trimmed later): AE
// keeps inPoint before outPoint at all times.
function aeb_setSpan(layer, start, inTime, outTime) {
    layer.startTime = start;
    if (inTime >= layer.outPoint) {
        layer.outPoint = outTime;
        layer.inPoint = inTime;
    } else {
        layer.inPoint = inTime;
        layer.outPoint = outTime;
    }
}

function aeb_layer(plan, comp, existing, footage, spec, index) {
    var where = "layers[" + index + "]";
    var item = footage["k_" + spec.footage];
    var layer;
    if (!item) {
        throw new Error(where + ".footage: no footage with id '" + spec.footage + "'");
    }
    if (existing.hasOwnProperty("k_" + spec.id)) {
        layer = existing["k_" + spec.id];
        // Compared by id: the DOM may hand out a new wrapper object on every access.
        if (layer.source.id !== item.id) {
            layer.replaceSource(item, false);
        }
    } else {
        layer = comp.layers.add(item);
    }
    layer.name = spec.name;
    layer.comment = aeb_comment(aeb_tag(plan, "layer", spec.id), spec.comment);
    layer.enabled = spec.enabled;
    layer.guideLayer = spec.guide;
    // 3D before the transform: position and scale gain a Z component.
    layer.threeDLayer = spec.three_d;
    layer.blendingMode = aeb_lookup(aeb_blendTable(), spec.blend, where + ".blend");
    // Stretch first: it rescales the in and out points AE already holds.
    layer.stretch = spec.stretch;
    aeb_setSpan(layer, aeb_time(plan, spec.start), aeb_time(plan, spec.in_frame),
        aeb_time(plan, spec.out_frame));
    aeb_setTransform(plan, layer, spec.transform, where);
    return layer;
}

function aeb_camera(plan, comp) {
    var spec = plan.camera;
    // Tagged by a fixed id, not by its name: one camera per build, and a name may hold
    // any character.
    var tag = aeb_tag(plan, "camera", "camera");
    var found = aeb_taggedLayers(plan, comp, "camera");
    var camera;
    var options;
    if (found.hasOwnProperty("k_camera")) {
        camera = found.k_camera;
    } else {
        camera = comp.layers.addCamera(spec.name, [comp.width / 2, comp.height / 2]);
    }
    camera.name = spec.name;
    camera.comment = aeb_comment(tag, spec.comment);
    // addCamera honours the "Create Layers at Composition Start Time" preference and
    // AE does not lengthen layers when a comp grows (scripting guide,
    // LayerCollection.addCamera): the camera spans the comp, set on every run.
    aeb_setSpan(camera, 0, 0, comp.duration);
    // Only a camera auto-oriented towards its point of interest looks at it; with
    // NO_AUTO_ORIENT AE ignores the point of interest and only the rotations turn the
    // camera (scripting guide, Layer.autoOrient; Adobe help "Auto-Orientation
    // options"). A keyed point of interest (pan, tilt, orbit) needs the former.
    if (spec.point_of_interest.hasOwnProperty("keys") && !spec.auto_orient) {
        throw new Error("camera.auto_orient: a camera whose point of interest is " +
            "keyed must be oriented towards it (true)");
    }
    camera.autoOrient = spec.auto_orient ? AutoOrientType.CAMERA_OR_POINT_OF_INTEREST :
        AutoOrientType.NO_AUTO_ORIENT;
    // On a camera, the anchor point property is the point of interest.
    aeb_setProperty(plan, aeb_transform(camera, "ADBE Position"), spec.position,
        "camera.position");
    aeb_setProperty(plan, aeb_transform(camera, "ADBE Anchor Point"),
        spec.point_of_interest, "camera.point_of_interest");
    // Roll is the camera's Z rotation (a one-node rotation on top of the two nodes).
    aeb_setProperty(plan, aeb_transform(camera, "ADBE Rotate Z"), spec.roll,
        "camera.roll");
    // The rotations after the aim (Adobe help, "Auto-Orientation options"): set on
    // every run, so one changed by hand does not turn the camera away from the plan.
    aeb_setProperty(plan, aeb_transform(camera, "ADBE Orientation"), spec.orientation,
        "camera.orientation");
    aeb_setProperty(plan, aeb_transform(camera, "ADBE Rotate X"), spec.rotation_x,
        "camera.rotation_x");
    aeb_setProperty(plan, aeb_transform(camera, "ADBE Rotate Y"), spec.rotation_y,
        "camera.rotation_y");
    options = camera.property("ADBE Camera Options Group");
    aeb_setProperty(plan, options.property("ADBE Camera Zoom"), spec.zoom, "camera.zoom");
    return camera;
}

function aeb_order(plan, layers, camera) {
    var i;
    // Bottom first: each moveToBeginning puts the next one above it. Layers someone
    // added by hand end up below ours; AE's add order is never trusted.
    for (i = 0; i < layers.length; i++) {
        layers[i].moveToBeginning();
    }
    if (camera !== null) {
        camera.moveToBeginning();
    }
}

function aeb_mattes(plan, layers, byId) {
    var table = aeb_matteTable();
    var i;
    var spec;
    var matte;
    for (i = 0; i < plan.layers.length; i++) {
        spec = plan.layers[i];
        if (spec.matte !== null) {
            matte = byId["k_" + spec.matte.layer];
            if (!matte) {
                throw new Error("layers[" + i + "].matte.layer: no layer with id '" +
                    spec.matte.layer + "'");
            }
            // 23.0+: the matte layer need not sit directly above.
            layers[i].setTrackMatte(matte, aeb_lookup(table, spec.matte.type,
                "layers[" + i + "].matte.type"));
            // The UI switches a matte's video off when it is chosen; nothing documents
            // that setTrackMatte does (scripting guide, AVLayer.setTrackMatte), and a
            // matte with its video on renders on top of the picture: off, whatever
            // the spec says.
            matte.enabled = false;
        } else if (layers[i].hasTrackMatte) {
            layers[i].removeTrackMatte();
        }
    }
}

// ---------------------------------------------------------------------------------
// Markers

// After Effects keeps one marker per time: setValueAtTime on a time that has a key
// replaces it (scripting guide, Property.setValueAtTime). The plan merges its own
// markers per frame; a marker the user added in AE at one of those times is never
// replaced: ours is merged into it, remembering what was the user's
// (aebridge_user_comment, aebridge_own_keys), so a later run can give it back.
var AEB_MARKER_TOLERANCE = 0.0001; // seconds: markers this close share a time

function aeb_markerKeyAt(prop, time) {
    var k;
    if (prop.numKeys === 0) {
        return 0;
    }
    k = prop.nearestKeyIndex(time);
    return Math.abs(prop.keyTime(k) - time) < AEB_MARKER_TOLERANCE ? k : 0;
}

// Parameter keys as one string: each URI-encoded, joined with commas (keys may hold
// any character, commas included).
function aeb_encodeKeys(keys) {
    var out = [];
    var i;
    for (i = 0; i < keys.length; i++) {
        out.push(encodeURIComponent(keys[i]));
    }
    return out.join(",");
}

function aeb_decodeKeys(text) {
    var parts = text === "" ? [] : String(text).split(",");
    var out = {};
    var i;
    for (i = 0; i < parts.length; i++) {
        out[decodeURIComponent(parts[i])] = true;
    }
    return out;
}

// Removes this build's markers; a user's marker ours was merged into gets back its
// own comment and parameters (its other attributes were never touched).
function aeb_clearMarkers(plan, prop) {
    var k;
    var marker;
    var params;
    var own;
    var kept;
    var key;
    for (k = prop.numKeys; k >= 1; k--) {
        marker = prop.keyValue(k);
        params = marker.getParameters();
        if (!params.hasOwnProperty("aebridge_build") ||
                params.aebridge_build !== plan.build_id) {
            continue;
        }
        if (!params.hasOwnProperty("aebridge_user_comment")) {
            prop.removeKey(k);
            continue;
        }
        own = aeb_decodeKeys(params.aebridge_own_keys);
        kept = {};
        for (key in params) {
            if (params.hasOwnProperty(key) && !own.hasOwnProperty(key) &&
                    key.substr(0, 9) !== "aebridge_") {
                kept[key] = params[key];
            }
        }
        marker.comment = params.aebridge_user_comment;
        marker.setParameters(kept);
        prop.setValueAtTime(prop.keyTime(k), marker);
    }
}

function aeb_markers(plan, comp) {
    var prop = comp.markerProperty;
    var k;
    var i;
    var spec;
    var marker;
    var params;
    var text;
    var time;
    var existing;
    var users;
    var own;
    var key;
    var name;
    aeb_clearMarkers(plan, prop);
    for (i = 0; i < plan.markers.length; i++) {
        spec = plan.markers[i];
        time = aeb_time(plan, spec.frame);
        text = spec.name;
        if (spec.comment !== "") {
            text = text === "" ? spec.comment : text + "\n" + spec.comment;
        }
        params = {};
        for (k = 0; k < spec.params.length; k++) {
            params[spec.params[k][0]] = spec.params[k][1];
        }
        existing = aeb_markerKeyAt(prop, time);
        if (existing === 0) {
            marker = new MarkerValue(text);
            marker.duration = spec.duration * plan.comp.rate_den / plan.comp.rate_num;
            if (spec.label !== null) {
                marker.label = spec.label;
            }
        } else {
            // The user's marker: keep all of it, add ours.
            marker = prop.keyValue(existing);
            users = marker.getParameters();
            own = [];
            for (key in params) {
                if (params.hasOwnProperty(key)) {
                    name = users.hasOwnProperty(key) ? key + " (aebridge)" : key;
                    users[name] = params[key];
                    own.push(name);
                }
            }
            users.aebridge_user_comment = marker.comment;
            users.aebridge_own_keys = aeb_encodeKeys(own);
            params = users;
            marker.comment = marker.comment === "" ? text : marker.comment + "\n" + text;
        }
        params.aebridge_build = plan.build_id;
        marker.setParameters(params);
        prop.setValueAtTime(time, marker);
    }
}

// ---------------------------------------------------------------------------------
// Saving and reporting

function aeb_save(plan, base) {
    var file = aeb_resolve(base, plan.aep);
    try {
        app.project.save(file);
    } catch (e) {
        throw new Error("could not save the project to " + file.fsName + ": " +
            aeb_errorText(e) + " (is 'Allow Scripts to Write Files and Access Network' " +
            "on in Preferences > Scripting & Expressions?)");
    }
}

function aeb_run(plan, notes) {
    var ours;
    var base;
    var folder;
    var comp;
    var footage = {};
    var existing;
    var layers = [];
    var byId = {};
    var camera = null;
    var unlocked;
    var i;
    if (plan.schema !== AEB_PLAN_SCHEMA) {
        throw new Error("this library reads plans '" + AEB_PLAN_SCHEMA + "', not '" +
            plan.schema + "': regenerate the script with the same aebridge version");
    }
    base = aeb_scriptFolder();
    // Every file is checked before anything changes in the project.
    aeb_checkFootageFiles(plan, base);
    // Decided before this run adds anything.
    ours = aeb_projectIsOurs(plan);
    aeb_setProject(plan, notes, ours);
    folder = aeb_folder(plan);
    for (i = 0; i < plan.footage.length; i++) {
        footage["k_" + plan.footage[i].id] = aeb_footage(plan, base, folder,
            plan.footage[i]);
    }
    comp = aeb_comp(plan, folder, notes);
    unlocked = aeb_unlockOurs(plan, comp);
    try {
        aeb_removeStale(plan, comp);
        aeb_removeStaleFootage(plan);
        existing = aeb_taggedLayers(plan, comp, "layer");
        for (i = 0; i < plan.layers.length; i++) {
            layers.push(aeb_layer(plan, comp, existing, footage, plan.layers[i], i));
            byId["k_" + plan.layers[i].id] = layers[i];
        }
        if (plan.camera !== null) {
            camera = aeb_camera(plan, comp);
        }
        aeb_order(plan, layers, camera);
        aeb_mattes(plan, layers, byId);
        aeb_markers(plan, comp);
    } finally {
        aeb_relock(unlocked);
    }
    if (plan.aep !== null) {
        aeb_save(plan, base);
    }
    return comp;
}

// Whether the script runs unattended: AEBRIDGE_NO_ALERT=1 in the environment (for
// AfterFX -r on a render machine, where a dialog would block).
function aeb_unattended() {
    try {
        return $.getenv("AEBRIDGE_NO_ALERT") === "1";
    } catch (ignored) {
        return false;
    }
}

// One message for the user: a dialog, or $.writeln when unattended. A failure sets the
// exit code wherever the host has one.
function aeb_report(text, failed) {
    if (failed && typeof app.exitCode !== "undefined") {
        app.exitCode = 1;
    }
    if (aeb_unattended()) {
        $.writeln(text);
    } else {
        alert(text);
    }
}

// Builds (or updates) the comp the plan describes inside one undo group. Returns true
// on success (a summary goes to $.writeln, and to a dialog when there is something to
// say); on failure shows one message naming what failed and returns false. Unattended,
// AE's own error dialogs are suppressed for the run (app.beginSuppressDialogs).
function aebridge_build(plan) {
    var ok = false;
    var message = "";
    var notes = [];
    var quiet = aeb_unattended();
    var summary;
    if (quiet) {
        app.beginSuppressDialogs();
    }
    app.beginUndoGroup("aebridge: build " + plan.comp.name);
    try {
        aeb_run(plan, notes);
        ok = true;
    } catch (e) {
        message = aeb_errorText(e);
    } finally {
        // Closed whatever happened: an open group would swallow the user's next undo.
        app.endUndoGroup();
        if (quiet) {
            app.endSuppressDialogs(false);
        }
    }
    if (!ok) {
        aeb_report("aebridge could not build comp '" + plan.comp.name + "': " + message,
            true);
        return false;
    }
    summary = "aebridge built comp '" + plan.comp.name + "': " + plan.layers.length +
        " layer(s), " + plan.markers.length + " marker(s)" +
        (plan.camera !== null ? ", a camera" : "");
    if (notes.length === 0) {
        $.writeln(summary);
    } else {
        aeb_report(summary + ". Notes:\n- " + notes.join("\n- "), false);
    }
    return ok;
}
