//! Validating rows: every cell of a row checked against its attribute's type, and the row
//! against the required and unique attributes, with every problem reported, not just the
//! first.
//!
//! A [`Validator`] is built once per file from the [`Mapping`](crate::map::Mapping): it
//! precomputes one check per column (option tables, date format, reference index) and
//! checks constants once. [`Validator::convert`] is pure and `Sync`, so chunks of rows may be
//! converted in parallel; the checks that depend on other rows or on the plan (required
//! attributes only for rows that create, uniqueness within the file and against the CRM)
//! take that context as arguments ([`Intent`], [`UniqueContext`]) and run in file order.
//!
//! A valid row yields, per attribute, the value to send (option ids, `(id)` references,
//! instance-format dates) and the value the CRM will read back (labels, names, dates),
//! which the delta compares with the stored entry. This module never does I/O.

mod check;
pub mod date;
pub mod index;

use std::fmt;
use std::sync::Arc;

pub use check::{is_email, is_phone, is_plain_number, is_url, MAX_TEXT_CHARS};
use check::{Check, CheckContext, Outcome};
pub use index::{ExistingEntry, ExistingIndex, NameIndex, SeenIndex, Stored};

use crate::map::Mapping;
use crate::read::Record;
use crate::schema::{AttrKind, Attribute, Schema};
use date::DateFormat;

/// How long a value may be in a message before it is shortened.
const SHOWN_VALUE_CHARS: usize = 40;

/// Options of validation.
#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// Unknown dictionary (`dic`) labels become values to add with `adddictionaryvalue`
    /// instead of errors (`--create-missing-options`). List options cannot be added.
    pub create_missing_options: bool,
    /// Companies that company references (`org`) may name; `None` leaves them unchecked.
    pub companies: Option<Arc<NameIndex>>,
    /// Contacts that contact references (`cnt`) may name; `None` leaves them unchecked.
    pub contacts: Option<Arc<NameIndex>>,
}

/// A problem with one cell (or one missing value) of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub file: Arc<str>,
    /// The spreadsheet row (header = row 1).
    pub row: u64,
    /// The column header (or, for an attribute without a column, the attribute's name).
    pub column: String,
    /// The value, shortened to about 40 characters; empty for a missing value.
    pub value: String,
    /// What is wrong and what would be valid; follows the quoted value.
    pub message: String,
}

impl RowProblem {
    pub fn new(
        file: &Arc<str>,
        row: u64,
        column: &str,
        value: &str,
        message: String,
    ) -> RowProblem {
        RowProblem {
            file: file.clone(),
            row,
            column: column.to_string(),
            value: shorten(value),
            message,
        }
    }

    /// The problem without file and row, for the report's message column:
    /// `column "E-Mail": "kelly@" is not an e-mail address`.
    pub fn describe(&self) -> String {
        if self.value.is_empty() {
            format!("column \"{}\": {}", self.column, self.message)
        } else {
            format!(
                "column \"{}\": \"{}\" {}",
                self.column, self.value, self.message
            )
        }
    }
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: row {}, {}", self.file, self.row, self.describe())
    }
}

/// A value shortened for messages: at most 40 characters, newlines shown as `⏎`.
pub fn shorten(value: &str) -> String {
    let value = value.trim();
    let mut out: String = value
        .chars()
        .take(SHOWN_VALUE_CHARS)
        .map(|c| if c == '\n' { '⏎' } else { c })
        .collect();
    if value.chars().nth(SHOWN_VALUE_CHARS).is_some() {
        out.pop();
        out.push('…');
    }
    out
}

/// A dictionary value to add before the rows that use it are written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NewOption {
    pub dictionary: String,
    pub label: String,
}

