"""Reading the course's Markdown: fenced code blocks, inline code, check
blocks, the shell commands inside them, and the environment variables the
lab saves to `~/pets-lab.env` and hands to Elastic Beanstalk.

Only what the course's files use is supported: fenced blocks (``` or ~~~,
any indentation, closed by a fence at least as long), heredocs, line
continuations, `$(...)` substitutions, and the operators ; && || | &.
"""

import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "labs" / "deploy-django-eb.md"
BOOK_SRC = ROOT / "book" / "src"
SHELL_LANGS = {"bash", "sh", "shell", "console"}


@dataclass
class Block:
    """A fenced code block."""

    lang: str
    text: str
    line: int  # 1-based line of the opening fence
    step: str = ""  # the step (level-2 heading id) it is in, for lab files
    section: str = ""  # the title of the level-3 heading it is under, if any


@dataclass
class Doc:
    path: Path
    blocks: list = field(default_factory=list)
    # (line, text) of every inline code span outside fenced blocks
    spans: list = field(default_factory=list)

    @property
    def name(self):
        return str(self.path.relative_to(ROOT))


FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`\s]*)[^`]*$")
HEADING = re.compile(r"^##\s+.*\{#([\w-]+)\}\s*$")
H2 = re.compile(r"^##\s")
H3 = re.compile(r"^###\s+(.*?)\s*$")


def read(path):
    """Parses a Markdown file into its blocks and inline code spans."""
    doc = Doc(Path(path))
    lines = Path(path).read_text().splitlines()
    step = section = ""
    prose = []  # (line, text) of lines outside blocks
    i = 0
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if m:
            indent, fence, lang = len(m.group(1)), m.group(2), m.group(3)
            body = []
            j = i + 1
            while j < len(lines):
                close = lines[j].strip()
                if close and set(close) == {fence[0]} and len(close) >= len(fence):
                    break
                text = lines[j]
                # Remove the fence's indentation (a block inside a list item).
                strip = min(indent, len(text) - len(text.lstrip(" ")))
                body.append(text[strip:])
                j += 1
            doc.blocks.append(Block(lang, "\n".join(body) + "\n", i + 1, step, section))
            i = j + 1
            continue
        h = HEADING.match(line)
        if h:
            step, section = h.group(1), ""
        elif H2.match(line):
            step = section = ""
        elif h3 := H3.match(line):
            section = h3.group(1)
        prose.append((i + 1, line))
        i += 1
    # Inline code, a span may run over a line break.
    text = "\n".join(t for _, t in prose)
    numbers = [n for n, _ in prose]
    for m in re.finditer(r"(?<!`)`([^`]+)`(?!`)", text):
        line = numbers[text.count("\n", 0, m.start())]
        doc.spans.append((line, " ".join(m.group(1).split())))
    return doc


def lab():
    return read(LAB)


def course_docs():
    """The lab guides and the book's chapters."""
    docs = [read(p) for p in sorted((ROOT / "labs").glob("*.md"))]
    docs += [read(p) for p in sorted(BOOK_SRC.glob("*.md"))]
    return docs


def checks(doc):
    """The check blocks of a lab: (block, parsed TOML)."""
    return [(b, tomllib.loads(b.text)) for b in doc.blocks if b.lang == "check"]


# --- Shell -------------------------------------------------------------------

HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")
HEREDOC_FILE = re.compile(r"cat\s+(>>?)\s*(\S+)\s+<<-?\s*(['\"]?)(\w+)\3")


@dataclass
class Script:
    """A shell block, its heredocs taken out."""

    lines: list  # logical lines (continuations joined), heredoc bodies removed
    files: dict  # file written by `cat > FILE <<EOF` -> (body, expands variables?)


def script(text):
    out, files = [], {}
    raw = text.splitlines()
    i = 0
    pending = ""
    while i < len(raw):
        line = raw[i]
        m = HEREDOC.search(line)
        if m:
            delim = m.group(2)
            body = []
            i += 1
            while i < len(raw) and raw[i].strip() != delim:
                body.append(raw[i])
                i += 1
            f = HEREDOC_FILE.search(line)
            if f:
                files[f.group(2)] = ("\n".join(body) + "\n", f.group(3) == "")
        if line.endswith("\\"):
            pending += line[:-1] + " "
        else:
            out.append(pending + line)
            pending = ""
        i += 1
    if pending:
        out.append(pending)
    return Script([l for l in out if l.strip()], files)


