// The labcheck book in headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core): quizzes answer wrong and right, lab pages show the
// check callouts, search works, no console errors, and no request leaves
// localhost.
//
// Run after `cargo build` (scripts/test does both):  node --test tests/browser/
// LABCHECK_BIN and CHROMIUM override the binary and the browser.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
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
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

let server;
let baseUrl;
let context;
let tmp;
// Everything that went wrong on any page, checked after each test.
const problems = [];
const offsite = [];

function startServer(dest) {
    return new Promise((resolve, reject) => {
        const child = spawn(BIN, ['book', 'serve', '--course-dir', ROOT, '--dest', dest, '--port', '0'], {
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        const timer = setTimeout(() => reject(new Error(`labcheck book serve did not start in 60 s\n${out}${err}`)), 60000);
        child.stdout.on('data', (chunk) => {
            out += chunk;
            const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
            if (m) {
                clearTimeout(timer);
                resolve({ child, url: m[0] });
            }
        });
        child.stderr.on('data', (chunk) => { err += chunk; });
        child.on('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`labcheck book serve exited with ${code}:\n${out}${err}`));
        });
    });
}

before(async () => {
    assert.ok(
        fs.existsSync(CHROMIUM),
        `${CHROMIUM} is missing: run scripts/test (it installs Debian's chromium), or apt-get install -y chromium`,
    );
    assert.ok(fs.existsSync(BIN), `${BIN} is missing: run cargo build first (scripts/test does)`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labcheck-browser-'));
    const started = await startServer(path.join(tmp, 'html'));
    server = started.child;
    baseUrl = started.url;
    context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
        executablePath: CHROMIUM,
        headless: true,
        args: FLAGS,
        viewport: { width: 1280, height: 900 },
    });
    // Every request goes through here: local ones proceed, others are
    // recorded and refused.
    await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.protocol === 'data:' || url.protocol === 'blob:' || LOCAL_HOSTS.has(url.host.replace(/:\d+$/, ''))) {
            return route.continue();
        }
        offsite.push(route.request().url());
        return route.abort();
    });
    context.on('page', watch);
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

async function open(name) {
    const page = await context.newPage();
    await page.goto(baseUrl + name, { waitUntil: 'load' });
    return page;
}

function clean() {
    assert.deepEqual(problems, [], 'no console errors, uncaught exceptions or failed requests');
    assert.deepEqual(offsite, [], 'no request leaves localhost');
}

// The quiz data the page embeds, to know which options are right.
async function quizData(page) {
    return page.evaluate(() => JSON.parse(document.querySelector('script.labcheck-quiz-data').textContent));
}

async function answerChoice(page, question, pickCorrect) {
    const card = page.locator(`li.labcheck-question[data-question="${question.id}"]`);
    const want = question.options
        .map((o, i) => ({ o, i }))
        .filter(({ o }) => o.correct === pickCorrect)
        .map(({ i }) => i);
    const picks = pickCorrect ? want : [want[0]];
    for (const index of picks) {
        await card.locator(`input[value="${index}"]`).check();
    }
    await card.getByRole('button', { name: 'Check answer' }).click();
    return card;
}

test('a quiz page: answer wrong, then right, see the explanations and the score', async () => {
    const page = await open('media-s3.html');
    const quiz = await quizData(page);
    const questions = page.locator('li.labcheck-question');
    await questions.first().waitFor();
    assert.equal(await questions.count(), quiz.questions.length);
    const score = page.locator('.labcheck-quiz-score');
    assert.match(await score.textContent(), new RegExp(`^Score: 0 / ${quiz.questions.length}`));

    const choices = quiz.questions.filter((q) => q.type === 'MultipleChoice');
    assert.ok(choices.length >= 2, 'the quiz has two multiple-choice questions');
    const [first, second] = choices;

    const wrong = await answerChoice(page, first, false);
    await assert.doesNotReject(wrong.locator('.labcheck-question-verdict', { hasText: 'Not quite' }).waitFor());
    const explanation = wrong.locator('.labcheck-question-context');
    assert.ok(await explanation.isVisible(), 'the explanation shows after a wrong answer');
    const contextText = await page.evaluate((html) => {
        const div = document.createElement('div');
        div.innerHTML = html;
        return div.textContent.trim().split(/\s+/).slice(0, 4).join(' ');
    }, first.context);
    assert.ok((await explanation.textContent()).replace(/\s+/g, ' ').includes(contextText));
    assert.ok(await wrong.locator('.labcheck-right-option').count() >= 1, 'the right option is marked');

    const right = await answerChoice(page, second, true);
    await right.locator('.labcheck-question-verdict', { hasText: 'Right' }).waitFor();
    assert.ok(await right.locator('.labcheck-question-context').isVisible());
    assert.match(await score.textContent(), new RegExp(`^Score: 1 / ${quiz.questions.length}`));

    // Retry the wrong one and get it right.
    await wrong.getByRole('button', { name: 'Try again' }).click();
    await answerChoice(page, first, true);
    await wrong.locator('.labcheck-question-verdict', { hasText: 'Right' }).waitFor();
    assert.match(await score.textContent(), new RegExp(`^Score: 2 / ${quiz.questions.length}`));

    // A short answer, typed with other case and spacing.
    const short = quiz.questions.find((q) => q.type === 'ShortAnswer');
    if (short) {
        const card = page.locator(`li.labcheck-question[data-question="${short.id}"]`);
        await card.locator('input[type="text"]').fill(`  ${short.accepted[0].toUpperCase()} `);
        await card.getByRole('button', { name: 'Check answer' }).click();
        await card.locator('.labcheck-question-verdict', { hasText: 'Right' }).waitFor();
        assert.match(await score.textContent(), new RegExp(`^Score: 3 / ${quiz.questions.length}`));
    }

    // Progress is kept across a reload (localStorage).
    await page.reload({ waitUntil: 'load' });
    await page.locator('li.labcheck-question').first().waitFor();
    assert.match(await page.locator('.labcheck-quiz-score').textContent(), new RegExp(`^Score: ${short ? 3 : 2} /`));
    await page.close();
    clean();
});

