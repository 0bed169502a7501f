//! The two Jira REST endpoints the client learns a schema from: `fieldsList` (names, types,
//! flags in form order) and `getNomDetails` (codes, options, date format, an entry's values).
//!
//! Both authenticate with Jira credentials (Basic `user:token` or Bearer token), never the API
//! key. Answers are `(status, JSON)`; the server owns HTTP.

use base64::Engine;
use chrono::{Datelike, Months, NaiveDate};
use serde_json::{json, Value};

use super::store::{Entry, Store, Tx};
use super::values::{self, Lookup};
use crate::schema::{AttrKind, Attribute, Schema, TableSchema};
use crate::secret::Secret;

/// Who may call the REST endpoints.
pub struct RestAuth {
    pub token: Secret,
    pub admin: String,
}

/// The authenticated user: the full-rights one or the read-only viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestUser {
    Admin,
    Viewer,
}

pub type Answer = (u16, Value);

fn unauthorized() -> Answer {
    (
        401,
        json!({"message": "Client must be authenticated to access this resource."}),
    )
}

fn not_found(what: &str) -> Answer {
    (404, json!({"message": what}))
}

impl RestAuth {
    /// Checks an `Authorization` header.
    pub fn check(&self, header: Option<&str>) -> Option<RestUser> {
        let header = header?.trim();
        if let Some(token) = header.strip_prefix("Bearer ") {
            return (token.trim() == self.token.expose()).then_some(RestUser::Admin);
        }
        let encoded = header.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, password) = decoded.split_once(':')?;
        if password != self.token.expose() {
            return None;
        }
        if user.eq_ignore_ascii_case(&self.admin) {
            Some(RestUser::Admin)
        } else if user.eq_ignore_ascii_case(super::servlet::VIEWER) {
            Some(RestUser::Viewer)
        } else {
            None
        }
    }
}

fn find_table<'s>(schema: &'s Schema, name: &str) -> Option<&'s TableSchema> {
    schema
        .tables
        .iter()
        .find(|t| t.table.eq_ignore_ascii_case(name.trim()))
}

/// `GET /rest/admin_rest/1.0/fields/{TABLE}/fieldsList`
pub fn fields_list(schema: &Schema, user: Option<RestUser>, table: &str) -> Answer {
    if user.is_none() {
        return unauthorized();
    }
    let Some(table) = find_table(schema, table) else {
        return not_found("table not found");
    };
    let fields: Vec<Value> = table
        .attributes
        .iter()
        .map(|a| {
            json!({
                "isinorder": false, "tab": a.tab, "isdisabled": null, "name": a.name, "show": a.show,
                "isreadonly": a.read_only, "disabled": null, "id": a.id, "nameen": a.name_en,
                "type": a.kind.code(), "required": a.required,
            })
        })
        .collect();
    (200, Value::Array(fields))
}

/// The parameters of `getNomDetails`.
pub struct NomQuery<'a> {
    pub nom_id: Option<&'a str>,
    pub table: Option<&'a str>,
}

/// `GET /rest/catalog-rest/1.0/catalog/getNomDetails?nomId=&tableName=`; `nomId` 0 or
/// absent answers the blank form of a new entry.
pub fn nom_details(
    store: &Store,
    schema: &Schema,
    user: Option<RestUser>,
    query: NomQuery,
) -> Answer {
    let Some(user) = user else {
        return unauthorized();
    };
    let Some(table) = query.table.and_then(|t| find_table(schema, t)) else {
        return not_found("table not found");
    };
    let nom_id = query
        .nom_id
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("0");
    let Ok(nom_id) = nom_id.parse::<i64>() else {
        return not_found("entry not found");
    };
    let result = store.transaction(|tx| -> rusqlite::Result<Option<Value>> {
        let entry = match nom_id {
            0 => Entry {
                id: 0,
                values: Default::default(),
            },
            id => match tx.get(&table.table, id)? {
                Some(entry) => entry,
                None => return Ok(None),
            },
        };
        let fields = table
            .attributes
            .iter()
            .map(|a| field(tx, schema, table, a, &entry))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(details(schema, table, user, fields, nom_id)))
    });
    match result {
        Ok(Some(body)) => (200, body),
        Ok(None) => not_found("entry not found"),
        Err(_) => (500, json!({"message": "Internal server error"})),
    }
}

fn tab_code(table: &TableSchema) -> String {
    match table.table.as_str() {
        "CLIENTS" => "org_main".into(),
        "CONTACTS" => "contact_main".into(),
        other => format!("{}_main", other.to_lowercase()),
    }
}

