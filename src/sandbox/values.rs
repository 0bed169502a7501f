//! Attribute values on the sandbox's wire: finding the attribute a parameter names, turning a
//! written value into its stored form, and rendering a stored value as the API reads it back.
//!
//! Stored forms are canonical (`lst`/`dic` option ids, referenced entry ids, ISO dates) so
//! renames and relabels show through on read. This module knows nothing of HTTP or SQL: it
//! reaches the store only through the [`Lookup`] trait.

use chrono::{Datelike, NaiveDate};

use crate::schema::{AttrKind, Attribute, OptionValue, TableSchema};

/// Longest `strng` value the sandbox accepts.
const MAX_TEXT_CHARS: usize = 255;

/// What value parsing and rendering need from the store.
pub trait Lookup {
    /// The entry of `table` whose name attribute is `name` (exactly, else ignoring case).
    fn entry_by_name(&self, table: &str, name: &str) -> rusqlite::Result<Option<i64>>;
    /// The name of entry `id` of `table`, if it exists.
    fn entry_name(&self, table: &str, id: i64) -> rusqlite::Result<Option<String>>;
    /// The current values of a dictionary (empty when it does not exist).
    fn dictionary_values(&self, dictionary: &str) -> rusqlite::Result<Vec<OptionValue>>;
}

/// Why a written value was refused.
#[derive(Debug)]
pub enum ValueError {
    /// The documented `errorMessage` for this attribute.
    Invalid(String),
    Db(rusqlite::Error),
}

impl From<rusqlite::Error> for ValueError {
    fn from(e: rusqlite::Error) -> Self {
        ValueError::Db(e)
    }
}

/// The table an `org` or `cnt` attribute points at.
pub fn reference_table(kind: &AttrKind) -> Option<&'static str> {
    match kind {
        AttrKind::Company => Some("CLIENTS"),
        AttrKind::Contact => Some("CONTACTS"),
        _ => None,
    }
}

/// Turns a written value into its stored form; `None` means the value clears the attribute.
pub fn parse_value(
    attr: &Attribute,
    raw: &str,
    date_format: &str,
    lookup: &dyn Lookup,
) -> Result<Option<String>, ValueError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let invalid = |m: &str| Err(ValueError::Invalid(m.to_string()));
    match &attr.kind {
        AttrKind::Users | AttrKind::Other(_) => {
            invalid("This attribute can not be set through the API")
        }
        AttrKind::Text if raw.chars().count() > MAX_TEXT_CHARS => {
            invalid("The value is longer than 255 characters")
        }
        AttrKind::Number => match is_number(raw.trim()) {
            true => Ok(Some(raw.trim().to_string())),
            false => invalid("Invalid number"),
        },
        AttrKind::Date => match parse_date(raw, date_format) {
            Some(date) => Ok(Some(date.format("%Y-%m-%d").to_string())),
            None => invalid("Invalid date"),
        },
        AttrKind::Checkbox => match parse_checkbox(raw) {
            Some(b) => Ok(Some(b.to_string())),
            None => invalid("Invalid checkbox value"),
        },
        AttrKind::List => find_option(&attr.options, raw)
            .map(|o| Some(o.id.clone()))
            .ok_or_else(|| ValueError::Invalid(format!("Unknown option \"{}\"", raw.trim()))),
        AttrKind::Dictionary => {
            let values = match &attr.dictionary {
                Some(name) => lookup.dictionary_values(name)?,
                None => attr.options.clone(),
            };
            find_option(&values, raw)
                .map(|o| Some(o.id.clone()))
                .ok_or_else(|| ValueError::Invalid(format!("Unknown option \"{}\"", raw.trim())))
        }
        AttrKind::Company | AttrKind::Contact => {
            let table = reference_table(&attr.kind).unwrap_or("CLIENTS");
            match resolve_reference(table, raw, lookup)? {
                Some(id) => Ok(Some(id.to_string())),
                None => invalid(&format!("Entry \"{}\" can not be found", raw.trim())),
            }
        }
        _ => Ok(Some(raw.to_string())),
    }
}

