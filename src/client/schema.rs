//! Builds a table's schema from a live instance: `fieldsList` (names, English names, types,
//! required, read-only, form order) joined with `getNomDetails` (codes, name attribute,
//! dictionaries, options, uniqueness, date format) on the attribute `id`.
//!
//! getNomDetails is asked for the blank form first (`nomId=0`); a server that refuses that
//! is asked for the table's first entry; an empty table on such a server is an error that
//! points at a saved schema file. The join itself is a pure function of the two answers.

use serde_json::{Map, Value};

use super::error::ApiError;
use super::response::{parse_bool, parse_id};
use super::Client;
use crate::schema::{AttrKind, Attribute, Dictionary, OptionValue, Schema, TableName, TableSchema};

/// One table as read from the instance, with the dictionaries its attributes use.
#[derive(Debug, Clone)]
pub struct FetchedTable {
    pub table: TableSchema,
    pub dictionaries: Vec<Dictionary>,
    pub date_format: String,
}

/// The date format the document's getNomDetails reports, used when an answer has none.
pub const DEFAULT_DATE_FORMAT: &str = "%e/%b/%y";

impl Client {
    /// A table's schema (`companies`, `CLIENTS`, a custom directory's table name). `dic`
    /// attributes name their dictionary; its values are in [`Client::schema`]'s dictionaries.
    pub async fn table_schema(&self, table: &str) -> Result<TableSchema, ApiError> {
        Ok(self.fetch_table(table).await?.table)
    }

    /// The schema of several tables, with every dictionary they use and the date format.
    pub async fn schema(&self, tables: &[&str]) -> Result<Schema, ApiError> {
        let mut schema = Schema {
            date_format: DEFAULT_DATE_FORMAT.into(),
            tables: Vec::new(),
            dictionaries: Vec::new(),
        };
        for (i, table) in tables.iter().enumerate() {
            let fetched = self.fetch_table(table).await?;
            if i == 0 {
                schema.date_format = fetched.date_format;
            }
            for dictionary in fetched.dictionaries {
                if schema.dictionary(&dictionary.name).is_none() {
                    schema.dictionaries.push(dictionary);
                }
            }
            schema.tables.push(fetched.table);
        }
        Ok(schema)
    }

    /// Fetches fieldsList and getNomDetails for one table and joins them.
    pub async fn fetch_table(&self, table: &str) -> Result<FetchedTable, ApiError> {
        let table = TableName::resolve(table);
        let fields = self.fields_list(&table).await?;
        let details = match self.nom_details(&table, "0").await {
            Ok(details) if has_fields(&details) => details,
            Err(err) if err.is_fatal() => return Err(err),
            refused => {
                tracing::debug!(
                    table,
                    ?refused,
                    "getNomDetails refused nomId=0; asking for the first entry"
                );
                self.details_of_first_entry(&table).await?
            }
        };
        join(&table, &fields, &details)
    }

    async fn details_of_first_entry(&self, table: &str) -> Result<Value, ApiError> {
        let blank = TableSchema {
            table: table.to_string(),
            attributes: Vec::new(),
        };
        let first = self.list(&blank).await?.into_iter().next().ok_or_else(|| {
            ApiError::NotFound(format!(
                "the server does not describe an empty table and {} has no entries to ask about; \
                 use a saved schema file (`crm-bulk schema pull` on an instance that has entries, then --schema FILE)",
                TableName::friendly(table)
            ))
        })?;
        self.nom_details(table, &first.id).await
    }
}

