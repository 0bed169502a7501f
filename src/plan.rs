//! Planning: the one action each valid row gets (create, update only what changed, or
//! nothing), decided from the mode, the matching key and the entries already in the CRM.
//!
//! The [`Planner`] runs rows in file order: it converts them (in parallel for chunks, see
//! [`Planner::plan_chunk`]), matches each row's key against the CRM's entries and the
//! file's earlier rows, tells validation what the row intends (so required attributes are
//! only demanded of rows that create), and compares the row with the stored entry so that
//! only changed attributes are sent. It is pure: no network and no files; `execute` carries
//! the actions out and `report` writes them down.
//!
//! Keys match as the CRM compares unique values: trimmed and case-insensitive. One run
//! writes each key at most once: a second row with a key already seen is invalid.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use rayon::prelude::*;

use crate::read::Record;
use crate::validate::index::{norm_eq, normalize};
pub use crate::validate::ExistingEntry;
use crate::validate::{
    Converted, ExistingIndex, Field, Intent, NewOption, RowProblem, RowValues, SeenIndex, Stored,
    UniqueContext, Validator,
};

/// Chunks smaller than this are converted on the calling thread.
const PARALLEL_MIN_ROWS: usize = 2048;

/// Rows per step of a chunk's pipeline: one batch is planned (in file order, one thread)
/// while the next is converted, so neither core waits for the other's half of the work.
const PIPELINE_BATCH: usize = 1024;

/// What a run does with rows whose key exists or does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Create every row; a row whose key exists fails ("already exists").
    #[default]
    Insert,
    /// Update existing entries; a row whose key does not exist fails ("not found").
    Update,
    /// Create or update.
    Upsert,
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "insert" => Ok(Mode::Insert),
            "update" => Ok(Mode::Update),
            "upsert" => Ok(Mode::Upsert),
            other => Err(format!(
                "unknown mode \"{other}\" (insert, update or upsert)"
            )),
        }
    }
}

/// What an empty cell does to a stored value on update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmptyPolicy {
    /// Leave the stored value as it is.
    #[default]
    Keep,
    /// Clear the stored value (as the vendor's own importer does).
    Clear,
}

impl FromStr for EmptyPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "keep" => Ok(EmptyPolicy::Keep),
            "clear" => Ok(EmptyPolicy::Clear),
            other => Err(format!(
                "unknown empty-cell policy \"{other}\" (keep or clear)"
            )),
        }
    }
}

/// Options of planning.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub mode: Mode,
    /// The matching key: a header, or an attribute's name or code (`--key`); default the
    /// table's name attribute.
    pub key: Option<String>,
    pub empty: EmptyPolicy,
}

/// A plan that cannot be made at all.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{file}: --key \"{key}\" names no column of the file")]
    KeyNotInFile { file: String, key: String },
    #[error("{file}: the key {key} must come from a column, not a constant")]
    KeyIsConstant { file: String, key: String },
    #[error(
        "{file}: the table {table} has no name attribute to match rows by; name one with --key"
    )]
    NoKey { file: String, table: String },
    #[error("{file}: the file has no column for {attributes}, required to create entries (add the column, a constant in a --map file, or use --mode update)")]
    RequiredMissing { file: String, attributes: String },
}

/// One attribute an update changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub code: String,
    /// The attribute's name, for the report.
    pub name: String,
    /// The value to send (`""` clears).
    pub wire: String,
    /// The stored value (read-back form); `None` when unknown.
    pub before: Option<String>,
    /// The value after the update (read-back form).
    pub after: String,
}

/// Why a valid row gets no write in this mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Insert mode, and an entry with this key exists.
    AlreadyExists { id: String },
    /// Update mode, and no entry has this key.
    NotFound,
    /// Several entries have this key (a key attribute that is not unique).
    Ambiguous { ids: Vec<String> },
}

/// What will happen to one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create an entry with the row's values ([`RowPlan::create_pairs`]).
    Create,
    /// Send only the changed attributes to entry `id`.
    Update { id: String, changes: Vec<Change> },
    /// The entry already holds these values: no write.
    Unchanged { id: String },
    /// A valid row that the mode does not allow.
    Refused(Refusal),
    /// Every problem of the row.
    Invalid(Vec<RowProblem>),
}

