// labcheck quizzes: renders every `.labcheck-quiz` of the page from the JSON
// that the labcheck preprocessor embedded in it. No network, no libraries:
// it works offline and from file://. Progress is kept in localStorage.
(function () {
    'use strict';

    var STORE_PREFIX = 'labcheck-quiz:';

    function el(tag, attrs, children) {
        var node = document.createElement(tag);
        Object.keys(attrs || {}).forEach(function (key) {
            if (key === 'text') {
                node.textContent = attrs[key];
            } else if (key === 'html') {
                node.innerHTML = attrs[key];
            } else {
                node.setAttribute(key, attrs[key]);
            }
        });
        (children || []).forEach(function (child) { node.appendChild(child); });
        return node;
    }

    // A stable pseudo-random order: the same on every visit, not answer-first.
    function hash(text) {
        var h = 2166136261;
        for (var i = 0; i < text.length; i++) {
            h ^= text.charCodeAt(i);
            h = Math.imul(h, 16777619) >>> 0;
        }
        return h;
    }

    // As `labcheck quiz` compares: plain text, lower case, white space collapsed.
    function normalize(text) {
        return text.replace(/`/g, '').trim().split(/\s+/).join(' ').toLowerCase();
    }

    function load(quizId) {
        try {
            return JSON.parse(window.localStorage.getItem(STORE_PREFIX + quizId)) || {};
        } catch (e) {
            return {};
        }
    }

    function save(quizId, state) {
        try {
            window.localStorage.setItem(STORE_PREFIX + quizId, JSON.stringify(state));
        } catch (e) {
            // Storage can be off (private windows, file:// in some browsers): the quiz still works.
        }
    }

    function highlight(root) {
        if (!window.hljs) {
            return;
        }
        Array.prototype.forEach.call(root.querySelectorAll('pre code'), function (block) {
            try {
                (window.hljs.highlightElement || window.hljs.highlightBlock)(block);
            } catch (e) {
                // Unknown language: leave the code plain.
            }
            block.classList.add('hljs');
        });
    }

    function renderQuiz(container) {
        var dataNode = container.querySelector('script.labcheck-quiz-data');
        if (!dataNode) {
            return;
        }
        var quiz = JSON.parse(dataNode.textContent);
        var state = load(quiz.id);
        var total = quiz.questions.length;

        var score = el('p', { 'class': 'labcheck-quiz-score', 'aria-live': 'polite' });
        var reset = el('button', { 'type': 'button', 'class': 'labcheck-quiz-reset', 'text': 'Start over' });
        var header = el('div', { 'class': 'labcheck-quiz-header' }, [
            el('p', { 'class': 'labcheck-quiz-title' }, [
                el('span', { 'class': 'labcheck-quiz-badge', 'text': 'Quiz' }),
                document.createTextNode(' ' + quiz.title + ' \u00b7 ' + total + (total === 1 ? ' question' : ' questions')),
            ]),
            score,
            reset,
        ]);
        var list = el('ol', { 'class': 'labcheck-quiz-questions' });
        var cards = [];

        // Whether every question is answered: when a submit makes it so,
        // the quiz is finished and told to the page (labcheck-progress.js
        // records it when `labcheck book serve` serves the book).
        var finished = false;

        function updateScore() {
            var answered = 0;
            var right = 0;
            quiz.questions.forEach(function (q) {
                if (state[q.id]) {
                    answered += 1;
                    if (state[q.id].correct) {
                        right += 1;
                    }
                }
            });
            score.textContent = 'Score: ' + right + ' / ' + total +
                (answered < total ? ' (' + (total - answered) + ' still to answer)' : ' \u2014 all answered');
            container.classList.toggle('labcheck-quiz-done', answered === total);
            return answered === total;
        }

        quiz.questions.forEach(function (q, index) {
            var card = renderQuestion(quiz, q, index, total, state, function () {
                save(quiz.id, state);
                var done = updateScore();
                if (done && !finished) {
                    var answers = {};
                    Object.keys(state).forEach(function (key) { answers[key] = state[key].answer; });
                    container.dispatchEvent(new CustomEvent('labcheck-quiz-finished', {
                        bubbles: true,
                        detail: { quiz: quiz.id, answers: answers },
                    }));
                }
                finished = done;
            });
            cards.push(card);
            list.appendChild(card.node);
        });

        reset.addEventListener('click', function () {
            Object.keys(state).forEach(function (key) { delete state[key]; });
            save(quiz.id, state);
            cards.forEach(function (card) { card.clear(); });
            finished = updateScore();
        });

        container.appendChild(header);
        container.appendChild(list);
        highlight(list);
        finished = updateScore();
    }

    function renderQuestion(quiz, q, index, total, state, changed) {
        var name = 'labcheck-' + quiz.id + '-' + q.id;
        var node = el('li', { 'class': 'labcheck-question', 'data-question': q.id });
        var form = el('form', { 'class': 'labcheck-question-form' });
        var fieldset = el('fieldset');
        var legend = el('legend', { 'class': 'labcheck-question-number', 'text': 'Question ' + (index + 1) + ' of ' + total });
        fieldset.appendChild(legend);
        fieldset.appendChild(el('div', { 'class': 'labcheck-question-prompt', 'html': q.prompt }));

        var inputs = [];
        var options = [];
        if (q.type === 'MultipleChoice') {
            options = q.options.map(function (option, i) { return { option: option, index: i }; });
            if (!q.fixed) {
                options.sort(function (a, b) {
                    return hash(q.id + '\u0000' + a.option.html) - hash(q.id + '\u0000' + b.option.html);
                });
            }
            if (q.multi) {
                fieldset.appendChild(el('p', { 'class': 'labcheck-question-hint', 'text': 'Select all that apply.' }));
            }
            var choices = el('ul', { 'class': 'labcheck-choices' });
            options.forEach(function (entry, position) {
                var id = name + '-' + position;
                var input = el('input', {
                    'type': q.multi ? 'checkbox' : 'radio',
                    'name': name,
                    'id': id,
                    'value': String(entry.index),
                });
                inputs.push(input);
                entry.item = el('li', { 'class': 'labcheck-choice' }, [
                    input,
                    el('label', { 'for': id, 'html': entry.option.html }),
                ]);
                choices.appendChild(entry.item);
            });
            fieldset.appendChild(choices);
        } else {
            var text = el('input', {
                'type': 'text',
                'name': name,
                'id': name + '-answer',
                'class': 'labcheck-short-answer',
                'autocomplete': 'off',
                'spellcheck': 'false',
                'aria-label': 'Your answer',
            });
            inputs.push(text);
            fieldset.appendChild(el('p', {}, [text]));
        }

        var submit = el('button', { 'type': 'submit', 'class': 'labcheck-question-submit', 'text': 'Check answer' });
        var retry = el('button', { 'type': 'button', 'class': 'labcheck-question-retry', 'text': 'Try again' });
        retry.hidden = true;
        var verdict = el('p', { 'class': 'labcheck-question-verdict', 'aria-live': 'polite' });
        var explanation = el('div', { 'class': 'labcheck-question-context' });
        explanation.hidden = true;
        fieldset.appendChild(el('p', { 'class': 'labcheck-question-actions' }, [submit, retry]));
        form.appendChild(fieldset);
        node.appendChild(form);
        node.appendChild(verdict);
        node.appendChild(explanation);

        function current() {
            if (q.type === 'MultipleChoice') {
                return inputs.filter(function (i) { return i.checked; }).map(function (i) { return Number(i.value); });
            }
            return inputs[0].value;
        }

        function grade(answer) {
            if (q.type === 'MultipleChoice') {
                var chosen = answer.slice().sort();
                var right = q.options
                    .map(function (o, i) { return o.correct ? i : -1; })
                    .filter(function (i) { return i >= 0; })
                    .sort();
                return chosen.length === right.length && chosen.every(function (v, i) { return v === right[i]; });
            }
            return q.accepted.indexOf(normalize(answer)) >= 0;
        }

        function show(answer, correct) {
            inputs.forEach(function (input) { input.disabled = true; });
            if (q.type === 'MultipleChoice') {
                options.forEach(function (entry) {
                    var picked = answer.indexOf(entry.index) >= 0;
                    entry.item.classList.toggle('labcheck-picked', picked);
                    entry.item.classList.toggle('labcheck-right-option', entry.option.correct);
                    entry.item.classList.toggle('labcheck-wrong-option', picked && !entry.option.correct);
                });
                inputs.forEach(function (input) { input.checked = answer.indexOf(Number(input.value)) >= 0; });
            } else {
                inputs[0].value = answer;
            }
            node.classList.toggle('labcheck-right', correct);
            node.classList.toggle('labcheck-wrong', !correct);
            if (correct) {
                verdict.textContent = '\u2713 Right.';
            } else if (q.type === 'ShortAnswer') {
                // The answer as the quiz writes it (`accepted` is lower-cased for comparing).
                verdict.textContent = '\u2717 Not quite. Expected: ' + (q.expected || q.accepted[0]);
            } else {
                verdict.textContent = '\u2717 Not quite. The right ' +
                    (q.multi ? 'options are' : 'option is') + ' marked in green.';
            }
            explanation.innerHTML = q.context;
            explanation.hidden = !q.context;
            highlight(explanation);
            submit.hidden = true;
            retry.hidden = false;
        }

        function clear() {
            inputs.forEach(function (input) {
                input.disabled = false;
                if (input.type === 'text') {
                    input.value = '';
                } else {
                    input.checked = false;
                }
            });
            options.forEach(function (entry) {
                entry.item.classList.remove('labcheck-picked', 'labcheck-right-option', 'labcheck-wrong-option');
            });
            node.classList.remove('labcheck-right', 'labcheck-wrong');
            verdict.textContent = '';
            explanation.hidden = true;
            explanation.innerHTML = '';
            submit.hidden = false;
            retry.hidden = true;
        }

        form.addEventListener('submit', function (event) {
            event.preventDefault();
            var answer = current();
            if ((q.type === 'MultipleChoice' && answer.length === 0) || (q.type === 'ShortAnswer' && !answer.trim())) {
                verdict.textContent = 'Choose an answer first.';
                return;
            }
            var correct = grade(answer);
            state[q.id] = { answer: answer, correct: correct };
            show(answer, correct);
            changed();
        });

        retry.addEventListener('click', function () {
            delete state[q.id];
            clear();
            changed();
            if (inputs[0]) {
                inputs[0].focus();
            }
        });

        var saved = state[q.id];
        if (saved) {
            try {
                show(saved.answer, grade(saved.answer));
            } catch (e) {
                delete state[q.id];
                clear();
            }
        }
        return { node: node, clear: clear };
    }

    function start() {
        Array.prototype.forEach.call(document.querySelectorAll('.labcheck-quiz'), renderQuiz);
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
})();