test('a wrong short answer shows the expected answer as the quiz writes it', async () => {
    const page = await open('media-s3.html');
    const quiz = await quizData(page);
    const short = quiz.questions.find((q) => q.type === 'ShortAnswer' && q.expected !== q.expected.toLowerCase());
    assert.ok(short, 'the media-s3 quiz has a short answer with capitals (a setting name)');
    // The first test answered this quiz (kept in localStorage): start over.
    await page.getByRole('button', { name: 'Start over' }).click();
    const card = page.locator(`li.labcheck-question[data-question="${short.id}"]`);
    await card.locator('input[type="text"]').fill('MEDIA_ROOT');
    await card.getByRole('button', { name: 'Check answer' }).click();
    const verdict = card.locator('.labcheck-question-verdict');
    await verdict.filter({ hasText: 'Not quite' }).waitFor();
    assert.equal((await verdict.textContent()).trim(), `\u2717 Not quite. Expected: ${short.expected}`);
    assert.ok(!(await verdict.textContent()).includes(short.expected.toLowerCase()), 'not lower-cased');
    await page.close();
    clean();
});

test('the lab page shows its title first, then the chapter note, then the callouts', async () => {
    const page = await open('lab.html');
    const order = await page.evaluate(() => {
        const main = document.querySelector('main');
        const h1 = main.querySelector('h1');
        const note = Array.from(main.querySelectorAll('blockquote')).find((b) => b.textContent.includes('About this chapter'));
        return {
            title: h1 ? h1.textContent.trim() : null,
            titleFirst: !!(h1 && note && (h1.compareDocumentPosition(note) & Node.DOCUMENT_POSITION_FOLLOWING)),
            firstChild: main.firstElementChild ? main.firstElementChild.tagName : null,
        };
    });
    assert.match(order.title, /^Lab: Deploy the pets project/);
    assert.ok(order.titleFirst, 'the note comes after the title');
    await page.close();
    clean();
});

test('no table is wider than the page at 1280 px', async () => {
    const pages = ['sessions-cache.html', 'media-s3.html', 'data-rds.html', 'deploy-eb.html', 'production.html',
        'security-network.html', 'introduction.html', 'lab.html', 'checker-reference.html'];
    const wide = [];
    for (const name of pages) {
        const page = await open(name);
        const found = await page.evaluate(() => {
            const content = document.querySelector('main');
            const limit = content.getBoundingClientRect().right + 1;
            return Array.from(content.querySelectorAll('table')).filter((t) => {
                const wrapper = t.parentElement;
                const overflows = t.getBoundingClientRect().right > limit;
                const scrolls = wrapper && wrapper.scrollWidth > wrapper.clientWidth + 1;
                return overflows || scrolls;
            }).map((t) => (t.querySelector('th, td') || t).textContent.trim().slice(0, 40));
        });
        wide.push(...found.map((f) => `${name}: table starting "${f}"`));
        await page.close();
    }
    assert.deepEqual(wide, [], 'tables fit the content column (no sideways scrolling)');
    clean();
});

test('the lab page shows check callouts with their commands', async () => {
    const page = await open('lab.html');
    const callouts = page.locator('.labcheck-callout');
    await callouts.first().waitFor();
    assert.ok(await callouts.count() >= 20, 'one callout per check of the lab');
    const cors = page.locator('#check-s3-cors');
    assert.ok(await cors.isVisible());
    const text = (await cors.textContent()).replace(/\s+/g, ' ');
    assert.match(text, /labcheck check s3\.cors/);
    assert.match(text, /Passes when/);
    assert.match(text, /\d+ points?/);
    assert.equal(await page.locator('code.language-check').count(), 0, 'no raw check block is left');
    await page.close();
    clean();
});

test('the checker reference lists the checks and links to their callouts', async () => {
    const page = await open('checker-reference.html');
    const rows = page.locator('.labcheck-reference tr[id^="reference-"]');
    await rows.first().waitFor();
    assert.ok(await rows.count() >= 20);
    await page.locator('#reference-s3-cors a').click();
    await page.waitForURL(/lab\.html#check-s3-cors$/);
    await page.close();
    clean();
});

test('search works offline', async () => {
    const page = await open('index.html');
    await page.locator('#mdbook-search-toggle').click();
    // The index (searchindex-*.js, a script: works from file:// too) loads on
    // the first open; mdBook searches what is typed after it has loaded.
    await page.waitForFunction(() => window.search && window.search.index);
    await page.locator('#mdbook-searchbar').pressSequentially('presigned');
    const results = page.locator('#mdbook-searchresults li');
    await results.first().waitFor();
    assert.ok(await results.count() >= 1);
    await page.close();
    clean();
});