/// The status a row would get, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStatus {
    Create,
    Update,
    Unchanged,
    Refused,
    Invalid,
}

impl Action {
    pub fn status(&self) -> PlanStatus {
        match self {
            Action::Create => PlanStatus::Create,
            Action::Update { .. } => PlanStatus::Update,
            Action::Unchanged { .. } => PlanStatus::Unchanged,
            Action::Refused(_) => PlanStatus::Refused,
            Action::Invalid(_) => PlanStatus::Invalid,
        }
    }
}

/// The plan of one row: its values (and original record) and its action.
#[derive(Debug)]
pub struct RowPlan {
    pub values: RowValues,
    /// The key as written in the row, for the report's key column.
    pub key: Option<String>,
    pub action: Action,
}

impl RowPlan {
    pub fn row(&self) -> u64 {
        self.values.row()
    }

    /// The `(code, wire value)` pairs a create sends.
    pub fn create_pairs(&self) -> Vec<(String, String)> {
        self.values.pairs()
    }

    /// A short description for the report's message column: `would create`,
    /// `would update: Website, Type`, `unchanged`, `already exists (id 17)`, or the problems.
    pub fn describe(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for RowPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.action {
            Action::Create => write!(f, "would create"),
            Action::Update { changes, .. } => {
                let names: Vec<&str> = changes.iter().map(|c| c.name.as_str()).collect();
                write!(f, "would update: {}", names.join(", "))
            }
            Action::Unchanged { .. } => write!(f, "unchanged"),
            Action::Refused(Refusal::AlreadyExists { id }) => {
                write!(f, "already exists (id {id}); --mode upsert would update it")
            }
            Action::Refused(Refusal::NotFound) => write!(f, "not found: no entry has this key"),
            Action::Refused(Refusal::Ambiguous { ids }) => {
                write!(
                    f,
                    "the key matches {} entries (ids {}); use a unique --key",
                    ids.len(),
                    ids.join(", ")
                )
            }
            Action::Invalid(problems) => {
                let all: Vec<String> = problems.iter().map(RowProblem::describe).collect();
                write!(f, "{}", all.join("; "))
            }
        }
    }
}

/// Plans the rows of one file, in file order.
#[derive(Debug)]
pub struct Planner {
    /// Shared with the threads that convert the next batch while this one is planned.
    validator: Arc<Validator>,
    mode: Mode,
    empty: EmptyPolicy,
    key: Option<usize>,
    existing: ExistingIndex,
    seen: SeenIndex,
    new_options: BTreeMap<(String, String), NewOption>,
    warnings: Vec<String>,
}

impl Planner {
    /// Prepares planning against the table's current entries (`existing`, one read).
    pub fn new(
        validator: Validator,
        existing: Vec<ExistingEntry>,
        options: &PlanOptions,
    ) -> Result<Planner, PlanError> {
        let file = validator.file().to_string();
        let fields = validator.fields();
        let key = match &options.key {
            Some(name) => Some(find_key(fields, name, &file)?),
            None => fields
                .iter()
                .position(|f| f.column().is_some() && f.is_name),
        };
        let mut warnings = Vec::new();
        if key.is_none() && options.mode != Mode::Insert {
            return Err(match validator.name_attribute() {
                Some(name) => PlanError::KeyNotInFile {
                    file,
                    key: name.to_string(),
                },
                None => PlanError::NoKey {
                    file,
                    table: validator.table().to_string(),
                },
            });
        }
        if let Some(k) = key.filter(|&k| !fields[k].unique) {
            warnings.push(format!(
                "{file}: the key {} is not unique in the CRM's schema: a row matching several entries will fail",
                fields[k].name
            ));
        }
        if options.mode == Mode::Insert && !validator.unmapped_required().is_empty() {
            let names: Vec<&str> = validator
                .unmapped_required()
                .iter()
                .map(|a| a.name.as_str())
                .collect();
            return Err(PlanError::RequiredMissing {
                file,
                attributes: names.join(", "),
            });
        }
        let mut codes: Vec<&str> = fields
            .iter()
            .filter(|f| f.unique)
            .map(|f| &*f.code)
            .collect();
        if let Some(k) = key {
            codes.push(&fields[k].code);
        }
        let existing = ExistingIndex::new(existing, &codes);
        let mut new_options = BTreeMap::new();
        for option in validator.constant_options() {
            new_options.insert(
                (option.dictionary.clone(), normalize(&option.label)),
                option.clone(),
            );
        }
        Ok(Planner {
            validator: Arc::new(validator),
            mode: options.mode,
            empty: options.empty,
            key,
            existing,
            seen: SeenIndex::default(),
            new_options,
            warnings,
        })
    }

    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// Notes about the plan as a whole (a key that is not unique).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The field rows are matched by, if any (none: insert into a table without a key).
    pub fn key_field(&self) -> Option<&Field> {
        self.key.map(|k| &self.validator.fields()[k])
    }

