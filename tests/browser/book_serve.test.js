// "Check my progress" in headless Chromium, against the sandbox: the book
// served by `labcheck book serve` for a provisioned sandbox account. Click
// Check on the S3 step: five checks green, in place; break CORS
// (sandbox/break no-cors), click again: s3.cors red with its fix; repair,
// green again; the step's state beside its heading and in the sidebar, and
// `labcheck status` showing the same runs. A quiz answered in the page
// reaches `labcheck status`, one taken in the terminal reaches the page.
// The same book as static files shows the commands, no buttons, and no
// console error. The panel's screenshots, red then green, are kept in
// book/src/images/ for the README and the introduction.
//
// Needs the sandbox (sandbox/up) and a build (cargo build); scripts/test
// runs both first. LABCHECK_BIN and CHROMIUM override the binary and the
// browser.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.LABCHECK_BIN || path.join(ROOT, 'target', 'debug', 'labcheck');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const IMAGES = path.join(ROOT, 'book', 'src', 'images');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
// This file's own sandbox account (the Rust tests derive theirs from their names).
const ACCOUNT = '970000000451';

let env;
let tmp;
let server;
let url;
let base;
let context;
const problems = [];
const offsite = [];

// The variables sandbox/env exports, for this account, with this test's own
// state and progress folders.
function sandboxEnv() {
    const status = spawnSyncText(path.join(ROOT, 'sandbox', 'status'), []);
    assert.ok(status.ok, `the sandbox is not running; start it with sandbox/up (or run scripts/test)\n${status.text}`);
    const out = execFileSync('bash', ['-c', 'env -i bash -c "source sandbox/env && env -0"'], { cwd: ROOT });
    const vars = {};
    for (const pair of out.toString().split('\0')) {
        const at = pair.indexOf('=');
        if (at > 0) {
            vars[pair.slice(0, at)] = pair.slice(at + 1);
        }
    }
    return Object.assign({}, vars, {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NO_COLOR: '1',
        AWS_ACCESS_KEY_ID: ACCOUNT,
        LABCHECK_STATE_DIR: path.join(tmp, 'state'),
        LABCHECK_DATA_DIR: path.join(tmp, 'data'),
    });
}

function spawnSyncText(file, args, options) {
    try {
        const text = execFileSync(file, args, Object.assign({ stdio: ['ignore', 'pipe', 'pipe'] }, options || {}));
        return { ok: true, text: text.toString() };
    } catch (e) {
        return { ok: false, text: `${e.stdout || ''}${e.stderr || ''}` };
    }
}

function sandbox(script, ...args) {
    const run = spawnSyncText(path.join(ROOT, 'sandbox', script), args, { env, cwd: ROOT });
    assert.ok(run.ok, `sandbox/${script} ${args.join(' ')} failed:\n${run.text}`);
}

function labcheck(...args) {
    const run = spawnSyncText(BIN, args, { env, cwd: tmp });
    return run.text;
}

function statusJson() {
    return JSON.parse(labcheck('status', '--format', 'json'));
}

function checkStatus(status, id) {
    for (const step of status.steps) {
        for (const check of step.checks) {
            if (check.id === id) {
                return check.status;
            }
        }
    }
    throw new Error(`no check ${id}`);
}

function startServer() {
    return new Promise((resolve, reject) => {
        const child = spawn(BIN, ['book', 'serve', '--port', '0'], { env, cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        const timer = setTimeout(() => reject(new Error(`labcheck book serve did not start in 180 s\n${out}${err}`)), 180000);
        child.stdout.on('data', (chunk) => {
            out += chunk;
            const m = out.match(/Serving the book at (http:\/\/127\.0\.0\.1:\d+\/)(\?token=[0-9a-f]+)/);
            if (m) {
                clearTimeout(timer);
                resolve({ child, base: m[1], url: m[1] + m[2] });
            }
        });
        child.stderr.on('data', (chunk) => { err += chunk; });
        child.on('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`labcheck book serve exited with ${code}:\n${out}${err}`));
        });
    });
}

function watch(page) {
    page.on('console', (msg) => {
        if (msg.type() === 'error') {
            problems.push(`console error on ${page.url()}: ${msg.text()}`);
        }
    });
    page.on('pageerror', (error) => problems.push(`uncaught ${error} on ${page.url()}`));
    page.on('response', (response) => {
        if (response.status() >= 400) {
            problems.push(`HTTP ${response.status()} for ${response.url()}`);
        }
    });
}

function clean() {
    assert.deepEqual(problems.splice(0), [], 'no console errors, uncaught exceptions or failed requests');
    assert.deepEqual(offsite, [], 'no request leaves the machine');
}

before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/test (it installs Debian's chromium), or apt-get install -y chromium`);
    assert.ok(fs.existsSync(BIN), `${BIN} is missing: run cargo build first (scripts/test does)`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labcheck-serve-'));
    env = sandboxEnv();
    sandbox('provision', '--accounts', '1', '--first', ACCOUNT);
    ({ child: server, base, url } = await startServer());
    context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
        executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 },
    });
    await context.route('**/*', (route) => {
        const target = new URL(route.request().url());
        if (['data:', 'blob:', 'file:'].includes(target.protocol) || LOCAL_HOSTS.has(target.host.replace(/:\d+$/, ''))) {
            return route.continue();
        }
        offsite.push(route.request().url());
        return route.abort();
    });
    context.on('page', watch);
    // The link printed at start: the page keeps its token.
    const first = await context.newPage();
    await first.goto(url, { waitUntil: 'load' });
    assert.ok(!first.url().includes('token='), 'the token leaves the address bar');
    await first.close();
});

