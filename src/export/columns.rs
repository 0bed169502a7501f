//! Which columns an export writes, in which order, under which headers.
//!
//! The default is every importable attribute in form order, headed by attribute name, so the
//! file imports again unchanged. The entry id is left out by default because the importer
//! matches rows by the name attribute, and an id means nothing to another instance; it can
//! be asked for (`with_id`, or `id` in the chosen columns). This module resolves column
//! choices against a [`TableSchema`]; it does not read values.

use crate::schema::{AttrKind, TableSchema};

use super::ExportError;

/// Header row style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderStyle {
    /// Attribute names (`Name`, `E-Mail`): the importer's headers.
    #[default]
    Names,
    /// Attribute codes (`org_name`, `clients_field_<uuid>`): stable across renames.
    Codes,
}

/// How to choose columns.
#[derive(Debug, Clone, Default)]
pub struct ColumnsOptions {
    pub headers: HeaderStyle,
    /// Attributes by name, English name or code, in output order; `id` names the entry id.
    /// `None`: every importable attribute in form order.
    pub chosen: Option<Vec<String>>,
    /// Put the entry id first (if not already chosen).
    pub with_id: bool,
}

/// Where a column's values come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnSource {
    /// The entry id.
    Id,
    /// An attribute, by code.
    Attribute {
        code: String,
        name: String,
        kind: AttrKind,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub header: String,
    pub source: ColumnSource,
}

/// The resolved columns of one export.
#[derive(Debug, Clone)]
pub struct Columns {
    columns: Vec<Column>,
}

/// The header of the id column, in both header styles.
pub const ID_HEADER: &str = "id";

impl Columns {
    pub fn resolve(table: &TableSchema, options: &ColumnsOptions) -> Result<Columns, ExportError> {
        let mut sources: Vec<ColumnSource> = Vec::new();
        match &options.chosen {
            None => sources.extend(
                table
                    .attributes
                    .iter()
                    .filter(|a| a.is_importable())
                    .map(attribute_source),
            ),
            Some(chosen) => {
                for key in chosen {
                    let source = resolve_one(table, key)?;
                    if sources.contains(&source) {
                        return Err(ExportError::DuplicateColumn {
                            column: key.trim().to_string(),
                        });
                    }
                    sources.push(source);
                }
            }
        }
        if options.with_id && !sources.contains(&ColumnSource::Id) {
            sources.insert(0, ColumnSource::Id);
        }
        let columns = headers_for(&sources, options.headers)
            .into_iter()
            .zip(sources)
            .map(|(header, source)| Column { header, source })
            .collect();
        Ok(Columns { columns })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter()
    }

    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    pub fn headers(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.header.clone()).collect()
    }
}

fn attribute_source(a: &crate::schema::Attribute) -> ColumnSource {
    ColumnSource::Attribute {
        code: a.code.clone(),
        name: a.name.clone(),
        kind: a.kind.clone(),
    }
}

fn resolve_one(table: &TableSchema, key: &str) -> Result<ColumnSource, ExportError> {
    if let Some(attr) = table.find(key) {
        return Ok(attribute_source(attr));
    }
    if key.trim().eq_ignore_ascii_case(ID_HEADER) {
        return Ok(ColumnSource::Id);
    }
    let valid: Vec<&str> = table.attributes.iter().map(|a| a.name.as_str()).collect();
    Err(ExportError::UnknownColumn {
        table: crate::schema::TableName::friendly(&table.table),
        column: key.trim().to_string(),
        valid: format!("{}, id", valid.join(", ")),
    })
}

/// Names as headers, except where two chosen attributes share a name (compared ignoring
/// case, as the importer matches headers): those get their codes, so every header still
/// names exactly one attribute.
fn headers_for(sources: &[ColumnSource], style: HeaderStyle) -> Vec<String> {
    let name_of = |s: &ColumnSource| match s {
        ColumnSource::Id => ID_HEADER.to_string(),
        ColumnSource::Attribute { name, code, .. } => match style {
            HeaderStyle::Names => name.clone(),
            HeaderStyle::Codes => code.clone(),
        },
    };
    let names: Vec<String> = sources.iter().map(name_of).collect();
    sources
        .iter()
        .zip(&names)
        .map(|(source, name)| {
            let clashes = names
                .iter()
                .filter(|n| n.to_lowercase() == name.to_lowercase())
                .count()
                > 1;
            match source {
                ColumnSource::Attribute { code, .. } if clashes => code.clone(),
                _ => name.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    fn clients() -> TableSchema {
        Schema::default_sandbox()
            .table("companies")
            .expect("CLIENTS")
            .clone()
    }

    #[test]
    fn default_is_importable_attributes_in_form_order() {
        let table = clients();
        let cols = Columns::resolve(&table, &ColumnsOptions::default()).expect("resolves");
        let expected: Vec<String> = table
            .attributes
            .iter()
            .filter(|a| a.is_importable())
            .map(|a| a.name.clone())
            .collect();
        assert_eq!(cols.headers(), expected);
        assert!(
            !cols.headers().contains(&"People".to_string()),
            "usr attributes are not importable"
        );
        assert!(!cols.headers().contains(&"id".to_string()));
    }

    #[test]
    fn codes_and_with_id() {
        let options = ColumnsOptions {
            headers: HeaderStyle::Codes,
            chosen: None,
            with_id: true,
        };
        let cols = Columns::resolve(&clients(), &options).expect("resolves");
        assert_eq!(cols.headers()[0], "id");
        assert_eq!(cols.headers()[1], "org_name");
    }

    #[test]
    fn chosen_columns_by_name_code_and_id_keep_their_order() {
        let chosen = vec![
            "e-mail".to_string(),
            "org_name".to_string(),
            "ID".to_string(),
        ];
        let options = ColumnsOptions {
            chosen: Some(chosen),
            ..Default::default()
        };
        let cols = Columns::resolve(&clients(), &options).expect("resolves");
        assert_eq!(cols.headers(), vec!["E-Mail", "Name", "id"]);
    }

    #[test]
    fn unknown_and_repeated_columns_are_errors() {
        let options = ColumnsOptions {
            chosen: Some(vec!["Nmae".into()]),
            ..Default::default()
        };
        let err = Columns::resolve(&clients(), &options).expect_err("unknown");
        assert!(err.to_string().contains("\"Nmae\""), "{err}");
        assert!(err.to_string().contains("Website"), "{err}");
        let options = ColumnsOptions {
            chosen: Some(vec!["Name".into(), "org_name".into()]),
            ..Default::default()
        };
        assert!(matches!(
            Columns::resolve(&clients(), &options),
            Err(ExportError::DuplicateColumn { .. })
        ));
    }

    #[test]
    fn clashing_names_fall_back_to_codes() {
        let mut table = clients();
        table.attributes[2].name = "name".into();
        let cols = Columns::resolve(&table, &ColumnsOptions::default()).expect("resolves");
        assert_eq!(cols.headers()[0], "org_name");
        assert_eq!(cols.headers()[2], "org_industry");
    }
}
