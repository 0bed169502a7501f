//! The servlet commands, one function each, run inside one store transaction after the gate
//! (`servlet`) has let them through. Answers follow docs/api-notes.md word for word; this
//! module knows nothing of HTTP, faults or rate limits.

use serde_json::{json, Map, Value};

use super::entries::{
    self, done, locate, render, store_entry, Failure, FieldError, NameKey, Writes, COMPANY, CONTACT,
};
use super::servlet::{Command, Params};
use super::store::{Entry, Tx};
use super::values::{self, find_option, Lookup};
use crate::schema::{AttrKind, Attribute, Schema, TableSchema};

/// Runs one command and returns its success answer.
pub fn run(command: Command, params: &Params, schema: &Schema, tx: &Tx) -> Result<Value, Failure> {
    use Command::*;
    match command {
        GetCompanies => list(tx, schema, "CLIENTS", "companies", NameKey::Renamed),
        GetContacts => list(tx, schema, "CONTACTS", "contacts", NameKey::Code),
        GetCompanyByName => get(tx, schema, params, &COMPANY),
        GetContactByName => get(tx, schema, params, &CONTACT),
        AddCompany => add(tx, schema, params, "CLIENTS", "company has been added"),
        AddContact => add(tx, schema, params, "CONTACTS", "contact has been added"),
        EditCompany => edit(tx, schema, params, &COMPANY, "company has been edited"),
        EditContact => edit(tx, schema, params, &CONTACT, "contact has been edited"),
        DeleteCompany => delete(tx, params, &COMPANY, "company has been removed"),
        DeleteContact => delete(tx, params, &CONTACT, "contact has been removed"),
        SetContact => set_contact(tx, schema, params),
        UnsetContact => unset_contact(tx, schema, params),
        AddDictionaryValue => add_dictionary_value(tx, schema, params),
        RemoveDictionaryValue => remove_dictionary_value(tx, schema, params),
        SearchEntities => search(tx, schema, params),
        TransactionsList => transactions(tx, schema),
        UpdateOrCreateEntity => update_or_create(tx, schema, params),
        SetCrmProperties => match params.any(&["issueId"]) {
            Some(_) => Ok(done("setCrmProperties done", &[])),
            None => Err(Failure::Details("issueId parameters are required!".into())),
        },
        Sync => Ok(done("sync process started", &[])),
    }
}

fn list(tx: &Tx, schema: &Schema, table: &str, key: &str, name: NameKey) -> Result<Value, Failure> {
    let table = entries::table(schema, table)?;
    let rows = tx
        .list(&table.table)?
        .iter()
        .map(|e| render(tx, schema, table, e, name).map(Value::Object))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(json!({"success": true, key: rows}))
}

fn get(
    tx: &Tx,
    schema: &Schema,
    params: &Params,
    locator: &entries::Locator,
) -> Result<Value, Failure> {
    let table = entries::table(schema, locator.table)?;
    let entry = locate(tx, params, locator)?;
    let mut out = Map::new();
    out.insert("success".into(), Value::Bool(true));
    out.extend(render(tx, schema, table, &entry, NameKey::Code)?);
    Ok(Value::Object(out))
}

fn add(
    tx: &Tx,
    schema: &Schema,
    params: &Params,
    table: &str,
    details: &str,
) -> Result<Value, Failure> {
    let table = entries::table(schema, table)?;
    let id = store_entry(
        tx,
        schema,
        table,
        None,
        Default::default(),
        Writes::for_add(table, params),
    )?;
    Ok(done(details, &[("id", id.to_string())]))
}

fn edit(
    tx: &Tx,
    schema: &Schema,
    params: &Params,
    locator: &entries::Locator,
    details: &str,
) -> Result<Value, Failure> {
    let table = entries::table(schema, locator.table)?;
    let entry = locate(tx, params, locator)?;
    store_entry(
        tx,
        schema,
        table,
        Some(entry.id),
        entry.values,
        Writes::for_edit(table, params),
    )?;
    Ok(done(details, &[]))
}

fn delete(
    tx: &Tx,
    params: &Params,
    locator: &entries::Locator,
    details: &str,
) -> Result<Value, Failure> {
    let entry = locate(tx, params, locator)?;
    tx.delete(entry.id)?;
    Ok(done(details, &[]))
}

/// The contact table's company reference attribute.
fn contact_company(schema: &Schema) -> Result<(&TableSchema, &Attribute), Failure> {
    let contacts = entries::table(schema, "CONTACTS")?;
    let attr = contacts
        .attributes
        .iter()
        .find(|a| a.kind == AttrKind::Company)
        .ok_or_else(Failure::not_found)?;
    Ok((contacts, attr))
}

