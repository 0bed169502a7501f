//! Read-back values in the importer's form.
//!
//! The API already reads options back as labels and references as names, which is what the
//! importer accepts, so those pass through. Dates come back in the instance's format
//! (`07/May/20`, or `2/Jan/20` from transactionslist) and are written as ISO `YYYY-MM-DD`;
//! numbers with thousands separators (`21,000`) lose them. `Unsupported` is not data: the cell
//! is left empty and one [`Warning`] names the attribute. `--excel-safe` quoting is applied
//! last. This module converts values; it neither fetches nor writes.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::validate::date::DateFormat;

use crate::schema::AttrKind;

use super::columns::{ColumnSource, Columns};
use super::Record;

/// A value as the client read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawValue<'a> {
    Text(&'a str),
    /// The API answered `Unsupported`: the value is unknown.
    Unknown,
}

/// Why cells of one attribute were not written as read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    /// The API reads this attribute as `Unsupported`; its cells were left empty.
    Unsupported,
    /// A date not in the instance's format was written as it was read (first example kept).
    UnreadableDate { example: String },
}

/// One warning per attribute and kind of problem, with how many rows it touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub attribute: String,
    pub code: String,
    pub problem: Problem,
    pub rows: u64,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows = if self.rows == 1 {
            "1 row".to_string()
        } else {
            format!("{} rows", self.rows)
        };
        match &self.problem {
            Problem::Unsupported => write!(
                f,
                "attribute \"{}\" ({}): the API reads it as \"Unsupported\"; left empty in {rows}",
                self.attribute, self.code
            ),
            Problem::UnreadableDate { example } => write!(
                f,
                "attribute \"{}\" ({}): {:?} is not a date in the instance's format; written as read in {rows}",
                self.attribute,
                self.code,
                super::shorten(example)
            ),
        }
    }
}

/// Options of value conversion.
#[derive(Debug, Clone, Default)]
pub struct ValueOptions {
    /// The instance's date format (`%e/%b/%y`).
    pub date_format: String,
    /// Quote cells starting with `=`, `+`, `-` or `@` so spreadsheets do not run them.
    pub excel_safe: bool,
}

/// Converts records to rows, counting problems per attribute.
#[derive(Debug)]
pub struct Normaliser {
    options: ValueOptions,
    /// Keyed by attribute code and kind of problem, so each is reported once.
    tallies: BTreeMap<(String, ProblemKind), Tally>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ProblemKind {
    Unsupported,
    UnreadableDate,
}

#[derive(Debug)]
struct Tally {
    attribute: String,
    first: Problem,
    rows: u64,
}

impl Normaliser {
    pub fn new(options: ValueOptions) -> Normaliser {
        Normaliser {
            options,
            tallies: BTreeMap::new(),
        }
    }

    /// Fills `cells` with one converted value per column.
    pub fn row<R: Record + ?Sized>(
        &mut self,
        record: &R,
        columns: &Columns,
        cells: &mut Vec<String>,
    ) {
        cells.clear();
        for column in columns.iter() {
            let value = match &column.source {
                ColumnSource::Id => record.id().to_string(),
                ColumnSource::Attribute { code, name, kind } => match record.value(code) {
                    RawValue::Unknown => {
                        self.note(name, code, Problem::Unsupported);
                        String::new()
                    }
                    RawValue::Text(text) => match convert(kind, text, &self.options.date_format) {
                        Ok(value) => value.into_owned(),
                        Err(problem) => {
                            self.note(name, code, problem);
                            text.to_string()
                        }
                    },
                },
            };
            cells.push(if self.options.excel_safe {
                excel_safe(value)
            } else {
                value
            });
        }
    }

    /// The importer's form of one value, for matching filters; `None` if unknown.
    pub fn converted<'a>(&self, kind: &AttrKind, raw: RawValue<'a>) -> Option<Cow<'a, str>> {
        match raw {
            RawValue::Unknown => None,
            RawValue::Text(text) => {
                Some(convert(kind, text, &self.options.date_format).unwrap_or(Cow::Borrowed(text)))
            }
        }
    }

    fn note(&mut self, attribute: &str, code: &str, problem: Problem) {
        let kind = match problem {
            Problem::Unsupported => ProblemKind::Unsupported,
            Problem::UnreadableDate { .. } => ProblemKind::UnreadableDate,
        };
        self.tallies
            .entry((code.to_string(), kind))
            .or_insert_with(|| Tally {
                attribute: attribute.to_string(),
                first: problem,
                rows: 0,
            })
            .rows += 1;
    }

    /// The warnings so far, one per attribute and problem.
    pub fn warnings(&self) -> Vec<Warning> {
        self.tallies
            .iter()
            .map(|((code, _), tally)| Warning {
                attribute: tally.attribute.clone(),
                code: code.clone(),
                problem: tally.first.clone(),
                rows: tally.rows,
            })
            .collect()
    }
}

/// Converts one read-back text to the importer's form.
pub fn convert<'a>(
    kind: &AttrKind,
    text: &'a str,
    date_format: &str,
) -> Result<Cow<'a, str>, Problem> {
    match kind {
        AttrKind::Date if !text.trim().is_empty() => match parse_date(text, date_format) {
            Some(date) => Ok(Cow::Owned(date.format("%Y-%m-%d").to_string())),
            None => Err(Problem::UnreadableDate {
                example: text.to_string(),
            }),
        },
        AttrKind::Number => Ok(strip_thousands(text)),
        _ => Ok(Cow::Borrowed(text)),
    }
}

