//! JSON input: one array of objects (loaded whole) or NDJSON, one object per line (streamed,
//! in two passes: the first collects the union of keys that become the headers).
//!
//! Headers are the keys in order of first appearance across all objects. Values become text
//! exactly as written (numbers keep their digits, `true`/`false`, `null` is empty); nested
//! arrays and objects are cell errors. Values are kept as raw JSON slices until converted, so
//! no value is parsed twice and deep nesting hits `serde_json`'s recursion limit, a clean
//! error, instead of the stack's end. This module must not know about CSV or workbooks.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{check_headers, Opened, ReadError, Record, Rows};

/// Whether a head that starts with `{` holds one object per line rather than one document.
pub(super) fn looks_like_ndjson(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut lines = text
        .split(|&b| b == b'\n')
        .map(|line| line.trim_ascii())
        .filter(|line| !line.is_empty());
    let Some(first) = lines.next() else {
        return false;
    };
    let first_is_object = first.starts_with(b"{") && serde_json::from_slice::<Pairs>(first).is_ok();
    // The second line may be cut off by the end of the head, so only its start is checked.
    first_is_object && lines.next().map_or(true, |second| second.starts_with(b"{"))
}

/// Reads a whole file holding one JSON array of objects.
pub(super) fn open_array(path: &Path) -> Result<Opened, ReadError> {
    let bytes =
        std::fs::read(path).map_err(|e| ReadError::file(path, format!("cannot read: {e}")))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if bytes.trim_ascii().is_empty() {
        return Err(ReadError::file(path, "the file is empty"));
    }
    super::encoding::reject_binary(path, &bytes[..bytes.len().min(super::HEAD_LEN)])?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ReadError::file(path, "is not valid UTF-8 (JSON files must be UTF-8)"))?;
    if text.trim_start().starts_with('{') {
        return Err(ReadError::file(
            path,
            "holds one JSON object, not an array of objects ([{...}, {...}]); \
             for one object per line, name the file .ndjson",
        ));
    }
    let items: Vec<&RawValue> = serde_json::from_str(text)
        .map_err(|e| ReadError::file(path, format!("is not a JSON array of objects: {e}")))?;
    let objects: Vec<Result<Pairs, serde_json::Error>> = items
        .iter()
        .map(|item| serde_json::from_str(item.get()))
        .collect();
    let mut keys = Keys::default();
    for pairs in objects.iter().flatten() {
        keys.add(pairs);
    }
    let headers = keys.headers(path)?;
    let records = objects
        .into_iter()
        .enumerate()
        .map(|(i, pairs)| {
            let row = i as u64 + 2;
            let pairs = pairs.map_err(|e| not_an_object(path, row, &e, None))?;
            keys.record(path, row, &pairs)
        })
        .collect::<Vec<_>>();
    Ok(Opened {
        headers,
        delimiter: None,
        encoding: "utf-8",
        rows: Rows::Loaded(records.into_iter()),
    })
}

/// Opens an NDJSON file: the first pass collects the keys, the rows stream from a second.
pub(super) fn open_ndjson(path: &Path) -> Result<Opened, ReadError> {
    let mut keys = Keys::default();
    let mut lines = Lines::open(path)?;
    let mut objects = 0u64;
    while let Some((_, line)) = lines.next_line()? {
        objects += 1;
        if let Ok(pairs) = serde_json::from_slice::<Pairs>(line) {
            keys.add(&pairs);
        }
    }
    if objects == 0 {
        return Err(ReadError::file(path, "the file is empty"));
    }
    let headers = keys.headers(path)?;
    Ok(Opened {
        headers,
        delimiter: None,
        encoding: "utf-8",
        rows: Rows::Ndjson(NdjsonRows {
            path: path.to_path_buf(),
            lines: Lines::open(path)?,
            keys,
            done: false,
        }),
    })
}

/// The records of an NDJSON file, one line at a time.
pub(super) struct NdjsonRows {
    path: PathBuf,
    lines: Lines,
    keys: Keys,
    done: bool,
}

impl Iterator for NdjsonRows {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let (line_no, line) = match self.lines.next_line() {
            Ok(Some(numbered)) => numbered,
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let row = line_no + 1;
        let record = match std::str::from_utf8(line) {
            Err(_) => Err(ReadError::at_row(
                &self.path,
                row,
                format!("line {line_no} is not valid UTF-8 (JSON files must be UTF-8)"),
            )),
            Ok(text) => match serde_json::from_str::<Pairs>(text) {
                Ok(pairs) => self.keys.record(&self.path, row, &pairs),
                Err(e) => Err(not_an_object(&self.path, row, &e, Some(line_no))),
            },
        };
        Some(record)
    }
}

fn not_an_object(path: &Path, row: u64, error: &serde_json::Error, line: Option<u64>) -> ReadError {
    let place = line.map_or(String::new(), |n| format!("line {n}: "));
    ReadError::at_row(path, row, format!("{place}not a JSON object: {error}"))
}

