"""What the course says stays right as defaults move, and its final quiz
tests the week's subject rather than the grading tool:

- every `aws rds create-db-instance` the course shows (in a shell block, a
  check's fix or the prose) names its `--engine-version`: RDS's default
  version changes over time, and with it what a learner's database does
  (MySQL 9.7 refuses connections without TLS, 8.0 costs extra under
  Extended Support);
- at most one question of the knowledge check is about labcheck itself;
- the tables of Django releases and their Python versions, in the lab and the
  book, agree with `labs/django-python.toml`, the data `eb.platform` grades
  with, and show its newest release.
"""

import re
import tomllib
import unittest

import guide

KNOWLEDGE_CHECK = guide.ROOT / "quizzes" / "knowledge-check.toml"
DJANGO_PYTHON = guide.ROOT / "labs" / "django-python.toml"
VERSION_TABLES = [guide.LAB, guide.BOOK_SRC / "deploy-eb.md"]
# A table row: | 5.2 (long-term support) | 3.10 to 3.14 | ...
ROW = re.compile(r"^\s*\|\s*(\d+\.\d+)\b[^|]*\|\s*3\.(\d+) to 3\.(\d+)\s*\|", re.MULTILINE)


def version_rows(text):
    """{Django release: [Python versions]} of the tables in a Markdown text."""
    return {m[0]: [f"3.{minor}" for minor in range(int(m[1]), int(m[2]) + 1)] for m in ROW.findall(text)}


def unpinned_databases(commands):
    """The `aws rds create-db-instance` commands without `--engine-version`."""
    missing = []
    for where, words, _ in commands:
        if words[:3] == ["aws", "rds", "create-db-instance"]:
            options = {w.split("=", 1)[0] for w in words if w.startswith("--")}
            if "--engine-version" not in options:
                missing.append(f"{where}: {' '.join(words)}")
    return missing


def about_labcheck(question):
    """True when a question's prompt, options or explanation name labcheck."""
    prompt = question.get("prompt", {})
    answer = question.get("answer", {}).get("answer", [])
    texts = [prompt.get("prompt", ""), question.get("context", "")]
    texts += prompt.get("distractors", [])
    texts += answer if isinstance(answer, list) else [answer]
    return any("labcheck" in t.lower() for t in texts)


class Content(unittest.TestCase):
    def test_every_database_the_course_creates_names_its_engine_version(self):
        commands = guide.cli_commands()
        creates = [c for c in commands if c[1][:3] == ["aws", "rds", "create-db-instance"]]
        self.assertTrue(creates, "the course shows how to create the database")
        self.assertEqual(unpinned_databases(commands), [], "pin the version: --engine-version 8.4")

    def test_an_unpinned_create_db_instance_is_caught(self):
        line = "aws rds create-db-instance --db-instance-identifier x --engine mysql --engine-version=8.4"
        pinned = guide.commands(line)
        unpinned = guide.commands(line.replace(" --engine-version=8.4", ""))
        self.assertEqual(unpinned_databases([("a", pinned[0], True)]), [])
        self.assertEqual(len(unpinned_databases([("b", unpinned[0], True)])), 1)

    def test_the_knowledge_check_is_about_labcheck_once_at_most(self):
        quiz = tomllib.loads(KNOWLEDGE_CHECK.read_text())
        questions = quiz["questions"]
        self.assertGreaterEqual(len(questions), 5)
        tool = [q.get("id", "?") for q in questions if about_labcheck(q)]
        self.assertLessEqual(len(tool), 1, f"knowledge-check questions about labcheck itself: {tool}")

    def test_the_version_tables_agree_with_the_checkers_data(self):
        data = tomllib.loads(DJANGO_PYTHON.read_text())["versions"]
        newest = max(data, key=lambda v: tuple(map(int, v.split("."))))
        for path in VERSION_TABLES:
            rows = version_rows(path.read_text())
            name = path.relative_to(guide.ROOT)
            self.assertIn(newest, rows, f"{name} has no row for Django {newest}")
            wrong = {v: (python, data.get(v)) for v, python in rows.items() if data.get(v) != python}
            self.assertEqual(wrong, {}, f"{name}: rows that disagree with {DJANGO_PYTHON.name}")

    def test_a_version_row_is_read_as_a_range(self):
        rows = version_rows("| 5.2 (long-term support) | 3.10 to 3.14 | April 2028 |\n| x | y |\n")
        self.assertEqual(rows, {"5.2": ["3.10", "3.11", "3.12", "3.13", "3.14"]})

    def test_a_question_about_labcheck_is_recognised(self):
        self.assertTrue(about_labcheck({"prompt": {"prompt": "What does `labcheck check` print?"}}))
        self.assertTrue(
            about_labcheck({"prompt": {"prompt": "x"}, "answer": {"answer": ["Labcheck skips it"]}})
        )
        self.assertFalse(
            about_labcheck({"prompt": {"prompt": "Which service keeps sessions?"}, "context": "x"})
        )


if __name__ == "__main__":
    unittest.main()
