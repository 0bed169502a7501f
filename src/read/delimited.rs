//! Delimited text (CSV, TSV, semicolon- and pipe-separated): delimiter sniffing, header
//! checks, spreadsheet row numbering, ragged rows and unclosed quotes, streamed record by
//! record through one reused `csv::ByteRecord`.
//!
//! Bytes-to-text is `encoding`'s job; this module sees UTF-8 only. It must not hold more
//! than one record in memory.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::encoding::{self, Detected};
use super::{check_headers, shorten, Opened, ReadError, ReadOptions, Record, Rows};

/// The delimiters sniffing chooses from, in order of preference on a tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How many records of the head the sniffer compares with the header.
const SNIFF_RECORDS: usize = 50;

pub(super) fn open(path: &Path, head: &[u8], options: &ReadOptions) -> Result<Opened, ReadError> {
    if head.is_empty() {
        return Err(ReadError::file(path, "the file is empty"));
    }
    let detected = encoding::detect(path, head, options.encoding.as_deref())?;
    let sample = encoding::decode_head(head, detected);
    if sample.trim().is_empty() {
        return Err(ReadError::file(path, "the file is empty (no header row)"));
    }
    let delimiter = options
        .delimiter
        .unwrap_or_else(|| sniff_delimiter(&sample));
    let text = encoding::text_reader(path, detected)?;
    let reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(64 * 1024)
        .from_reader(QuoteTracker::new(text, delimiter));
    let mut rows = DelimitedRows {
        path: path.to_path_buf(),
        reader,
        record: csv::ByteRecord::new(),
        headers: Vec::new(),
        last_row: 0,
        line: 1,
        crlf: sample
            .find('\n')
            .is_some_and(|i| sample[..i].ends_with('\r')),
        done: false,
    };
    let headers = rows.read_headers(detected)?;
    rows.headers.clone_from(&headers);
    Ok(Opened {
        headers,
        delimiter: Some(delimiter),
        encoding: detected.name(),
        rows: Rows::Delimited(Box::new(rows)),
    })
}

/// The candidate that splits the header into the most fields agreed on by the most of the
/// following records; quoted text is ignored. A file without any candidate in its header has
/// one column, and a comma is as good a delimiter as any for it.
fn sniff_delimiter(sample: &str) -> u8 {
    let counts = count_per_record(sample);
    let Some((header, rest)) = counts.split_first() else {
        return b',';
    };
    let mut best = (0usize, 0usize, b',');
    for (i, &candidate) in CANDIDATES.iter().enumerate() {
        if header[i] == 0 {
            continue;
        }
        let agreeing = rest.iter().filter(|c| c[i] == header[i]).count();
        if (agreeing, header[i]) > (best.0, best.1) {
            best = (agreeing, header[i], candidate);
        }
    }
    best.2
}

/// For the first records of `sample`: how often each candidate occurs outside quotes.
fn count_per_record(sample: &str) -> Vec<[usize; 4]> {
    let mut records = Vec::new();
    let mut current = [0usize; 4];
    let mut in_quotes = false;
    let mut has_text = false;
    for c in sample.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            '\n' | '\r' if !in_quotes => {
                if has_text {
                    records.push(current);
                    if records.len() == SNIFF_RECORDS {
                        return records;
                    }
                }
                current = [0; 4];
                has_text = false;
                continue;
            }
            _ if !in_quotes => {
                if let Some(i) = CANDIDATES
                    .iter()
                    .position(|&d| u32::from(d) == u32::from(c))
                {
                    current[i] += 1;
                }
            }
            _ => {}
        }
        has_text = true;
    }
    // The last record may be cut off by the end of the sample; use it only if it is alone.
    if has_text && records.is_empty() {
        records.push(current);
    }
    records
}

/// The rows of a delimited file after its header.
pub(super) struct DelimitedRows {
    path: PathBuf,
    reader: csv::Reader<QuoteTracker<Box<dyn Read + Send>>>,
    record: csv::ByteRecord,
    headers: Vec<String>,
    /// The row number of the last record read (blank lines included).
    last_row: u64,
    /// The parser's line count after the last record.
    line: u64,
    /// Whether lines end in CRLF (judged from the first line break).
    crlf: bool,
    done: bool,
}

impl DelimitedRows {
    fn read_headers(&mut self, detected: Detected) -> Result<Vec<String>, ReadError> {
        let row = loop {
            if !self.read_next()? {
                return Err(ReadError::file(
                    &self.path,
                    "the file is empty (no header row)",
                ));
            }
            let row = self.number_record();
            self.check_unclosed_quote(row)?;
            if !self.is_blank() {
                break row;
            }
        };
        let mut raw = Vec::with_capacity(self.record.len());
        for (i, field) in self.record.iter().enumerate() {
            let text = std::str::from_utf8(field).map_err(|_| {
                invalid_utf8(&self.path, row, &format!("header {}", i + 1), detected)
            })?;
            raw.push(text.to_string());
        }
        check_headers(&self.path, row, raw)
    }

