// The HTML lab report (`labcheck check --format html -o FILE`) in headless
// Chromium, opened from file:// as a learner opens the file they attach to a
// forum question: it shows every step and check with its status, the hint
// and fix of a failure, and not one request leaves the machine (no CDN,
// fonts or images: the file is self-contained).
//
// Needs the sandbox (sandbox/up) and a built binary; breaks and repairs an
// account of its own, never the shared default one.
// Run:  node --test tests/browser/report.test.js   (LABCHECK_BIN, CHROMIUM override)
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.LABCHECK_BIN || path.join(ROOT, 'target', 'debug', 'labcheck');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
];
// This test's own sandbox account (12 digits, like the Rust tests').
const ACCOUNT = '955500000012';

let tmp;
let context;
let reportFile;
let checkRun;
const requests = [];
const problems = [];

// Runs a command with the sandbox's environment (`source sandbox/env`).
function inSandbox(command, { allowFail = false } = {}) {
    const result = spawnSync('bash', ['-c', `source sandbox/env && ${command}`], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
    });
    if (!allowFail && result.status !== 0) {
        throw new Error(`${command} exited with ${result.status}:\n${result.stdout}${result.stderr}`);
    }
    return result;
}

before(async () => {
    assert.ok(
        fs.existsSync(CHROMIUM),
        `${CHROMIUM} is missing: run scripts/test (it installs Debian's chromium), or apt-get install -y chromium`,
    );
    assert.ok(fs.existsSync(BIN), `${BIN} is missing: run cargo build first (scripts/test does)`);
    const status = spawnSync(path.join(ROOT, 'sandbox', 'status'), { cwd: ROOT, encoding: 'utf8' });
    assert.equal(status.status, 0, `the sandbox is not running; start it with sandbox/up (or run scripts/test)\n${status.stdout}`);

    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labcheck-report-'));
    reportFile = path.join(tmp, 'report <one> & "two".html');
    inSandbox(`sandbox/provision --account ${ACCOUNT} >/dev/null`);
    inSandbox(`sandbox/break no-cors --account ${ACCOUNT} >/dev/null`);
    const quoted = `'${reportFile.replace(/'/g, `'\\''`)}'`;
    checkRun = inSandbox(
        `AWS_ACCESS_KEY_ID=${ACCOUNT} LABCHECK_STATE_DIR=${tmp}/state '${BIN}' check s3 --format html -o ${quoted}`,
        { allowFail: true },
    );

    context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
        executablePath: CHROMIUM,
        headless: true,
        args: FLAGS,
        viewport: { width: 1280, height: 900 },
    });
    // Anything that is not the report file itself is recorded and refused.
    await context.route('**/*', (route) => {
        const url = route.request().url();
        if (!url.startsWith('file:')) {
            requests.push(url);
            return route.abort();
        }
        return route.continue();
    });
});

after(async () => {
    if (context) await context.close();
    if (tmp) inSandbox(`sandbox/provision --account ${ACCOUNT} >/dev/null`, { allowFail: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('check --format html writes one self-contained file (exit 1: a check failed)', () => {
    assert.equal(checkRun.status, 1, `${checkRun.stdout}${checkRun.stderr}`);
    assert.match(checkRun.stderr, /wrote .*report <one> & "two"\.html \(\d+\/\d+ points, 1 failed\)/);
    const html = fs.readFileSync(reportFile, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    // Nothing that could load from elsewhere: no external script, style, font or image.
    assert.doesNotMatch(html, /<script[^>]+src=/i);
    assert.doesNotMatch(html, /<link[^>]+href=/i);
    assert.doesNotMatch(html, /<img[^>]+src=/i);
    assert.doesNotMatch(html, /@import|url\(\s*['"]?(https?:)?\/\//i);
    assert.doesNotMatch(html, /https?:\/\/(?!127\.0\.0\.1|localhost)[^\s"'<]*\.(js|css|woff2?|png|svg)/i);
    // The sandbox's secrets and presigned signatures never reach the file.
    assert.doesNotMatch(html, /X-Amz-Signature=[0-9a-f]{16}/);
    assert.doesNotMatch(html, /sandbox-secret/);
});

test('the report opens from file:// with every status, the hint and the fix, and no request leaves the machine', async () => {
    const page = await context.newPage();
    page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught ${error}`));
    page.on('request', (request) => {
        const url = request.url();
        if (!url.startsWith('file:') && !url.startsWith('data:') && !url.startsWith('about:')) {
            requests.push(url);
        }
    });
    await page.goto(pathToFileURL(reportFile).href, { waitUntil: 'load' });
    await page.waitForTimeout(300);

    assert.match(await page.title(), /labcheck/i);
    const body = await page.locator('body').innerText();
    assert.match(body, new RegExp(ACCOUNT), 'the account is named');
    assert.match(body, /us-west-2/);

    // Every check of the step, each with its status badge.
    const ids = ['s3.bucket', 's3.cors', 's3.private', 's3.media', 's3.presigned'];
    for (const id of ids) {
        const block = page.locator(`.check[id="${id}"]`);
        assert.equal(await block.count(), 1, `one block for ${id}`);
        assert.ok(await block.isVisible(), `${id} is visible`);
        const badge = (await block.locator('.badge').innerText()).toLowerCase();
        assert.equal(badge, id === 's3.cors' ? 'fail' : 'pass', `${id}'s status`);
    }

    // The failure: message, hint and fix, readable (badge coloured, text not clipped).
    const cors = page.locator('.check[id="s3.cors"]');
    const text = await cors.innerText();
    assert.match(text, /CORS/);
    assert.match(text, /Hint/);
    assert.match(text, /Fix/);
    assert.match(text, /put-bucket-cors/);
    assert.match(text, new RegExp(`pets-project-us-west-2-${ACCOUNT}`));
    const colours = await cors.locator('.badge').evaluate((el) => {
        const style = getComputedStyle(el);
        return { bg: style.backgroundColor, fg: style.color };
    });
    assert.notEqual(colours.bg, colours.fg);
    assert.notEqual(colours.bg, 'rgba(0, 0, 0, 0)', 'the fail badge has a colour');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page fits the window (overflows by ${overflow}px)`);

    // Passing checks show no hint (nothing to do there).
    assert.doesNotMatch(await page.locator('.check[id="s3.bucket"]').innerText(), /Hint/);

    // The score is on the page.
    assert.match(body, /\d+\s*\/\s*\d+/);

    await page.screenshot({ path: path.join(tmp, 'report.png'), fullPage: true });
    if (process.env.LABCHECK_SCREENSHOT) {
        fs.copyFileSync(path.join(tmp, 'report.png'), process.env.LABCHECK_SCREENSHOT);
    }
    await page.close();
    assert.deepEqual(problems, [], 'no console errors or uncaught exceptions');
    assert.deepEqual(requests, [], 'no request leaves the machine');
});
