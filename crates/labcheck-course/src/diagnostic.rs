//! Errors in course files (labs, quizzes, configs) that point at a file,
//! line and column, printed the way compilers do.

use std::fmt;

/// One problem at one place in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as shown to the user (a path, or the embedded course's file name).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What is wrong, one line.
    pub message: String,
    /// The offending source line, when known, shown under the message: the
    /// whole line when it is short, else a window around the column.
    pub snippet: Option<String>,
    /// The 0-based character column of the line where `snippet` starts (0
    /// unless the line was cut to a window).
    pub snippet_from: usize,
}

/// Characters of a source line shown on each side of the column.
const HALF_WINDOW: usize = 60;
/// Characters of a message shown; the rest is cut.
pub const MAX_MESSAGE: usize = 2000;
/// Diagnostics shown per file; the rest are counted.
pub const MAX_PER_FILE: usize = 20;

/// The part of `line` a diagnostic at `col` shows, and where it starts.
pub fn window(line: &str, col: usize) -> (String, usize) {
    let len = line.chars().count();
    if len <= 2 * HALF_WINDOW {
        return (line.to_string(), 0);
    }
    let from = col
        .saturating_sub(1)
        .saturating_sub(HALF_WINDOW)
        .min(len.saturating_sub(2 * HALF_WINDOW));
    let text: String = line.chars().skip(from).take(2 * HALF_WINDOW).collect();
    (text, from)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A message may quote a name from the file: never all of a huge one.
        let message = if self.message.chars().count() > MAX_MESSAGE {
            let cut: String = self.message.chars().take(MAX_MESSAGE).collect();
            format!("{cut}… (cut)")
        } else {
            self.message.clone()
        };
        write!(f, "{}:{}:{}: {message}", self.file, self.line, self.col)?;
        if let Some(snippet) = &self.snippet {
            // Never more than a window of the line, stripped of control
            // characters (a snippet is text from a stranger's file).
            let (shown, from) = if self.snippet_from == 0 {
                window(snippet, self.col)
            } else {
                (snippet.clone(), self.snippet_from)
            };
            let from = from.max(self.snippet_from);
            let clean: String = shown.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            let lead = if from > 0 { "…" } else { "" };
            let caret = " ".repeat(
                lead.chars().count()
                    + self
                        .col
                        .saturating_sub(1)
                        .saturating_sub(from)
                        .min(clean.chars().count()),
            );
            let gutter = " ".repeat(self.line.to_string().len());
            write!(f, "\n{gutter} |\n{} | {lead}{clean}\n{gutter} | {caret}^", self.line)?;
        }
        Ok(())
    }
}

/// Every problem found in one or more course files. The files are rejected
/// whole: nothing in them is used while any diagnostic stands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown: Vec<(&str, usize)> = Vec::new();
        let mut hidden: Vec<(&str, usize)> = Vec::new();
        let mut first = true;
        for d in &self.0 {
            let count = match shown.iter_mut().find(|(file, _)| *file == d.file) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    shown.push((&d.file, 1));
                    1
                }
            };
            if count > MAX_PER_FILE {
                match hidden.iter_mut().find(|(file, _)| *file == d.file) {
                    Some((_, n)) => *n += 1,
                    None => hidden.push((&d.file, 1)),
                }
                continue;
            }
            // The first problem follows the caller's own "error: ".
            if !first {
                write!(f, "\nerror: ")?;
            }
            first = false;
            write!(f, "{d}")?;
        }
        for (file, n) in hidden {
            write!(f, "\n{file}: {n} more problems not shown")?;
        }
        Ok(())
    }
}