    /// Reads the next record into `self.record`; false at the end of the file.
    fn read_next(&mut self) -> Result<bool, ReadError> {
        self.reader
            .read_byte_record(&mut self.record)
            .map_err(|e| ReadError::file(&self.path, format!("cannot read: {}", io_message(e))))
    }

    /// The spreadsheet row of the record just read. Excel shows a record with quoted line
    /// breaks as one row, and a blank line as an empty row; the parser skips blank lines
    /// silently, so they are counted from the line breaks it consumed for this record beyond
    /// the record's own (its inner breaks and one terminator).
    fn number_record(&mut self) -> u64 {
        let line = self.reader.position().line();
        let consumed = line.saturating_sub(self.line);
        self.line = line;
        let inner = self
            .record
            .as_slice()
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        let tracker = self.reader.get_ref();
        // With CRLF the parser stops at the CR, so the LF it consumes belongs to the record
        // before (there is none before the first). With LF it consumes the record's own,
        // unless the file ends without one.
        let terminator = if self.crlf {
            u64::from(self.last_row > 0)
        } else {
            u64::from(!(tracker.at_eof && tracker.last_byte != Some(b'\n')))
        };
        let blank_lines = consumed.saturating_sub(inner + terminator);
        self.last_row += 1 + blank_lines;
        self.last_row
    }

    fn check_unclosed_quote(&mut self, row: u64) -> Result<(), ReadError> {
        if self.reader.get_ref().ended_in_quotes() {
            self.done = true;
            return Err(ReadError::at_row(
                &self.path,
                row,
                "a quoted value starts in this row but its closing quote (\") is missing; \
                 the rest of the file was read as one value",
            ));
        }
        Ok(())
    }

    fn is_blank(&self) -> bool {
        self.record
            .iter()
            .all(|field| field.iter().all(u8::is_ascii_whitespace))
    }

    fn to_record(&self, row: u64) -> Result<Record, ReadError> {
        let width = self.headers.len();
        let fields = self.record.len();
        // Trailing empty fields past the header are the trailing delimiters some tools write.
        let extra_empty = fields > width
            && self
                .record
                .iter()
                .skip(width)
                .all(|f| f.iter().all(u8::is_ascii_whitespace));
        if fields != width && !extra_empty {
            return Err(ReadError::at_row(
                &self.path,
                row,
                ragged_message(fields, width),
            ));
        }
        // One UTF-8 check for the whole record; a field cut inside a character (possible
        // only in invalid text) fails the boundary check of `get` and is reported.
        let whole = std::str::from_utf8(self.record.as_slice()).ok();
        let mut values = Vec::with_capacity(width);
        let mut start = 0;
        for (i, field) in self.record.iter().take(width).enumerate() {
            let end = start + field.len();
            let text = match whole {
                Some(whole) => whole.get(start..end),
                None => std::str::from_utf8(field).ok(),
            };
            match text {
                Some(text) => values.push(text.to_owned()),
                None => {
                    return Err(ReadError::at_cell(
                        &self.path,
                        row,
                        &self.headers[i],
                        format!(
                            "\"{}\" is not valid UTF-8; pass the file's encoding \
                             (for example windows-1252)",
                            shorten(&String::from_utf8_lossy(field))
                        ),
                    ))
                }
            }
            start = end;
        }
        Ok(Record { row, values })
    }
}

fn ragged_message(fields: usize, width: usize) -> String {
    let hint = if fields > width {
        "a delimiter inside a value that is not quoted?"
    } else {
        "a missing delimiter, or a line break inside a value that is not quoted?"
    };
    format!("has {fields} fields but the header has {width} ({hint})")
}

fn invalid_utf8(path: &Path, row: u64, column: &str, detected: Detected) -> ReadError {
    ReadError::at_row(
        path,
        row,
        format!(
            "{column} is not valid {}; pass the file's encoding (for example windows-1252)",
            detected.name()
        ),
    )
}

fn io_message(error: csv::Error) -> String {
    match error.into_kind() {
        csv::ErrorKind::Io(e) => e.to_string(),
        other => format!("{other:?}"),
    }
}

impl Iterator for DelimitedRows {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.read_next() {
                Ok(true) => {}
                Ok(false) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
            if self.done {
                break;
            }
            let row = self.number_record();
            if let Err(e) = self.check_unclosed_quote(row) {
                return Some(Err(e));
            }
            if !self.is_blank() {
                return Some(self.to_record(row));
            }
        }
        None
    }
}

/// Follows the CSV quoting rules over the bytes the parser reads, so that at the end of the
/// file we know whether a quoted value was left open (the `csv` crate accepts that silently).
struct QuoteTracker<R> {
    inner: R,
    delimiter: u8,
    state: QuoteState,
    at_eof: bool,
    last_byte: Option<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted value: the closing one, or the first of a doubled pair.
    QuoteInQuoted,
}