/// Renders a stored value as the API reads it back.
pub fn render_value(
    attr: &Attribute,
    stored: Option<&str>,
    date_format: &str,
    lookup: &dyn Lookup,
) -> rusqlite::Result<String> {
    if attr.kind.is_unsupported() {
        return Ok("Unsupported".into());
    }
    let Some(stored) = stored else {
        return Ok(String::new());
    };
    Ok(match &attr.kind {
        AttrKind::Date => match NaiveDate::parse_from_str(stored, "%Y-%m-%d") {
            Ok(date) => render_date(date, date_format, true),
            Err(_) => stored.to_string(),
        },
        AttrKind::List => label_of(&attr.options, stored),
        AttrKind::Dictionary => match &attr.dictionary {
            Some(name) => label_of(&lookup.dictionary_values(name)?, stored),
            None => label_of(&attr.options, stored),
        },
        AttrKind::Company | AttrKind::Contact => {
            let table = reference_table(&attr.kind).unwrap_or("CLIENTS");
            match stored.parse::<i64>() {
                Ok(id) => lookup.entry_name(table, id)?.unwrap_or_default(),
                Err(_) => String::new(),
            }
        }
        _ => stored.to_string(),
    })
}

/// A company or contact reference: `(id)` names an entry by id, anything else by name.
pub fn resolve_reference(
    table: &str,
    raw: &str,
    lookup: &dyn Lookup,
) -> rusqlite::Result<Option<i64>> {
    let raw = raw.trim();
    if let Some(id) = raw.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        let Ok(id) = id.trim().parse::<i64>() else {
            return Ok(None);
        };
        return Ok(lookup.entry_name(table, id)?.map(|_| id));
    }
    lookup.entry_by_name(table, raw)
}

fn label_of(options: &[OptionValue], id: &str) -> String {
    options
        .iter()
        .find(|o| o.id == id)
        .map(|o| o.label.clone())
        .unwrap_or_default()
}

/// An option by exact id first, then by label ignoring case and surrounding spaces.
pub fn find_option<'a>(options: &'a [OptionValue], raw: &str) -> Option<&'a OptionValue> {
    let raw = raw.trim();
    let lower = raw.to_lowercase();
    options.iter().find(|o| o.id == raw).or_else(|| {
        options
            .iter()
            .find(|o| o.label.trim().to_lowercase() == lower)
    })
}

fn is_number(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.map_or(true, digits)
}

fn parse_checkbox(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// Parses a date in the instance's format (day padded or not, two- or four-digit year) or ISO.
///
/// Deliberately separate from `crate::validate::date` (the client side's reader), for the
/// same reason as [`fold_name`]: the sandbox stands in for the server.
pub fn parse_date(raw: &str, date_format: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Some(date);
    }
    let format = date_format.replace("%e", "%d").replace("%-d", "%d");
    if let Ok(date) = NaiveDate::parse_from_str(raw, &format) {
        // chrono reads `%y` 69 as 2069; api-notes.md documents the POSIX pivot (69-99 → 19xx).
        return match format.contains("%y") && date.year() == 2069 {
            true => date.with_year(1969),
            false => Some(date),
        };
    }
    NaiveDate::parse_from_str(raw, &format.replace("%y", "%Y")).ok()
}

/// Renders a date in the instance's format, the day zero-padded or not.
pub fn render_date(date: NaiveDate, date_format: &str, pad_day: bool) -> String {
    let day = if pad_day { "%d" } else { "%-d" };
    let format = date_format.replace("%e", day).replace("%d", day);
    date.format(&format).to_string()
}

