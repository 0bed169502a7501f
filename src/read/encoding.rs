//! Text encodings of delimited files: detection (byte-order mark, UTF-16 without a mark,
//! valid UTF-8, else Windows-1252), binary-file rejection, and a streaming reader that hands
//! the CSV parser UTF-8.
//!
//! It owns bytes-to-text only; it must not know about delimiters or rows. UTF-8 input is
//! passed through undecoded (the CSV reader checks each field), so the common case costs
//! nothing beyond one validating pass when no byte-order mark settles the question.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};
use encoding_rs_io::DecodeReaderBytesBuilder;

use super::ReadError;

/// The encoding chosen for a file and the length of the byte-order mark to skip.
#[derive(Debug, Clone, Copy)]
pub(super) struct Detected {
    pub encoding: &'static Encoding,
    pub bom_len: usize,
}

impl Detected {
    /// The name reported in [`super::Source::encoding`].
    pub fn name(&self) -> &'static str {
        name_of(self.encoding)
    }

    pub fn is_utf8(&self) -> bool {
        self.encoding == UTF_8
    }
}

fn name_of(encoding: &'static Encoding) -> &'static str {
    if encoding == UTF_8 {
        "utf-8"
    } else if encoding == UTF_16LE {
        "utf-16le"
    } else if encoding == UTF_16BE {
        "utf-16be"
    } else if encoding == WINDOWS_1252 {
        "windows-1252"
    } else {
        encoding.name()
    }
}

fn bom_of(head: &[u8]) -> Option<(&'static Encoding, usize)> {
    if head.starts_with(b"\xEF\xBB\xBF") {
        Some((UTF_8, 3))
    } else if head.starts_with(b"\xFF\xFE") {
        Some((UTF_16LE, 2))
    } else if head.starts_with(b"\xFE\xFF") {
        Some((UTF_16BE, 2))
    } else {
        None
    }
}

/// Chooses the encoding of a delimited file from its first bytes (`head`) and, when no
/// byte-order mark decides, a validating pass over the whole file.
pub(super) fn detect(
    path: &Path,
    head: &[u8],
    forced: Option<&str>,
) -> Result<Detected, ReadError> {
    if let Some(label) = forced {
        return forced_encoding(path, head, label);
    }
    if let Some((encoding, bom_len)) = bom_of(head) {
        return Ok(Detected { encoding, bom_len });
    }
    if let Some(encoding) = utf16_without_bom(head) {
        return Ok(Detected {
            encoding,
            bom_len: 0,
        });
    }
    reject_binary(path, head)?;
    let encoding = if is_utf8_file(path)? {
        UTF_8
    } else {
        WINDOWS_1252
    };
    Ok(Detected {
        encoding,
        bom_len: 0,
    })
}

fn forced_encoding(path: &Path, head: &[u8], label: &str) -> Result<Detected, ReadError> {
    let encoding = Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        ReadError::file(
            path,
            format!("unknown encoding \"{label}\"; use utf-8, utf-16le, utf-16be or windows-1252"),
        )
    })?;
    // A mark that agrees with the forced encoding is still not part of the text.
    let bom_len = match bom_of(head) {
        Some((bom_encoding, len)) if bom_encoding == encoding => len,
        _ => 0,
    };
    if encoding != UTF_16LE && encoding != UTF_16BE {
        reject_binary(path, head)?;
    }
    Ok(Detected { encoding, bom_len })
}

/// Excel's "Unicode Text" always writes a mark, but other tools do not: ASCII text in UTF-16
/// has a zero in every other byte, which no other text has.
fn utf16_without_bom(head: &[u8]) -> Option<&'static Encoding> {
    let sample = &head[..head.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let zero_even = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let zero_odd = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    if zero_even == 0 && zero_odd * 10 >= pairs * 4 {
        Some(UTF_16LE)
    } else if zero_odd == 0 && zero_even * 10 >= pairs * 4 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// NUL bytes or many control characters mean the file is not text in any encoding we read.
pub(super) fn reject_binary(path: &Path, head: &[u8]) -> Result<(), ReadError> {
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1a))
        .count();
    if head.contains(&0) || controls * 100 > head.len() {
        return Err(ReadError::file(
            path,
            "looks like a binary file, not text (it holds NUL or control bytes); \
             export it as CSV, or pass the right format",
        ));
    }
    Ok(())
}

/// Whether the whole file is valid UTF-8, read in chunks so memory stays flat.
fn is_utf8_file(path: &Path) -> Result<bool, ReadError> {
    let io_error = |e: io::Error| ReadError::file(path, format!("cannot read: {e}"));
    let mut file = File::open(path).map_err(io_error)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut carry = 0;
    loop {
        let n = file.read(&mut buf[carry..]).map_err(io_error)?;
        if n == 0 {
            // A sequence cut off by the end of the file is invalid.
            return Ok(carry == 0);
        }
        let filled = carry + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
            Err(_) => return Ok(false),
        }
    }
}

/// A reader of the file's text as UTF-8, past the byte-order mark. UTF-8 files come back
/// undecoded; anything else goes through `encoding_rs`, which replaces malformed sequences.
pub(super) fn text_reader(
    path: &Path,
    detected: Detected,
) -> Result<Box<dyn Read + Send>, ReadError> {
    let io_error = |e: io::Error| ReadError::file(path, format!("cannot read: {e}"));
    let mut file = File::open(path).map_err(io_error)?;
    file.seek(SeekFrom::Start(detected.bom_len as u64))
        .map_err(io_error)?;
    if detected.is_utf8() {
        return Ok(Box::new(file));
    }
    let decoder = DecodeReaderBytesBuilder::new()
        .encoding(Some(detected.encoding))
        .build(file);
    Ok(Box::new(decoder))
}

/// The head of the file as text, for sniffing the delimiter.
pub(super) fn decode_head(head: &[u8], detected: Detected) -> String {
    let body = head.get(detected.bom_len..).unwrap_or_default();
    let (text, _had_errors) = detected.encoding.decode_without_bom_handling(body);
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_is_recognised_without_a_mark() {
        let le: Vec<u8> = "Name\tCity\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "Name\tCity\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(utf16_without_bom(&le), Some(UTF_16LE));
        assert_eq!(utf16_without_bom(&be), Some(UTF_16BE));
        assert_eq!(utf16_without_bom(b"Name,City\n"), None);
    }

    #[test]
    fn labels_map_to_reported_names() {
        for (label, name) in [
            ("UTF-8", "utf-8"),
            ("utf-16le", "utf-16le"),
            ("utf-16be", "utf-16be"),
            ("cp1252", "windows-1252"),
            ("latin1", "windows-1252"),
        ] {
            let encoding = Encoding::for_label(label.as_bytes()).map(name_of);
            assert_eq!(encoding, Some(name), "{label}");
        }
    }
}
