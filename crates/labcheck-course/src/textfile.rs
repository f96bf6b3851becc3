//! Reading a text file that came from outside (a config, a course folder, an
//! answers file, a journal) with a cap on its size, so that a huge file or a
//! device such as `/dev/zero` ends in a clear error instead of exhausting
//! memory.

use std::io::Read;
use std::path::Path;

/// Reads `path` as UTF-8 text of at most `cap` bytes.
pub fn read_capped(path: &Path, cap: u64) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {}, the most labcheck reads of such a file", human(cap)),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {} is not)", e.utf8_error().valid_up_to()),
        )
    })
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MB", bytes >> 20)
    } else {
        format!("{} KB", bytes >> 10)
    }
}

/// A configuration or answers file: far more than any real one.
pub const SMALL: u64 = 1 << 20;
/// A course file (a lab guide, a quiz): forty times the course's largest.
/// Parsing one at this size peaks near 80 MB (a quiz's TOML document).
pub const COURSE: u64 = 2 << 20;

#[cfg(test)]
mod tests {
    #[test]
    fn a_device_that_never_ends_is_refused_not_read() {
        let err = super::read_capped(std::path::Path::new("/dev/zero"), super::SMALL).unwrap_err();
        assert!(err.to_string().contains("larger than 1 MB"), "{err}");
    }
}