after(async () => {
    if (context) {
        await context.close();
    }
    if (server) {
        server.kill();
    }
    if (tmp) {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
});

// Clicks the panel's button (or presses Enter on it) and waits for its end.
async function check(panel, { keyboard } = {}) {
    const button = panel.locator('button.labcheck-progress-run');
    await button.waitFor();
    if (keyboard) {
        await button.focus();
        await panel.page().keyboard.press('Enter');
    } else {
        await button.click();
    }
    await panel.locator('.labcheck-progress-summary', { hasText: 'Score:' }).waitFor({ timeout: 120000 });
    await panel.page().waitForFunction((node) => !node.hasAttribute('aria-busy'), await panel.elementHandle());
}

async function results(panel) {
    return panel.locator('.labcheck-result').evaluateAll((rows) => rows.map((row) => ({
        id: row.getAttribute('data-check'),
        status: row.className.replace(/.*labcheck-result-/, ''),
        words: row.querySelector('.labcheck-state').textContent.trim(),
        fix: row.querySelector('.labcheck-result-fix pre') ? row.querySelector('.labcheck-result-fix pre').textContent : '',
        copy: !!row.querySelector('button.labcheck-copy'),
    })));
}

async function stepState(page, selector) {
    const badge = page.locator(`${selector} .labcheck-step-state`);
    await badge.waitFor();
    return (await badge.textContent()).trim();
}

test('the S3 step is checked in the page: green, red with its fix, green again', async () => {
    const page = await context.newPage();
    await page.goto(base + 'lab.html#s3', { waitUntil: 'load' });
    const panel = page.locator('#progress-s3');

    await check(panel);
    let rows = await results(panel);
    assert.deepEqual(rows.map((r) => r.id), ['s3.bucket', 's3.cors', 's3.private', 's3.media', 's3.presigned']);
    assert.deepEqual(rows.map((r) => r.status), ['pass', 'pass', 'pass', 'pass', 'pass']);
    assert.ok(rows.every((r) => r.words.startsWith('\u2713 Passed')), 'status in words beside the icon');
    assert.match(await panel.locator('.labcheck-progress-summary').textContent(), /every check passed/);
    let status = statusJson();
    assert.equal(status.runs, 1);
    assert.equal(checkStatus(status, 's3.cors'), 'pass');

    sandbox('break', 'no-cors', '--account', ACCOUNT);
    await check(panel);
    rows = await results(panel);
    const cors = rows.find((r) => r.id === 's3.cors');
    assert.equal(cors.status, 'fail');
    assert.match(cors.words, /Failed/);
    assert.match(cors.fix, /put-bucket-cors/);
    assert.ok(cors.copy, 'the fix has a copy button');
    assert.ok(rows.filter((r) => r.id !== 's3.cors').every((r) => r.status === 'pass'));
    assert.match(await stepState(page, 'h2#s3'), /Failed/);
    await panel.screenshot({ path: path.join(IMAGES, 'check-my-progress-red.png') });
    status = statusJson();
    assert.equal(status.runs, 2);
    assert.equal(checkStatus(status, 's3.cors'), 'fail', '`labcheck status` shows the same run');

    sandbox('provision', '--accounts', '1', '--first', ACCOUNT);
    await check(panel, { keyboard: true });
    rows = await results(panel);
    assert.deepEqual(rows.map((r) => r.status), ['pass', 'pass', 'pass', 'pass', 'pass']);
    await page.waitForFunction(() => /Passed/.test(document.querySelector('h2#s3 .labcheck-step-state').textContent));
    await panel.screenshot({ path: path.join(IMAGES, 'check-my-progress-green.png') });
    // The sidebar: the lab's chapter, and the step where mdBook lists the page's headings.
    assert.match(await stepState(page, '#mdbook-sidebar a[href$="lab.html"]'), /\d+\/\d+/);
    status = statusJson();
    assert.equal(status.runs, 3);
    assert.equal(checkStatus(status, 's3.cors'), 'pass');
    await page.close();
    clean();
});

test('a run made in the terminal shows in the page', async () => {
    labcheck('check', 'rds.instance');
    const page = await context.newPage();
    await page.goto(base + 'lab.html#rds', { waitUntil: 'load' });
    const row = page.locator('#progress-rds .labcheck-result[data-check="rds.instance"]');
    await row.waitFor();
    assert.match(await row.locator('.labcheck-state').textContent(), /Passed/);
    assert.match(await page.locator('#progress-rds .labcheck-progress-summary').textContent(), /Last recorded/);
    await page.close();
    clean();
});

test('narrow screens and the dark theme: the panel fits, the status is in words', async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(base + 'lab.html#s3', { waitUntil: 'load' });
    await page.evaluate(() => window.localStorage.setItem('mdbook-theme', 'navy'));
    await page.reload({ waitUntil: 'load' });
    const panel = page.locator('#progress-s3');
    await panel.locator('.labcheck-result').first().waitFor();
    const fit = await panel.evaluate((node) => node.scrollWidth <= node.clientWidth + 1);
    assert.ok(fit, 'no sideways scrolling in the panel at 375 px');
    const contrast = await panel.locator('.labcheck-state-pass').first().evaluate((node) => {
        const rgb = (c) => c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
        const lum = (c) => {
            const [r, g, b] = rgb(c).map((v) => {
                const s = v / 255;
                return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
            });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        let bg = node;
        while (bg && getComputedStyle(bg).backgroundColor.match(/rgba\(.*, 0\)|transparent/)) {
            bg = bg.parentElement;
        }
        const a = lum(getComputedStyle(node).color);
        const b = lum(getComputedStyle(bg || document.body).backgroundColor);
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    });
    assert.ok(contrast >= 4.5, `the status text is readable on the navy theme (contrast ${contrast.toFixed(2)})`);
    await page.evaluate(() => window.localStorage.setItem('mdbook-theme', 'light'));
    await page.close();
    clean();
});

test('a quiz answered in the page reaches labcheck status; one taken in the terminal reaches the page', async () => {
    const page = await context.newPage();
    await page.goto(base + 'media-s3.html', { waitUntil: 'load' });
    const quiz = await page.evaluate(() => JSON.parse(document.querySelector('script.labcheck-quiz-data').textContent));
    for (const q of quiz.questions) {
        const card = page.locator(`li.labcheck-question[data-question="${q.id}"]`);
        if (q.type === 'ShortAnswer') {
            await card.locator('input[type="text"]').fill(q.expected);
        } else {
            for (const [i, o] of q.options.entries()) {
                if (o.correct) {
                    await card.locator(`input[value="${i}"]`).check();
                }
            }
        }
        await card.getByRole('button', { name: 'Check answer' }).click();
    }
    await page.locator('.labcheck-quiz-recorded', { hasText: '1 in the book' }).waitFor();
    const media = statusJson().quizzes.find((q) => q.id === 'media-s3');
    assert.equal(media.attempts, 1);
    assert.equal(media.best.score, quiz.questions.length);

    const answers = path.join(tmp, 'answers.json');
    const pre = await (async () => {
        const other = await context.newPage();
        await other.goto(base + 'pre-assessment.html', { waitUntil: 'load' });
        const data = await other.evaluate(() => JSON.parse(document.querySelector('script.labcheck-quiz-data').textContent));
        await other.close();
        return data;
    })();
    // Short answers typed, the other questions left unanswered: a scripted attempt.
    const texts = {};
    for (const q of pre.questions) {
        if (q.type === 'ShortAnswer') {
            texts[q.id] = q.expected;
        }
    }
    fs.writeFileSync(answers, JSON.stringify(texts));
    labcheck('quiz', 'pre-assessment', '--answers', answers);
    const again = await context.newPage();
    await again.goto(base + 'pre-assessment.html', { waitUntil: 'load' });
    await again.locator('.labcheck-quiz-recorded', { hasText: '1 in the terminal' }).waitFor();
    await again.close();
    await page.close();
    clean();
});

test('the static build shows the commands, no buttons, and no console error', async () => {
    const dest = path.join(tmp, 'static');
    const run = spawnSyncText(BIN, ['book', 'build', '--dest', dest], { env, cwd: tmp });
    assert.ok(run.ok, run.text);
    const page = await context.newPage();
    await page.goto('file://' + path.join(dest, 'lab.html'), { waitUntil: 'load' });
    const panels = page.locator('.labcheck-progress');
    assert.equal(await panels.count(), 6);
    assert.equal(await page.locator('button.labcheck-progress-run').count(), 0, 'no Check button without a server');
    assert.equal((await page.locator('#progress-s3 pre code').textContent()).trim(), 'labcheck check s3');
    assert.equal((await page.locator('#progress-lab pre code').textContent()).trim(), 'labcheck check');
    assert.ok(await page.locator('#progress-s3 .labcheck-progress-serve').isVisible(), 'it says how to check from the page');
    await page.close();
    clean();
});
