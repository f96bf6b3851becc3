// labcheck "Check my progress": the panels the preprocessor puts at the end
// of every lab step (and one for the whole lab).
//
// Opened as static files (the published book) the panels show the command
// that checks the step, and this script does nothing. Served by
// `labcheck book serve` (the page's <meta name="labcheck-serve">), each
// panel gets a button that runs the step's checks through the server's API
// and shows each result as it finishes; step headings, the sidebar and the
// quizzes show what labcheck has recorded (`labcheck status`), runs and
// quiz attempts made in the terminal included. No library, nothing loaded
// from another site.
(function () {
    'use strict';

    var mark = document.querySelector('meta[name="labcheck-serve"]');
    if (!mark) {
        return;
    }
    var offers = (mark.getAttribute('content') || '').split(/\s+/);
    var TOKEN_KEY = 'labcheck-serve-token';
    var REFRESH_MS = 5000;

    // What each status looks like: an icon and words, never colour alone.
    var STATUS = {
        pass: { icon: '\u2713', words: 'Passed' },
        fail: { icon: '\u2717', words: 'Failed' },
        error: { icon: '!', words: 'Could not be checked' },
        skip: { icon: '\u2013', words: 'Skipped' },
        running: { icon: '\u22ef', words: 'Checking' },
        'not-run': { icon: '\u00b7', words: 'Not checked yet' },
    };

    // The token arrives once, in the address `labcheck book serve` printed;
    // it is kept for this server's pages (localStorage is per port) and
    // taken out of the address bar.
    function takeToken() {
        var params = new URLSearchParams(window.location.search);
        var given = params.get('token');
        if (given) {
            try {
                window.localStorage.setItem(TOKEN_KEY, given);
            } catch (e) {
                // No storage: this page still has it.
            }
            params.delete('token');
            var rest = params.toString();
            window.history.replaceState(null, '', window.location.pathname + (rest ? '?' + rest : '') + window.location.hash);
            return given;
        }
        try {
            return window.localStorage.getItem(TOKEN_KEY) || '';
        } catch (e) {
            return '';
        }
    }
    var token = takeToken();

    function el(tag, attrs, children) {
        var node = document.createElement(tag);
        Object.keys(attrs || {}).forEach(function (key) {
            if (key === 'text') {
                node.textContent = attrs[key];
            } else {
                node.setAttribute(key, attrs[key]);
            }
        });
        (children || []).forEach(function (child) {
            node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
        });
        return node;
    }

    function api(path, options) {
        options = options || {};
        options.headers = Object.assign({ 'X-Labcheck-Token': token }, options.headers || {});
        return window.fetch(path, options);
    }

    function statusBadge(status, extra) {
        var s = STATUS[status] || STATUS['not-run'];
        return el('span', { 'class': 'labcheck-state labcheck-state-' + status }, [
            el('span', { 'class': 'labcheck-state-icon', 'aria-hidden': 'true', 'text': s.icon }),
            ' ' + s.words + (extra ? ' ' + extra : ''),
        ]);
    }

    function copyButton(text) {
        var button = el('button', { 'type': 'button', 'class': 'labcheck-copy', 'text': 'Copy' });
        button.setAttribute('aria-label', 'Copy the command');
        button.addEventListener('click', function () {
            var done = function () {
                button.textContent = 'Copied';
                window.setTimeout(function () { button.textContent = 'Copy'; }, 1500);
            };
            if (navigator.clipboard && navigator.clipboard.writeText) {
                navigator.clipboard.writeText(text).then(done, function () { button.textContent = 'Select and copy'; });
            }
        });
        return button;
    }

    // One check's row: icon and status in words, title, id, points, and for
    // a check that did not pass its message, hint and fix.
    function checkRow(check) {
        var status = check.status;
        var row = el('li', { 'class': 'labcheck-result labcheck-result-' + status, 'data-check': check.id });
        var points = check.points === undefined ? '' :
            (status === 'pass' ? check.points : (check.score || 0)) + ' / ' + check.points;
        row.appendChild(el('p', { 'class': 'labcheck-result-head' }, [
            statusBadge(status),
            ' ',
            el('strong', { 'text': check.title || check.id }),
            ' ',
            el('code', { 'text': check.id }),
            el('span', { 'class': 'labcheck-result-points', 'text': points ? points + ' points' : '' }),
        ]));
        if (check.message && status !== 'running') {
            row.appendChild(el('p', { 'class': 'labcheck-result-message', 'text': check.message }));
        }
        if (status !== 'pass' && status !== 'running' && status !== 'not-run') {
            if (check.hint) {
                row.appendChild(el('p', { 'class': 'labcheck-result-hint' }, [el('strong', { 'text': 'Hint: ' }), check.hint]));
            }
            if (check.fix) {
                row.appendChild(el('div', { 'class': 'labcheck-result-fix' }, [
                    el('p', {}, [el('strong', { 'text': 'Fix:' })]),
                    el('pre', {}, [el('code', { 'text': check.fix })]),
                    copyButton(check.fix),
                ]));
            }
        }
        return row;
    }

    // Server-sent events from a streamed POST (EventSource only GETs).
    function readEvents(response, onEvent) {
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = '';
        function dispatch(block) {
            var name = 'message';
            var data = [];
            block.split('\n').forEach(function (line) {
                if (line.indexOf('event:') === 0) {
                    name = line.slice(6).trim();
                } else if (line.indexOf('data:') === 0) {
                    data.push(line.slice(5).replace(/^ /, ''));
                }
            });
            if (data.length) {
                onEvent(name, data.join('\n'));
            }
        }
        function pump() {
            return reader.read().then(function (chunk) {
                if (chunk.done) {
                    if (buffer.trim()) {
                        dispatch(buffer);
                    }
                    return;
                }
                buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, '\n');
                var at;
                while ((at = buffer.indexOf('\n\n')) >= 0) {
                    dispatch(buffer.slice(0, at));
                    buffer = buffer.slice(at + 2);
                }
                return pump();
            });
        }
        return pump();
    }

    var panels = [];

    function setUpPanel(node) {
        var step = node.getAttribute('data-step') || '';
        var command = step ? 'labcheck check ' + step : 'labcheck check';
        var how = node.querySelector('.labcheck-progress-how');
        var serve = node.querySelector('.labcheck-progress-serve');
        if (serve) {
            serve.hidden = true;
        }
        var button = el('button', { 'type': 'button', 'class': 'labcheck-progress-run' }, [
            step ? 'Check my progress' : 'Check the whole lab',
        ]);
        var summary = el('p', { 'class': 'labcheck-progress-summary', 'role': 'status', 'aria-live': 'polite' });
        var results = el('ol', { 'class': 'labcheck-results' });
        var actions = el('div', { 'class': 'labcheck-progress-actions' }, [button, summary]);
        node.insertBefore(actions, how);
        if (how) {
            how.textContent = 'Or in a terminal, in your project folder:';
        }
        node.appendChild(results);
        var panel = { node: node, step: step, button: button, summary: summary, results: results, running: false };
        if (!token) {
            button.disabled = true;
            summary.textContent = 'This page has no token: open the link `labcheck book serve` printed (it ends in ?token=\u2026) to check from here, or run ' + command + '.';
        }
        button.addEventListener('click', function () { run(panel); });
        panels.push(panel);
    }

    function showRecorded(panel, status) {
        if (panel.running) {
            return;
        }
        var steps = status.steps.filter(function (s) { return !panel.step || s.id === panel.step; });
        var checks = [];
        steps.forEach(function (s) { checks = checks.concat(s.checks); });
        var ran = checks.filter(function (c) { return c.status !== 'not-run'; });
        // Redrawn only when something changed (a run here or in the
        // terminal), so a focused button stays where it is.
        var signature = JSON.stringify(checks);
        if (!ran.length || signature === panel.signature) {
            return;
        }
        panel.signature = signature;
        if (panel.justRan) {
            panel.justRan = false;
            return;
        }
        panel.results.textContent = '';
        checks.forEach(function (c) { panel.results.appendChild(checkRow(c)); });
        var score = 0;
        var max = 0;
        steps.forEach(function (s) { score += s.score; max += s.max_score; });
        var latest = ran.map(function (c) { return c.checked_at || ''; }).sort().pop();
        panel.summary.textContent = 'Last recorded: ' + score + ' / ' + max + ' points' +
            (latest ? ' (checked ' + latest.replace('T', ' ').replace('Z', ' UTC') + ')' : '') + '.';
        panel.node.setAttribute('data-state', stepState(steps));
    }

    function stepState(steps) {
        var checks = [];
        steps.forEach(function (s) { checks = checks.concat(s.checks); });
        var statuses = checks.map(function (c) { return c.status; });
        if (statuses.indexOf('fail') >= 0) {
            return 'fail';
        }
        if (statuses.indexOf('error') >= 0) {
            return 'error';
        }
        if (statuses.length && statuses.every(function (s) { return s === 'pass' || s === 'skip'; })) {
            return 'pass';
        }
        return 'not-run';
    }

    function run(panel) {
        if (panel.running) {
            return;
        }
        panel.running = true;
        panel.button.disabled = true;
        panel.node.setAttribute('aria-busy', 'true');
        panel.summary.textContent = 'Checking\u2026';
        var rows = {};
        var finish = function (text) {
            panel.running = false;
            panel.button.disabled = false;
            panel.node.removeAttribute('aria-busy');
            panel.summary.textContent = text;
        };
        api('/api/run', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ step: panel.step }),
        }).then(function (response) {
            if (!response.ok) {
                return response.text().then(function (text) {
                    var message = text;
                    try {
                        message = JSON.parse(text).error || text;
                    } catch (e) {
                        // Plain text.
                    }
                    finish('The server refused: ' + message);
                });
            }
            return readEvents(response, function (name, data) {
                var event = name === 'joined' ? {} : JSON.parse(data);
                if (name === 'joined') {
                    panel.summary.textContent = data === 'true' ? 'Already checking: joined that run\u2026' : 'Checking\u2026';
                } else if (name === 'start') {
                    panel.results.textContent = '';
                    event.checks.forEach(function (c) {
                        var row = checkRow({ id: c.id, title: c.title, points: c.points, status: 'running' });
                        rows[c.id] = row;
                        panel.results.appendChild(row);
                    });
                } else if (name === 'check') {
                    var row = checkRow(event.check);
                    if (rows[event.check.id]) {
                        panel.results.replaceChild(row, rows[event.check.id]);
                    } else {
                        panel.results.appendChild(row);
                    }
                    rows[event.check.id] = row;
                } else if (name === 'done') {
                    var failed = panel.results.querySelectorAll('.labcheck-result-fail').length;
                    var text = 'Score: ' + event.score + ' / ' + event.max_score + ' points \u2014 ' +
                        (event.verdict === 'passed' ? 'every check passed.' :
                            event.verdict === 'failed' ? failed + (failed === 1 ? ' check' : ' checks') + ' failed.' :
                                'some checks could not be checked.');
                    if (event.notes && event.notes.length) {
                        text += ' Note: ' + event.notes.join(' ');
                    }
                    panel.node.setAttribute('data-state', event.verdict === 'passed' ? 'pass' : event.verdict === 'failed' ? 'fail' : 'error');
                    panel.justRan = true;
                    finish(text);
                    refresh();
                } else if (name === 'failed') {
                    finish('Could not run the checks: ' + event.message);
                }
            }).then(function () {
                if (panel.running) {
                    finish('The server stopped before the checks ended.');
                }
            });
        }).catch(function (error) {
            finish('The server cannot be reached (' + error.message + '): is `labcheck book serve` still running?');
        });
    }

    // The state of each step beside its heading and its sidebar entry; the
    // lab's total beside the lab's chapter.
    function decorate(target, status, text) {
        if (!target) {
            return;
        }
        var old = target.querySelector('.labcheck-step-state');
        if (old) {
            old.remove();
        }
        var badge = statusBadge(status, text);
        badge.classList.add('labcheck-step-state');
        target.appendChild(badge);
    }

    function showSteps(status) {
        var labLink = null;
        status.steps.forEach(function (step) {
            if (!step.checks.length) {
                return;
            }
            var state = stepState([step]);
            var ran = step.checks.some(function (c) { return c.status !== 'not-run'; });
            var text = ran ? step.score + '/' + step.max_score : '';
            // Only on the page that holds the step's panel: another chapter
            // may have a heading of the same id.
            var here = document.getElementById('progress-' + step.id);
            var heading = document.getElementById(step.id);
            if (here && heading && /^H[12]$/.test(heading.tagName)) {
                decorate(heading, state, text);
            }
            Array.prototype.forEach.call(document.querySelectorAll('#mdbook-sidebar a'), function (a) {
                var href = a.getAttribute('href') || '';
                var page = href.split('#')[0];
                var anchor = href.split('#')[1];
                if (/(^|\/)lab\.html$/.test(page) && !anchor) {
                    labLink = a;
                }
                if (here && anchor === step.id) {
                    decorate(a, state, text);
                }
            });
        });
        if (labLink) {
            var ran = status.steps.some(function (s) { return s.checks.some(function (c) { return c.status !== 'not-run'; }); });
            decorate(labLink, stepState(status.steps), ran ? status.score + '/' + status.max_score : '');
        }
    }

    // Quiz attempts labcheck recorded (in the terminal or in a page).
    function showQuizzes(attempts) {
        Array.prototype.forEach.call(document.querySelectorAll('.labcheck-quiz[data-quiz]'), function (quiz) {
            var id = quiz.getAttribute('data-quiz');
            var list = attempts[id] || [];
            var line = quiz.querySelector('.labcheck-quiz-recorded');
            if (!line) {
                line = el('p', { 'class': 'labcheck-quiz-recorded', 'aria-live': 'polite' });
                quiz.insertBefore(line, quiz.querySelector('.labcheck-quiz-questions'));
            }
            if (!list.length) {
                line.textContent = 'labcheck has no attempt at this quiz recorded yet (labcheck quiz ' + id + ' takes it in the terminal).';
                return;
            }
            var best = list.reduce(function (a, b) {
                return b.score * Math.max(a.max_score, 1) >= a.score * Math.max(b.max_score, 1) ? b : a;
            });
            var inTerminal = list.filter(function (a) { return a.mode !== 'book'; }).length;
            var last = list[list.length - 1];
            line.textContent = 'Recorded by labcheck: ' + list.length + (list.length === 1 ? ' attempt' : ' attempts') +
                ' (' + inTerminal + ' in the terminal, ' + (list.length - inTerminal) + ' in the book), best ' +
                best.score + '/' + best.max_score + '; last ' + last.score + '/' + last.max_score +
                (last.mode === 'book' ? ' in the book' : ' in the terminal') + '.';
        });
    }

    var refreshing = false;
    function refresh() {
        if (!token || refreshing) {
            return;
        }
        refreshing = true;
        api('/api/status').then(function (response) {
            return response.ok ? response.json() : null;
        }).then(function (answer) {
            refreshing = false;
            if (!answer) {
                return;
            }
            showSteps(answer.status);
            panels.forEach(function (panel) { showRecorded(panel, answer.status); });
            showQuizzes(answer.attempts || {});
        }).catch(function () {
            refreshing = false;
        });
    }

    // A quiz finished in the page (quiz.js): graded and recorded by labcheck.
    document.addEventListener('labcheck-quiz-finished', function (event) {
        if (!token) {
            return;
        }
        api('/api/quiz', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ quiz: event.detail.quiz, answers: event.detail.answers }),
        }).then(function () { refresh(); }).catch(function () {
            // The server is gone: the page's own score stays.
        });
    });

    function start() {
        Array.prototype.forEach.call(document.querySelectorAll('.labcheck-progress'), setUpPanel);
        document.documentElement.classList.add('labcheck-served');
        refresh();
        window.setInterval(function () {
            if (!document.hidden) {
                refresh();
            }
        }, REFRESH_MS);
        if (offers.indexOf('reload') >= 0 && window.EventSource) {
            new window.EventSource('/_labcheck/reload').addEventListener('reload', function () {
                window.location.reload();
            });
        }
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
})();