/// `21000` → `21,000`; `-1234.50` → `-1,234.50`.
pub fn group_thousands(number: &str) -> String {
    let (sign, rest) = match number.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", number.strip_prefix('+').unwrap_or(number)),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// Folds an attribute name for matching: trimmed, lower-case, Cyrillic look-alikes as Latin
/// (the document's own example writes "Сompany Name" with a Cyrillic "С").
///
/// `crate::map::fold` does the same job on the client side. This copy is deliberate: the
/// sandbox and the client must agree through docs/api-notes.md, not through shared code (see
/// docs/design.md), so a mistake in one shows up as a test failure against the other.
pub fn fold_name(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            'А' | 'а' => 'a',
            'В' | 'в' => 'b',
            'С' | 'с' => 'c',
            'Е' | 'е' => 'e',
            'Н' | 'н' => 'h',
            'І' | 'і' => 'i',
            'Ј' | 'ј' => 'j',
            'К' | 'к' => 'k',
            'М' | 'м' => 'm',
            'О' | 'о' => 'o',
            'Р' | 'р' => 'p',
            'Ѕ' | 'ѕ' => 's',
            'Т' | 'т' => 't',
            'Х' | 'х' => 'x',
            'У' | 'у' => 'y',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The attribute a parameter names: its code (exactly, else ignoring case), its name or
/// English name (folded), or an unambiguous abbreviation of a `<table>_field_<uuid>` code.
pub fn resolve_attribute<'a>(table: &'a TableSchema, key: &str) -> Option<&'a Attribute> {
    let attrs = &table.attributes;
    if let Some(a) = attrs.iter().find(|a| a.code == key) {
        return Some(a);
    }
    if let Some(a) = attrs
        .iter()
        .find(|a| a.code.eq_ignore_ascii_case(key.trim()))
    {
        return Some(a);
    }
    let folded = fold_name(key);
    if let Some(a) = attrs
        .iter()
        .find(|a| fold_name(&a.name) == folded || fold_name(&a.name_en) == folded)
    {
        return Some(a);
    }
    let mut abbreviated = attrs.iter().filter(|a| abbreviates(key.trim(), &a.code));
    match (abbreviated.next(), abbreviated.next()) {
        (Some(a), None) => Some(a),
        _ => None,
    }
}

/// `contacts_field_2a773` abbreviates `contacts_field_2a7753d6-…`: the same `<table>_field_`
/// part, then at least five characters found in order in the code's first uuid group (the
/// document's example drops a digit, so a plain prefix is not enough).
fn abbreviates(key: &str, code: &str) -> bool {
    const MARK: &str = "_field_";
    let (Some(k), Some(c)) = (key.find(MARK), code.find(MARK)) else {
        return false;
    };
    if !key[..k].eq_ignore_ascii_case(&code[..c]) {
        return false;
    }
    let short = key[k + MARK.len()..].to_ascii_lowercase();
    let long = code[c + MARK.len()..].to_ascii_lowercase();
    let group = long.split('-').next().unwrap_or("");
    if short.chars().count() < 5 || short.len() > group.len() {
        return false;
    }
    let mut rest = group.chars();
    short.chars().all(|ch| rest.any(|g| g == ch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_both_paddings_and_iso() {
        let d = NaiveDate::from_ymd_opt(2020, 1, 2).unwrap();
        assert_eq!(parse_date("2/Jan/20", "%e/%b/%y"), Some(d));
        assert_eq!(parse_date("02/jan/20", "%e/%b/%y"), Some(d));
        assert_eq!(parse_date("2020-01-02", "%e/%b/%y"), Some(d));
        assert_eq!(parse_date("02/Jan/2020", "%e/%b/%y"), Some(d));
        assert_eq!(parse_date("31/Feb/20", "%e/%b/%y"), None);
        assert_eq!(render_date(d, "%e/%b/%y", true), "02/Jan/20");
        assert_eq!(render_date(d, "%e/%b/%y", false), "2/Jan/20");
        let old = parse_date("07/May/69", "%e/%b/%y").unwrap();
        assert_eq!(old.format("%Y").to_string(), "1969");
        let new = parse_date("07/May/68", "%e/%b/%y").unwrap();
        assert_eq!(new.format("%Y").to_string(), "2068");
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(group_thousands("21000"), "21,000");
        assert_eq!(group_thousands("123"), "123");
        assert_eq!(group_thousands("-1234567.50"), "-1,234,567.50");
        assert!(
            is_number("-12.5")
                && is_number("7")
                && !is_number("1e3")
                && !is_number("1.")
                && !is_number("")
        );
    }

    #[test]
    fn cyrillic_look_alikes_fold() {
        assert_eq!(fold_name(" Сompany Name "), "company name");
    }

    #[test]
    fn abbreviated_codes_match_the_documented_example() {
        assert!(abbreviates(
            "contacts_field_2a773",
            "contacts_field_2a7753d6-2179-42ff-95f2-ecd2dd90ed13"
        ));
        assert!(!abbreviates(
            "contacts_field_2a77",
            "contacts_field_2a7753d6-2179-42ff-95f2-ecd2dd90ed13"
        ));
        assert!(!abbreviates(
            "clients_field_2a773",
            "contacts_field_2a7753d6-2179-42ff-95f2-ecd2dd90ed13"
        ));
        assert!(!abbreviates(
            "contacts_field_2a77x",
            "contacts_field_2a7753d6-2179-42ff-95f2-ecd2dd90ed13"
        ));
    }
}
