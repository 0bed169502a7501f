//! `--where "Attribute=value"` filters.
//!
//! A filter matches the way searchEntities does (docs/api-notes.md): the value equals the
//! entry's read-back value ignoring case and surrounding spaces. It also matches the value in
//! the export's own form, so `Founded=2020-05-07` finds what reads back as `07/May/20`. An
//! `Unsupported` value matches nothing. The command may let the server narrow the list first
//! ([`Filter::server_side`]); every filter is still applied here, so the result is the same
//! whichever way the entries were fetched.

use crate::schema::{AttrKind, Attribute, TableSchema};

use super::values::{Normaliser, RawValue};
use super::{ExportError, Record};

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub attribute: Attribute,
    pub value: String,
}

impl Filter {
    /// Parses `Attribute=value` (attribute by name, English name or code). Only the first `=`
    /// splits, so values may contain `=`.
    pub fn parse(table: &TableSchema, text: &str) -> Result<Filter, ExportError> {
        let (key, value) = text.split_once('=').ok_or_else(|| ExportError::BadFilter {
            filter: text.to_string(),
        })?;
        if key.trim().is_empty() {
            return Err(ExportError::BadFilter {
                filter: text.to_string(),
            });
        }
        let attribute = table.find(key).ok_or_else(|| ExportError::UnknownColumn {
            table: crate::schema::TableName::friendly(&table.table),
            column: key.trim().to_string(),
            valid: table
                .attributes
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        Ok(Filter {
            attribute: attribute.clone(),
            value: value.trim().to_string(),
        })
    }

    /// Whether the server's searchEntities can do this filter's work: it compares read-back
    /// values, so it cannot match an ISO date or a number written differently, and it never
    /// sees unsupported attributes.
    pub fn server_side(&self) -> bool {
        !matches!(self.attribute.kind, AttrKind::Date | AttrKind::Number)
            && !self.attribute.kind.is_unsupported()
    }

    pub fn matches<R: Record + ?Sized>(&self, record: &R, normaliser: &Normaliser) -> bool {
        let raw = record.value(&self.attribute.code);
        let RawValue::Text(text) = raw else {
            return false;
        };
        if same(text, &self.value) {
            return true;
        }
        normaliser
            .converted(&self.attribute.kind, raw)
            .is_some_and(|converted| same(&converted, &self.value))
    }
}

fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a.eq_ignore_ascii_case(b) || a.to_lowercase() == b.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::values::ValueOptions;
    use crate::schema::Schema;

    struct Rec(&'static str, RawValue<'static>);
    impl Record for Rec {
        fn id(&self) -> &str {
            "1"
        }
        fn value(&self, code: &str) -> RawValue<'_> {
            if code == self.0 {
                self.1
            } else {
                RawValue::Text("")
            }
        }
    }

    fn table() -> TableSchema {
        Schema::default_sandbox()
            .table("companies")
            .expect("table")
            .clone()
    }

    #[test]
    fn parses_and_matches_ignoring_case_and_spaces() {
        let f = Filter::parse(&table(), " type = lead ").expect("parses");
        assert_eq!(f.attribute.code, "org_type");
        let n = Normaliser::new(ValueOptions::default());
        assert!(f.matches(&Rec("org_type", RawValue::Text(" Lead")), &n));
        assert!(!f.matches(&Rec("org_type", RawValue::Text("Leader")), &n));
        assert!(!f.matches(&Rec("org_type", RawValue::Unknown), &n));
        assert!(f.server_side());
    }

    #[test]
    fn non_latin_values_match_ignoring_case() {
        let f = Filter::parse(&table(), "Name=ООО «РОМАШКА»").expect("parses");
        let n = Normaliser::new(ValueOptions::default());
        assert!(f.matches(&Rec("org_name", RawValue::Text("ооо «ромашка»")), &n));
    }

    #[test]
    fn dates_match_in_instance_or_iso_form_locally() {
        let t = table();
        let code: &'static str = Box::leak(
            t.find("Founded")
                .expect("Founded")
                .code
                .clone()
                .into_boxed_str(),
        );
        let n = Normaliser::new(ValueOptions {
            date_format: "%e/%b/%y".into(),
            excel_safe: false,
        });
        for text in ["Founded=2020-05-07", "Founded=07/may/20"] {
            let f = Filter::parse(&t, text).expect("parses");
            assert!(!f.server_side());
            assert!(
                f.matches(&Rec(code, RawValue::Text("07/May/20")), &n),
                "{text}"
            );
        }
    }

    #[test]
    fn values_may_hold_equals_signs_and_be_empty() {
        let f = Filter::parse(&table(), "Notes=a=b").expect("parses");
        assert_eq!(f.value, "a=b");
        let f = Filter::parse(&table(), "Website=").expect("parses");
        let n = Normaliser::new(ValueOptions::default());
        assert!(
            f.matches(&Rec("other", RawValue::Text("x")), &n),
            "an unset value is empty"
        );
    }

    #[test]
    fn malformed_filters_are_errors() {
        assert!(matches!(
            Filter::parse(&table(), "Name"),
            Err(ExportError::BadFilter { .. })
        ));
        assert!(matches!(
            Filter::parse(&table(), "=x"),
            Err(ExportError::BadFilter { .. })
        ));
        assert!(matches!(
            Filter::parse(&table(), "Nope=x"),
            Err(ExportError::UnknownColumn { .. })
        ));
    }
}
