//! Validating rows: per-type checks, messages, required and unique attributes.

use std::sync::Arc;

use crm_bulk::map::{MapFile, MapInput, MapOptions, Mapping};
use crm_bulk::read::Record;
use crm_bulk::schema::Schema;
use crm_bulk::validate::{
    Converted, ExistingEntry, ExistingIndex, Intent, NameIndex, NewOption, RowProblem, SeenIndex,
    UniqueContext, ValidateOptions, Validator,
};

fn validator_with(
    table: &str,
    headers: &[&str],
    map: Option<&str>,
    options: ValidateOptions,
) -> Validator {
    let schema = Schema::default_sandbox();
    let table = schema.table(table).unwrap();
    let headers: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
    let map_file = map.map(|m| MapFile::parse(m).unwrap());
    let input = MapInput {
        file: "data.csv",
        headers: &headers,
        table,
        map_file: map_file.as_ref(),
        options: &MapOptions::default(),
    };
    let mapping = Mapping::build(input).unwrap();
    Validator::new(&schema, &mapping, &options).unwrap()
}

fn validator(table: &str, headers: &[&str]) -> Validator {
    validator_with(table, headers, None, ValidateOptions::default())
}

fn record(row: u64, cells: &[&str]) -> Record {
    Record {
        row,
        values: cells.iter().map(|s| s.to_string()).collect(),
    }
}

/// Converts a one-column row and returns (wire, readback) or the problem messages.
fn one(v: &Validator, cell: &str) -> Result<(String, String), Vec<String>> {
    let c = v.convert(record(2, &[cell]));
    if !c.problems.is_empty() {
        return Err(c.problems.iter().map(|p| p.message.clone()).collect());
    }
    let value = c.values.value(0).expect("a non-empty cell has a value");
    Ok((value.wire.to_string(), value.readback.to_string()))
}

fn same(s: &str) -> Result<(String, String), Vec<String>> {
    Ok((s.to_string(), s.to_string()))
}

#[test]
fn problems_name_file_row_column_value_and_what_is_valid() {
    let v = validator("companies", &["Name", "E-Mail"]);
    let c = v.convert(record(17, &["Acme", "kelly@"]));
    assert_eq!(c.problems.len(), 1);
    assert_eq!(
        c.problems[0].to_string(),
        "data.csv: row 17, column \"E-Mail\": \"kelly@\" is not an e-mail address (expected name@example.com)"
    );
}

#[test]
fn every_problem_of_a_row_is_reported() {
    let v = validator(
        "companies",
        &[
            "Name",
            "E-Mail",
            "Website",
            "Phone",
            "Employees",
            "Founded",
            "Key account",
            "Type",
        ],
    );
    let c = v.convert(record(
        3,
        &[
            "Acme",
            "a@",
            "ftp://x.com",
            "call me",
            "1,000",
            "31/02/2020",
            "maybe",
            "Friend",
        ],
    ));
    let columns: Vec<&str> = c.problems.iter().map(|p| p.column.as_str()).collect();
    assert_eq!(
        columns,
        [
            "E-Mail",
            "Website",
            "Phone",
            "Employees",
            "Founded",
            "Key account",
            "Type"
        ]
    );
    assert!(
        c.problems[3].message.contains("as 1000"),
        "{}",
        c.problems[3].message
    );
    assert!(c.problems[6]
        .message
        .contains("(valid: Lead, Customer, Partner, Competitor)"));
}

#[test]
fn text_values_are_trimmed_and_limited_to_255_characters() {
    let v = validator("companies", &["Department"]);
    assert_eq!(one(&v, "  Sales "), same("Sales"));
    // 255 two-byte characters fit: characters are counted, not bytes.
    let fits = "é".repeat(255);
    assert_eq!(one(&v, &fits), same(&fits));
    let errs = one(&v, &"x".repeat(256)).unwrap_err();
    assert_eq!(errs, ["is 256 characters long; at most 255 fit"]);
    let notes = validator("companies", &["Notes"]);
    assert!(
        one(&notes, &"x".repeat(5000)).is_ok(),
        "long text has no limit"
    );
}

#[test]
fn long_values_are_shortened_in_messages() {
    let v = validator("companies", &["E-Mail"]);
    let long = format!("{}@", "k".repeat(100));
    let c = v.convert(record(2, &[&long]));
    let shown = &c.problems[0].value;
    assert_eq!(shown.chars().count(), 40);
    assert!(shown.ends_with('…'));
}