impl<R: Read> QuoteTracker<R> {
    fn new(inner: R, delimiter: u8) -> Self {
        QuoteTracker {
            inner,
            delimiter,
            state: QuoteState::FieldStart,
            at_eof: false,
            last_byte: None,
        }
    }

    fn ended_in_quotes(&self) -> bool {
        self.at_eof && self.state == QuoteState::Quoted
    }

    /// Advances the quote state over `bytes`. Only quotes can change whether we are inside
    /// a quoted value, so the scan jumps from quote to quote (a `memchr` in `position`) and
    /// looks at the byte before each one to tell an opening quote from a literal one.
    fn track(&mut self, bytes: &[u8]) {
        let delimiter = self.delimiter;
        let ends_field = |b: u8| b == delimiter || b == b'\n' || b == b'\r';
        let mut state = self.state;
        let mut i = 0;
        while i < bytes.len() {
            if state == QuoteState::QuoteInQuoted {
                state = match bytes[i] {
                    b'"' => QuoteState::Quoted,
                    b if ends_field(b) => QuoteState::FieldStart,
                    _ => QuoteState::Unquoted,
                };
                i += 1;
                continue;
            }
            let Some(offset) = bytes[i..].iter().position(|&b| b == b'"') else {
                if state != QuoteState::Quoted {
                    state = if bytes.last().copied().is_some_and(ends_field) {
                        QuoteState::FieldStart
                    } else {
                        QuoteState::Unquoted
                    };
                }
                break;
            };
            let at = i + offset;
            state = match state {
                QuoteState::Quoted => QuoteState::QuoteInQuoted,
                _ => {
                    let field_start = if at == 0 {
                        state == QuoteState::FieldStart
                    } else if at == i {
                        state == QuoteState::FieldStart || ends_field(bytes[at - 1])
                    } else {
                        ends_field(bytes[at - 1])
                    };
                    if field_start {
                        QuoteState::Quoted
                    } else {
                        QuoteState::Unquoted
                    }
                }
            };
            i = at + 1;
        }
        self.state = state;
    }
}

impl<R: Read> Read for QuoteTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.at_eof = true;
        }
        self.track(&buf[..n]);
        if n > 0 {
            self.last_byte = Some(buf[n - 1]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_candidate() {
        assert_eq!(sniff_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(sniff_delimiter("a;b;c\n1,5;2;3\n"), b';');
        assert_eq!(sniff_delimiter("a\tb\n1\t2\n"), b'\t');
        assert_eq!(sniff_delimiter("a|b|c\n1|2|3\n"), b'|');
        assert_eq!(sniff_delimiter("single\nvalue\n"), b',');
    }

    #[test]
    fn sniffing_ignores_quoted_delimiters() {
        let sample = "\"Name, full\";\"City\"\n\"Doe, John\";Berlin\n\"Roe, Jane\";Paris\n";
        assert_eq!(sniff_delimiter(sample), b';');
    }

    fn ends_in_quotes(text: &str) -> bool {
        let mut tracker = QuoteTracker::new(text.as_bytes(), b',');
        let mut sink = Vec::new();
        tracker.read_to_end(&mut sink).expect("in-memory read");
        tracker.ended_in_quotes()
    }

    #[test]
    fn tracker_finds_unclosed_quotes() {
        assert!(!ends_in_quotes("a,b\n\"x\ny\",\"say \"\"hi\"\"\"\n"));
        assert!(ends_in_quotes("a,b\n1,\"open\n2,3\n"));
        assert!(!ends_in_quotes("a,b\n5\" screen,2\n"));
    }

    /// The quoting rules byte by byte, as the reference for the jumping scan.
    fn reference_state(bytes: &[u8]) -> QuoteState {
        let ends_field = |b: u8| b == b',' || b == b'\n' || b == b'\r';
        bytes
            .iter()
            .fold(QuoteState::FieldStart, |state, &b| match state {
                QuoteState::FieldStart if b == b'"' => QuoteState::Quoted,
                QuoteState::Quoted if b == b'"' => QuoteState::QuoteInQuoted,
                QuoteState::Quoted => QuoteState::Quoted,
                QuoteState::QuoteInQuoted if b == b'"' => QuoteState::Quoted,
                _ if ends_field(b) => QuoteState::FieldStart,
                _ => QuoteState::Unquoted,
            })
    }

    proptest::proptest! {
        #[test]
        fn jumping_scan_matches_the_rules(
            text in proptest::collection::vec(proptest::sample::select(b"ab,\"\n\r ".to_vec()), 0..200),
            cuts in proptest::collection::vec(0usize..200, 0..6),
        ) {
            let mut tracker = QuoteTracker::new(io::empty(), b',');
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= text.len()).collect();
            cuts.sort_unstable();
            let mut from = 0;
            for cut in cuts.into_iter().chain([text.len()]) {
                tracker.track(&text[from..cut]);
                from = cut;
            }
            proptest::prop_assert!(tracker.state == reference_state(&text));
        }
    }
}
