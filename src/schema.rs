//! The CRM's data model as this tool sees it: tables, their attributes, options and
//! dictionaries, and the instance's date format.
//!
//! One [`Schema`] type serves three purposes: the sandbox serves it (its default lives in
//! `src/sandbox/default_schema.json`, replaceable with `sandbox --schema`), the client builds
//! it from `fieldsList` and `getNomDetails` of a live instance, and `schema pull` saves it as
//! JSON. This module owns the model and its lookups; it does no I/O beyond (de)serialising.

use serde::{Deserialize, Serialize};

/// An attribute's type, as the API's `type` field spells it (`strng`, `eml`, `chckbx`, ...).
/// Unknown codes are kept as [`AttrKind::Other`] and treated as free text that reads back
/// as `Unsupported`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttrKind {
    /// `strng`: one-line text, at most 255 characters.
    Text,
    /// `txt`: multi-line text.
    LongText,
    /// `num`: a number.
    Number,
    /// `date`: a date, written in the instance's date format.
    Date,
    /// `eml`: an e-mail address.
    Email,
    /// `url`: a web address.
    Url,
    /// `phone`: a phone number.
    Phone,
    /// `chckbx`: a checkbox, `true` or `false`.
    Checkbox,
    /// `lst`: a list of values fixed in the attribute (options with ids).
    List,
    /// `dic`: a value from a custom directory (dictionary), written as option id or label.
    Dictionary,
    /// `org`: a reference to a company, written as its name or `(id)`.
    Company,
    /// `cnt`: a reference to a contact, written as its name or `(id)`.
    Contact,
    /// `usr`: Jira users; the API cannot render them and reads back `Unsupported`.
    Users,
    /// Any other type code.
    Other(String),
}

impl AttrKind {
    pub fn from_code(code: &str) -> AttrKind {
        match code {
            "strng" | "string" => AttrKind::Text,
            "txt" | "text" => AttrKind::LongText,
            "num" | "number" => AttrKind::Number,
            "date" => AttrKind::Date,
            "eml" => AttrKind::Email,
            "url" => AttrKind::Url,
            "phone" => AttrKind::Phone,
            "chckbx" => AttrKind::Checkbox,
            "lst" => AttrKind::List,
            "dic" => AttrKind::Dictionary,
            "org" => AttrKind::Company,
            "cnt" => AttrKind::Contact,
            "usr" => AttrKind::Users,
            other => AttrKind::Other(other.to_string()),
        }
    }

    pub fn code(&self) -> &str {
        match self {
            AttrKind::Text => "strng",
            AttrKind::LongText => "txt",
            AttrKind::Number => "num",
            AttrKind::Date => "date",
            AttrKind::Email => "eml",
            AttrKind::Url => "url",
            AttrKind::Phone => "phone",
            AttrKind::Checkbox => "chckbx",
            AttrKind::List => "lst",
            AttrKind::Dictionary => "dic",
            AttrKind::Company => "org",
            AttrKind::Contact => "cnt",
            AttrKind::Users => "usr",
            AttrKind::Other(code) => code,
        }
    }

    /// A short human name for messages and the `fields` table.
    pub fn describe(&self) -> &str {
        match self {
            AttrKind::Text => "text",
            AttrKind::LongText => "long text",
            AttrKind::Number => "number",
            AttrKind::Date => "date",
            AttrKind::Email => "e-mail",
            AttrKind::Url => "url",
            AttrKind::Phone => "phone",
            AttrKind::Checkbox => "checkbox",
            AttrKind::List => "list of values",
            AttrKind::Dictionary => "dictionary",
            AttrKind::Company => "company",
            AttrKind::Contact => "contact",
            AttrKind::Users => "users (unsupported)",
            AttrKind::Other(code) => code,
        }
    }

    /// Types the API renders as the literal `Unsupported`; they can be neither read nor
    /// written through it.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, AttrKind::Users | AttrKind::Other(_))
    }

    /// Types whose values are option ids on the wire and labels on read.
    pub fn has_options(&self) -> bool {
        matches!(self, AttrKind::List | AttrKind::Dictionary)
    }
}

impl Serialize for AttrKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for AttrKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Ok(AttrKind::from_code(&code))
    }
}

/// One option of a list-of-values attribute or a dictionary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionValue {
    /// The option id, as written (`"code"` in getNomDetails).
    pub id: String,
    /// The label, as read back (`"value"` in getNomDetails).
    pub label: String,
}

/// One attribute (column) of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    /// The numeric attribute id of fieldsList and getNomDetails.
    pub id: i64,
    /// The attribute code used on the wire (`org_name`, `clients_field_<uuid>`).
    pub code: String,
    /// The display name (`name` in fieldsList).
    pub name: String,
    /// The English name (`nameen` in fieldsList).
    pub name_en: String,
    #[serde(rename = "type")]
    pub kind: AttrKind,
    #[serde(default)]
    pub required: bool,
    /// Values must be unique within the table. Not part of the vendor's documented fields:
    /// see docs/api-notes.md ("Uniqueness").
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub read_only: bool,
    /// The table's name attribute (`isName`): the default matching key.
    #[serde(default)]
    pub is_name: bool,
    /// For `dic` attributes: the dictionary (custom directory) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dictionary: Option<String>,
    /// For `lst` attributes (and `dic` ones as read from getNomDetails): the options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OptionValue>,
    /// Shown in the list view (`show` in fieldsList).
    #[serde(default = "yes")]
    pub show: bool,
    /// The form tab id (`tab` in fieldsList).
    #[serde(default)]
    pub tab: i64,
}

