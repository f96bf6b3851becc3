// The cohort gradebook (`labcheck cohort grade --format html`) in headless
// Chromium: graded against the sandbox (twelve learners in mixed states, one
// whose role cannot be assumed), opened from a file, it fetches nothing, shows
// a row per learner and the cohort's pass rate per check, sorts by a column,
// and runs without a console error.
//
// Needs the sandbox up and a built labcheck (scripts/test does both).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.LABCHECK_BIN || path.join(ROOT, 'target', 'debug', 'labcheck');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let tmp;
let context;
let gradebook;
const problems = [];
const requests = [];

before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/test (it installs Debian's chromium)`);
    assert.ok(fs.existsSync(BIN), `${BIN} is missing: run cargo build first (scripts/test does)`);
    try {
        execFileSync(path.join(ROOT, 'sandbox', 'status'), { stdio: 'pipe' });
    } catch (e) {
        assert.fail(`the sandbox is not running; start it with sandbox/up (or run scripts/test)\n${e.stdout}`);
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labcheck-gradebook-'));
    const roster = path.join(tmp, 'roster.csv');
    gradebook = path.join(tmp, 'gradebook.html');
    const script = `source sandbox/env && sandbox/cohort --accounts 12 --first 470000000000 > "${roster}" `
        + `&& { "${BIN}" cohort grade "${roster}" --format html -o "${gradebook}"; test $? = 3; }`;
    execFileSync('bash', ['-c', script], { cwd: ROOT, stdio: 'pipe' });
    context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
        executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 },
    });
    await context.route('**/*', (route) => {
        const url = route.request().url();
        requests.push(url);
        return url.startsWith('file:') ? route.continue() : route.abort();
    });
});

after(async () => {
    if (context) {
        await context.close();
    }
    if (tmp) {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
});

test('the gradebook opens offline, shows every learner and the pass rates, and sorts', async () => {
    const page = await context.newPage();
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
    page.on('pageerror', (error) => problems.push(String(error)));
    await page.goto(`file://${gradebook}`, { waitUntil: 'load' });

    const rows = page.locator('#learners tbody tr');
    assert.equal(await rows.count(), 12, 'a row per learner');
    const errorRows = page.locator('#learners tbody tr', { hasText: 'AssumeRole refused' });
    assert.equal(await errorRows.count(), 1, 'the learner whose role cannot be assumed is an error row');
    assert.equal((await errorRows.locator('td').nth(2).textContent()).trim(), '', 'an error row has no score, never 0');

    const checks = page.locator('#checks tbody tr');
    assert.ok(await checks.count() >= 25, 'a pass rate per check');
    const lowest = (await checks.first().locator('td').nth(2).textContent()).trim();
    assert.match(lowest, /^(\d+(\.\d)?%|–)$/);

    // Sorting by score, ascending: the first graded row has the lowest score.
    const scores = async () => (await page.locator('#learners tbody tr td:nth-child(3)').allTextContents())
        .map((t) => t.trim()).filter((t) => t !== '').map(Number);
    await page.locator('#learners th', { hasText: /^score$/ }).click();
    const ascending = await scores();
    assert.deepEqual(ascending, [...ascending].sort((a, b) => a - b), 'sorted ascending');
    await page.locator('#learners th', { hasText: /^score$/ }).click();
    const descending = await scores();
    assert.deepEqual(descending, [...descending].sort((a, b) => b - a), 'sorted descending');
    assert.ok(ascending[0] < ascending[ascending.length - 1], 'the cohort has broken learners');

    // A broken learner's failures are listed with their hint.
    const details = page.locator('details', { hasText: 'Hint' });
    assert.ok(await details.count() >= 1, 'failures with hints');

    assert.deepEqual(problems, [], 'no console errors');
    assert.deepEqual(requests.filter((u) => !u.startsWith('file:')), [], 'no request leaves the machine');
    await page.close();
});