/// Maps byte offsets of a text to 1-based lines and columns.
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `text` (a line ends at `
    /// `, `\r
    /// ` or a lone `\r`).
    pub fn new(text: &'a str) -> Self {
        // A line ends at \n, \r\n, or a lone \r (old Mac files).
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        for (i, b) in bytes.iter().enumerate() {
            match b {
                b'\n' => line_starts.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => line_starts.push(i + 1),
                _ => {}
            }
        }
        Self { text, line_starts }
    }

    /// The 1-based (line, column) of a byte offset.
    pub fn locate(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let col = self.text[start..offset].chars().count() + 1;
        (line, col)
    }

    /// The text of a 1-based line, without its newline.
    pub fn line_text(&self, line: usize) -> &'a str {
        let start = self.line_starts.get(line - 1).copied().unwrap_or(self.text.len());
        let end = self.line_starts.get(line).map_or(self.text.len(), |&e| e - 1);
        self.text[start..end.max(start)].trim_end_matches(['\r', '\n'])
    }

    /// A diagnostic at a 1-based line and column, with the line as snippet.
    pub fn diagnostic(&self, file: &str, line: usize, col: usize, message: impl Into<String>) -> Diagnostic {
        let (snippet, snippet_from) = window(self.line_text(line), col);
        Diagnostic {
            file: file.to_string(),
            line,
            col,
            message: message.into(),
            snippet: Some(snippet),
            snippet_from,
        }
    }

    /// A diagnostic at a byte offset.
    pub fn diagnostic_at(&self, file: &str, offset: usize, message: impl Into<String>) -> Diagnostic {
        let (line, col) = self.locate(offset);
        self.diagnostic(file, line, col, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_offsets() {
        let idx = LineIndex::new("ab\ncdé\n\nx");
        assert_eq!(idx.locate(0), (1, 1));
        assert_eq!(idx.locate(3), (2, 1));
        assert_eq!(idx.locate(7), (2, 4));
        assert_eq!(idx.locate(8), (3, 1));
        assert_eq!(idx.locate(9), (4, 1));
        assert_eq!(idx.locate(10), (4, 2));
        assert_eq!(idx.line_text(2), "cdé");
        assert_eq!(idx.line_text(3), "");
    }

    #[test]
    fn long_lines_show_a_window_and_never_panic() {
        let line = format!("{}BAD{}", "x".repeat(100_000), "y".repeat(50));
        let idx = LineIndex::new(&line);
        let d = idx.diagnostic("q.toml", 1, 100_001, "bad value");
        let text = d.to_string();
        assert!(text.len() < 600, "a window, not the whole line: {} bytes", text.len());
        let lines: Vec<&str> = text.lines().collect();
        let (code, caret) = (lines[2], lines[3]);
        let at = caret.chars().position(|c| c == '^').unwrap();
        assert_eq!(
            code.chars().nth(at),
            Some('B'),
            "the caret points at the column:\n{text}"
        );
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        let idx = LineIndex::new("a\rb\r\nc\nd");
        assert_eq!(idx.locate(2), (2, 1));
        assert_eq!(idx.locate(5), (3, 1));
        assert_eq!(idx.line_text(2), "b");
    }

    #[test]
    fn many_problems_in_one_file_are_counted_not_all_shown() {
        let idx = LineIndex::new("x\n");
        let all = Diagnostics(
            (0..500)
                .map(|i| idx.diagnostic("big.toml", 1, 1, format!("problem {i}")))
                .collect(),
        );
        let text = all.to_string();
        assert_eq!(text.matches("big.toml:1:1:").count(), MAX_PER_FILE);
        assert!(text.ends_with("big.toml: 480 more problems not shown"), "{text}");
    }

    #[test]
    fn control_characters_in_a_snippet_are_not_printed() {
        let idx = LineIndex::new("key = 1 # \u{1b}]0;title\u{7}");
        let text = idx.diagnostic("labcheck.toml", 1, 7, "bad").to_string();
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
    }

    #[test]
    fn displays_like_a_compiler() {
        let idx = LineIndex::new("one\nkind = 3\n");
        let d = idx.diagnostic("labs/x.md", 2, 8, "expected a string");
        assert_eq!(
            d.to_string(),
            "labs/x.md:2:8: expected a string\n  |\n2 | kind = 3\n  |        ^"
        );
    }
}
