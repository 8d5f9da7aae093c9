// Runs a generated aebridge script against the After Effects DOM model and prints the
// project after each run as JSON on stdout (one object: {"runs": [snapshot, ...]}).
//
// Usage: node run.js SCRIPT.jsx [SCRIPT.jsx ...] [--runs N] [--env NAME=VALUE ...]
//        [--evaluate] [--profiles "NAME|NAME|..."]
// Every script runs N times, in the order given, against one project (a snapshot after
// each run). With --evaluate the output also holds "evaluation": every comp of the
// final project evaluated at each of its frames (ae_dom.js evaluateComp). The script's $.fileName is its absolute path, so its relative footage paths resolve
// against its folder as in After Effects. An exception escaping the script is recorded
// in the snapshot as "uncaught" (the library itself should never let one escape).
"use strict";

const fs = require("fs");
const path = require("path");
const vm = require("vm");
const { makeSandbox } = require("./ae_dom");

function parseArgs(argv) {
  const args = { scripts: [], runs: 1, env: {}, evaluate: false, profiles: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--profiles") {
      args.profiles = argv[++i].split("|");
    } else if (argv[i] === "--evaluate") {
      args.evaluate = true;
    } else if (argv[i] === "--runs") {
      args.runs = parseInt(argv[++i], 10);
    } else if (argv[i] === "--env") {
      const [k, ...rest] = argv[++i].split("=");
      args.env[k] = rest.join("=");
    } else {
      args.scripts.push(argv[i]);
    }
  }
  if (args.scripts.length === 0 || !(args.runs >= 1)) {
    throw new Error("usage: node run.js SCRIPT.jsx [SCRIPT.jsx ...] [--runs N] [--env NAME=VALUE]");
  }
  return args;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const first = path.resolve(args.scripts[0]);
  const { context, snapshot, evaluate, setScript } = makeSandbox(first, args.env, args.profiles);
  const runs = [];
  for (const script of args.scripts) {
    const scriptPath = path.resolve(script);
    const source = fs.readFileSync(scriptPath, "utf8");
    setScript(scriptPath);
    for (let i = 0; i < args.runs; i++) {
      let uncaught = null;
      try {
        vm.runInContext(source, context, { filename: scriptPath, timeout: 20000 });
      } catch (err) {
        uncaught = String(err && err.stack ? err.stack : err);
      }
      const snap = snapshot();
      snap.script = scriptPath;
      snap.uncaught = uncaught;
      runs.push(snap);
    }
  }
  const result = { runs };
  if (args.evaluate) { result.evaluation = evaluate(); }
  process.stdout.write(JSON.stringify(result));
}

main();