#[test]
fn numbers_take_digits_sign_and_point_and_suggest_fixes() {
    let v = validator("companies", &["Employees"]);
    assert_eq!(one(&v, "-12.5"), same("-12.5"));
    assert_eq!(one(&v, "+12"), same("12"));
    assert!(one(&v, "1 234,5").unwrap_err()[0].contains("as 1234.5"));
    assert!(one(&v, "twelve").unwrap_err()[0].starts_with("is not a number"));
}

#[test]
fn dates_accept_iso_and_the_instance_format_and_write_the_instance_format() {
    let v = validator("companies", &["Founded"]);
    assert_eq!(one(&v, "2020-05-07"), same("07/May/20"));
    assert_eq!(one(&v, "7/May/20"), same("07/May/20"));
    assert_eq!(one(&v, "07/May/20"), same("07/May/20"));
    assert!(one(&v, "1960-01-01").unwrap_err()[0].contains("outside 1969-2068"));
    assert!(one(&v, "2020-02-30").unwrap_err()[0].contains("e.g. 07/May/20"));
}

#[test]
fn checkboxes_become_true_or_false() {
    let v = validator("companies", &["Key account"]);
    for yes in ["true", "YES", "1", "True"] {
        assert_eq!(one(&v, yes), same("true"));
    }
    for no in ["false", "no", "0"] {
        assert_eq!(one(&v, no), same("false"));
    }
    assert!(one(&v, "x").is_err());
}

#[test]
fn emails_urls_and_phones_are_checked() {
    let v = validator("companies", &["E-Mail"]);
    assert_eq!(one(&v, "kelly@example.com"), same("kelly@example.com"));
    let v = validator("companies", &["Website"]);
    assert_eq!(one(&v, "example.com"), same("example.com"));
    assert_eq!(
        one(&v, "https://example.com/x"),
        same("https://example.com/x")
    );
    assert!(one(&v, "javascript:alert(1)").is_err());
    let v = validator("companies", &["Phone"]);
    assert_eq!(one(&v, "+49 (30) 123-45"), same("+49 (30) 123-45"));
    assert!(one(&v, "n/a").is_err());
}

#[test]
fn list_options_become_ids_and_read_back_as_labels() {
    let v = validator("companies", &["Type"]);
    assert_eq!(one(&v, "customer"), Ok(("2".into(), "Customer".into())));
    assert_eq!(one(&v, "3"), Ok(("3".into(), "Partner".into())));
    assert!(one(&v, "Friend").is_err());
}

#[test]
fn unknown_dictionary_labels_are_collected_only_with_create_missing_options() {
    let v = validator("companies", &["Industry"]);
    assert_eq!(one(&v, "retail"), Ok(("203".into(), "Retail".into())));
    assert!(one(&v, "Mining").unwrap_err()[0].contains("valid: Software, Manufacturing"));

    let options = ValidateOptions {
        create_missing_options: true,
        ..Default::default()
    };
    let v = validator_with("companies", &["Industry", "Type"], None, options);
    let c = v.convert(record(2, &["Mining", "Lead"]));
    assert!(c.problems.is_empty());
    assert_eq!(
        c.new_options,
        [NewOption {
            dictionary: "Industries".into(),
            label: "Mining".into()
        }]
    );
    assert_eq!(c.values.value(0).unwrap().wire, "Mining");
    // List options cannot be added: still an error.
    let c = v.convert(record(3, &["Mining", "Friend"]));
    assert_eq!(c.problems.len(), 1);
    assert_eq!(c.problems[0].column, "Type");
}

fn companies() -> Arc<NameIndex> {
    let mut index = NameIndex::new([
        ("1".to_string(), "Acme Inc".to_string()),
        ("2".to_string(), "Globex".to_string()),
    ]);
    index.add_pending("Initech");
    Arc::new(index)
}

#[test]
fn company_references_resolve_by_name_or_id_or_earlier_in_the_run() {
    let options = ValidateOptions {
        companies: Some(companies()),
        ..Default::default()
    };
    let v = validator_with("contacts", &["Company"], None, options);
    assert_eq!(one(&v, " acme inc "), Ok(("(1)".into(), "Acme Inc".into())));
    assert_eq!(one(&v, "(2)"), Ok(("(2)".into(), "Globex".into())));
    assert_eq!(one(&v, "initech"), same("initech"));
    let err = one(&v, "Umbrella").unwrap_err();
    assert!(err[0].starts_with("names no company in the CRM"), "{err:?}");
    assert!(one(&v, "(99)").is_err());
}

