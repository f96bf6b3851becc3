//! Reading a learner's files with a cap: regular files only (never a FIFO
//! or `/dev/zero`), at most a given number of bytes, and decoded as pip and
//! Python would: a UTF-8 or UTF-16 byte order mark is honoured (PowerShell's
//! `pip freeze > requirements.txt` writes UTF-16 with a BOM), anything else
//! must be UTF-8.

use std::io::Read;
use std::path::Path;

/// The most labcheck reads of any one file of the project (requirements,
/// `.ebextensions/*.config`, Procfile, settings, wsgi.py, manage.py).
pub const MAX_FILE: u64 = 1 << 20;

/// A file's text, and how it was read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    /// The text, decoded.
    pub text: String,
    /// The file is longer than the cap: `text` holds its beginning only.
    pub cut: bool,
    /// "UTF-8", "UTF-8 with a BOM", "UTF-16LE with a BOM", ...
    pub encoding: &'static str,
}

/// Why a file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// There is no such file.
    Missing,
    /// The path is a folder or another non-file.
    NotAFile,
    /// The operating system's error, as text.
    Io(String),
    /// Neither UTF-8 nor UTF-16 with a BOM.
    NotText,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Missing => write!(f, "no such file"),
            ReadError::NotAFile => write!(f, "not a regular file"),
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::NotText => write!(f, "not UTF-8 text (nor UTF-16 with a byte order mark)"),
        }
    }
}

/// Reads at most `limit` bytes of the regular file at `path`, decoded.
pub fn read_text(path: &Path, limit: u64) -> Result<Text, ReadError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Io(e.to_string()),
    })?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile);
    }
    let file = std::fs::File::open(path).map_err(|e| ReadError::Io(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(e.to_string()))?;
    let cut = bytes.len() as u64 > limit;
    bytes.truncate(limit as usize);
    let (text, encoding) = decode(&bytes, cut).ok_or(ReadError::NotText)?;
    Ok(Text { text, cut, encoding })
}

/// Decodes by byte order mark, else as UTF-8. A file cut at the cap may end
/// inside a character: that last character is dropped.
pub fn decode(bytes: &[u8], cut: bool) -> Option<(String, &'static str)> {
    fn utf16(body: &[u8], little: bool, cut: bool) -> Option<String> {
        let body = if body.len() % 2 == 1 && cut {
            &body[..body.len() - 1]
        } else {
            body
        };
        if body.len() % 2 == 1 {
            return None;
        }
        let units = body.chunks_exact(2).map(|c| {
            if little {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        let mut out = String::new();
        for c in char::decode_utf16(units) {
            match c {
                Ok(c) => out.push(c),
                // A surrogate pair split by the cap.
                Err(_) if cut => break,
                Err(_) => return None,
            }
        }
        Some(out)
    }
    if let Some(body) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return utf8(body, cut).map(|t| (t, "UTF-8 with a BOM"));
    }
    if let Some(body) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(body, true, cut).map(|t| (t, "UTF-16LE with a BOM"));
    }
    if let Some(body) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(body, false, cut).map(|t| (t, "UTF-16BE with a BOM"));
    }
    utf8(bytes, cut).map(|t| (t, "UTF-8"))
}

fn utf8(bytes: &[u8], cut: bool) -> Option<String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Some(s.to_string()),
        // Only an incomplete last character is forgiven, and only when cut.
        Err(e) if cut && e.error_len().is_none() => {
            Some(String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned())
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_marks_are_honoured() {
        let text = "Django==4.2.11\r\ngunicorn==21.2.0\r\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend(text.as_bytes());
        assert_eq!(decode(&le, false), Some((text.to_string(), "UTF-16LE with a BOM")));
        assert_eq!(decode(&be, false), Some((text.to_string(), "UTF-16BE with a BOM")));
        assert_eq!(decode(&bom8, false), Some((text.to_string(), "UTF-8 with a BOM")));
        assert_eq!(decode(text.as_bytes(), false), Some((text.to_string(), "UTF-8")));
        assert_eq!(decode(&[0x44, 0xE9, 0x0A], false), None);
    }

    #[test]
    fn reads_are_capped_and_only_of_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.txt");
        std::fs::write(&big, "é".repeat(1000)).unwrap();
        // 2000 bytes; cut at 1001 falls inside a character.
        let t = read_text(&big, 1001).unwrap();
        assert!(t.cut);
        assert_eq!(t.text.chars().count(), 500);
        assert_eq!(read_text(dir.path(), 10), Err(ReadError::NotAFile));
        assert_eq!(read_text(&dir.path().join("none"), 10), Err(ReadError::Missing));
        if Path::new("/dev/zero").exists() {
            assert_eq!(read_text(Path::new("/dev/zero"), 10), Err(ReadError::NotAFile));
        }
    }
}
