//! A list picker for the terminal: ↑/↓ (or k/j) move, a number key jumps to
//! that option (and, for a single answer, picks it), Space ticks in a
//! select-all-that-apply list, Enter confirms, Esc or q leaves.
//!
//! The list is redrawn in place after each key: the rows drawn last time are
//! cleared first. An option longer than the terminal is wide takes several
//! rows, so the rows are counted by display width ([`rows`]), not lines.

use console::{Key, Style, Term};
use std::io;

/// What the learner did with the list.
pub(super) enum Picked {
    Chosen(Vec<usize>),
    Left,
}

/// What the picker needs of a terminal: console's [`Term`] when a learner
/// answers, a recording fake in the tests.
pub(super) trait Screen {
    /// Columns: where a long line wraps.
    fn width(&self) -> usize;
    fn write_line(&self, line: &str) -> io::Result<()>;
    /// Clears the `rows` rows above the cursor and moves up to the first.
    fn clear_last_rows(&self, rows: usize) -> io::Result<()>;
    fn hide_cursor(&self) -> io::Result<()>;
    fn show_cursor(&self) -> io::Result<()>;
    fn read_key(&self) -> io::Result<Key>;
}

impl Screen for Term {
    fn width(&self) -> usize {
        usize::from(self.size().1)
    }
    fn write_line(&self, line: &str) -> io::Result<()> {
        Term::write_line(self, line)
    }
    fn clear_last_rows(&self, rows: usize) -> io::Result<()> {
        self.clear_last_lines(rows)
    }
    fn hide_cursor(&self) -> io::Result<()> {
        Term::hide_cursor(self)
    }
    fn show_cursor(&self) -> io::Result<()> {
        Term::show_cursor(self)
    }
    fn read_key(&self) -> io::Result<Key> {
        Term::read_key(self)
    }
}

/// The rows `text` takes on a terminal `width` columns wide. Each line takes
/// at least one; it wraps where the next character no longer fits, counting
/// display width: colour codes take no room, a wide character (CJK, most
/// emoji) two columns, and a multi-byte character like `é` or `❯` one.
pub(super) fn rows(text: &str, width: usize) -> usize {
    let width = width.max(1);
    let mut buf = [0u8; 4];
    console::strip_ansi_codes(text)
        .split('\n')
        .map(|line| {
            let (mut rows, mut col) = (1, 0);
            for c in line.chars() {
                let w = console::measure_text_width(c.encode_utf8(&mut buf));
                if col + w > width {
                    rows += 1;
                    col = 0;
                }
                col += w;
            }
            rows
        })
        .sum()
}

/// Shows `items` under `prompt` and waits for a choice. The cursor is hidden
/// while the list is up and shown again however the picker ends, a failed
/// key read included.
pub(super) fn pick(term: &impl Screen, prompt: &str, items: &[String], multi: bool) -> io::Result<Picked> {
    term.hide_cursor()?;
    let result = choose(term, prompt, items, multi);
    let shown = term.show_cursor();
    let picked = result?;
    shown?;
    Ok(picked)
}

