//! Lenient parsing of servlet answers into typed values, and the classification of
//! `success: false` answers into [`ApiError`]s.
//!
//! Real servers are loose: `success` comes as a boolean or a string, `details` as a string or
//! an array, ids as strings or numbers, and the name attribute as `name` or `org_name`. This
//! module accepts all of that and hands the rest of the crate one shape ([`Entry`]). The
//! literal `Unsupported` becomes [`FieldValue::Unknown`], never data. It does no I/O and knows
//! nothing of HTTP statuses (see `retry` and `mod`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::{ApiError, FieldError};
use crate::schema::TableSchema;

/// The literal the API reads back for attributes it cannot render.
pub const UNSUPPORTED: &str = "Unsupported";

/// One attribute value as read from the CRM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// The value as the server rendered it (labels for options, names for references).
    Text(String),
    /// The server answered `Unsupported`: the value exists but cannot be read through the API.
    Unknown,
}

impl FieldValue {
    /// The text, or `None` when unknown.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(t) => Some(t),
            FieldValue::Unknown => None,
        }
    }
}

/// One entry (company, contact, product, ...) keyed by attribute code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub values: BTreeMap<String, FieldValue>,
}

impl Entry {
    /// The text of an attribute; `None` when absent or unknown.
    pub fn text(&self, code: &str) -> Option<&str> {
        self.values.get(code).and_then(FieldValue::as_text)
    }
}

/// What `updateOrCreateEntity` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// `new record has been added`; the id when the server sends one (a sandbox extension).
    Created { id: Option<String> },
    /// `record has been updated`.
    Updated { id: Option<String> },
}

impl UpsertOutcome {
    pub fn id(&self) -> Option<&str> {
        match self {
            UpsertOutcome::Created { id } | UpsertOutcome::Updated { id } => id.as_deref(),
        }
    }
}

/// One row of `transactionslist`, its `cell` array unpacked in the documented order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TransactionRow {
    pub id: String,
    pub company_id: String,
    pub company_name: String,
    pub issue_key: String,
    pub product: String,
    /// The type label (`Income`, `Expense`).
    pub kind: String,
    /// The date in the instance's format, day not padded (`2/Jan/20`).
    pub date: String,
    /// The sum with thousands separators (`21,000`).
    pub sum: String,
    /// `Plan` or `Fact`.
    pub plan_fact: String,
    /// `debet` (income) or `credit` (expense).
    pub direction: String,
}

/// Parses a servlet answer body. `Ok` holds the JSON object of a successful answer; a
/// `success: false` answer becomes its classified error.
pub fn parse_answer(command: &str, body: &str) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_str(body.trim_start_matches('\u{feff}')).map_err(|_| {
        ApiError::Protocol(format!(
            "the answer to {command} is not JSON: {}",
            shorten(body, 120)
        ))
    })?;
    let Value::Object(object) = value else {
        return Err(ApiError::Protocol(format!(
            "the answer to {command} is not a JSON object: {}",
            shorten(body, 120)
        )));
    };
    match object.get("success").map(parse_bool) {
        Some(Some(true)) => Ok(object),
        Some(Some(false)) => Err(classify(
            command,
            object.get("details").unwrap_or(&Value::Null),
        )),
        _ => Err(ApiError::Protocol(format!(
            "the answer to {command} has no success flag: {}",
            shorten(body, 120)
        ))),
    }
}

