//! Errors in course files (labs, quizzes, configs) that point at a file,
//! line and column, printed the way compilers do.

use std::fmt;

/// One problem at one place in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    pub message: String,
    /// The offending source line, when known, shown under the message.
    pub snippet: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.message)?;
        if let Some(snippet) = &self.snippet {
            let gutter = self.line.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{} | {}\n{:gutter$} | {:>col$}",
                "",
                self.line,
                snippet,
                "",
                "^",
                col = self.col.max(1)
            )?;
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
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {d}")?;
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
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
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
        self.text[start..end.max(start)].trim_end_matches('\r')
    }

    /// A diagnostic at a 1-based line and column, with the line as snippet.
    pub fn diagnostic(&self, file: &str, line: usize, col: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_string(),
            line,
            col,
            message: message.into(),
            snippet: Some(self.line_text(line).to_string()),
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
    fn displays_like_a_compiler() {
        let idx = LineIndex::new("one\nkind = 3\n");
        let d = idx.diagnostic("labs/x.md", 2, 8, "expected a string");
        assert_eq!(
            d.to_string(),
            "labs/x.md:2:8: expected a string\n  |\n2 | kind = 3\n  |        ^"
        );
    }
}
