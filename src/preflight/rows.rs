//! The seam between the import and the row checks: wraps `validate` and `plan` into one
//! verdict per row ([`Checked`]) in the shape the import sends or reports, converting the
//! client's entries into the planner's `ExistingEntry` on the way in.
//!
//! It owns only that translation: refusals (an existing key in insert mode, a missing one in
//! update mode) become problems on the key column, because the pre-flight treats them like
//! invalid cells (nothing is written while any remain); a contact's changed company becomes a
//! `setcontact` link; an entry's stored name is kept for `updateOrCreateEntity`, which
//! matches by name. The checks themselves live in `validate` and `plan`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::client::{Entry, FieldValue};
use crate::plan::{Action, PlanOptions, Planner, RowPlan};
use crate::read::Record;
use crate::schema::{AttrKind, Attribute};
use crate::validate::{ExistingEntry, NameIndex, RowProblem, ValidateOptions, Validator};

use super::{CheckOptions, Prepared};

pub use crate::plan::{EmptyPolicy, Mode};

/// The word for a mode, as the journal records it.
pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Insert => "insert",
        Mode::Update => "update",
        Mode::Upsert => "upsert",
    }
}

/// A row's verdict and plan. Values are (attribute, wire value) pairs; the attributes are
/// shared with the checker (an `Arc` each), not copied per row.
#[derive(Debug, Clone)]
pub enum Checked {
    Invalid {
        key: String,
        problems: Vec<RowProblem>,
    },
    Create {
        key: String,
        values: Vec<(Arc<Attribute>, String)>,
    },
    Update {
        key: String,
        id: String,
        values: Vec<(Arc<Attribute>, String)>,
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

/// The planner's view of a client entry: `Unsupported` values are unknown, never compared.
pub fn existing_entry(entry: &Entry) -> ExistingEntry {
    let values = entry
        .values
        .iter()
        .map(|(code, value)| {
            let value = match value {
                FieldValue::Text(text) => Some(text.clone()),
                FieldValue::Unknown => None,
            };
            (code.clone(), value)
        })
        .collect();
    ExistingEntry {
        id: entry.id.clone(),
        values,
    }
}

/// Checks rows one by one, in file order.
pub struct RowChecker {
    planner: Planner,
    /// Stored names by entry id, for `updateOrCreateEntity` updates.
    names: HashMap<String, String>,
    /// The table's attributes by code, shared by every row's values.
    attributes: HashMap<String, Arc<Attribute>>,
    /// The attribute of each of the validator's fields (by position), for creates.
    field_attributes: Vec<Option<Arc<Attribute>>>,
    contacts: bool,
}

impl RowChecker {
    pub fn new(prepared: &Prepared, options: &CheckOptions) -> anyhow::Result<RowChecker> {
        let companies = (!prepared.companies.is_empty() || has_company(prepared))
            .then(|| Arc::new(NameIndex::new(prepared.companies.iter().cloned())));
        let validate = ValidateOptions {
            create_missing_options: options.create_missing_options,
            companies,
            contacts: None,
        };
        let validator = Validator::new(&prepared.schema, &prepared.mapping, &validate)?;
        let existing = prepared.existing.iter().map(existing_entry).collect();
        let plan = PlanOptions {
            mode: options.mode,
            key: options.key.clone(),
            empty: options.empty,
        };
        let planner = Planner::new(validator, existing, &plan)?;
        let name_code = prepared
            .table
            .name_attribute()
            .map(|a| a.code.clone())
            .unwrap_or_default();
        let names = prepared
            .existing
            .iter()
            .filter_map(|e| e.text(&name_code).map(|n| (e.id.clone(), n.to_string())))
            .collect();
        let attributes: HashMap<String, Arc<Attribute>> = prepared
            .table
            .attributes
            .iter()
            .map(|a| (a.code.clone(), Arc::new(a.clone())))
            .collect();
        let field_attributes = planner
            .validator()
            .fields()
            .iter()
            .map(|f| attributes.get(&*f.code).cloned())
            .collect();
        Ok(RowChecker {
            planner,
            names,
            attributes,
            field_attributes,
            contacts: prepared.table.table == "CONTACTS",
        })
    }

    /// Notes about the plan as a whole, for stderr.
    pub fn warnings(&self) -> &[String] {
        self.planner.warnings()
    }

    /// Dictionary values `--create-missing-options` must add: (dictionary, label).
    pub fn new_options(&self) -> BTreeSet<(String, String)> {
        self.planner
            .new_options()
            .into_iter()
            .map(|o| (o.dictionary, o.label))
            .collect()
    }

    /// Checks one row and plans its action; hands the record back.
    pub fn check(&mut self, record: Record) -> (Checked, Record) {
        let plan = self.planner.plan(record);
        let checked = self.translate(&plan);
        (checked, plan.values.into_record())
    }

    /// Checks a chunk of rows (in file order) with the cells of several rows converted in
    /// parallel; the same verdicts as [`check`](Self::check) row by row.
    pub fn check_chunk(&mut self, records: Vec<Record>) -> Vec<(Checked, Record)> {
        let plans = self.planner.plan_chunk(records);
        plans
            .into_iter()
            .map(|plan| {
                let checked = self.translate(&plan);
                (checked, plan.values.into_record())
            })
            .collect()
    }

    fn translate(&self, plan: &RowPlan) -> Checked {
        let key = plan.key.clone().unwrap_or_default();
        match &plan.action {
            Action::Invalid(problems) => Checked::Invalid {
                key,
                problems: problems.clone(),
            },
            Action::Refused(_) => {
                let (header, value) = match self.planner.key_field() {
                    Some(field) => (field.header.to_string(), key.clone()),
                    None => (String::new(), key.clone()),
                };
                let file = self.planner.validator().file().clone();
                let problem =
                    RowProblem::new(&file, plan.row(), &header, &value, refusal_text(plan, &key));
                Checked::Invalid {
                    key,
                    problems: vec![problem],
                }
            }
            Action::Create => Checked::Create {
                key,
                values: self.create_values(plan),
            },
            Action::Unchanged { id } => Checked::Unchanged {
                key,
                id: id.clone(),
            },
            Action::Update { id, changes } => {
                let mut link_company = None;
                let mut values = Vec::new();
                for change in changes {
                    let Some(attribute) = self.attributes.get(&change.code) else {
                        continue;
                    };
                    if self.contacts
                        && attribute.kind == AttrKind::Company
                        && !change.wire.is_empty()
                    {
                        link_company = Some(
                            change
                                .wire
                                .trim_start_matches('(')
                                .trim_end_matches(')')
                                .to_string(),
                        );
                    } else {
                        values.push((attribute.clone(), change.wire.clone()));
                    }
                }
                let entry_name = self.names.get(id).cloned();
                Checked::Update {
                    key,
                    id: id.clone(),
                    values,
                    link_company,
                    entry_name,
                }
            }
        }
    }

    /// What a create sends: the row's non-empty values ([`RowPlan::create_pairs`]) with
    /// their attributes, found by field position rather than by code.
    fn create_values(&self, plan: &RowPlan) -> Vec<(Arc<Attribute>, String)> {
        self.field_attributes
            .iter()
            .enumerate()
            .filter_map(|(i, attribute)| {
                let value = plan.values.value(i)?;
                Some((attribute.clone()?, value.wire.to_string()))
            })
            .collect()
    }
}

fn has_company(prepared: &Prepared) -> bool {
    prepared
        .table
        .attributes
        .iter()
        .any(|a| a.kind == AttrKind::Company)
}

/// The planner's words for a refusal, without the quoted key it already repeats.
fn refusal_text(plan: &RowPlan, key: &str) -> String {
    let text = plan.describe();
    if key.is_empty() {
        text
    } else {
        text.replacen(&format!("\"{key}\" "), "", 1)
    }
}