/// Stores `value` (an id in parentheses, or empty) in a contact's company reference, for
/// `setcontact` and `unsetcontact`; returns the contact's id.
fn store_company_ref(
    tx: &Tx,
    schema: &Schema,
    (contacts, attr): (&TableSchema, &Attribute),
    contact: Entry,
    value: String,
) -> Result<i64, Failure> {
    let writes = Writes {
        values: vec![(attr, value)],
        errors: Vec::new(),
    };
    store_entry(
        tx,
        schema,
        contacts,
        Some(contact.id),
        contact.values,
        writes,
    )?;
    Ok(contact.id)
}

fn entry_name(tx: &Tx, table: &str, id: i64) -> Result<String, Failure> {
    Ok(tx.entry_name(table, id)?.unwrap_or_default())
}

fn set_contact(tx: &Tx, schema: &Schema, params: &Params) -> Result<Value, Failure> {
    let (contacts, attr) = contact_company(schema)?;
    let company = locate(tx, params, &COMPANY)?;
    let contact = locate(tx, params, &CONTACT)?;
    let contact_id = store_company_ref(
        tx,
        schema,
        (contacts, attr),
        contact,
        format!("({})", company.id),
    )?;
    let message = format!(
        "company {} set for contact {}",
        entry_name(tx, "CLIENTS", company.id)?,
        entry_name(tx, "CONTACTS", contact_id)?
    );
    Ok(done(&message, &[]))
}

fn unset_contact(tx: &Tx, schema: &Schema, params: &Params) -> Result<Value, Failure> {
    let (contacts, attr) = contact_company(schema)?;
    let contact = locate(tx, params, &CONTACT)?;
    let company = match contact
        .values
        .get(&attr.code)
        .and_then(|id| id.parse::<i64>().ok())
    {
        Some(id) => entry_name(tx, "CLIENTS", id)?,
        None => String::new(),
    };
    let contact_id = store_company_ref(tx, schema, (contacts, attr), contact, String::new())?;
    let message = format!(
        "company {company} unset for contact {}",
        entry_name(tx, "CONTACTS", contact_id)?
    );
    Ok(done(&message, &[]))
}

/// The dictionary a command names, by its stored spelling; not found otherwise.
fn dictionary_name(tx: &Tx, schema: &Schema, name: &str) -> Result<String, Failure> {
    if let Some(stored) = tx.dictionary_exists(name)? {
        return Ok(stored);
    }
    schema
        .dictionary(name)
        .map(|d| d.name.clone())
        .ok_or_else(Failure::not_found)
}

fn add_dictionary_value(tx: &Tx, schema: &Schema, params: &Params) -> Result<Value, Failure> {
    let (Some(name), Some(label)) = (params.any(&["dictionaryName"]), params.any(&["newvalue"]))
    else {
        return Err(Failure::Details(
            "dictionaryName and newvalue parameters are required!".into(),
        ));
    };
    let dictionary = dictionary_name(tx, schema, name)?;
    let lower = label.trim().to_lowercase();
    if tx
        .dictionary_values(&dictionary)?
        .iter()
        .any(|v| v.label.trim().to_lowercase() == lower)
    {
        return Err(Failure::Fields(vec![FieldError::new(
            "newvalue",
            entries::DUPLICATE,
        )]));
    }
    let id = tx.add_dictionary_value(&dictionary, label.trim())?;
    Ok(done(
        "new value has been added to the dictionary",
        &[("id", id)],
    ))
}

fn remove_dictionary_value(tx: &Tx, schema: &Schema, params: &Params) -> Result<Value, Failure> {
    let (Some(name), Some(value)) = (
        params.any(&["dictionaryName"]),
        params.any(&["valuetoremove"]),
    ) else {
        return Err(Failure::Details(
            "dictionaryName and valuetoremove parameters are required!".into(),
        ));
    };
    let dictionary = dictionary_name(tx, schema, name)?;
    let values = tx.dictionary_values(&dictionary)?;
    let option = find_option(&values, value).ok_or_else(Failure::not_found)?;
    tx.remove_dictionary_value(&dictionary, &option.id)?;
    Ok(done("the value has been removed from the dictionary", &[]))
}

/// `crm_param_N` / `crm_param_N_value` pairs in the order of N.
fn attribute_pairs(params: &Params) -> Vec<(String, String)> {
    let mut pairs: Vec<(u64, String, String)> = params
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix("crm_param_")?.parse::<u64>().ok()?;
            let value = params.get(&format!("{k}_value")).unwrap_or("");
            Some((n, v.to_string(), value.to_string()))
        })
        .collect();
    pairs.sort_by_key(|(n, _, _)| *n);
    pairs.into_iter().map(|(_, a, v)| (a, v)).collect()
}

fn table_param<'s>(schema: &'s Schema, params: &Params) -> Result<&'s TableSchema, Failure> {
    let name = params
        .any(&["tableName"])
        .ok_or_else(|| Failure::Details("tableName parameters are required!".into()))?;
    entries::table(schema, name)
}