#[test]
fn constants_are_checked_once_and_apply_to_every_row() {
    let schema = Schema::default_sandbox();
    let table = schema.table("companies").unwrap();
    let headers = vec!["Name".to_string()];
    let bad = MapFile::parse("[constants]\nType = \"Friend\"").unwrap();
    let input = MapInput {
        file: "data.csv",
        headers: &headers,
        table,
        map_file: Some(&bad),
        options: &MapOptions::default(),
    };
    let err = Validator::new(
        &schema,
        &Mapping::build(input).unwrap(),
        &ValidateOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("data.csv: constant for Type: \"Friend\" is not an option"),
        "{err}"
    );

    let v = validator_with(
        "companies",
        &["Name"],
        Some("[constants]\nType = \"Lead\""),
        ValidateOptions::default(),
    );
    let c = v.convert(record(2, &["Acme"]));
    assert_eq!(
        c.values.pairs(),
        [
            ("org_name".to_string(), "Acme".to_string()),
            ("org_type".into(), "1".into())
        ]
    );
}

fn required(v: &Validator, c: &Converted, intent: Intent) -> Vec<RowProblem> {
    let mut out = Vec::new();
    v.required_problems(&c.values, intent, &mut out);
    out
}

#[test]
fn required_attributes_are_demanded_only_of_rows_that_create() {
    let v = validator("contacts", &["Full Name", "E-Mail"]);
    let c = v.convert(record(4, &["", "a@example.com"]));
    let problems = required(&v, &c, Intent::Create);
    let columns: Vec<&str> = problems.iter().map(|p| p.column.as_str()).collect();
    assert_eq!(columns, ["Full Name", "Company"]);
    assert_eq!(
        problems[0].to_string(),
        "data.csv: row 4, column \"Full Name\": is empty, but Full Name is required to create an entry"
    );
    assert!(required(&v, &c, Intent::Update { clear_empty: false }).is_empty());
    let clearing = required(&v, &c, Intent::Update { clear_empty: true });
    assert_eq!(clearing.len(), 1);
    assert!(clearing[0].message.contains("cannot be cleared"));
}

#[test]
fn unique_values_are_checked_within_the_file_and_against_other_entries() {
    let v = validator("contacts", &["Full Name", "E-Mail"]);
    let mut stored = ExistingEntry {
        id: "7".into(),
        ..Default::default()
    };
    stored
        .values
        .insert("contact_email".into(), Some("taken@example.com".into()));
    let mut other = ExistingEntry {
        id: "8".into(),
        ..Default::default()
    };
    other
        .values
        .insert("contact_email".into(), Some("mine@example.com".into()));
    let existing = ExistingIndex::new(vec![stored, other], &["contact_email"]);
    let mut seen = SeenIndex::default();
    let mut check = |row: u64, email: &str, matched: Option<&str>| {
        let c = v.convert(record(row, &["Kelly", email]));
        let mut out = Vec::new();
        let cx = UniqueContext {
            seen: &mut seen,
            existing: &existing,
            matched,
            skip: None,
        };
        v.unique_problems(&c.values, cx, &mut out);
        out.iter().map(|p| p.to_string()).collect::<Vec<_>>()
    };
    assert!(check(2, "kelly@example.com", None).is_empty());
    assert_eq!(
        check(3, " KELLY@example.com", None),
        ["data.csv: row 3, column \"E-Mail\": \"KELLY@example.com\" is also in row 2; E-Mail must be unique"]
    );
    assert_eq!(
        check(4, "Taken@example.com", None),
        ["data.csv: row 4, column \"E-Mail\": \"Taken@example.com\" is already used by entry 7 in the CRM; E-Mail must be unique"]
    );
    // The entry the row updates may keep its own value.
    assert!(check(5, "mine@example.com ", Some("8")).is_empty());
}

#[test]
fn no_input_panics() {
    let v = validator(
        "companies",
        &[
            "Name",
            "E-Mail",
            "Website",
            "Phone",
            "Employees",
            "Founded",
            "Key account",
            "Type",
        ],
    );
    let nasty = [
        "",
        " ",
        "\u{0}",
        "@",
        "(",
        "()",
        "-",
        "+",
        ".",
        "1e999",
        "9999-99-99",
        "32/Foo/20",
        "http://",
        "://",
        "é@é.é",
        "\n",
    ];
    for (i, cell) in nasty.iter().enumerate() {
        let cells = vec![*cell; 8];
        let c = v.convert(record(i as u64 + 2, &cells));
        let _ = c.values.pairs();
    }
    // A short record (fewer cells than headers) is read as empty cells.
    let c = v.convert(record(40, &["Acme"]));
    assert!(c.problems.is_empty());
    assert_eq!(c.values.pairs().len(), 1);
}