    /// Dictionary values to add before writing, one per dictionary and label (ignoring
    /// case), from the rows planned so far that will be written.
    pub fn new_options(&self) -> Vec<NewOption> {
        self.new_options.values().cloned().collect()
    }

    /// Plans a chunk of rows: converted in parallel, planned in order. The result is in
    /// input order.
    ///
    /// Planning must run in file order on one thread, so a large chunk goes through a
    /// pipeline of batches: batch `k` is planned while batch `k + 1` is converted on the
    /// other threads.
    pub fn plan_chunk(&mut self, records: Vec<Record>) -> Vec<RowPlan> {
        if records.len() < PARALLEL_MIN_ROWS {
            return records.into_iter().map(|r| self.plan(r)).collect();
        }
        let validator = Arc::clone(&self.validator);
        let convert = |batch: Vec<Record>| -> Vec<Converted> {
            batch
                .into_par_iter()
                .with_min_len(128)
                .map(|r| validator.convert(r))
                .collect()
        };
        let mut plans = Vec::with_capacity(records.len());
        let mut rest = records.into_iter();
        let mut pending = convert(rest.by_ref().take(PIPELINE_BATCH).collect());
        while !pending.is_empty() {
            let next: Vec<Record> = rest.by_ref().take(PIPELINE_BATCH).collect();
            let current = std::mem::take(&mut pending);
            let plan_current = || {
                plans.extend(current.into_iter().map(|c| self.plan_converted(c)));
            };
            ((), pending) = rayon::join(plan_current, || convert(next));
        }
        plans
    }

    /// Plans one row.
    pub fn plan(&mut self, record: Record) -> RowPlan {
        let converted = self.validator.convert(record);
        self.plan_converted(converted)
    }

    /// Plans a row converted by [`Validator::convert`] (rows must come in file order).
    pub fn plan_converted(&mut self, converted: Converted) -> RowPlan {
        let Converted {
            values,
            mut problems,
            new_options,
        } = converted;
        let matched = self.match_key(&values, &mut problems);
        let intent = match (&matched, self.mode) {
            (Match::Entry(_), Mode::Update | Mode::Upsert) => Intent::Update {
                clear_empty: self.empty == EmptyPolicy::Clear,
            },
            (Match::Entry(_) | Match::Several(_), _) | (Match::None, Mode::Update) => {
                Intent::Update { clear_empty: false }
            }
            (Match::None, _) => Intent::Create,
        };
        let matched_id = match &matched {
            Match::Entry(i) => Some(self.existing.entries()[*i].id.as_str()),
            _ => None,
        };
        self.validator
            .required_problems(&values, intent, &mut problems);
        let cx = UniqueContext {
            seen: &mut self.seen,
            existing: &self.existing,
            matched: matched_id,
            skip: self.key,
        };
        self.validator.unique_problems(&values, cx, &mut problems);
        let key = self
            .key
            .map(|k| values.raw(k).to_string())
            .filter(|k| !k.is_empty());
        let action = if !problems.is_empty() {
            Action::Invalid(problems)
        } else {
            self.action(&values, matched)
        };
        if matches!(action, Action::Create | Action::Update { .. }) {
            for option in new_options {
                self.new_options
                    .entry((option.dictionary.clone(), normalize(&option.label)))
                    .or_insert(option);
            }
        }
        RowPlan {
            values,
            key,
            action,
        }
    }