fn field(
    tx: &Tx,
    schema: &Schema,
    table: &TableSchema,
    attr: &Attribute,
    entry: &Entry,
) -> rusqlite::Result<Value> {
    let stored = entry.values.get(&attr.code).map(String::as_str);
    let value = match entry.id {
        0 => String::new(),
        _ => values::render_value(attr, stored, &schema.date_format, tx)?,
    };
    let options = match (&attr.kind, &attr.dictionary) {
        (AttrKind::Dictionary, Some(name)) => tx.dictionary_values(name)?,
        _ => attr.options.clone(),
    };
    let select_value = match attr.kind.has_options() {
        true => stored.unwrap_or("").to_string(),
        false => String::new(),
    };
    let values: Vec<Value> = options
        .iter()
        .map(|o| json!({"code": o.id, "value": o.label}))
        .collect();
    Ok(json!({
        "id": attr.id,
        "isName": attr.is_name,
        "isLogin": attr.code.ends_with("_login"),
        "isRequired": attr.required,
        "code": attr.code,
        "valuesRu": "",
        "tableName": table.table,
        "nameRu": attr.name,
        "type": attr.kind.code(),
        "tabCode": tab_code(table),
        "width": 200,
        // The document's example sends the opposite of fieldsList's `show`.
        "visible": (!attr.show).to_string(),
        "value": value,
        "selectValue": select_value,
        "isReadonly": attr.read_only,
        "dictionaryType": attr.dictionary.clone().unwrap_or_default(),
        "values": values,
        "isUnique": attr.unique,
    }))
}

fn details(
    schema: &Schema,
    table: &TableSchema,
    user: RestUser,
    fields: Vec<Value>,
    nom_id: i64,
) -> Value {
    let may_edit = user == RestUser::Admin;
    let mut tabs: Vec<i64> = table.attributes.iter().map(|a| a.tab).collect();
    tabs.dedup();
    let tabs: Vec<Value> = tabs
        .iter()
        .map(|id| json!({"id": id, "code": tab_code(table), "name": "Main"}))
        .collect();
    let mut out = json!({
        "companiesViewPerm": true, "tranPerm": true, "addPerm": may_edit, "removePerm": may_edit,
        "editRecordPerm": may_edit, "locale": "en", "readonly": !may_edit,
        "fields": fields, "fieldsTabs": tabs, "dateFormat": schema.date_format,
    });
    if let Value::Object(map) = &mut out {
        for (key, date) in period_dates(chrono::Local::now().date_naive()) {
            map.insert(
                key.into(),
                Value::String(values::render_date(date, &schema.date_format, true)),
            );
        }
        map.insert("recordId".into(), Value::String(nom_id.to_string()));
    }
    out
}

/// The report periods the document's example lists, relative to `today`.
fn period_dates(today: NaiveDate) -> Vec<(&'static str, NaiveDate)> {
    let ymd = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(today);
    let month_start = ymd(today.year(), today.month(), 1);
    let month_end = month_start + Months::new(1) - chrono::Days::new(1);
    let quarter_start = ymd(today.year(), (today.month() - 1) / 3 * 3 + 1, 1);
    let quarter = |start: NaiveDate| (start, start + Months::new(3) - chrono::Days::new(1));
    let (q_start, q_end) = quarter(quarter_start);
    let (lq_start, lq_end) = quarter(quarter_start - Months::new(3));
    let year = today.year();
    let mut out = vec![
        ("past90start", today - chrono::Days::new(90)),
        ("past90end", today),
        ("past30start", today - chrono::Days::new(30)),
        ("past30end", today),
        ("monthstart", month_start),
        ("monthend", month_end),
        ("lastmonthstart", month_start - Months::new(1)),
        ("lastmonthend", month_start - chrono::Days::new(1)),
        ("thisquarterstart", q_start),
        ("thisquarterend", q_end),
        ("lastquarterstart", lq_start),
        ("lastquarterend", lq_end),
        ("thisyearstart", ymd(year, 1, 1)),
        ("thisyearend", ymd(year, 12, 31)),
        ("lastyearstart", ymd(year - 1, 1, 1)),
        ("lastyearend", ymd(year - 1, 12, 31)),
    ];
    let quarters = [
        ("q1start", "q1end", 1, 3, 31),
        ("q2start", "q2end", 4, 6, 30),
        ("q3start", "q3end", 7, 9, 30),
        ("q4start", "q4end", 10, 12, 31),
    ];
    for (start_key, end_key, first, last, last_day) in quarters {
        out.push((start_key, ymd(year, first, 1)));
        out.push((end_key, ymd(year, last, last_day)));
    }
    out
}
