// Checks that every .jsx file given parses as ECMAScript 3 (acorn, ecmaVersion 3) and
// uses none of the ES5+ members ExtendScript lacks. Prints one line per problem as
// "<file>:<line>:<column>: <message>" and exits 1 when there is any.
//
// Usage: node check_es3.js FILE.jsx [FILE.jsx ...]
"use strict";

const fs = require("fs");
const acorn = require("acorn");

// Member and global names absent from ExtendScript. A textual scan is deliberate: it
// also catches uses inside strings a later eval could run, and it is what a reviewer
// can grep for.
const FORBIDDEN = [
  ["JSON.", "JSON does not exist in ExtendScript"],
  [".forEach", "Array.prototype.forEach is ES5"],
  [".indexOf", "Array.prototype.indexOf is ES5 (use a loop)"],
  ["Object.keys", "Object.keys is ES5"],
  [".trim(", "String.prototype.trim is ES5"],
  [".bind(", "Function.prototype.bind is ES5"],
  ["Array.isArray", "Array.isArray is ES5 (use instanceof Array)"],
  ["Date.now", "Date.now is ES5 (use new Date().getTime())"],
];

function lineCol(src, offset) {
  const before = src.slice(0, offset).split("\n");
  return [before.length, before[before.length - 1].length + 1];
}

function check(file) {
  const problems = [];
  const src = fs.readFileSync(file, "utf8");
  try {
    // "never": reserved words are refused as property names too (o.default, {class: 1}),
    // as ExtendScript and old JScript refuse them.
    acorn.parse(src, { ecmaVersion: 3, sourceType: "script", allowReserved: "never" });
  } catch (err) {
    const loc = err.loc || { line: 0, column: 0 };
    problems.push(`${file}:${loc.line}:${loc.column + 1}: not ECMAScript 3: ${err.message}`);
  }
  for (const [needle, why] of FORBIDDEN) {
    let at = src.indexOf(needle);
    while (at >= 0) {
      const [line, col] = lineCol(src, at);
      problems.push(`${file}:${line}:${col}: forbidden '${needle}': ${why}`);
      at = src.indexOf(needle, at + 1);
    }
  }
  for (let i = 0; i < src.length; i++) {
    const code = src.charCodeAt(i);
    if (code > 126 || (code < 32 && code !== 10 && code !== 13 && code !== 9)) {
      const [line, col] = lineCol(src, i);
      problems.push(`${file}:${line}:${col}: non-ASCII or control character U+` +
        code.toString(16).toUpperCase().padStart(4, "0"));
      break;
    }
  }
  return problems;
}

function main(argv) {
  if (argv.length === 0) {
    process.stderr.write("usage: node check_es3.js FILE.jsx [FILE.jsx ...]\n");
    return 2;
  }
  let all = [];
  for (const file of argv) {
    all = all.concat(check(file));
  }
  for (const p of all) {
    process.stdout.write(p + "\n");
  }
  return all.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