    /// Matches a row's key against earlier rows and the CRM.
    fn match_key(&mut self, values: &RowValues, problems: &mut Vec<RowProblem>) -> Match {
        let Some(k) = self.key else {
            return Match::None;
        };
        let field = &self.validator.fields()[k];
        let Some(key) = values.value(k).map(|v| v.readback) else {
            if self.mode != Mode::Insert {
                let message = format!(
                    "is empty: rows are matched by {}, so it needs a value",
                    field.name
                );
                problems.push(RowProblem::new(
                    self.validator.file(),
                    values.row(),
                    &field.header,
                    "",
                    message,
                ));
            }
            return Match::None;
        };
        if let Some(first) = self.seen.insert(k, key, values.row()) {
            let message = format!("has the same key as row {first}: a run writes each key once");
            problems.push(RowProblem::new(
                self.validator.file(),
                values.row(),
                &field.header,
                values.raw(k),
                message,
            ));
        }
        if self.existing.entries().is_empty() {
            return Match::None;
        }
        let found: Vec<usize> = self.existing.positions(&field.code, key).collect();
        match found.as_slice() {
            [] => Match::None,
            [one] => Match::Entry(*one),
            many => Match::Several(many.to_vec()),
        }
    }

    fn action(&self, values: &RowValues, matched: Match) -> Action {
        let entries = self.existing.entries();
        match (matched, self.mode) {
            (Match::None, Mode::Insert | Mode::Upsert) => Action::Create,
            (Match::None, Mode::Update) => Action::Refused(Refusal::NotFound),
            (Match::Several(ids), _) => Action::Refused(Refusal::Ambiguous {
                ids: ids.iter().map(|&i| entries[i].id.clone()).collect(),
            }),
            (Match::Entry(i), Mode::Insert) => Action::Refused(Refusal::AlreadyExists {
                id: entries[i].id.clone(),
            }),
            (Match::Entry(i), Mode::Update | Mode::Upsert) => {
                let entry = &entries[i];
                let changes = self.delta(values, entry);
                if changes.is_empty() {
                    Action::Unchanged {
                        id: entry.id.clone(),
                    }
                } else {
                    Action::Update {
                        id: entry.id.clone(),
                        changes,
                    }
                }
            }
        }
    }

    /// The attributes whose value in the row differs from the stored entry.
    fn delta(&self, values: &RowValues, entry: &ExistingEntry) -> Vec<Change> {
        let mut changes = Vec::new();
        for (i, field) in self.validator.fields().iter().enumerate() {
            let stored = entry.get(&field.code);
            let change = |wire: &str, after: &str| Change {
                code: field.code.to_string(),
                name: field.name.to_string(),
                wire: wire.to_string(),
                before: match stored {
                    Stored::Value(v) => Some(v.to_string()),
                    Stored::Empty => Some(String::new()),
                    Stored::Unknown => None,
                },
                after: after.to_string(),
            };
            match (values.value(i), stored) {
                (None, Stored::Empty) => {}
                (None, _) if self.empty == EmptyPolicy::Keep => {}
                (None, _) => changes.push(change("", "")),
                (Some(ours), Stored::Value(v)) if field.same(ours.readback, v) => {}
                // The key matched (trimmed, ignoring case); a difference in case alone is
                // not a change, or every reload of such a file would write.
                (Some(ours), Stored::Value(v))
                    if Some(i) == self.key && norm_eq(ours.readback, v) => {}
                // An unknown stored value cannot be compared: the row's value is sent.
                (Some(ours), _) => changes.push(change(ours.wire, ours.readback)),
            }
        }
        changes
    }
}

/// Which existing entries a row's key matches.
enum Match {
    None,
    Entry(usize),
    Several(Vec<usize>),
}

fn find_key(fields: &[Field], name: &str, file: &str) -> Result<usize, PlanError> {
    use crate::map::fold::fold;
    let wanted = fold(name);
    let by_header = fields
        .iter()
        .position(|f| f.column().is_some() && fold(&f.header) == wanted);
    let by_attribute = || {
        fields.iter().position(|f| {
            &*f.code == name.trim() || fold(&f.name) == wanted || fold(&f.code) == wanted
        })
    };
    let k = by_header
        .or_else(by_attribute)
        .ok_or_else(|| PlanError::KeyNotInFile {
            file: file.to_string(),
            key: name.to_string(),
        })?;
    if fields[k].column().is_none() {
        return Err(PlanError::KeyIsConstant {
            file: file.to_string(),
            key: fields[k].name.to_string(),
        });
    }
    Ok(k)
}
