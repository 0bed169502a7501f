//! Checking and planning one row: values turned into wire values (option ids, company
//! `(id)`s, ISO dates), every problem collected, in-file and in-CRM uniqueness, and the
//! action against the entry the key matches, with only the changed attributes.
//!
//! Interim: this is the narrow seam the import orchestration calls ([`RowChecker::check`]);
//! the full checks live in `validate` and `plan`, which it delegates to once they exist.
//! It knows nothing of sending or reporting.

use std::collections::{BTreeSet, HashMap};

use crate::client::Entry;
use crate::read::Record;
use crate::schema::{AttrKind, Attribute, Schema};

use super::{CheckOptions, Prepared};

/// `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Insert,
    Update,
    Upsert,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Insert => "insert",
            Mode::Update => "update",
            Mode::Upsert => "upsert",
        }
    }
}

/// `--empty`: what an empty cell does to a stored value on update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyPolicy {
    Keep,
    Clear,
}

/// One problem with one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub row: u64,
    pub column: String,
    pub value: String,
    pub message: String,
}

impl Problem {
    /// `contacts.csv: row 17, column "E-Mail": "kelly@" is not an e-mail address`
    pub fn render(&self, file: &str) -> String {
        format!("{file}: row {}, {}", self.row, self.short())
    }

    /// The same without file and row, for the report's message column.
    pub fn short(&self) -> String {
        if self.value.is_empty() {
            format!("column \"{}\": {}", self.column, self.message)
        } else {
            format!(
                "column \"{}\": \"{}\" {}",
                self.column,
                shorten(&self.value),
                self.message
            )
        }
    }
}

fn shorten(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() <= MAX {
        value.to_string()
    } else {
        format!("{}…", value.chars().take(MAX).collect::<String>())
    }
}

/// A row's verdict and plan. Values are (attribute, wire value) pairs.
#[derive(Debug, Clone)]
pub enum Checked {
    Invalid {
        key: String,
        problems: Vec<Problem>,
    },
    Create {
        key: String,
        values: Vec<(Attribute, String)>,
    },
    Update {
        key: String,
        id: String,
        values: Vec<(Attribute, String)>,
        /// CONTACTS: the company id to link with `setcontact`, when it changed.
        link_company: Option<String>,
        /// The entry's stored name (what `updateOrCreateEntity` matches by).
        entry_name: Option<String>,
    },
    Unchanged {
        key: String,
        id: String,
    },
}

/// Trimmed, case-folded: how the CRM compares unique values.
fn norm(value: &str) -> String {
    value.trim().to_lowercase()
}

/// Checks rows one by one; remembers unique values seen so far in the file.
pub struct RowChecker<'a> {
    prepared: &'a Prepared,
    options: &'a CheckOptions,
    by_key: HashMap<String, usize>,
    unique_in_crm: HashMap<String, HashMap<String, String>>,
    seen: HashMap<String, HashMap<String, u64>>,
    companies_by_name: HashMap<String, (String, String)>,
    companies_by_id: HashMap<String, String>,
    missing_options: BTreeSet<(String, String)>,
    added_options: BTreeSet<(String, String)>,
}