/// The converted value of one cell. `Same` means "the trimmed cell, as written", which
/// saves copying text values. Converting a cell allocates only for rare values (`Owned`):
/// options are positions in the column's table and dates are kept inline, so that a row
/// costs no allocation and no shared reference count per cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Empty,
    Same,
    Static(&'static str),
    /// Option `i` of the column's option table: sent as its id, read back as its label.
    Choice(u32),
    /// Sent and read back differently (`(id)` and company name).
    Shared {
        wire: Arc<str>,
        readback: Arc<str>,
    },
    /// Sent and read back as this short text (a date in the instance format).
    Short(ShortText),
    /// Sent and read back as this text.
    Owned(String),
}

/// A text of at most [`ShortText::CAPACITY`] bytes kept inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ShortText {
    len: u8,
    bytes: [u8; ShortText::CAPACITY],
}

impl ShortText {
    pub const CAPACITY: usize = 30;

    /// The text, or `None` when it does not fit.
    pub fn new(text: &str) -> Option<ShortText> {
        let mut short = ShortText {
            len: 0,
            bytes: [0; ShortText::CAPACITY],
        };
        short
            .bytes
            .get_mut(..text.len())?
            .copy_from_slice(text.as_bytes());
        short.len = text.len() as u8;
        Some(short)
    }

    pub fn as_str(&self) -> &str {
        // Only ever filled from a whole `&str` (see `new`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).expect("built from a str")
    }
}

impl fmt::Debug for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// One attribute's value: what is sent and what the CRM reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value<'a> {
    pub wire: &'a str,
    pub readback: &'a str,
}

impl Cell {
    /// The value, given the cell as written and the column's check (for `Choice`).
    fn value<'a>(&'a self, raw: &'a str, check: &'a Check) -> Option<Value<'a>> {
        let same = |s: &'a str| Value {
            wire: s,
            readback: s,
        };
        match self {
            Cell::Empty => None,
            Cell::Same => Some(same(raw.trim())).filter(|v| !v.wire.is_empty()),
            Cell::Static(s) => Some(same(s)),
            Cell::Choice(i) => match check {
                Check::Options(table) => table
                    .option(*i)
                    .map(|(wire, readback)| Value { wire, readback }),
                _ => None,
            },
            Cell::Shared { wire, readback } => Some(Value { wire, readback }),
            Cell::Short(s) => Some(same(s.as_str())),
            Cell::Owned(s) => Some(same(s)),
        }
    }
}

/// Where a field's value comes from.
#[derive(Debug)]
enum Source {
    /// The record's cell at this index.
    Column(usize),
    /// The same value on every row, converted once.
    Constant { raw: String, cell: Cell },
}

/// One attribute the file provides, by a column or a constant.
#[derive(Debug)]
pub struct Field {
    /// The column header, or `constant <attribute name>`.
    pub header: Arc<str>,
    pub code: Arc<str>,
    pub name: Arc<str>,
    pub kind: AttrKind,
    pub required: bool,
    pub unique: bool,
    /// The table's name attribute (`isName`), the default matching key.
    pub is_name: bool,
    source: Source,
    check: Check,
}

impl Field {
    /// The cell index in a record, for a field fed by a column.
    pub fn column(&self) -> Option<usize> {
        match self.source {
            Source::Column(i) => Some(i),
            Source::Constant { .. } => None,
        }
    }

    /// Whether the value this row would give (`ours`, read-back form) equals the stored one,
    /// by the attribute's type: numbers and dates by value, options, references and e-mail
    /// addresses ignoring case, other text exactly (trimmed).
    pub fn same(&self, ours: &str, stored: &str) -> bool {
        let (ours, stored) = (ours.trim(), stored.trim());
        match &self.check {
            Check::Number => canonical_number(ours) == canonical_number(stored),
            Check::Date(format) => match (format.read(ours), format.read(stored)) {
                (Ok(a), Ok(b)) => a == b,
                _ => ours == stored,
            },
            Check::Checkbox => bool_of(ours) == bool_of(stored),
            Check::Options(_) | Check::Reference { .. } | Check::Email => {
                index::norm_eq(ours, stored)
            }
            _ => ours == stored,
        }
    }
}