def _substitutions(line):
    """Replaces each `$(...)` by a placeholder; returns (line, [inner commands])."""
    inner, out, i = [], [], 0
    while i < len(line):
        if line.startswith("$(", i):
            depth, j, quote = 1, i + 2, None
            while j < len(line) and depth:
                c = line[j]
                if quote:
                    if c == quote:
                        quote = None
                elif c in "'\"" and not (c == '"' and line[j - 1] == "\\"):
                    quote = c
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                j += 1
            inner.append(line[i + 2 : j - 1])
            out.append("__SUBST__")
            i = j
        else:
            out.append(line[i])
            i += 1
    return "".join(out), inner


KEYWORDS = {"until", "while", "if", "then", "do", "else", "elif", "!", "time", "{", "}"}
ENDS = {"done", "fi"}
ASSIGNMENT = re.compile(r"^\w+=")


REDIRECT = re.compile(r"(?<![\w'\"])\d?(?:>>?|<<?-?|&>)\s*(?:&\d+|[^\s;&|]+)")


def commands(line):
    """The simple commands of one logical shell line, as word lists, those of
    `$(...)` substitutions included (inner ones first). Redirections
    (`> file`, `2>&1`, `<<EOF`) are dropped."""
    line, inner = _substitutions(line)
    line = REDIRECT.sub(" ", line)
    found = []
    for sub in inner:
        found += commands(sub)
    lex = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lex.whitespace_split = True
    lex.commenters = "#"
    current = []
    try:
        tokens = list(lex)
    except ValueError as e:  # unbalanced quotes
        raise ValueError(f"cannot split {line!r}: {e}")
    for tok in tokens + [";"]:
        if tok and set(tok) <= set(";&|"):
            words = current
            while words and words[0] in KEYWORDS:
                words = words[1:]
            while words and ASSIGNMENT.match(words[0]):
                words = words[1:]
            if words and words[0] not in ENDS:
                found.append(words)
            current = []
        else:
            current.append(tok)
    return found


def expand(word, variables, default="sample"):
    """Replaces $NAME and ${NAME} by values from `variables`."""

    def value(m):
        name = m.group(1) or m.group(2)
        return variables.get(name, default)

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, word)


# Values for the variables and {placeholders} the course uses, realistic
# enough for the CLIs' own checks (bucket names, ARNs).
SAMPLE = {
    "AWS_REGION": "us-west-2",
    "ACCOUNT": "123456789012",
    "BUCKET": "pets-project-us-west-2-123456789012",
    "IDE_SG": "sg-0123456789abcdef0",
    "CACHE_SG": "sg-0123456789abcdef1",
    "DB_SG": "sg-0123456789abcdef2",
    "EB_SG": "sg-0123456789abcdef3",
    "CACHE_HOST": "pets-project-abc123.serverless.usw2.cache.amazonaws.com",
    "CACHE_PORT": "6379",
    "RDS_HOSTNAME": "pets-project-mysql.abcdefghij.us-west-2.rds.amazonaws.com",
    "RDS_PORT": "3306",
    "RDS_DB_NAME": "pets",
    "RDS_USER_NAME": "django",
    "RDS_USER_PASSWORD": "Sample-password-1",
    "DJANGO_SECRET_KEY": "sample-secret-key",
    "INSTANCE_ID": "i-0123456789abcdef0",
    "EB_INSTANCE": "i-0123456789abcdef1",
    "EB_URL": "http://pets-project-env.eba-abc123.us-west-2.elasticbeanstalk.com",
    "KEY": "luna.jpeg",
    "NAME": "pets-project-ebInstanceProfile",
    "TOKEN": "token",
}