fn choose(term: &impl Screen, prompt: &str, items: &[String], multi: bool) -> io::Result<Picked> {
    let mut cursor = 0usize;
    let mut ticked = vec![false; items.len()];
    let help = if multi {
        "↑/↓ or a number to move, Space to tick, Enter to confirm"
    } else {
        "↑/↓ then Enter, or press the option's number"
    };
    let mut drawn = 0;
    let result = loop {
        if drawn > 0 {
            term.clear_last_rows(drawn)?;
        }
        let width = term.width();
        let mut lines = vec![format!(
            "{} {}",
            Style::new().bold().apply_to(prompt),
            Style::new().dim().apply_to(help)
        )];
        for (i, item) in items.iter().enumerate() {
            let pointer = if i == cursor {
                Style::new().cyan().bold().apply_to("❯")
            } else {
                Style::new().apply_to(" ")
            };
            let tick = match (multi, ticked[i]) {
                (true, true) => "[x] ",
                (true, false) => "[ ] ",
                _ => "",
            };
            let line = format!("{pointer} {tick}{item}");
            lines.push(if i == cursor {
                Style::new().cyan().apply_to(line).to_string()
            } else {
                line
            });
        }
        drawn = 0;
        for line in &lines {
            term.write_line(line)?;
            drawn += rows(line, width);
        }
        match term.read_key()? {
            Key::ArrowUp | Key::Char('k') => cursor = cursor.checked_sub(1).unwrap_or(items.len() - 1),
            Key::ArrowDown | Key::Char('j') | Key::Tab => cursor = (cursor + 1) % items.len(),
            Key::Char(c) if c.is_ascii_digit() => {
                let n = c.to_digit(10).unwrap_or(0) as usize;
                if (1..=items.len()).contains(&n) {
                    cursor = n - 1;
                    if !multi {
                        break Picked::Chosen(vec![cursor]);
                    }
                    ticked[cursor] = !ticked[cursor];
                }
            }
            Key::Char(' ') if multi => ticked[cursor] = !ticked[cursor],
            Key::Enter if multi => break Picked::Chosen((0..items.len()).filter(|&i| ticked[i]).collect()),
            Key::Enter => break Picked::Chosen(vec![cursor]),
            Key::Escape | Key::Char('q') => break Picked::Left,
            _ => {}
        }
    };
    term.clear_last_rows(drawn)?;
    if let Picked::Chosen(chosen) = &result {
        let shown: Vec<&str> = chosen.iter().map(|&i| items[i].as_str()).collect();
        let shown = if shown.is_empty() {
            "(nothing ticked)".to_string()
        } else {
            shown.join(", ")
        };
        term.write_line(&format!(
            "{} {}",
            Style::new().bold().apply_to(prompt),
            Style::new().cyan().apply_to(shown)
        ))?;
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn rows_count_display_width_not_bytes() {
        assert_eq!(rows("", 80), 1, "an empty line is still a row");
        assert_eq!(rows(&"a".repeat(80), 80), 1, "a line exactly as wide as the terminal");
        assert_eq!(rows(&"a".repeat(81), 80), 2);
        assert_eq!(rows(&"a".repeat(241), 80), 4);
        // 80 two-byte characters are 80 columns, not 160.
        assert_eq!(rows(&"é".repeat(80), 80), 1);
        assert_eq!(rows(&"❯".repeat(81), 80), 2);
        // Colour codes take no room.
        let cyan = Style::new().cyan().force_styling(true);
        assert_eq!(rows(&cyan.apply_to("a".repeat(80)).to_string(), 80), 1);
        // Wide characters take two columns, and one that does not fit in the
        // last column goes to the next row whole.
        assert_eq!(rows(&"界".repeat(40), 80), 1);
        assert_eq!(rows(&format!("a{}", "界".repeat(40)), 80), 2);
        assert_eq!(rows(&format!("{}界", "a".repeat(79)), 80), 2);
        // Lines count one by one.
        assert_eq!(rows(&format!("one\n{}\nthree", "b".repeat(100)), 80), 4);
        assert_eq!(rows("abc", 0), 3, "a zero width counts as one column");
    }

    #[derive(Debug, PartialEq)]
    enum Op {
        Line(String),
        Clear(usize),
        Hide,
        Show,
    }

    /// A terminal that records what is done to it and answers with `keys`.
    struct Fake {
        width: usize,
        keys: RefCell<Vec<io::Result<Key>>>,
        ops: RefCell<Vec<Op>>,
    }

    impl Fake {
        fn new(width: usize, keys: Vec<io::Result<Key>>) -> Fake {
            Fake {
                width,
                keys: RefCell::new(keys.into_iter().rev().collect()),
                ops: RefCell::new(Vec::new()),
            }
        }
    }

    impl Screen for Fake {
        fn width(&self) -> usize {
            self.width
        }
        fn write_line(&self, line: &str) -> io::Result<()> {
            self.ops
                .borrow_mut()
                .push(Op::Line(console::strip_ansi_codes(line).to_string()));
            Ok(())
        }
        fn clear_last_rows(&self, rows: usize) -> io::Result<()> {
            self.ops.borrow_mut().push(Op::Clear(rows));
            Ok(())
        }
        fn hide_cursor(&self) -> io::Result<()> {
            self.ops.borrow_mut().push(Op::Hide);
            Ok(())
        }
        fn show_cursor(&self) -> io::Result<()> {
            self.ops.borrow_mut().push(Op::Show);
            Ok(())
        }
        fn read_key(&self) -> io::Result<Key> {
            self.keys.borrow_mut().pop().expect("a key left to read")
        }
    }

    fn items() -> Vec<String> {
        vec![
            "1. short".to_string(),
            format!("2. {}", "long option ".repeat(8).trim_end()),
            "3. also short".to_string(),
        ]
    }

    #[test]
    fn redraw_clears_every_row_a_long_option_wrapped_onto() {
        // At 40 columns the prompt line takes 2 rows and the 97-column
        // option 3: 7 rows for 4 lines.
        let term = Fake::new(40, vec![Ok(Key::ArrowDown), Ok(Key::ArrowDown), Ok(Key::Enter)]);
        let picked = pick(&term, "Your answer", &items(), false).unwrap();
        assert!(matches!(picked, Picked::Chosen(ref c) if c == &[2]));
        let ops = term.ops.into_inner();
        let clears: Vec<usize> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Clear(n) => Some(*n),
                _ => None,
            })
            .collect();
        assert_eq!(clears, vec![7, 7, 7], "{ops:#?}");
        assert_eq!(ops.first(), Some(&Op::Hide));
        assert_eq!(ops.last(), Some(&Op::Show));
        assert_eq!(ops[ops.len() - 2], Op::Line("Your answer 3. also short".to_string()));
    }

    #[test]
    fn the_cursor_comes_back_when_reading_a_key_fails() {
        let broken = || io::Error::new(io::ErrorKind::UnexpectedEof, "the terminal went away");
        let term = Fake::new(80, vec![Ok(Key::ArrowDown), Err(broken())]);
        let err = pick(&term, "Your answers", &items(), true)
            .err()
            .expect("the read error");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let ops = term.ops.into_inner();
        assert_eq!(ops.first(), Some(&Op::Hide));
        assert_eq!(ops.last(), Some(&Op::Show), "{ops:#?}");
    }

    #[test]
    fn leaving_shows_the_cursor_and_no_answer() {
        let term = Fake::new(80, vec![Ok(Key::Escape)]);
        assert!(matches!(
            pick(&term, "Your answer", &items(), false).unwrap(),
            Picked::Left
        ));
        let ops = term.ops.into_inner();
        // Four lines, the 100-column option on two rows.
        assert_eq!(&ops[ops.len() - 2..], &[Op::Clear(5), Op::Show]);
    }
}