fn bool_of(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// `+007.50` → `7.5`, so that numbers compare by value; text that is no number stays as is.
fn canonical_number(s: &str) -> String {
    if !is_plain_number(s) {
        return s.to_string();
    }
    let (negative, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    let magnitude = match (whole.is_empty(), fraction.is_empty()) {
        (true, true) => return "0".into(),
        (_, true) => whole.to_string(),
        _ => format!("{}.{fraction}", if whole.is_empty() { "0" } else { whole }),
    };
    if negative {
        format!("-{magnitude}")
    } else {
        magnitude
    }
}

/// The fields of one file, shared by every converted row.
#[derive(Debug)]
pub struct Fields {
    pub file: Arc<str>,
    pub table: String,
    pub fields: Vec<Field>,
    /// Required attributes no column or constant provides.
    pub unmapped_required: Vec<Attribute>,
    /// The table's name attribute's name, whether or not the file provides it.
    pub name_attribute: Option<String>,
}

/// A constant in the map file that is not valid for its attribute.
#[derive(Debug, thiserror::Error)]
#[error("{file}: constant for {attribute}: \"{value}\" {message}")]
pub struct SetupError {
    pub file: String,
    pub attribute: String,
    pub value: String,
    pub message: String,
}

/// A row after its cells were checked.
#[derive(Debug)]
pub struct Converted {
    pub values: RowValues,
    /// Problems with the cells themselves (types, lengths, options, references).
    pub problems: Vec<RowProblem>,
    /// Dictionary values this row needs created (`--create-missing-options`).
    pub new_options: Vec<NewOption>,
}

/// A row's values, one per field, with the original record kept for reports and the
/// failures file.
#[derive(Debug)]
pub struct RowValues {
    record: Record,
    cells: Vec<Cell>,
    fields: Arc<Fields>,
}

impl RowValues {
    pub fn row(&self) -> u64 {
        self.record.row
    }

    pub fn record(&self) -> &Record {
        &self.record
    }

    pub fn into_record(self) -> Record {
        self.record
    }

    pub fn fields(&self) -> &[Field] {
        &self.fields.fields
    }

    /// Field `i`'s value, `None` when empty.
    pub fn value(&self, i: usize) -> Option<Value<'_>> {
        let field = &self.fields.fields[i];
        match &field.source {
            Source::Column(c) => self.cells[i].value(
                self.record.values.get(*c).map_or("", String::as_str),
                &field.check,
            ),
            Source::Constant { raw, cell } => cell.value(raw, &field.check),
        }
    }

    /// The field's cell as written (trimmed), for messages; a constant's value for constants.
    pub fn raw(&self, i: usize) -> &str {
        match &self.fields.fields[i].source {
            Source::Column(c) => self.record.values.get(*c).map_or("", |s| s.trim()),
            Source::Constant { raw, .. } => raw,
        }
    }

    /// The non-empty values as `(code, wire value)` pairs, as the client's `add` takes them.
    pub fn pairs(&self) -> Vec<(String, String)> {
        (0..self.fields.fields.len())
            .filter_map(|i| {
                self.value(i)
                    .map(|v| (self.fields.fields[i].code.to_string(), v.wire.to_string()))
            })
            .collect()
    }
}

/// What the plan intends for a row, which decides the required-attribute checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// The row creates an entry: every required attribute needs a value.
    Create,
    /// The row updates an entry; with `clear_empty`, an empty cell would clear the stored
    /// value, which a required attribute does not allow.
    Update { clear_empty: bool },
}

/// The context of the uniqueness checks of one row.
#[derive(Debug)]
pub struct UniqueContext<'a> {
    /// The values seen in earlier rows of this file.
    pub seen: &'a mut SeenIndex,
    /// The CRM's entries (indexed by the unique attributes).
    pub existing: &'a ExistingIndex,
    /// The id of the entry this row updates: its own values are no duplicates.
    pub matched: Option<&'a str>,
    /// A field the caller checks itself (the matching key).
    pub skip: Option<usize>,
}