/// Parses a date in the instance's format, or already in ISO form.
///
/// `%d/%b/%y` and `%e/%b/%y` are read by the validator's [`DateFormat`] (the one reader of
/// the instance format on the client side) rather than by chrono, so that the two-digit year
/// follows docs/api-notes.md (69–99 → 19xx, 00–68 → 20xx) and a day with or without its zero
/// or space padding is accepted; any other format goes to chrono.
pub fn parse_date(text: &str, format: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date);
    }
    match format {
        "%d/%b/%y" | "%e/%b/%y" | "" => DateFormat::new("%e/%b/%y").parse(text),
        other => NaiveDate::parse_from_str(text, other).ok(),
    }
}

/// `21,000` → `21000`, `-1,234.5` → `-1234.5`; anything not grouped in threes is left alone,
/// so a decimal comma (`2,5`) is never misread as a separator.
pub fn strip_thousands(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim();
    let unsigned = trimmed.strip_prefix(['-', '+']).unwrap_or(trimmed);
    let (integer, decimals) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let decimals_ok = decimals.bytes().all(|b| b.is_ascii_digit());
    let mut groups = integer.split(',');
    let first_ok = groups
        .next()
        .is_some_and(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()));
    let rest: Vec<&str> = groups.collect();
    let grouped = !rest.is_empty()
        && rest
            .iter()
            .all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
    if first_ok && grouped && decimals_ok {
        Cow::Owned(trimmed.replace(',', ""))
    } else {
        Cow::Borrowed(text)
    }
}

/// Prefixes a cell that a spreadsheet would run as a formula with a single quote.
pub fn excel_safe(value: String) -> String {
    if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_instance_formats_become_iso() {
        for (text, iso) in [
            ("07/May/20", "2020-05-07"),
            ("2/Jan/20", "2020-01-02"),
            (" 2/jan/20", "2020-01-02"),
            ("31/Dec/69", "1969-12-31"),
            ("01/Jan/68", "2068-01-01"),
            ("29/Feb/24", "2024-02-29"),
            ("2021-03-04", "2021-03-04"),
        ] {
            for format in ["%e/%b/%y", "%d/%b/%y"] {
                assert_eq!(
                    convert(&AttrKind::Date, text, format),
                    Ok(Cow::Borrowed(iso)),
                    "{text} with {format}"
                );
            }
        }
    }

    #[test]
    fn impossible_dates_are_problems_not_guesses() {
        for text in [
            "30/Feb/21",
            "7/Mai/20",
            "07/05/20",
            "7/May",
            "123/May/20",
            "yesterday",
        ] {
            assert!(
                matches!(
                    convert(&AttrKind::Date, text, "%e/%b/%y"),
                    Err(Problem::UnreadableDate { .. })
                ),
                "{text}"
            );
        }
        assert_eq!(
            convert(&AttrKind::Date, "", "%e/%b/%y"),
            Ok(Cow::Borrowed(""))
        );
    }

    #[test]
    fn other_date_formats_go_through_chrono() {
        assert_eq!(
            parse_date("2020.05.07", "%Y.%m.%d"),
            NaiveDate::from_ymd_opt(2020, 5, 7)
        );
    }

    #[test]
    fn thousands_separators_are_removed_only_when_grouped() {
        assert_eq!(strip_thousands("21,000"), "21000");
        assert_eq!(strip_thousands("-1,234,567.50"), "-1234567.50");
        assert_eq!(strip_thousands("0042"), "0042");
        for left_alone in ["2,5", "1,00", "12,3456", ",000", "1,000.x", "abc"] {
            assert_eq!(strip_thousands(left_alone), left_alone);
        }
    }

    #[test]
    fn excel_safe_quotes_formula_starts_only() {
        assert_eq!(excel_safe("=SUM(A1)".into()), "'=SUM(A1)");
        assert_eq!(excel_safe("+49 30".into()), "'+49 30");
        assert_eq!(excel_safe("-5".into()), "'-5");
        assert_eq!(excel_safe("@home".into()), "'@home");
        assert_eq!(excel_safe("a=b".into()), "a=b");
        assert_eq!(excel_safe(String::new()), "");
    }

    struct Rec(Vec<(&'static str, RawValue<'static>)>);
    impl Record for Rec {
        fn id(&self) -> &str {
            "7"
        }
        fn value(&self, code: &str) -> RawValue<'_> {
            self.0
                .iter()
                .find(|(c, _)| *c == code)
                .map_or(RawValue::Text(""), |(_, v)| *v)
        }
    }

    #[test]
    fn unsupported_is_empty_with_one_warning_per_attribute() {
        let table = crate::schema::Schema::default_sandbox()
            .table("companies")
            .expect("table")
            .clone();
        let options = super::super::ColumnsOptions {
            chosen: Some(vec!["Name".into(), "People".into(), "Founded".into()]),
            ..Default::default()
        };
        let columns = Columns::resolve(&table, &options).expect("columns");
        let founded = table.find("Founded").expect("Founded").code.clone();
        let founded: &'static str = Box::leak(founded.into_boxed_str());
        let mut n = Normaliser::new(ValueOptions {
            date_format: "%e/%b/%y".into(),
            excel_safe: false,
        });
        let mut cells = Vec::new();
        for date in ["07/May/20", "not a date", "also not"] {
            let rec = Rec(vec![
                ("org_name", RawValue::Text("Acme")),
                ("org_people", RawValue::Unknown),
                (founded, RawValue::Text(date)),
            ]);
            n.row(&rec, &columns, &mut cells);
        }
        assert_eq!(cells, vec!["Acme", "", "also not"]);
        let warnings = n.warnings();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let text: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
        assert!(
            text.iter().any(|t| t.contains("\"People\"")
                && t.contains("Unsupported")
                && t.contains("3 rows")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("\"Founded\"")
                && t.contains("\"not a date\"")
                && t.contains("2 rows")),
            "{text:?}"
        );
    }
}
