//! A list picker for the terminal: ↑/↓ (or k/j) move, a number key jumps to
//! that option (and, for a single answer, picks it), Space ticks in a
//! select-all-that-apply list, Enter confirms, Esc or q leaves.

use console::{Key, Style, Term};

/// What the learner did with the list.
pub enum Picked {
    Chosen(Vec<usize>),
    Left,
}

/// Shows `items` under `prompt` and waits for a choice.
pub fn pick(term: &Term, prompt: &str, items: &[String], multi: bool) -> std::io::Result<Picked> {
    let mut cursor = 0usize;
    let mut ticked = vec![false; items.len()];
    let help = if multi {
        "↑/↓ or a number to move, Space to tick, Enter to confirm"
    } else {
        "↑/↓ then Enter, or press the option's number"
    };
    term.hide_cursor()?;
    let mut drawn = 0;
    let result = loop {
        if drawn > 0 {
            term.clear_last_lines(drawn)?;
        }
        term.write_line(&format!(
            "{} {}",
            Style::new().bold().apply_to(prompt),
            Style::new().dim().apply_to(help)
        ))?;
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
            term.write_line(&if i == cursor {
                Style::new().cyan().apply_to(line).to_string()
            } else {
                line
            })?;
        }
        drawn = items.len() + 1;
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
    term.clear_last_lines(drawn)?;
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
    term.show_cursor()?;
    Ok(result)
}