/// Non-blank lines of a file, with their line numbers, through one reused buffer.
struct Lines {
    path: PathBuf,
    reader: BufReader<File>,
    buf: Vec<u8>,
    line_no: u64,
}

impl Lines {
    fn open(path: &Path) -> Result<Lines, ReadError> {
        let file =
            File::open(path).map_err(|e| ReadError::file(path, format!("cannot open: {e}")))?;
        Ok(Lines {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(64 * 1024, file),
            buf: Vec::new(),
            line_no: 0,
        })
    }

    /// The next non-blank line, trimmed, with its line number.
    fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, ReadError> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| ReadError::file(&self.path, format!("cannot read: {e}")))?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            let mut line = self.buf.trim_ascii();
            if self.line_no == 1 {
                line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            }
            if !line.is_empty() {
                // Re-borrow the trimmed range: `line` borrows `self.buf` immutably.
                let start = line.as_ptr() as usize - self.buf.as_ptr() as usize;
                let end = start + line.len();
                return Ok(Some((self.line_no, &self.buf[start..end])));
            }
        }
    }
}

/// The union of keys in first-appearance order, and where each one's value goes.
#[derive(Default)]
struct Keys {
    order: Vec<String>,
    index: HashMap<String, usize>,
}

impl Keys {
    fn add(&mut self, pairs: &Pairs) {
        for (key, _) in &pairs.0 {
            if !self.index.contains_key(key.as_ref()) {
                self.index.insert(key.to_string(), self.order.len());
                self.order.push(key.to_string());
            }
        }
    }

    fn headers(&self, path: &Path) -> Result<Vec<String>, ReadError> {
        if self.order.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(i) = self.order.iter().position(|k| k.trim().is_empty()) {
            return Err(ReadError::at_row(
                path,
                1,
                format!("key {} is blank (\"\"); every key needs a name", i + 1),
            ));
        }
        check_headers(path, 1, self.order.clone())
    }

    fn record(&self, path: &Path, row: u64, pairs: &Pairs) -> Result<Record, ReadError> {
        let mut values = vec![String::new(); self.order.len()];
        for (key, raw) in &pairs.0 {
            let Some(&i) = self.index.get(key.as_ref()) else {
                // Only possible if the file changed between the passes.
                return Err(ReadError::at_row(
                    path,
                    row,
                    format!("key \"{key}\" appeared after the keys were read"),
                ));
            };
            values[i] = scalar_text(raw).map_err(|what| {
                ReadError::at_cell(
                    path,
                    row,
                    self.order[i].trim(),
                    format!("holds {what}; only text, numbers, true/false and null can be read"),
                )
            })?;
        }
        Ok(Record { row, values })
    }
}

/// A JSON scalar as the text a spreadsheet cell would hold.
fn scalar_text(raw: &RawValue) -> Result<String, &'static str> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') if !text.contains('\\') => Ok(text[1..text.len() - 1].to_owned()),
        Some(b'"') => serde_json::from_str::<String>(text).map_err(|_| "an unreadable string"),
        Some(b'{') => Err("a nested object"),
        Some(b'[') => Err("an array"),
        Some(b'n') => Ok(String::new()),
        _ => Ok(text.to_owned()),
    }
}

/// One object's entries, in file order, with values left as raw JSON.
struct Pairs<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Pairs<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PairsVisitor)
    }
}

struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Pairs<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object like {\"Name\": \"value\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<'de>, A::Error> {
        let mut pairs = Vec::new();
        while let Some((key, value)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
            pairs.push((key.0, value));
        }
        Ok(Pairs(pairs))
    }
}

/// A key borrowed from the input unless it holds escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(json: &str) -> Result<String, &'static str> {
        let raw: &RawValue = serde_json::from_str(json).expect("valid JSON");
        scalar_text(raw)
    }

    #[test]
    fn scalars_keep_their_written_form() {
        assert_eq!(text_of("12345678901"), Ok("12345678901".into()));
        assert_eq!(text_of("1.50"), Ok("1.50".into()));
        assert_eq!(text_of("true"), Ok("true".into()));
        assert_eq!(text_of("null"), Ok(String::new()));
        assert_eq!(text_of(r#""00123""#), Ok("00123".into()));
        assert_eq!(text_of(r#""a\"b\u00e9""#), Ok("a\"bé".into()));
        assert!(text_of("[1]").is_err());
        assert!(text_of("{}").is_err());
    }

    #[test]
    fn ndjson_is_told_from_a_document() {
        assert!(looks_like_ndjson(b"{\"a\":1}\n{\"a\":2}\n"));
        assert!(looks_like_ndjson(b"{\"a\":1}\n"));
        assert!(!looks_like_ndjson(b"{\n  \"a\": 1\n}\n"));
        assert!(!looks_like_ndjson(b"[{\"a\":1}]"));
    }
}