/// The checks of one file, built once.
#[derive(Debug)]
pub struct Validator {
    fields: Arc<Fields>,
    constant_options: Vec<NewOption>,
}

impl Validator {
    pub fn new(
        schema: &Schema,
        mapping: &Mapping,
        options: &ValidateOptions,
    ) -> Result<Validator, SetupError> {
        let date_format = DateFormat::new(&schema.date_format);
        let cx = CheckContext {
            schema,
            date_format: &date_format,
            create_missing_options: options.create_missing_options,
            companies: options.companies.as_ref(),
            contacts: options.contacts.as_ref(),
        };
        let mut fields = Vec::new();
        for (column, attribute) in mapping.attributes() {
            fields.push(field(
                attribute,
                Arc::from(column.header.as_str()),
                Source::Column(column.index),
                &cx,
            ));
        }
        let mut constant_options = Vec::new();
        for constant in &mapping.constants {
            let a = &constant.attribute;
            let check = Check::new(a, &cx);
            let raw = constant.value.trim().to_string();
            let cell = match check.check(&raw) {
                _ if raw.is_empty() => Cell::Empty,
                Outcome::Valid(cell) => cell,
                Outcome::NewOption(cell) => {
                    constant_options.push(new_option(&check, &raw));
                    cell
                }
                Outcome::Invalid(message) => {
                    let (file, attribute) = (mapping.file.clone(), a.name.clone());
                    return Err(SetupError {
                        file,
                        attribute,
                        value: raw,
                        message,
                    });
                }
            };
            let header = Arc::from(format!("constant {}", a.name));
            let mut f = field(a, header, Source::Constant { raw, cell }, &cx);
            f.check = check;
            fields.push(f);
        }
        let fields = Fields {
            file: Arc::from(mapping.file.as_str()),
            table: mapping.table.clone(),
            fields,
            unmapped_required: mapping.unmapped_required.clone(),
            name_attribute: schema
                .table(&mapping.table)
                .and_then(|t| t.name_attribute())
                .map(|a| a.name.clone()),
        };
        Ok(Validator {
            fields: Arc::new(fields),
            constant_options,
        })
    }

    pub fn fields(&self) -> &[Field] {
        &self.fields.fields
    }

    pub fn file(&self) -> &Arc<str> {
        &self.fields.file
    }

    /// The API table name.
    pub fn table(&self) -> &str {
        &self.fields.table
    }

    /// The table's name attribute's name, whether or not the file provides it.
    pub fn name_attribute(&self) -> Option<&str> {
        self.fields.name_attribute.as_deref()
    }

    /// Required attributes that no column or constant provides.
    pub fn unmapped_required(&self) -> &[Attribute] {
        &self.fields.unmapped_required
    }

    /// Dictionary values the map file's constants need created.
    pub fn constant_options(&self) -> &[NewOption] {
        &self.constant_options
    }

    /// Checks every cell of a row against its attribute's type. Pure: safe to call from
    /// several threads on different rows.
    pub fn convert(&self, record: Record) -> Converted {
        let fields = &self.fields.fields;
        let mut cells = Vec::with_capacity(fields.len());
        let mut problems = Vec::new();
        let mut new_options = Vec::new();
        for field in fields {
            let raw = match field.source {
                Source::Column(c) => record.values.get(c).map_or("", |s| s.trim()),
                Source::Constant { .. } => {
                    cells.push(Cell::Empty);
                    continue;
                }
            };
            if raw.is_empty() {
                cells.push(Cell::Empty);
                continue;
            }
            let cell = match field.check.check(raw) {
                Outcome::Valid(cell) => cell,
                Outcome::NewOption(cell) => {
                    new_options.push(new_option(&field.check, raw));
                    cell
                }
                Outcome::Invalid(message) => {
                    problems.push(RowProblem::new(
                        &self.fields.file,
                        record.row,
                        &field.header,
                        raw,
                        message,
                    ));
                    // Kept as written, so the in-file uniqueness and key checks still see it.
                    Cell::Same
                }
            };
            cells.push(cell);
        }
        let values = RowValues {
            record,
            cells,
            fields: self.fields.clone(),
        };
        Converted {
            values,
            problems,
            new_options,
        }
    }

