// Runs a generated aebridge script against the After Effects DOM model and prints the
// project after each run as JSON on stdout (one object: {"runs": [snapshot, ...]}).
//
// Usage: node run.js SCRIPT.jsx [--runs N] [--env NAME=VALUE ...]
// The script's $.fileName is its absolute path, so its relative footage paths resolve
// against its folder as in After Effects. An exception escaping the script is recorded
// in the snapshot as "uncaught" (the library itself should never let one escape).
"use strict";

const fs = require("fs");
const path = require("path");
const vm = require("vm");
const { makeSandbox } = require("./ae_dom");

function parseArgs(argv) {
  const args = { script: null, runs: 1, env: {} };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--runs") {
      args.runs = parseInt(argv[++i], 10);
    } else if (argv[i] === "--env") {
      const [k, ...rest] = argv[++i].split("=");
      args.env[k] = rest.join("=");
    } else {
      args.script = argv[i];
    }
  }
  if (!args.script || !(args.runs >= 1)) {
    throw new Error("usage: node run.js SCRIPT.jsx [--runs N] [--env NAME=VALUE]");
  }
  return args;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const scriptPath = path.resolve(args.script);
  const source = fs.readFileSync(scriptPath, "utf8");
  const { context, snapshot } = makeSandbox(scriptPath, args.env);
  const runs = [];
  for (let i = 0; i < args.runs; i++) {
    let uncaught = null;
    try {
      vm.runInContext(source, context, { filename: scriptPath, timeout: 20000 });
    } catch (err) {
      uncaught = String(err && err.stack ? err.stack : err);
    }
    const snap = snapshot();
    snap.uncaught = uncaught;
    runs.push(snap);
  }
  process.stdout.write(JSON.stringify({ runs }));
}

main();