fn search(tx: &Tx, schema: &Schema, params: &Params) -> Result<Value, Failure> {
    let table = table_param(schema, params)?;
    let mut filters = Vec::new();
    let mut errors = Vec::new();
    for (name, value) in attribute_pairs(params) {
        match values::resolve_attribute(table, &name) {
            Some(attr) => filters.push((attr, value.trim().to_lowercase())),
            None => errors.push(FieldError::new(&name, entries::UNKNOWN_ATTRIBUTE)),
        }
    }
    if !errors.is_empty() {
        return Err(Failure::Fields(errors));
    }
    let mut records = Vec::new();
    'entries: for entry in tx.list(&table.table)? {
        for (attr, wanted) in &filters {
            let shown = values::render_value(
                attr,
                entry.values.get(&attr.code).map(String::as_str),
                &schema.date_format,
                tx,
            )?;
            if shown.trim().to_lowercase() != *wanted {
                continue 'entries;
            }
        }
        records.push(Value::Object(render(
            tx,
            schema,
            table,
            &entry,
            NameKey::Repeated,
        )?));
    }
    let count = records.len();
    Ok(json!({"success": true, "records": records, "count": count}))
}

fn update_or_create(tx: &Tx, schema: &Schema, params: &Params) -> Result<Value, Failure> {
    let table = table_param(schema, params)?;
    let pairs = attribute_pairs(params);
    let writes = Writes::collect(
        table,
        pairs
            .iter()
            .map(|(a, v)| (a.as_str(), a.as_str(), v.as_str())),
    );
    let existing = match table.name_attribute() {
        Some(name_attr) => match writes.values.iter().find(|(a, _)| a.code == name_attr.code) {
            Some((_, name)) if !name.trim().is_empty() => {
                tx.find_by_name(&table.table, name.trim())?
            }
            _ => None,
        },
        None => None,
    };
    match existing
        .map(|id| tx.get(&table.table, id))
        .transpose()?
        .flatten()
    {
        Some(entry) => {
            let id = store_entry(tx, schema, table, Some(entry.id), entry.values, writes)?;
            Ok(done("record has been updated", &[("id", id.to_string())]))
        }
        None => {
            let id = store_entry(tx, schema, table, None, Default::default(), writes)?;
            Ok(done("new record has been added", &[("id", id.to_string())]))
        }
    }
}

/// The document's nested transaction list: every TRANSACTIONS entry as a row whose `cell`
/// holds its attributes in form order (dates unpadded, sums grouped by thousands).
fn transactions(tx: &Tx, schema: &Schema) -> Result<Value, Failure> {
    let table = entries::table(schema, "TRANSACTIONS")?;
    let mut rows = Vec::new();
    let mut total = 0.0_f64;
    for entry in tx.list(&table.table)? {
        let mut cells = Vec::new();
        let (mut company_id, mut company_name, mut direction) =
            (String::new(), String::new(), "debet");
        for attr in &table.attributes {
            let stored = entry.values.get(&attr.code).map(String::as_str);
            let shown = values::render_value(attr, stored, &schema.date_format, tx)?;
            let cell = match (&attr.kind, stored) {
                (AttrKind::Date, Some(iso)) => {
                    match chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
                        Ok(date) => values::render_date(date, &schema.date_format, false),
                        Err(_) => shown.clone(),
                    }
                }
                (AttrKind::Number, Some(number)) => {
                    total += number.parse::<f64>().unwrap_or(0.0);
                    values::group_thousands(number)
                }
                _ => shown.clone(),
            };
            if attr.kind == AttrKind::Company && company_id.is_empty() {
                company_id = stored.unwrap_or("").to_string();
                company_name = shown.clone();
            }
            if attr.kind == AttrKind::List && shown.eq_ignore_ascii_case("Expense") {
                direction = "credit";
            }
            cells.push(cell);
        }
        rows.push(json!({
            "companyId": company_id,
            "companyName": company_name,
            "id": entry.id.to_string(),
            "cell": cells,
            "direction": direction,
        }));
    }
    let all_sum = format_total(total);
    Ok(json!({
        "success": true,
        "records": {
            "userdata": {"allSum": values::group_thousands(&all_sum), "allSumVal": all_sum},
            "total": "1",
            "records": rows.len().to_string(),
            "tranRemovePerm": true,
            "page": "1",
            "tranEditRecordPerm": true,
            "tranExportPerm": true,
            "rows": rows,
            "tranFormView": true,
            "alwaysShowDecimalPart": false,
        }
    }))
}

/// A total without a decimal part when it is whole, else with up to two decimals.
fn format_total(total: f64) -> String {
    if total.fract() == 0.0 {
        format!("{total:.0}")
    } else {
        let s = format!("{total:.2}");
        s.trim_end_matches('0').to_string()
    }
}
