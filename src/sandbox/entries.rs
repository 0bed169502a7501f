//! Entry-level work shared by the servlet commands: rendering an entry as the API reads it,
//! turning parameters into attribute writes, validating and storing them in one step, and
//! finding the company or contact a command names.
//!
//! Everything runs inside the caller's transaction; failures are [`Failure`] values that the
//! server turns into the documented answers.
//! Nothing here speaks HTTP or knows which command is running beyond what it is handed.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::servlet::{Params, RESERVED};
use super::store::{normalise, Entry, EntryIndex, Tx};
use super::values::{self, ValueError};
use crate::schema::{AttrKind, Attribute, Schema, TableSchema};

/// One element of a `details` array.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    #[serde(rename = "fieldCode")]
    pub field_code: String,
    #[serde(rename = "errorMessage")]
    pub error_message: String,
}

impl FieldError {
    pub fn new(code: &str, message: &str) -> FieldError {
        FieldError {
            field_code: code.to_string(),
            error_message: message.to_string(),
        }
    }
}

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// `{"success": false, "details": "<message>"}`
    Details(String),
    /// `{"success": false, "details": [{"fieldCode", "errorMessage"}, ...]}`
    Fields(Vec<FieldError>),
    /// The store failed: answered as an internal error.
    Db(rusqlite::Error),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Db(e)
    }
}

impl Failure {
    pub fn not_found() -> Failure {
        Failure::Details("entry can not be found!".into())
    }

    /// The answer body (`None` for store failures, which are not API answers).
    pub fn to_json(&self) -> Option<Value> {
        match self {
            Failure::Details(message) => Some(json!({"success": false, "details": message})),
            Failure::Fields(fields) => Some(json!({"success": false, "details": fields})),
            Failure::Db(_) => None,
        }
    }
}

pub const DUPLICATE: &str = "This value is already in use";
pub const REQUIRED: &str = "This field is required";
pub const UNKNOWN_ATTRIBUTE: &str = "Unknown attribute";

/// Where the name attribute goes in a rendered entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKey {
    /// Under its code (`getcompanybyname`: `org_name`).
    Code,
    /// Under `name` instead of its code (`getcompanies`).
    Renamed,
    /// Under its code, and again as `name` at the end (`searchEntities`).
    Repeated,
}

/// `{"id": "56", <code>: <value>, ...}` in form order.
pub fn render(
    tx: &Tx,
    schema: &Schema,
    table: &TableSchema,
    entry: &Entry,
    key: NameKey,
) -> rusqlite::Result<Map<String, Value>> {
    let mut out = Map::new();
    out.insert("id".into(), Value::String(entry.id.to_string()));
    let mut name = None;
    for attr in &table.attributes {
        let text = values::render_value(
            attr,
            entry.values.get(&attr.code).map(String::as_str),
            &schema.date_format,
            tx,
        )?;
        if attr.is_name {
            name = Some(text.clone());
            if key == NameKey::Renamed {
                out.insert("name".into(), Value::String(text));
                continue;
            }
        }
        out.insert(attr.code.clone(), Value::String(text));
    }
    if key == NameKey::Repeated {
        if let Some(name) = name {
            out.insert("name".into(), Value::String(name));
        }
    }
    Ok(out)
}

/// Attribute writes named by a command's parameters, and the parameters naming nothing.
pub struct Writes<'a> {
    pub values: Vec<(&'a Attribute, String)>,
    pub errors: Vec<FieldError>,
}

impl<'a> Writes<'a> {
    /// `addcompany`/`addcontact`: only `clients-<code or name>` parameters are attributes.
    pub fn for_add(table: &'a TableSchema, params: &Params) -> Writes<'a> {
        let pairs = params
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("clients-").map(|attr| (k, attr, v)));
        Writes::collect(table, pairs)
    }

    /// `edit*`: every parameter that is not reserved is an attribute.
    pub fn for_edit(table: &'a TableSchema, params: &Params) -> Writes<'a> {
        let pairs = params
            .iter()
            .filter(|(k, _)| !RESERVED.contains(k))
            .map(|(k, v)| {
                let attr = match k.strip_prefix("clients-") {
                    Some(rest) if values::resolve_attribute(table, k).is_none() => rest,
                    _ => k,
                };
                (k, attr, v)
            });
        Writes::collect(table, pairs)
    }

    /// From `(parameter as sent, attribute key, value)` triples.
    pub fn collect<'p>(
        table: &'a TableSchema,
        pairs: impl Iterator<Item = (&'p str, &'p str, &'p str)>,
    ) -> Writes<'a> {
        let mut writes = Writes {
            values: Vec::new(),
            errors: Vec::new(),
        };
        for (sent, key, value) in pairs {
            match values::resolve_attribute(table, key) {
                Some(attr) => {
                    writes.values.retain(|(a, _)| a.code != attr.code);
                    writes.values.push((attr, value.to_string()));
                }
                None => writes.errors.push(FieldError::new(sent, UNKNOWN_ATTRIBUTE)),
            }
        }
        writes
    }
}

