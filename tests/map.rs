//! Mapping headers to attributes: automatic matching, map files and header errors.

use crm_bulk::map::{
    HeaderProblemKind, IgnoredBy, MapError, MapFile, MapInput, MapOptions, Mapping, Target,
};
use crm_bulk::schema::{Schema, TableSchema};

fn table(name: &str) -> TableSchema {
    Schema::default_sandbox()
        .table(name)
        .expect("table in the default schema")
        .clone()
}

fn headers(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn build(
    table: &TableSchema,
    names: &[&str],
    map_file: Option<&MapFile>,
    ignore_unknown: bool,
) -> Result<Mapping, MapError> {
    let headers = headers(names);
    let options = MapOptions { ignore_unknown };
    Mapping::build(MapInput {
        file: "data.csv",
        headers: &headers,
        table,
        map_file,
        options: &options,
    })
}

fn codes(mapping: &Mapping) -> Vec<String> {
    mapping
        .columns
        .iter()
        .map(|c| match &c.target {
            Target::Attribute(a) => a.code.clone(),
            Target::Ignored(by) => format!("ignored:{by:?}"),
        })
        .collect()
}

fn problems(result: Result<Mapping, MapError>) -> Vec<(String, HeaderProblemKind)> {
    match result {
        Err(MapError::Headers { problems, .. }) => {
            problems.into_iter().map(|p| (p.column, p.kind)).collect()
        }
        other => panic!("expected header problems, got {other:?}"),
    }
}

#[test]
fn headers_match_by_code_name_and_english_name_ignoring_case_punctuation_and_look_alikes() {
    let clients = table("companies");
    // "Еmployees" starts with a Cyrillic Е; "e_mail" differs from "E-Mail" by punctuation.
    let mapping = build(
        &clients,
        &["  NAME ", "org_www", "e_mail", "Еmployees", "key account"],
        None,
        false,
    )
    .unwrap();
    let codes = codes(&mapping);
    assert_eq!(codes[0], "org_name");
    assert_eq!(codes[1], "org_www");
    assert!(codes[2].starts_with("clients_field_7e2d4c6b"), "{codes:?}");
    assert!(codes[3].starts_with("clients_field_9f8e7d6c"), "{codes:?}");
    assert!(codes[4].starts_with("clients_field_6a7b8c9d"), "{codes:?}");
    assert!(mapping.unmapped_required.is_empty());
}

#[test]
fn the_vendor_documents_cyrillic_c_matches_company() {
    let contacts = table("contacts");
    let mapping = build(&contacts, &["Full Name", "Сompany"], None, false).unwrap();
    assert_eq!(codes(&mapping), ["contact_name", "contact_company"]);
}

#[test]
fn unknown_header_is_an_error_with_suggestions_naming_file_and_column() {
    let clients = table("companies");
    let err = build(&clients, &["Name", "Webiste", "Employes"], None, false).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(
            "data.csv: column \"Webiste\": matches no attribute; did you mean \"Website\"?"
        ),
        "{text}"
    );
    assert!(text.contains("data.csv: column \"Employes\""), "{text}");
    assert!(text.contains("\"Employees\""), "{text}");
    // Both problems are reported at once.
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[test]
fn ignore_unknown_skips_unknown_headers_and_shows_them() {
    let clients = table("companies");
    let mapping = build(&clients, &["Name", "Internal notes", ""], None, true).unwrap();
    assert_eq!(
        codes(&mapping),
        ["org_name", "ignored:Unknown", "ignored:NoHeader"]
    );
    let shown = mapping.render();
    assert!(
        shown.contains("  \"Internal notes\" -> ignored (matches no attribute)"),
        "{shown}"
    );
    assert!(
        shown.contains("(column 3, no header) -> ignored (no header)"),
        "{shown}"
    );
}

#[test]
fn two_headers_on_one_attribute_are_an_error() {
    let clients = table("companies");
    let found = problems(build(&clients, &["Name", "org_name"], None, false));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "org_name");
    assert_eq!(
        found[0].1,
        HeaderProblemKind::Duplicate {
            attribute: "Name".into(),
            first: "Name".into()
        }
    );
}