fn yes() -> bool {
    true
}

impl Attribute {
    /// Whether an import may write this attribute.
    pub fn is_importable(&self) -> bool {
        !self.read_only && !self.kind.is_unsupported()
    }

    /// Finds an option by id or by label (labels compared ignoring case and surrounding
    /// spaces). `dictionaries` supplies the options of `dic` attributes.
    pub fn find_option<'a>(&'a self, schema: &'a Schema, value: &str) -> Option<&'a OptionValue> {
        let value = value.trim();
        let options = self.options_in(schema);
        options
            .iter()
            .find(|o| o.id == value)
            .or_else(|| {
                options
                    .iter()
                    .find(|o| o.label.trim().eq_ignore_ascii_case(value))
            })
            .or_else(|| {
                options
                    .iter()
                    .find(|o| o.label.trim().to_lowercase() == value.to_lowercase())
            })
    }

    /// The options of this attribute: its own, or its dictionary's.
    pub fn options_in<'a>(&'a self, schema: &'a Schema) -> &'a [OptionValue] {
        if !self.options.is_empty() {
            return &self.options;
        }
        match &self.dictionary {
            Some(name) => schema
                .dictionary(name)
                .map(|d| d.values.as_slice())
                .unwrap_or(&[]),
            None => &[],
        }
    }
}

/// A custom directory (dictionary) and its entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dictionary {
    pub name: String,
    #[serde(default)]
    pub values: Vec<OptionValue>,
}

/// One table (directory) and its attributes in form order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSchema {
    /// The API's table name: `CLIENTS`, `CONTACTS`, `PRODUCTS`, ...
    pub table: String,
    pub attributes: Vec<Attribute>,
}

impl TableSchema {
    pub fn attribute(&self, code: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.code == code)
    }

    pub fn attribute_by_id(&self, id: i64) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.id == id)
    }

    /// The name attribute (`isName`), the default matching key.
    pub fn name_attribute(&self) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.is_name)
    }

    /// Finds an attribute by code, name or English name, exactly (case-insensitive).
    /// Header matching with look-alike letters and punctuation lives in `map`.
    pub fn find(&self, key: &str) -> Option<&Attribute> {
        let key = key.trim();
        self.attribute(key).or_else(|| {
            self.attributes.iter().find(|a| {
                a.name.eq_ignore_ascii_case(key)
                    || a.name_en.eq_ignore_ascii_case(key)
                    || a.code.eq_ignore_ascii_case(key)
            })
        })
    }
}

/// The whole model of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    /// The instance's date format as getNomDetails reports it (`%e/%b/%y`).
    pub date_format: String,
    pub tables: Vec<TableSchema>,
    #[serde(default)]
    pub dictionaries: Vec<Dictionary>,
}

impl Schema {
    /// The sandbox's default schema, shipped in the repository as a data file.
    pub fn default_sandbox() -> Schema {
        serde_json::from_str(include_str!("sandbox/default_schema.json"))
            .expect("the bundled default schema is valid JSON")
    }

    pub fn from_json(text: &str) -> Result<Schema, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a schema always serialises")
    }

    pub fn table(&self, name: &str) -> Option<&TableSchema> {
        let name = TableName::resolve(name);
        self.tables
            .iter()
            .find(|t| t.table.eq_ignore_ascii_case(&name))
    }

    pub fn dictionary(&self, name: &str) -> Option<&Dictionary> {
        self.dictionaries
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
    }
}

/// Maps the friendly table names users type to the API's table names.
pub struct TableName;

impl TableName {
    /// `companies` → `CLIENTS`, `contacts` → `CONTACTS`, `products` → `PRODUCTS`,
    /// `transactions` → `TRANSACTIONS`, `budget` → `BUDGET`; anything else is taken as a
    /// custom directory's table name, upper-cased.
    pub fn resolve(name: &str) -> String {
        match name.trim().to_ascii_lowercase().as_str() {
            "companies" | "company" | "clients" => "CLIENTS".into(),
            "contacts" | "contact" => "CONTACTS".into(),
            "products" | "product" => "PRODUCTS".into(),
            "transactions" | "transaction" => "TRANSACTIONS".into(),
            "budget" | "budgets" => "BUDGET".into(),
            _ => name.trim().to_ascii_uppercase(),
        }
    }

    /// The friendly name for messages: `CLIENTS` → `companies`.
    pub fn friendly(table: &str) -> String {
        match table {
            "CLIENTS" => "companies".into(),
            "CONTACTS" => "contacts".into(),
            "PRODUCTS" => "products".into(),
            "TRANSACTIONS" => "transactions".into(),
            "BUDGET" => "budget".into(),
            other => other.to_string(),
        }
    }
}