PLACEHOLDERS = {
    "region": "us-west-2",
    "account": "123456789012",
    "bucket": "pets-project-us-west-2-123456789012",
    "cache": "pets-project",
    "db_instance": "pets-project-mysql",
    "db_name": "pets",
    "db_user": "django",
    "eb_app": "pets-project-ebapp",
    "eb_env": "pets-project-env",
    "instance_profile": "pets-project-ebInstanceProfile",
    "project_dir": ".",
}


def fill(text):
    """A check's hint or fix with its {placeholders} filled in."""
    return re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS.get(m.group(1), m.group(0)), text)


def cli_commands():
    """Every aws and eb command of the course: (where, words, runnable).
    Commands in shell blocks and fixes are runnable; inline code in the
    prose only mentions a command (`eb setenv`, `eb create --single`)."""
    out = []
    for doc in course_docs():
        for block in doc.blocks:
            if block.lang in SHELL_LANGS:
                for line in script(block.text).lines:
                    for words in commands(line):
                        out.append((f"{doc.name}:{block.line}", words, True))
            elif block.lang == "check":
                fix = tomllib.loads(block.text).get("fix", "")
                for line in script(fill(fix)).lines:
                    for words in commands(line):
                        out.append((f"{doc.name}:{block.line} (fix)", words, True))
        for line, span in doc.spans:
            if span.startswith(("aws ", "eb ")) and len(span.split()) >= 2:
                for words in commands(span):
                    out.append((f"{doc.name}:{line} (inline)", words, False))
    return [c for c in out if c[1][0] in ("aws", "eb")]


# --- The lab's environment variables -----------------------------------------

LAB_ENV = "~/pets-lab.env"
SAVE_ECHO = re.compile(r'^\s*echo\s+"export\s+(\w+)=.*>>\s*~/pets-lab\.env')
SAVE_HEREDOC = re.compile(r"^\s*cat\s+>>?\s*~/pets-lab\.env\s+<<-?\s*'?(\w+)'?")
EXPORT = re.compile(r"^\s*export\s+(\w+)=")


def saved_names(doc):
    """The variables the lab's shell blocks save to ~/pets-lab.env, in the
    two forms it uses: `echo "export X=..." >> ~/pets-lab.env` and a heredoc
    `cat >(>) ~/pets-lab.env <<EOF` of `export X=...` lines."""
    saved = []
    for block in doc.blocks:
        if block.lang not in SHELL_LANGS:
            continue
        until = None
        for line in block.text.splitlines():
            if until is not None:
                if line.strip() == until:
                    until = None
                elif m := EXPORT.match(line):
                    saved.append(m.group(1))
                continue
            if m := SAVE_ECHO.match(line):
                saved.append(m.group(1))
            elif m := SAVE_HEREDOC.match(line):
                until = m.group(1)
    return saved


def beanstalk_properties(doc):
    """The `--envvars` value of the lab's `eb create`, as written (with its
    `$VARIABLES`), and the property names it sets, in order."""
    found = []
    for block in doc.blocks:
        if block.lang not in SHELL_LANGS:
            continue
        for line in script(block.text).lines:
            for words in commands(line):
                if words[:2] == ["eb", "create"] and "--envvars" in words:
                    found.append(words[words.index("--envvars") + 1])
    if len(found) != 1:
        raise ValueError(f"the lab should have one `eb create --envvars`, it has {len(found)}")
    raw = found[0]
    names = [pair.split("=", 1)[0] for pair in raw.split(",")]
    return raw, names


def expand_strictly(word, variables):
    """$NAME and ${NAME} replaced by values; a name without a value is an error."""

    def value(m):
        name = m.group(1) or m.group(2)
        if name not in variables:
            raise KeyError(name)
        return variables[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, word)


# The names the reference project's settings read from the environment.
REFERENCE_SETTINGS = ROOT / "labs" / "pets_project" / "pets_project" / "settings.py"
READS = re.compile(
    r"""(?:os\.environ\[|os\.environ\.get\(|os\.getenv\(|env_flag\(|env_list\()\s*["'](\w+)["']"""
)


def reference_reads():
    return sorted(set(READS.findall(REFERENCE_SETTINGS.read_text())))