    /// Problems with required attributes for a row with this intent.
    pub fn required_problems(&self, row: &RowValues, intent: Intent, out: &mut Vec<RowProblem>) {
        let file = &self.fields.file;
        for (i, field) in self.fields.fields.iter().enumerate() {
            if !field.required || row.value(i).is_some() {
                continue;
            }
            let message = match intent {
                Intent::Create => format!(
                    "is empty, but {} is required to create an entry",
                    field.name
                ),
                Intent::Update { clear_empty: true } => {
                    format!(
                        "is empty, but {} is required and cannot be cleared (--empty clear)",
                        field.name
                    )
                }
                Intent::Update { clear_empty: false } => continue,
            };
            out.push(RowProblem::new(file, row.row(), &field.header, "", message));
        }
        if intent == Intent::Create {
            for a in &self.fields.unmapped_required {
                let message = format!(
                    "{} is required to create an entry, and the file has no column for it (add one, or a constant in a --map file)",
                    a.name
                );
                out.push(RowProblem::new(file, row.row(), &a.name, "", message));
            }
        }
    }

    /// Problems with unique attributes: a value in an earlier row of the file, or used by
    /// another entry in the CRM. Records this row's values as seen.
    pub fn unique_problems(
        &self,
        row: &RowValues,
        cx: UniqueContext<'_>,
        out: &mut Vec<RowProblem>,
    ) {
        let file = &self.fields.file;
        for (i, field) in self.fields.fields.iter().enumerate() {
            if !field.unique || cx.skip == Some(i) || field.column().is_none() {
                continue;
            }
            let Some(value) = row.value(i) else { continue };
            let problem = |message: String| {
                RowProblem::new(file, row.row(), &field.header, row.raw(i), message)
            };
            if let Some(first) = cx.seen.insert(i, value.readback, row.row()) {
                let message = format!("is also in row {first}; {} must be unique", field.name);
                out.push(problem(message));
                continue;
            }
            let other = cx
                .existing
                .lookup(&field.code, value.readback)
                .find(|e| Some(e.id.as_str()) != cx.matched);
            if let Some(entry) = other {
                let message = format!(
                    "is already used by entry {} in the CRM; {} must be unique",
                    entry.id, field.name
                );
                out.push(problem(message));
            }
        }
    }
}

fn field(attribute: &Attribute, header: Arc<str>, source: Source, cx: &CheckContext<'_>) -> Field {
    Field {
        header,
        code: Arc::from(attribute.code.as_str()),
        name: Arc::from(attribute.name.as_str()),
        kind: attribute.kind.clone(),
        required: attribute.required,
        unique: attribute.unique,
        is_name: attribute.is_name,
        source,
        check: Check::new(attribute, cx),
    }
}

fn new_option(check: &Check, label: &str) -> NewOption {
    let dictionary = match check {
        Check::Options(table) => table.creatable_in().unwrap_or_default().to_string(),
        _ => String::new(),
    };
    NewOption {
        dictionary,
        label: label.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(canonical_number("+007.50"), "7.5");
        assert_eq!(canonical_number("-0.0"), "0");
        assert_eq!(canonical_number("12"), "12");
        assert_eq!(canonical_number("0.25"), "0.25");
    }

    #[test]
    fn shortens_long_values() {
        let long = "x".repeat(100);
        assert_eq!(shorten(&long).chars().count(), 40);
        assert!(shorten(&long).ends_with('…'));
        assert_eq!(shorten(" ab "), "ab");
    }
}
