#!/usr/bin/env node
// The whole test suite, as the README's test command runs it: lint, typecheck, every
// Vitest project, and the Playwright end-to-end suite. It ends with one line
// `N passed, N failed` summing every test, where a failing lint or typecheck counts as
// one failure, and exits non-zero if anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
const wants = (step) => only.length === 0 || only.includes(step);

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];

function run(label, command, args, env = {}) {
  process.stdout.write(`\n=== ${label}: ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

function check(label, command, args) {
  if (run(label, command, args) === 0) {
    passed += 1;
  } else {
    failed += 1;
    failures.push(label);
  }
}

function countReport(label, file, status) {
  if (!existsSync(file)) {
    failed += 1;
    failures.push(`${label} (no report; exit ${status})`);
    return;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  rmSync(file);
  if (report.numTotalTests !== undefined) {
    // Vitest's JSON reporter (Jest-compatible shape)
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + (report.numTodoTests ?? 0);
    if (report.numFailedTests > 0 || status !== 0) failures.push(label);
    if (report.numFailedTests === 0 && status !== 0) failed += 1;
  } else if (report.stats) {
    // Playwright's JSON reporter
    passed += report.stats.expected + report.stats.flaky;
    failed += report.stats.unexpected;
    skipped += report.stats.skipped;
    if (report.stats.unexpected > 0 || status !== 0) failures.push(label);
    if (report.stats.unexpected === 0 && status !== 0) failed += 1;
  }
}

const bin = (name) => join(root, 'node_modules', '.bin', name);

if (wants('lint')) check('lint', bin('biome'), ['check', '.']);
if (wants('typecheck')) check('typecheck', 'pnpm', ['-r', '--no-bail', 'typecheck']);

if (wants('vitest')) {
  const report = join(root, '.vitest-report.json');
  rmSync(report, { force: true });
  const status = run('vitest', bin('vitest'), [
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
  ]);
  countReport('vitest', report, status);
}

// The Docker images' build and start commands, outside Docker (needs Postgres and Redis).
if (wants('image')) check('image', process.execPath, ['scripts/image-check.mjs']);

if (wants('e2e') && existsSync(join(root, 'e2e', 'playwright.config.ts'))) {
  const report = join(root, '.playwright-report.json');
  rmSync(report, { force: true });
  const status = run('e2e', 'pnpm', ['--filter', '@syncengine/e2e', 'test'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: report,
  });
  countReport('e2e', report, status);
}

if (failures.length > 0) process.stdout.write(`\nFailed: ${failures.join(', ')}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 ? 1 : 0);