impl<'a> RowChecker<'a> {
    pub fn new(prepared: &'a Prepared, options: &'a CheckOptions) -> RowChecker<'a> {
        let key_code = &prepared.key.code;
        let mut by_key = HashMap::new();
        for (i, entry) in prepared.existing.iter().enumerate() {
            if let Some(value) = entry.text(key_code).filter(|v| !v.trim().is_empty()) {
                by_key.entry(norm(value)).or_insert(i);
            }
        }
        let mut unique_in_crm: HashMap<String, HashMap<String, String>> = HashMap::new();
        for attribute in prepared.table.attributes.iter().filter(|a| a.unique) {
            let index = unique_in_crm.entry(attribute.code.clone()).or_default();
            for entry in &prepared.existing {
                if let Some(value) = entry.text(&attribute.code).filter(|v| !v.trim().is_empty()) {
                    index.insert(norm(value), entry.id.clone());
                }
            }
        }
        let companies_by_name = prepared
            .companies
            .iter()
            .map(|(id, name)| (norm(name), (id.clone(), name.clone())))
            .collect();
        let companies_by_id = prepared.companies.iter().cloned().collect();
        RowChecker {
            prepared,
            options,
            by_key,
            unique_in_crm,
            seen: HashMap::new(),
            companies_by_name,
            companies_by_id,
            missing_options: BTreeSet::new(),
            added_options: BTreeSet::new(),
        }
    }

    /// Dictionary values that `--create-missing-options` would add: (dictionary, label).
    pub fn take_missing_options(&mut self) -> BTreeSet<(String, String)> {
        std::mem::take(&mut self.missing_options)
    }

    /// Dry run: treat these dictionary values as if they had been added.
    pub fn assume_options_added(&mut self, added: &BTreeSet<(String, String)>) {
        self.added_options = added
            .iter()
            .map(|(d, l)| (d.to_lowercase(), norm(l)))
            .collect();
    }

    /// Checks one row and plans its action.
    pub fn check(&mut self, record: &Record) -> Checked {
        let mut problems = Vec::new();
        let mut cells: Vec<(&Attribute, String, String)> = Vec::new();
        for (column, attribute) in self.prepared.mapping.attributes() {
            let raw = record
                .values
                .get(column.index)
                .map(String::as_str)
                .unwrap_or("");
            cells.push((attribute, column.header.clone(), raw.trim().to_string()));
        }
        for constant in &self.prepared.mapping.constants {
            cells.push((
                &constant.attribute,
                constant.attribute.name.clone(),
                constant.value.trim().to_string(),
            ));
        }
        let key_code = self.prepared.key.code.clone();
        let key = cells
            .iter()
            .find(|(a, _, _)| a.code == key_code)
            .map(|(_, _, v)| v.clone())
            .unwrap_or_default();
        let matched = if key.is_empty() {
            None
        } else {
            self.by_key.get(&norm(&key)).copied()
        };
        let entry = matched.map(|i| &self.prepared.existing[i]);
        self.check_mode(record.row, &key, entry, &mut problems);

        let mut wire: Vec<(&Attribute, String, String, String)> = Vec::new();
        for (attribute, header, value) in &cells {
            if value.is_empty() {
                if entry.is_none() && attribute.required {
                    problems.push(problem(record.row, header, "", "is required and empty"));
                }
                continue;
            }
            match self.convert(attribute, value) {
                Ok((w, comparable)) => wire.push((attribute, header.clone(), w, comparable)),
                Err(message) => problems.push(problem(record.row, header, value, &message)),
            }
            if attribute.unique || attribute.code == key_code {
                self.check_unique(record.row, attribute, header, value, entry, &mut problems);
            }
        }
        if entry.is_none() {
            for attribute in &self.prepared.mapping.unmapped_required {
                let message = "is required, and no column of the file provides it";
                problems.push(problem(record.row, &attribute.name, "", message));
            }
        }
        if !problems.is_empty() {
            return Checked::Invalid { key, problems };
        }
        match entry {
            None => Checked::Create {
                key,
                values: wire
                    .into_iter()
                    .map(|(a, _, w, _)| (a.clone(), w))
                    .collect(),
            },
            Some(entry) => self.delta(key, entry, &cells, wire),
        }
    }

    fn check_mode(&self, row: u64, key: &str, entry: Option<&Entry>, problems: &mut Vec<Problem>) {
        let header = self.key_header();
        match (self.options.mode, entry) {
            (super::Mode::Insert, Some(entry)) => problems.push(problem(
                row,
                &header,
                key,
                &format!(
                    "already exists (id {}); use --mode upsert or --mode update to change it",
                    entry.id
                ),
            )),
            (super::Mode::Update, None) if key.is_empty() => problems.push(problem(
                row,
                &header,
                "",
                "is empty, so the row matches no entry",
            )),
            (super::Mode::Update, None) => problems.push(problem(
                row,
                &header,
                key,
                "matches no entry; use --mode upsert to create missing entries",
            )),
            _ => {}
        }
    }

    fn key_header(&self) -> String {
        self.prepared
            .mapping
            .column_for(&self.prepared.key.code)
            .map(|c| c.header.clone())
            .unwrap_or_else(|| self.prepared.key.name.clone())
    }

    fn check_unique(
        &mut self,
        row: u64,
        attribute: &Attribute,
        header: &str,
        value: &str,
        entry: Option<&Entry>,
        problems: &mut Vec<Problem>,
    ) {
        let value_norm = norm(value);
        let seen = self.seen.entry(attribute.code.clone()).or_default();
        if let Some(first) = seen.get(&value_norm) {
            if *first != row {
                let message = format!(
                    "repeats row {first}; values of {} must be unique",
                    attribute.name
                );
                problems.push(problem(row, header, value, &message));
            }
        } else {
            seen.insert(value_norm.clone(), row);
        }
        if let Some(owner) = self
            .unique_in_crm
            .get(&attribute.code)
            .and_then(|i| i.get(&value_norm))
        {
            if entry.is_none_or(|e| &e.id != owner) {
                let message = format!(
                    "is already in use by entry {owner}; values of {} must be unique",
                    attribute.name
                );
                problems.push(problem(row, header, value, &message));
            }
        }
    }

    /// The wire value and the comparable (read-back) value of a non-empty cell.
    fn convert(&mut self, attribute: &Attribute, value: &str) -> Result<(String, String), String> {
        let schema: &Schema = &self.prepared.schema;
        match &attribute.kind {
            AttrKind::Email if !is_email(value) => {
                Err("is not an e-mail address (name@example.com)".into())
            }
            AttrKind::Number if value.parse::<f64>().is_err() => {
                Err("is not a number (digits, optional sign and . decimals)".into())
            }
            AttrKind::Text if value.chars().count() > 255 => {
                Err("is longer than 255 characters".into())
            }
            AttrKind::Checkbox => match value.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(("true".into(), "true".into())),
                "false" | "no" | "0" => Ok(("false".into(), "false".into())),
                _ => Err("is not a checkbox value (true/false, yes/no, 1/0)".into()),
            },
            AttrKind::Date => match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
                Ok(date) => Ok((value.to_string(), date.format("%d/%b/%y").to_string())),
                Err(_) => Err("is not a date (YYYY-MM-DD)".into()),
            },
            AttrKind::List | AttrKind::Dictionary => match attribute.find_option(schema, value) {
                Some(option) => Ok((option.id.clone(), option.label.clone())),
                None => self.missing_option(attribute, value),
            },
            AttrKind::Company => self.company(value),
            _ => Ok((value.to_string(), value.to_string())),
        }
    }

    fn missing_option(
        &mut self,
        attribute: &Attribute,
        value: &str,
    ) -> Result<(String, String), String> {
        if let Some(dictionary) = &attribute.dictionary {
            if self
                .added_options
                .contains(&(dictionary.to_lowercase(), norm(value)))
            {
                return Ok((value.to_string(), value.to_string()));
            }
            if self.options.create_missing_options {
                self.missing_options
                    .insert((dictionary.clone(), value.to_string()));
                return Ok((value.to_string(), value.to_string()));
            }
        }
        let options = attribute.options_in(&self.prepared.schema);
        let valid: Vec<&str> = options.iter().take(10).map(|o| o.label.as_str()).collect();
        let hint = if attribute.dictionary.is_some() {
            "; --create-missing-options adds it"
        } else {
            ""
        };
        Err(format!(
            "is not an option of {} (valid: {}){hint}",
            attribute.name,
            valid.join(", ")
        ))
    }

    fn company(&self, value: &str) -> Result<(String, String), String> {
        let by_id = value
            .strip_prefix('(')
            .and_then(|v| v.strip_suffix(')'))
            .and_then(|id| {
                self.companies_by_id
                    .get(id.trim())
                    .map(|name| (id.trim().to_string(), name.clone()))
            });
        let found = by_id.or_else(|| self.companies_by_name.get(&norm(value)).cloned());
        match found {
            Some((id, name)) => Ok((format!("({id})"), name)),
            None => Err(
                "names no company in the CRM (give its name or (id); import companies first)"
                    .into(),
            ),
        }
    }

    fn delta(
        &self,
        key: String,
        entry: &Entry,
        cells: &[(&Attribute, String, String)],
        wire: Vec<(&Attribute, String, String, String)>,
    ) -> Checked {
        let contacts = self.prepared.table.table == "CONTACTS";
        let mut values = Vec::new();
        let mut link_company = None;
        for (attribute, _, w, comparable) in wire {
            let Some(stored) = entry.values.get(&attribute.code).and_then(|v| v.as_text()) else {
                continue;
            };
            if same(&attribute.kind, stored, &comparable) {
                continue;
            }
            if contacts && attribute.kind == AttrKind::Company {
                link_company = Some(w.trim_start_matches('(').trim_end_matches(')').to_string());
            } else {
                values.push((attribute.clone(), w));
            }
        }
        if self.options.empty == EmptyPolicy::Clear {
            for (attribute, _, value) in cells {
                let stored = entry.text(&attribute.code).unwrap_or("");
                if value.is_empty() && !stored.trim().is_empty() && !attribute.required {
                    values.push(((*attribute).clone(), String::new()));
                }
            }
        }
        let id = entry.id.clone();
        if values.is_empty() && link_company.is_none() {
            return Checked::Unchanged { key, id };
        }
        let name_code = self
            .prepared
            .table
            .name_attribute()
            .map(|a| a.code.clone())
            .unwrap_or_default();
        let entry_name = entry.text(&name_code).map(str::to_string);
        Checked::Update {
            key,
            id,
            values,
            link_company,
            entry_name,
        }
    }
}