/// Whether the servlet insists on a required attribute. References are exempt: the
/// document's own `addcontact` example creates a contact without its required Company.
fn enforced_required(attr: &Attribute) -> bool {
    attr.required && !matches!(attr.kind, AttrKind::Company | AttrKind::Contact)
}

/// Validates `writes` over `current` and stores the result (a new entry when `id` is `None`).
/// Every bad attribute is reported at once; nothing is written unless all are good.
pub fn store_entry(
    tx: &Tx,
    schema: &Schema,
    table: &TableSchema,
    id: Option<i64>,
    mut current: BTreeMap<String, String>,
    writes: Writes,
) -> Result<i64, Failure> {
    let mut errors = writes.errors;
    for (attr, raw) in &writes.values {
        match values::parse_value(attr, raw, &schema.date_format, tx) {
            Ok(Some(stored)) => {
                current.insert(attr.code.clone(), stored);
            }
            Ok(None) => {
                current.remove(&attr.code);
            }
            Err(ValueError::Invalid(message)) => errors.push(FieldError::new(&attr.code, &message)),
            Err(ValueError::Db(e)) => return Err(Failure::Db(e)),
        }
    }
    for attr in table.attributes.iter().filter(|a| enforced_required(a)) {
        if !current.contains_key(&attr.code) && !errors.iter().any(|e| e.field_code == attr.code) {
            errors.push(FieldError::new(&attr.code, REQUIRED));
        }
    }
    if !errors.is_empty() {
        return Err(Failure::Fields(errors));
    }
    let index = EntryIndex {
        name: table
            .name_attribute()
            .and_then(|a| current.get(&a.code).cloned()),
        unique: table
            .attributes
            .iter()
            .filter(|a| a.unique)
            .filter_map(|a| current.get(&a.code).map(|v| (a.code.clone(), normalise(v))))
            .collect(),
    };
    let taken = tx.unique_conflicts(&table.table, &index, id)?;
    if !taken.is_empty() {
        return Err(Failure::Fields(
            taken
                .iter()
                .map(|code| FieldError::new(code, DUPLICATE))
                .collect(),
        ));
    }
    match id {
        Some(id) => {
            tx.update(&table.table, id, &current, &index)?;
            Ok(id)
        }
        None => Ok(tx.insert(&table.table, &current, &index)?),
    }
}

/// A table of the schema, or the documented not-found answer.
pub fn table<'s>(schema: &'s Schema, name: &str) -> Result<&'s TableSchema, Failure> {
    schema
        .tables
        .iter()
        .find(|t| t.table.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(Failure::not_found)
}

/// How a command names the entry it acts on.
pub struct Locator {
    pub table: &'static str,
    pub id_params: &'static [&'static str],
    pub name_param: &'static str,
    /// The documented answer when neither is sent.
    pub missing: &'static str,
}

pub const COMPANY: Locator = Locator {
    table: "CLIENTS",
    id_params: &["companyId"],
    name_param: "companyName",
    missing: "companyId or companyName parameters are required!",
};

pub const CONTACT: Locator = Locator {
    table: "CONTACTS",
    id_params: &["contactId", "contactID"],
    name_param: "contactName",
    missing: "contactId or contactName parameters are required!",
};

/// The entry a command names by id (plain or `(id)`) or by name.
pub fn locate(tx: &Tx, params: &Params, locator: &Locator) -> Result<Entry, Failure> {
    let id = if let Some(raw) = params.any(locator.id_params) {
        let raw = raw.trim();
        let raw = raw
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or(raw);
        raw.trim().parse::<i64>().ok()
    } else if let Some(name) = params.any(&[locator.name_param]) {
        tx.find_by_name(locator.table, name)?
    } else {
        return Err(Failure::Details(locator.missing.into()));
    };
    let Some(id) = id else {
        return Err(Failure::not_found());
    };
    tx.get(locator.table, id)?.ok_or_else(Failure::not_found)
}

/// `{"success": true, "details": message}` plus extra keys.
pub fn done(details: &str, extra: &[(&str, String)]) -> Value {
    let mut out = Map::new();
    out.insert("success".into(), Value::Bool(true));
    out.insert("details".into(), Value::String(details.into()));
    for (k, v) in extra {
        out.insert((*k).into(), Value::String(v.clone()));
    }
    Value::Object(out)
}
