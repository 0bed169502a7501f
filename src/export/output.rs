//! Where an export's bytes go: a file that appears whole or not at all, or stdout.
//!
//! A file export goes through [`crate::atomic`]: written to a temporary file in the target's
//! directory and renamed over the target only after the writer finished and the data reached
//! the disk. On any error, or if the process is interrupted through the command's Ctrl-C
//! handling, the temporary file is removed and an existing target is left untouched. This
//! module knows bytes, not rows.

use std::io::{BufWriter, Write};
use std::path::Path;

use super::ExportError;

/// Runs `write` against a buffered temporary file next to `target` and moves the result into
/// place if it succeeds (through [`crate::atomic`]). Returns what `write` returned.
pub fn write_atomically<T>(
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T, ExportError>,
) -> Result<T, ExportError> {
    crate::atomic::write_atomically(target, write)
}

/// Runs `write` against buffered stdout. What was written before an error cannot be taken
/// back; a consumer of stdout sees the non-zero exit status.
pub fn write_stdout<T>(
    write: impl FnOnce(&mut dyn Write) -> Result<T, ExportError>,
) -> Result<T, ExportError> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(256 * 1024, stdout.lock());
    let value = write(&mut out)?;
    out.flush()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn success_moves_the_file_into_place() {
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("out.csv");
        let n = write_atomically(&target, |out| {
            out.write_all(b"a,b\n")?;
            Ok(3)
        })
        .expect("writes");
        assert_eq!(n, 3);
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "a,b\n");
        assert_eq!(entries(dir.path()), vec!["out.csv"]);
    }

    #[test]
    fn failure_leaves_no_file_and_keeps_an_old_target() {
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("new.csv");
        let err = write_atomically(&target, |out| -> Result<(), ExportError> {
            out.write_all(&vec![b'x'; 1_000_000])?;
            Err(ExportError::Interrupted)
        });
        assert!(matches!(err, Err(ExportError::Interrupted)));
        assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));

        let old = dir.path().join("old.csv");
        std::fs::write(&old, "previous export\n").expect("write");
        let _ = write_atomically(&old, |out| -> Result<(), ExportError> {
            out.write_all(b"half")?;
            Err(ExportError::Interrupted)
        });
        assert_eq!(
            std::fs::read_to_string(&old).expect("read"),
            "previous export\n"
        );
        assert_eq!(entries(dir.path()), vec!["old.csv"]);
    }

    #[test]
    fn missing_directory_is_a_temp_file_error_naming_it() {
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("nope").join("out.csv");
        let err = write_atomically(&target, |_| Ok(())).expect_err("no such dir");
        assert!(matches!(err, ExportError::TempFile { .. }));
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn replacing_keeps_the_targets_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("out.csv");
        std::fs::write(&target, "old").expect("write");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        write_atomically(&target, |out| Ok(out.write_all(b"new")?)).expect("writes");
        let mode = std::fs::metadata(&target)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o640);
    }
}
