//! Writing results to files. A regular file (or a new one) is replaced
//! atomically: a temporary file in the same folder, synced, then renamed
//! over the target, so a reader never sees half a report. A symlink is
//! followed and its target replaced; a device or a pipe (`/dev/stdout`, a
//! FIFO) is written through, never replaced. New files get the usual
//! permissions (0666 less the umask); a replaced file keeps its own.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Writes `contents` to `path` as the module documentation describes: atomically for a regular file, through for a device or pipe.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    // Asked of the path itself, so the kernel follows every link, including
    // /proc's (`/dev/stdout` is `/proc/self/fd/1`, whose link text, such as
    // `pipe:[1234]`, names no file).
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a folder"));
        }
        Ok(meta) if !meta.is_file() => {
            // A device, a FIFO, a pipe or a socket: write to it, do not replace it.
            let mut f = std::fs::OpenOptions::new().write(true).truncate(true).open(path)?;
            f.write_all(contents)?;
            return f.flush();
        }
        _ => {}
    }
    let target = resolve(path);
    let mode = match std::fs::metadata(&target) {
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(_) => 0o666 & !umask(),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

/// The file a path finally names, following symlinks (even to a file that
/// does not exist yet).
fn resolve(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&current) {
            Ok(link) => {
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            Err(_) => break,
        }
    }
    current
}

/// The process's umask (read by setting it, then restoring it).
fn umask() -> u32 {
    // SAFETY: umask only swaps the process's file-mode mask; it is restored
    // at once, and labcheck creates no files from other threads meanwhile.
    unsafe {
        let old = libc::umask(0o022);
        libc::umask(old);
        old as u32
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        super::write_atomic(&path, b"first version, longer").unwrap();
        super::write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !super::umask(), "new files honour the umask");
    }

    #[test]
    fn follows_symlinks_and_writes_through_devices() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        super::write_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(),
            "the link stays a link"
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        super::write_atomic(std::path::Path::new("/dev/null"), b"x").unwrap();
        assert!(
            !std::fs::metadata("/dev/null").unwrap().is_file(),
            "a device is written through, never replaced"
        );
    }

    /// `-o /dev/stdout` into a pipe: the path is a /proc link whose text
    /// (`pipe:[N]`) names no file; the report goes down the pipe.
    #[test]
    fn writes_through_a_pipe_named_by_proc() {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let (mut reader, writer) = std::io::pipe().unwrap();
        let path = format!("/proc/self/fd/{}", writer.as_raw_fd());
        super::write_atomic(std::path::Path::new(&path), b"through the pipe").unwrap();
        drop(writer);
        let mut got = String::new();
        reader.read_to_string(&mut got).unwrap();
        assert_eq!(got, "through the pipe");
    }
}