fn has_fields(details: &Value) -> bool {
    details
        .get("fields")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

/// Joins a fieldsList array with a getNomDetails object on the attribute id, in fieldsList's
/// (form) order. Attributes that are disabled, or that getNomDetails does not describe (no
/// code to send), are left out.
pub fn join(table: &str, fields_list: &Value, details: &Value) -> Result<FetchedTable, ApiError> {
    let listed = fields_list
        .as_array()
        .ok_or_else(|| ApiError::Protocol(format!("fieldsList of {table} is not a list")))?;
    let described: Vec<&Map<String, Value>> = details
        .get("fields")
        .and_then(Value::as_array)
        .map(|f| f.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let mut attributes = Vec::new();
    let mut dictionaries: Vec<Dictionary> = Vec::new();
    for field in listed.iter().filter_map(Value::as_object) {
        if flag(field, "isdisabled") || flag(field, "disabled") {
            continue;
        }
        let Some(id) = field
            .get("id")
            .and_then(parse_id)
            .and_then(|id| id.parse::<i64>().ok())
        else {
            continue;
        };
        let Some(detail) = described
            .iter()
            .find(|d| d.get("id").and_then(parse_id) == Some(id.to_string()))
        else {
            tracing::warn!(
                table,
                id,
                name = text(field, "name"),
                "getNomDetails does not describe this attribute; it is left out"
            );
            continue;
        };
        let attribute = attribute(field, detail, id);
        if attribute.kind == AttrKind::Dictionary {
            if let Some(name) = &attribute.dictionary {
                if !dictionaries
                    .iter()
                    .any(|d| d.name.eq_ignore_ascii_case(name))
                {
                    dictionaries.push(Dictionary {
                        name: name.clone(),
                        values: options(detail),
                    });
                }
            }
        }
        attributes.push(attribute);
    }
    if attributes.is_empty() {
        return Err(ApiError::Protocol(format!(
            "the server describes no attributes of {table}"
        )));
    }
    let date_format = details
        .get("dateFormat")
        .and_then(Value::as_str)
        .filter(|f| !f.is_empty())
        .unwrap_or(DEFAULT_DATE_FORMAT)
        .to_string();
    Ok(FetchedTable {
        table: TableSchema {
            table: table.to_string(),
            attributes,
        },
        dictionaries,
        date_format,
    })
}

fn attribute(field: &Map<String, Value>, detail: &Map<String, Value>, id: i64) -> Attribute {
    let kind_code = text(detail, "type");
    let kind = AttrKind::from_code(
        if kind_code.is_empty() {
            text(field, "type")
        } else {
            kind_code
        }
        .as_str(),
    );
    let name = text(field, "name");
    let dictionary = Some(text(detail, "dictionaryType"))
        .filter(|d| kind == AttrKind::Dictionary && !d.is_empty());
    Attribute {
        id,
        code: text(detail, "code"),
        name_en: Some(text(field, "nameen"))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| name.clone()),
        name,
        required: flag(field, "required") || flag(detail, "isRequired"),
        unique: flag(detail, "isUnique"),
        read_only: flag(field, "isreadonly") || flag(detail, "isReadonly"),
        is_name: flag(detail, "isName"),
        // A dic attribute's values live in the schema's dictionaries (they change as
        // values are added); only lst attributes carry their own options.
        options: if kind == AttrKind::List {
            options(detail)
        } else {
            Vec::new()
        },
        dictionary,
        show: field.get("show").and_then(parse_bool).unwrap_or(true),
        tab: field
            .get("tab")
            .and_then(parse_id)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
        kind,
    }
}

fn options(detail: &Map<String, Value>) -> Vec<OptionValue> {
    detail
        .get("values")
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(|v| {
                    let id = v.get("code").and_then(parse_id)?;
                    let label = v.get("value").map(|l| match l {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })?;
                    Some(OptionValue { id, label })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn flag(object: &Map<String, Value>, key: &str) -> bool {
    object.get(key).and_then(parse_bool).unwrap_or(false)
}

fn text(object: &Map<String, Value>, key: &str) -> String {
    match object.get(key) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The document's own fieldsList and getNomDetails examples (contacts), abridged.
    fn document_example() -> (Value, Value) {
        let fields = json!([
            {"isinorder":false,"tab":12,"isdisabled":null,"name":"Phone","show":false,"isreadonly":false,"disabled":null,"id":47,"nameen":"Phone","type":"phone","required":false},
            {"isinorder":false,"tab":12,"isdisabled":null,"name":"Full Name","show":true,"isreadonly":false,"disabled":null,"id":28,"nameen":"Full Name","type":"strng","required":true},
            {"isinorder":false,"tab":12,"isdisabled":null,"name":"Position","show":true,"isreadonly":false,"disabled":null,"id":29,"nameen":"Position","type":"dic","required":false},
            {"isinorder":false,"tab":12,"isdisabled":null,"name":"JIRA login","show":false,"isreadonly":true,"disabled":null,"id":27,"nameen":"JIRA login","type":"strng","required":false},
            {"isinorder":false,"tab":12,"isdisabled":true,"name":"Old","show":false,"isreadonly":false,"disabled":null,"id":99,"nameen":"Old","type":"strng","required":false}
        ]);
        let details = json!({"fields":[
            {"id":28,"isName":true,"isRequired":true,"code":"contact_name","tableName":"CLIENTS","nameRu":"Full Name","type":"strng","isReadonly":false,"dictionaryType":"","values":[]},
            {"id":29,"isName":false,"isRequired":false,"code":"contact_position","nameRu":"Position","type":"dic","isReadonly":false,"dictionaryType":"Positions",
             "values":[{"code":"67","value":"Support Manager"},{"code":68,"value":"Developer"}]},
            {"id":27,"isName":false,"code":"contact_login","type":"strng","isReadonly":true,"values":[]},
            {"id":47,"isName":false,"code":"contacts_field_2a7753d6-2179-42ff-95f2-ecd2dd90ed13","type":"phone","isReadonly":false,"isUnique":"true","values":[]}
        ],"dateFormat":"%e/%b/%y","recordId":"47"});
        (fields, details)
    }

    #[test]
    fn joins_on_id_in_form_order() {
        let (fields, details) = document_example();
        let t = join("CONTACTS", &fields, &details).unwrap();
        let codes: Vec<_> = t.table.attributes.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "contacts_field_2a7753d6-2179-42ff-95f2-ecd2dd90ed13",
                "contact_name",
                "contact_position",
                "contact_login"
            ]
        );
        let name = t.table.name_attribute().unwrap();
        assert!(name.required && name.code == "contact_name");
        assert!(t.table.attribute("contact_login").unwrap().read_only);
        assert!(
            t.table.attribute_by_id(47).unwrap().unique,
            "isUnique as a string"
        );
        assert_eq!(
            t.table
                .attribute("contact_position")
                .unwrap()
                .dictionary
                .as_deref(),
            Some("Positions")
        );
        assert_eq!(
            t.dictionaries[0].values[1],
            OptionValue {
                id: "68".into(),
                label: "Developer".into()
            }
        );
        assert_eq!(t.date_format, "%e/%b/%y");
    }

    #[test]
    fn nothing_described_is_a_protocol_error() {
        let (fields, _) = document_example();
        assert!(matches!(
            join("CONTACTS", &fields, &json!({"fields": []})),
            Err(ApiError::Protocol(_))
        ));
    }
}
