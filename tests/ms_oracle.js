// Oracle for tests/test_duration.py: what the real vercel/ms makes of each string.
//
// Usage: node ms_oracle.js PREFIX INPUT_JSON
//   PREFIX      the directory `npm install --prefix PREFIX ms@2.1.3` installed into
//   INPUT_JSON  a file holding a JSON array of strings
// Prints one JSON object: {"version": "...", "results": [...]}, one result per input string:
//   {"kind": "number", "value": <finite number>}   ms returned a number
//   {"kind": "undefined"}                           ms returned undefined (invalid)
//   {"kind": "throw", "message": "..."}             ms threw (it does so for "")
//   {"kind": "other", "repr": "..."}                anything else (NaN, Infinity): never expected
// JSON.stringify writes each number as the shortest text that reads back as the same double, so
// Python's json.loads recovers ms's result bit for bit.
'use strict';

const fs = require('fs');
const path = require('path');

const [prefix, inputPath] = process.argv.slice(2);
const packageDir = path.join(path.resolve(prefix), 'node_modules', 'ms');
const ms = require(packageDir);
const { version } = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));

function evaluate(text) {
  let value;
  try {
    value = ms(text);
  } catch (error) {
    return { kind: 'throw', message: String(error && error.message) };
  }
  if (value === undefined) {
    return { kind: 'undefined' };
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    return { kind: 'number', value };
  }
  return { kind: 'other', repr: String(value) };
}

const inputs = JSON.parse(fs.readFileSync(inputPath, 'utf8'));
if (!Array.isArray(inputs) || !inputs.every((text) => typeof text === 'string')) {
  throw new TypeError('INPUT_JSON must hold an array of strings');
}
process.stdout.write(JSON.stringify({ version, results: inputs.map(evaluate) }));