/// `true`, `false`, or the strings `"true"`/`"false"` in any case.
pub fn parse_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// An id sent as a string or a number.
pub fn parse_id(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `details` text of a success answer (empty when absent).
pub fn details_text(object: &Map<String, Value>) -> String {
    match object.get("details") {
        Some(Value::String(s)) => s.clone(),
        Some(other) if !other.is_null() => other.to_string(),
        _ => String::new(),
    }
}

/// Classifies the `details` of a `success: false` answer as the notes' table says.
pub fn classify(command: &str, details: &Value) -> ApiError {
    let text = match details {
        Value::Array(items) => return field_errors(items.iter()),
        Value::Object(_) => return field_errors(std::iter::once(details)),
        Value::String(s) => s.trim().to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let lower = text.to_ascii_lowercase();
    if lower.contains("invalid apikey")
        || (lower.starts_with("user ") && lower.ends_with("can not be found!"))
    {
        ApiError::Auth(text)
    } else if lower.starts_with("to access this resource user need") {
        let right = text
            .split('"')
            .nth(1)
            .map(str::to_string)
            .filter(|r| !r.is_empty());
        ApiError::Permission {
            message: text,
            right,
        }
    } else if lower.contains("can not be found") {
        ApiError::NotFound(text)
    } else if lower.ends_with("parameters are required!") {
        ApiError::MissingParams(text)
    } else if lower.starts_with("only ") && lower.ends_with("commands allowed") {
        ApiError::Unsupported {
            command: command.to_string(),
            message: text,
        }
    } else if lower.contains("too many requests") {
        ApiError::Throttled { retry_after: None }
    } else if text.is_empty() {
        ApiError::Rejected(format!("{command} failed without details"))
    } else {
        ApiError::Rejected(text)
    }
}

/// The array form of `details`: a duplicate error when every element is the document's
/// duplicate message, else field errors (each element keeps its own message either way).
fn field_errors<'a>(items: impl Iterator<Item = &'a Value>) -> ApiError {
    let fields: Vec<FieldError> = items
        .map(|item| match item {
            Value::Object(o) => FieldError {
                code: o.get("fieldCode").map(value_text).unwrap_or_default(),
                message: o.get("errorMessage").map(value_text).unwrap_or_default(),
            },
            other => FieldError {
                code: String::new(),
                message: value_text(other),
            },
        })
        .collect();
    if !fields.is_empty() && fields.iter().all(FieldError::is_duplicate) {
        ApiError::Duplicate { fields }
    } else {
        ApiError::Field { fields }
    }
}

/// A JSON scalar as text: strings as they are, numbers and booleans printed, null empty.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Keys that describe the answer, never an attribute.
const NOT_ATTRIBUTES: &[&str] = &["id", "success", "details"];

/// Turns one JSON object (a list element, or a whole `getcompanybyname` answer) into an
/// [`Entry`] normalised against the table: `name`/`org_name` both become the name
/// attribute's code, and `Unsupported` becomes unknown for attributes of unsupported types
/// (or attributes the schema does not know).
pub fn parse_entry(object: &Map<String, Value>, table: &TableSchema) -> Result<Entry, ApiError> {
    let id = object
        .get("id")
        .and_then(parse_id)
        .ok_or_else(|| ApiError::Protocol(format!("an entry of {} has no id", table.table)))?;
    let name_code = table.name_attribute().map(|a| a.code.as_str());
    let mut values = BTreeMap::new();
    for (key, value) in object {
        if NOT_ATTRIBUTES.contains(&key.as_str()) {
            continue;
        }
        let code = match (key.as_str(), name_code) {
            ("name" | "org_name", Some(code)) if table.attribute(key).is_none() => code,
            _ => key.as_str(),
        };
        // The record's own code wins over the `name` echo that searchEntities adds.
        if code != key && object.contains_key(code) {
            continue;
        }
        values.insert(code.to_string(), field_value(table, code, value));
    }
    Ok(Entry { id, values })
}

fn field_value(table: &TableSchema, code: &str, value: &Value) -> FieldValue {
    let text = value_text(value);
    let unsupported_kind = table
        .attribute(code)
        .map_or(true, |a| a.kind.is_unsupported());
    if text == UNSUPPORTED && unsupported_kind {
        FieldValue::Unknown
    } else {
        FieldValue::Text(text)
    }
}

/// The entries under `key` (`companies`, `contacts`, `records`) of a list answer.
pub fn parse_entries(
    object: &Map<String, Value>,
    key: &str,
    table: &TableSchema,
) -> Result<Vec<Entry>, ApiError> {
    match object.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::Object(o) => parse_entry(o, table),
                _ => Err(ApiError::Protocol(format!(
                    "an element of \"{key}\" is not an object"
                ))),
            })
            .collect(),
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(_) => Err(ApiError::Protocol(format!("\"{key}\" is not a list"))),
    }
}

/// The rows of a `transactionslist` answer (`records.rows[]`).
pub fn parse_transactions(object: &Map<String, Value>) -> Result<Vec<TransactionRow>, ApiError> {
    let rows = match object.get("records").and_then(|r| r.get("rows")) {
        Some(Value::Array(rows)) => rows,
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(_) => {
            return Err(ApiError::Protocol(
                "transactionslist: \"rows\" is not a list".into(),
            ))
        }
    };
    rows.iter()
        .map(|row| {
            let cell = |i: usize| {
                row.get("cell")
                    .and_then(|c| c.get(i))
                    .map(value_text)
                    .unwrap_or_default()
            };
            let field = |k: &str| row.get(k).map(value_text).unwrap_or_default();
            let id = row
                .get("id")
                .and_then(parse_id)
                .ok_or_else(|| ApiError::Protocol("a transaction has no id".into()))?;
            Ok(TransactionRow {
                id,
                company_id: row.get("companyId").and_then(parse_id).unwrap_or_default(),
                company_name: field("companyName"),
                issue_key: cell(0),
                product: cell(2),
                kind: cell(3),
                date: cell(4),
                sum: cell(5),
                plan_fact: cell(6),
                direction: field("direction"),
            })
        })
        .collect()
}

