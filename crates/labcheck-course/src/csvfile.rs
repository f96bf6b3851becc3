//! CSV files an instructor hands labcheck (the roster, the excuses file):
//! read up to a size no real one reaches, row by row with the byte offset
//! each row starts at, and every problem a `file:line:col` diagnostic whose
//! text went through the sanitizer (the cells are strangers' text).

use crate::diagnostic::{Diagnostic, Diagnostics};
use std::path::Path;

/// Largest CSV file read: far more than any cohort.
const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// The text of a CSV file an instructor hands labcheck (`what`: "roster",
/// "excuses file"), read up to a size no real one reaches; a folder, a
/// file that cannot be read, one too large or not UTF-8 is a diagnostic at
/// its first line (or where the text stops being UTF-8).
pub fn read_csv_text(path: &Path, what: &str) -> Result<String, Diagnostics> {
    let file = path.display().to_string();
    let fail = |message: String| Diagnostics(vec![diag(&file, 1, 1, message, None)]);
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read the {what}: {e}")))?;
    if meta.is_dir() {
        return Err(fail(format!("is a folder, not a {what} CSV file")));
    }
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(format!("cannot read the {what}: {e}")))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(fail(format!("the {what} is larger than {} MB", MAX_BYTES >> 20)));
    }
    String::from_utf8(bytes).map_err(|e| {
        let (line, col) =
            crate::diagnostic::LineIndex::new(&String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]))
                .locate(usize::MAX);
        Diagnostics(vec![diag(
            &file,
            line,
            col,
            format!("not UTF-8 text; save the {what} as CSV UTF-8"),
            None,
        )])
    })
}

/// A diagnostic of a CSV file an instructor hands in;
/// its message and snippet hold the file's values, so they go through the
/// sanitizer.
pub fn diag(file: &str, line: usize, col: usize, message: String, snippet: Option<String>) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        line,
        col,
        message: crate::sanitize::strip_control(&message),
        snippet: snippet.map(|s| crate::sanitize::strip_control(&s)),
        snippet_from: 0,
    }
}

/// One row of a CSV file an instructor hands in: the byte offset in the
/// file's text where it starts, and its cells, trimmed.
pub struct Row {
    /// Where the row starts in the text.
    pub at: usize,
    /// Its cells, trimmed.
    pub cells: Vec<String>,
}

/// The rows of CSV `text` from byte `offset` on (past a byte-order mark or
/// a `sep=` line), the header row first, read as they are asked for; a row
/// CSV cannot read is its diagnostic.
pub fn rows<'a>(
    file: &'a str,
    text: &'a str,
    offset: usize,
    lines: &'a Lines<'a>,
) -> impl Iterator<Item = Result<Row, Diagnostic>> + 'a {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&text.as_bytes()[offset.min(text.len())..])
        .into_byte_records()
        .map(move |record| {
            let record = record.map_err(|e| csv_problem(file, &e, lines))?;
            let mut at = record.position().map(|p| p.byte() as usize + offset).unwrap_or(offset);
            // The reader's position may be at blank lines it skipped.
            at += text.as_bytes()[at.min(text.len())..]
                .iter()
                .take_while(|b| matches!(b, b'\n' | b'\r'))
                .count();
            let cells = record
                .iter()
                .map(|f| String::from_utf8_lossy(f).trim().to_string())
                .collect();
            Ok(Row { at, cells })
        })
}

/// A CSV file's header row: its cells as written, each as a column name
/// (lowercase, a space or hyphen as `_`: spreadsheets title columns
/// `External ID` or `Check ID`), and where each starts, as a line and column.
pub struct Header {
    /// The cells as written.
    pub cells: Vec<String>,
    /// Each cell as a column name.
    pub names: Vec<String>,
    /// Each cell's line and column.
    pub places: Vec<(usize, usize)>,
}

/// The first row of `records`, read as a header; a file with no row at all
/// is the diagnostic `empty`, on its first line.
pub fn header(
    file: &str,
    records: &mut impl Iterator<Item = Result<Row, Diagnostic>>,
    lines: &Lines,
    empty: String,
) -> Result<Header, Diagnostics> {
    let Some(first) = records.next() else {
        return Err(Diagnostics(vec![diag(file, 1, 1, empty, None)]));
    };
    let Row { at, cells } = first.map_err(|d| Diagnostics(vec![d]))?;
    let starts = lines.field_starts(at);
    let places = (0..cells.len())
        .map(|i| lines.locate(starts.get(i).copied().unwrap_or(at)))
        .collect();
    let names = cells
        .iter()
        .map(|c| c.to_ascii_lowercase().replace([' ', '-'], "_"))
        .collect();
    Ok(Header { cells, names, places })
}

/// Problems collected before giving up on a file: the first few are shown,
/// the rest counted ("N more problems not shown"), so the count is exact for
/// any real file and the memory they take stays small (a line each).
pub const MAX_PROBLEMS: usize = 1000;

/// The next row after the header, while fewer than [`MAX_PROBLEMS`]
/// problems are known; a row CSV cannot read ends the rows, its diagnostic
/// added to `problems`.
pub fn next_row(
    records: &mut impl Iterator<Item = Result<Row, Diagnostic>>,
    problems: &mut Vec<Diagnostic>,
) -> Option<Row> {
    if problems.len() >= MAX_PROBLEMS {
        return None;
    }
    match records.next()? {
        Ok(row) => Some(row),
        Err(d) => {
            problems.push(d);
            None
        }
    }
}

/// What the CSV reader could not read, at its line and column.
pub fn csv_problem(file: &str, e: &csv::Error, lines: &Lines) -> Diagnostic {
    let (line, col) = e.position().map(|p| lines.locate(p.byte() as usize)).unwrap_or((1, 1));
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text; save the file as CSV UTF-8".to_string(),
        _ => format!("not valid CSV: {e}"),
    };
    diag(file, line, col, message, Some(lines.text(line)))
}

/// Line and column lookups over the raw text of a CSV file.
pub struct Lines<'a> {
    text: &'a str,
    index: crate::diagnostic::LineIndex<'a>,
}

impl<'a> Lines<'a> {
    /// Lookups over `text`.
    pub fn new(text: &'a str) -> Self {
        Lines {
            text,
            index: crate::diagnostic::LineIndex::new(text),
        }
    }

    /// 1-based (line, column) of byte `offset`.
    pub fn locate(&self, offset: usize) -> (usize, usize) {
        self.index.locate(offset)
    }

    /// The line's text for a snippet, cut to a readable length.
    pub fn text(&self, line: usize) -> String {
        let text = self.index.line_text(line).trim_end_matches('\r');
        if text.chars().count() > 200 {
            text.chars().take(200).collect::<String>() + "…"
        } else {
            text.to_string()
        }
    }

    /// Byte offsets where the fields of the record starting at `start` begin
    /// (commas inside quotes do not count).
    pub fn field_starts(&self, start: usize) -> Vec<usize> {
        let bytes = self.text.as_bytes();
        let mut starts = vec![start];
        let mut quoted = false;
        let mut i = start;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => quoted = !quoted,
                b',' if !quoted => starts.push(i + 1),
                b'\n' if !quoted => break,
                _ => {}
            }
            i += 1;
        }
        // Point at the value, not at the spaces before it.
        starts
            .into_iter()
            .map(|s| {
                let skip = bytes[s.min(bytes.len())..].iter().take_while(|b| **b == b' ').count();
                s + skip
            })
            .collect()
    }
}