fn same(kind: &AttrKind, stored: &str, comparable: &str) -> bool {
    match kind {
        AttrKind::Number => match (stored.trim().parse::<f64>(), comparable.parse::<f64>()) {
            (Ok(a), Ok(b)) => a == b,
            _ => stored.trim() == comparable,
        },
        AttrKind::List | AttrKind::Dictionary | AttrKind::Company | AttrKind::Checkbox => {
            norm(stored) == norm(comparable)
        }
        _ => stored.trim() == comparable.trim(),
    }
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(char::is_whitespace)
        && !domain.contains('@')
}

fn problem(row: u64, column: &str, value: &str, message: &str) -> Problem {
    Problem {
        row,
        column: column.to_string(),
        value: value.to_string(),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_row_column_and_value() {
        let p = problem(17, "E-Mail", "kelly@", "is not an e-mail address");
        assert_eq!(
            p.render("contacts.csv"),
            "contacts.csv: row 17, column \"E-Mail\": \"kelly@\" is not an e-mail address"
        );
        assert!(!is_email("kelly@"));
        assert!(is_email("kelly@oxi.example"));
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(same(&AttrKind::Number, "1200.0", "1200"));
        assert!(!same(&AttrKind::Text, "Acme", "acme"));
        assert!(same(&AttrKind::List, "Lead", "lead"));
    }
}