#[test]
fn read_only_and_unsupported_attributes_are_errors() {
    let contacts = table("contacts");
    let found = problems(build(&contacts, &["Full Name", "JIRA login"], None, false));
    assert!(
        matches!(&found[0].1, HeaderProblemKind::NotImportable { reason, .. } if reason == "is read-only")
    );
    let clients = table("companies");
    let found = problems(build(
        &clients,
        &["Name", "People", "Attachments"],
        None,
        false,
    ));
    assert_eq!(found.len(), 2);
    assert!(
        matches!(&found[0].1, HeaderProblemKind::NotImportable { reason, .. } if reason.contains("users"))
    );
}

#[test]
fn map_file_wins_over_automatic_matching_ignores_and_sets_constants() {
    let clients = table("companies");
    let map = MapFile::parse(
        r#"
        ignore = ["internal"]
        [columns]
        "Firma" = "Company Title"
        "Type" = "Website"
        [constants]
        Kind = "Customer"
        Employees = 10
        "#,
    );
    // "Company Title" is not an attribute of the default schema: the map file entry fails.
    let map = map.unwrap();
    let found = problems(build(
        &clients,
        &["Firma", "Type", "Internal"],
        Some(&map),
        false,
    ));
    assert!(found
        .iter()
        .any(|(c, k)| c == "Firma" && matches!(k, HeaderProblemKind::UnknownAttribute { .. })));
    assert!(found
        .iter()
        .any(|(c, k)| c == "Kind" && matches!(k, HeaderProblemKind::UnknownAttribute { .. })));

    let map = MapFile::parse(
        r#"
        ignore = ["internal"]
        [columns]
        "Firma" = "Name"
        "Type" = "Website"
        [constants]
        org_type = "Customer"
        Employees = 10
        "#,
    )
    .unwrap();
    let mapping = build(&clients, &["Firma", "Type", "Internal"], Some(&map), false).unwrap();
    assert_eq!(codes(&mapping), ["org_name", "org_www", "ignored:MapFile"]);
    let constants: Vec<(String, String)> = mapping
        .constants
        .iter()
        .map(|k| (k.attribute.code.clone(), k.value.clone()))
        .collect();
    assert!(constants.contains(&("org_type".into(), "Customer".into())));
    assert!(constants
        .iter()
        .any(|(c, v)| c.starts_with("clients_field_9f8e7d6c") && v == "10"));
    assert_eq!(
        mapping.ignored().map(|(_, by)| by).collect::<Vec<_>>(),
        [IgnoredBy::MapFile]
    );
}

#[test]
fn map_file_mistakes_are_errors() {
    let clients = table("companies");
    let map = MapFile::parse(
        r#"
        [columns]
        "Missing" = "Name"
        [constants]
        Name = "x"
        "#,
    )
    .unwrap();
    let found = problems(build(&clients, &["Name"], Some(&map), false));
    assert!(
        found
            .iter()
            .any(|(c, k)| c == "Missing" && *k == HeaderProblemKind::MissingColumn),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(c, k)| c == "Name" && matches!(k, HeaderProblemKind::Duplicate { .. })),
        "{found:?}"
    );
    assert!(
        MapFile::parse("colums = {}").is_err(),
        "unknown keys are refused"
    );
}

#[test]
fn render_lists_columns_constants_and_missing_required_attributes() {
    let contacts = table("contacts");
    let mapping = build(&contacts, &["Full Name", "E-Mail"], None, false).unwrap();
    let shown = mapping.render();
    assert!(shown.starts_with("data.csv -> CONTACTS\n"), "{shown}");
    assert!(
        shown.contains("  \"Full Name\" -> Full Name (contact_name, text, required)\n"),
        "{shown}"
    );
    assert!(
        shown.contains("  \"E-Mail\" -> E-Mail (contact_email, e-mail, unique)\n"),
        "{shown}"
    );
    assert!(
        shown.contains("(no column) -> Company (contact_company, company, required)"),
        "{shown}"
    );
    assert_eq!(mapping.unmapped_required.len(), 1);
}

#[test]
fn find_resolves_a_key_by_header_or_attribute() {
    let clients = table("companies");
    let mapping = build(&clients, &["Company", "erp-id"], None, true).unwrap();
    assert!(mapping.find("erp id").is_some());
    assert!(mapping.find("ERP-ID").is_some());
    assert!(mapping.find("Website").is_none());
}