/// Shortens text for a message, on a character boundary.
pub fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;
    use serde_json::json;

    fn clients() -> TableSchema {
        Schema::default_sandbox()
            .table("companies")
            .cloned()
            .expect("CLIENTS")
    }

    fn err(body: Value) -> ApiError {
        parse_answer("addcompany", &body.to_string()).expect_err("a failure")
    }

    #[test]
    fn success_is_a_bool_or_a_string() {
        assert!(parse_answer("x", r#"{"success":true}"#).is_ok());
        assert!(parse_answer("x", r#"{"success":"true","id":"5"}"#).is_ok());
        assert!(
            matches!(parse_answer("x", r#"{"success":"false","details":"nope"}"#), Err(ApiError::Rejected(m)) if m == "nope")
        );
        assert!(matches!(
            parse_answer("x", r#"{"id":"5"}"#),
            Err(ApiError::Protocol(_))
        ));
        assert!(matches!(
            parse_answer("x", "<html>login</html>"),
            Err(ApiError::Protocol(_))
        ));
    }

    #[test]
    fn failures_are_classified_as_the_notes_say() {
        assert!(
            matches!(err(json!({"success":false,"details":"Invalid apikey!"})), ApiError::Auth(m) if m == "Invalid apikey!")
        );
        assert!(matches!(
            err(json!({"success":false,"details":"User bob can not be found!"})),
            ApiError::Auth(_)
        ));
        let perm = err(
            json!({"success":false,"details":"To access this resource user need \"Edit companies\" permissions."}),
        );
        assert!(
            matches!(&perm, ApiError::Permission { right: Some(r), .. } if r == "Edit companies"),
            "{perm:?}"
        );
        assert!(perm.is_fatal());
        assert!(matches!(
            err(json!({"success":false,"details":"entry can not be found!"})),
            ApiError::NotFound(_)
        ));
        assert!(matches!(
            err(
                json!({"success":false,"details":"companyId or companyName parameters are required!"})
            ),
            ApiError::MissingParams(_)
        ));
        assert!(matches!(
            err(json!({"success":false,"details":"only sync, getcompanies commands allowed"})),
            ApiError::Unsupported { .. }
        ));
    }

    #[test]
    fn details_arrays_are_duplicates_or_field_errors() {
        let dup = err(
            json!({"success":false,"details":[{"fieldCode":"org_name","errorMessage":"This value is already in use"}]}),
        );
        assert!(matches!(&dup, ApiError::Duplicate { fields } if fields[0].code == "org_name"));
        let mixed = err(json!({"success":"false","details":[
            {"fieldCode":"org_name","errorMessage":"This value is already in use"},
            {"fieldCode":"org_type","errorMessage":"Unknown option \"x\""}]}));
        assert!(
            matches!(&mixed, ApiError::Field { fields } if fields.len() == 2 && fields[0].is_duplicate())
        );
        let single = err(
            json!({"success":false,"details":{"fieldCode":"a","errorMessage":"Invalid number"}}),
        );
        assert!(
            matches!(&single, ApiError::Field { fields } if fields[0].message == "Invalid number")
        );
    }

    #[test]
    fn ids_are_strings_or_numbers() {
        assert_eq!(parse_id(&json!("56")), Some("56".into()));
        assert_eq!(parse_id(&json!(56)), Some("56".into()));
        assert_eq!(parse_id(&json!("")), None);
        assert_eq!(parse_id(&json!(null)), None);
    }

    #[test]
    fn name_and_org_name_both_become_the_name_code() {
        let table = clients();
        let listed = json!({"id": 1, "name": "Garry's", "org_type": "Lead"});
        let byname = json!({"success": true, "id": "1", "org_name": "Garry's", "org_type": "Lead"});
        let a = parse_entry(listed.as_object().unwrap(), &table).unwrap();
        let b = parse_entry(byname.as_object().unwrap(), &table).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.text("org_name"), Some("Garry's"));
        assert!(!a.values.contains_key("name") && !a.values.contains_key("success"));
    }

    #[test]
    fn search_records_keep_their_code_over_the_name_echo() {
        let table = clients();
        let record = json!({"id": "3", "org_name": "Acme", "name": "Acme"});
        let e = parse_entry(record.as_object().unwrap(), &table).unwrap();
        assert_eq!(e.values.len(), 1);
        assert_eq!(e.text("org_name"), Some("Acme"));
    }

    #[test]
    fn unsupported_is_unknown_only_where_the_type_is_unsupported() {
        let table = clients();
        let record = json!({"id": "3", "org_people": "Unsupported", "org_name": "Unsupported", "x_unknown": "Unsupported"});
        let e = parse_entry(record.as_object().unwrap(), &table).unwrap();
        assert_eq!(e.values["org_people"], FieldValue::Unknown);
        assert_eq!(e.values["x_unknown"], FieldValue::Unknown);
        assert_eq!(
            e.text("org_name"),
            Some("Unsupported"),
            "a company may be called that"
        );
    }

    #[test]
    fn transactions_unpack_cells() {
        let answer = json!({"success": true, "records": {"rows": [
            {"companyId": 42, "companyName": "Teamlead", "id": "7",
             "cell": ["", "Teamlead", "Jira SD", "Income", "30/Oct/19", "21,000", "Fact"], "direction": "debet"}]}});
        let rows = parse_transactions(answer.as_object().unwrap()).unwrap();
        assert_eq!(rows[0].company_id, "42");
        assert_eq!(
            (rows[0].sum.as_str(), rows[0].plan_fact.as_str()),
            ("21,000", "Fact")
        );
    }

    #[test]
    fn shorten_respects_characters() {
        assert_eq!(shorten("ééééé", 3), "ééé…");
        assert_eq!(shorten("abc", 3), "abc");
    }
}
