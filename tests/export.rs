//! `crm-bulk export` through real HTTP against the sandbox: what each table and format holds,
//! how values come out, filters, and that a failed export leaves no file.

mod common;

use calamine::{Data, Reader};
use common::{column, read_csv, Harness};
use crm_bulk::sandbox::{FaultSpec, SandboxConfig};
use predicates::prelude::*;

/// Company names a CSV writer must quote, escape or keep as UTF-8, in the export's default
/// order (by name, byte order).
const HARD_NAMES: [&str; 5] = [
    "Acme, Inc.",
    "Line one\nline two",
    "The \"Best\" Company",
    "ООО «Ромашка»",
    "東京商事",
];

/// The schema's code of a CLIENTS attribute, by name.
fn code(name: &str) -> String {
    let schema = crm_bulk::schema::Schema::default_sandbox();
    let table = schema.table("companies").expect("CLIENTS");
    table.find(name).expect("attribute").code.clone()
}

fn add_company(h: &Harness, values: &[(&str, &str)]) -> String {
    let params: Vec<(String, String)> = values
        .iter()
        .map(|(name, value)| (format!("clients-{}", code(name)), value.to_string()))
        .collect();
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answer = h.api("addcompany", &params);
    assert_eq!(answer["success"], true, "{answer}");
    answer["id"].as_str().expect("id").to_string()
}

/// Companies with hard names, a list label, a date, a number and leading zeros.
fn populate_companies(h: &Harness) {
    for (i, name) in HARD_NAMES.iter().enumerate() {
        let erp = format!("00{i}");
        add_company(
            h,
            &[
                ("Name", name),
                ("Type", "Lead"),
                ("ERP ID", &erp),
                ("Founded", "2/Jan/20"),
                ("Employees", "1200"),
            ],
        );
    }
}

#[test]
fn companies_export_to_csv_in_the_importers_form() {
    let h = Harness::new();
    populate_companies(&h);
    h.cmd()
        .args(["export", "companies", "--out", "companies.csv"])
        .assert()
        .success();
    let (headers, rows) = read_csv(&h.path("companies.csv"));

    let table = crm_bulk::schema::Schema::default_sandbox()
        .table("companies")
        .expect("t")
        .clone();
    let importable: Vec<String> = table
        .attributes
        .iter()
        .filter(|a| a.is_importable())
        .map(|a| a.name.clone())
        .collect();
    assert_eq!(
        headers, importable,
        "importable attributes in form order, by name, no id"
    );
    assert_eq!(column(&headers, &rows, "Name"), HARD_NAMES.to_vec());
    assert!(
        column(&headers, &rows, "Type").iter().all(|t| *t == "Lead"),
        "labels, not ids"
    );
    assert!(
        column(&headers, &rows, "Founded")
            .iter()
            .all(|d| *d == "2020-01-02"),
        "ISO dates"
    );
    assert!(column(&headers, &rows, "Employees")
        .iter()
        .all(|n| *n == "1200"));
    assert_eq!(
        column(&headers, &rows, "ERP ID"),
        vec!["000", "001", "002", "003", "004"]
    );
    assert_eq!(
        h.files(),
        vec!["companies.csv"],
        "no temporary file left behind"
    );
}

#[test]
fn each_format_opens_in_its_reader() {
    let h = Harness::new();
    populate_companies(&h);
    for file in ["c.csv", "c.json", "c.ndjson", "c.xlsx"] {
        h.cmd()
            .args([
                "export",
                "companies",
                "--out",
                file,
                "--columns",
                "Name,ERP ID",
            ])
            .assert()
            .success();
    }
    let (_, rows) = read_csv(&h.path("c.csv"));
    let expected: Vec<Vec<String>> = HARD_NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| vec![n.to_string(), format!("00{i}")])
        .collect();
    assert_eq!(rows, expected);

    let json: serde_json::Value = serde_json::from_str(&h.read("c.json")).expect("JSON array");
    let from_json: Vec<Vec<String>> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|o| {
            vec![
                o["Name"].as_str().expect("s").into(),
                o["ERP ID"].as_str().expect("s").into(),
            ]
        })
        .collect();
    assert_eq!(from_json, expected);

    let from_ndjson: Vec<Vec<String>> = h
        .read("c.ndjson")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .map(|o| {
            vec![
                o["Name"].as_str().expect("s").into(),
                o["ERP ID"].as_str().expect("s").into(),
            ]
        })
        .collect();
    assert_eq!(from_ndjson, expected);

    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook(h.path("c.xlsx")).expect("opens as xlsx");
    let range = workbook.worksheet_range("companies").expect("sheet");
    let from_xlsx: Vec<Vec<String>> = range
        .rows()
        .skip(1)
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    other => format!("not a string: {other:?}"),
                })
                .collect()
        })
        .collect();
    assert_eq!(from_xlsx, expected, "strings, so leading zeros survive");
}

#[test]
fn contacts_export_with_their_company_by_name() {
    let h = Harness::new();
    add_company(&h, &[("Name", "Acme, Inc.")]);
    let answer = h.api(
        "addcontact",
        &[
            ("clients-contact_name", "Kelly O'Brien"),
            ("clients-contact_email", "kelly@example.com"),
        ],
    );
    assert_eq!(answer["success"], true, "{answer}");
    let contact_id = answer["id"].as_str().expect("id").to_string();
    let answer = h.api(
        "setcontact",
        &[("companyName", "Acme, Inc."), ("contactID", &contact_id)],
    );
    assert_eq!(answer["success"], true, "{answer}");

    h.cmd()
        .args(["export", "contacts", "--out", "contacts.csv"])
        .assert()
        .success();
    let (headers, rows) = read_csv(&h.path("contacts.csv"));
    assert!(
        !headers.contains(&"JIRA login".to_string()),
        "read-only attributes are not importable"
    );
    assert_eq!(column(&headers, &rows, "Full Name"), vec!["Kelly O'Brien"]);
    assert_eq!(column(&headers, &rows, "Company"), vec!["Acme, Inc."]);
    assert_eq!(column(&headers, &rows, "E-Mail"), vec!["kelly@example.com"]);
}

#[test]
fn codes_headers_and_id_column() {
    let h = Harness::new();
    let id = add_company(&h, &[("Name", "Acme")]);
    h.cmd()
        .args([
            "export",
            "companies",
            "--out",
            "-",
            "--headers",
            "codes",
            "--with-id",
            "--columns",
            "Name,Type",
        ])
        .assert()
        .success()
        .stdout(format!("id,org_name,org_type\n{id},Acme,\n"));
}

#[test]
fn rows_sort_by_name_unless_asked_for_api_order() {
    let h = Harness::new();
    for name in ["b", "C", "a"] {
        add_company(&h, &[("Name", name)]);
    }
    let args = ["export", "companies", "--out", "-", "--columns", "Name"];
    h.cmd()
        .args(args)
        .assert()
        .success()
        .stdout("Name\nC\na\nb\n");
    h.cmd()
        .args(args)
        .args(["--sort", "id"])
        .assert()
        .success()
        .stdout("Name\nb\nC\na\n");
}

#[test]
fn unsupported_values_are_empty_with_one_warning_naming_the_attribute() {
    let h = Harness::new();
    populate_companies(&h);
    let out = h
        .cmd()
        .args([
            "export",
            "companies",
            "--out",
            "c.csv",
            "--columns",
            "Name,People",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("\"People\"").count(),
        1,
        "one warning: {stderr}"
    );
    assert!(
        stderr.contains("Unsupported") && stderr.contains("5 rows"),
        "{stderr}"
    );
    let (_, rows) = read_csv(&h.path("c.csv"));
    assert!(
        rows.iter().all(|r| r[1].is_empty()),
        "never written as data: {rows:?}"
    );
}

#[test]
fn where_filters_through_search_entities_and_locally() {
    let h = Harness::new();
    populate_companies(&h);
    add_company(
        &h,
        &[
            ("Name", "Other"),
            ("Type", "Partner"),
            ("Founded", "07/May/20"),
        ],
    );

    h.cmd()
        .args([
            "export",
            "companies",
            "--out",
            "-",
            "--columns",
            "Name",
            "--where",
            "type=lead",
            "--where",
            "ERP ID=003",
        ])
        .assert()
        .success()
        .stdout("Name\nООО «Ромашка»\n");
    assert!(
        h.count("searchEntities") >= 1,
        "the server narrowed the list"
    );
    assert_eq!(h.count("getcompanies"), 0);

    h.cmd()
        .args([
            "export",
            "companies",
            "--out",
            "-",
            "--columns",
            "Name",
            "--where",
            "Founded=2020-05-07",
        ])
        .assert()
        .success()
        .stdout("Name\nOther\n");
}

#[test]
fn excel_safe_quotes_formulas_only_when_asked() {
    let h = Harness::new();
    add_company(&h, &[("Name", "=HYPERLINK(\"http://evil\")")]);
    add_company(&h, &[("Name", "Plain")]);
    let args = ["export", "companies", "--out", "-", "--columns", "Name"];
    h.cmd()
        .args(args)
        .assert()
        .success()
        .stdout("Name\n\"=HYPERLINK(\"\"http://evil\"\")\"\nPlain\n");
    h.cmd()
        .args(args)
        .arg("--excel-safe")
        .assert()
        .success()
        .stdout("Name\n\"'=HYPERLINK(\"\"http://evil\"\")\"\nPlain\n");
}

#[test]
fn help_shows_an_example_and_warns_that_excel_safe_changes_data() {
    let h = Harness::new();
    let help = h.help("export");
    assert!(
        help.contains("crm-bulk export companies --out companies.csv"),
        "{help}"
    );
    assert!(help.contains("changes the data"), "{help}");
}

#[test]
fn products_are_listed_through_search_entities() {
    let h = Harness::new();
    for (name, price) in [("Widget", "10.50"), ("Gadget, large", "2,000")] {
        let answer = h.api(
            "updateOrCreateEntity",
            &[
                ("tableName", "PRODUCTS"),
                ("crm_param_1", "Product Name"),
                ("crm_param_1_value", name),
                ("crm_param_2", "Price"),
                ("crm_param_2_value", price),
            ],
        );
        if answer["success"] != true {
            // "2,000" may be refused as a number; the export side is what is tested here.
            let retry = h.api(
                "updateOrCreateEntity",
                &[
                    ("tableName", "PRODUCTS"),
                    ("crm_param_1", "Product Name"),
                    ("crm_param_1_value", name),
                    ("crm_param_2", "Price"),
                    ("crm_param_2_value", "2000"),
                ],
            );
            assert_eq!(retry["success"], true, "{retry}");
        }
    }
    h.cmd()
        .args(["export", "products", "--out", "p.csv"])
        .assert()
        .success();
    let (headers, rows) = read_csv(&h.path("p.csv"));
    assert_eq!(headers, vec!["Product Name", "Price", "SKU", "Description"]);
    assert_eq!(
        column(&headers, &rows, "Product Name"),
        vec!["Gadget, large", "Widget"]
    );
    assert_eq!(column(&headers, &rows, "Price"), vec!["2000", "10.50"]);
    assert!(h.count("searchEntities") >= 1);
}

#[test]
fn transactions_map_cells_to_attribute_names() {
    let h = Harness::new();
    add_company(&h, &[("Name", "Acme, Inc.")]);
    let answer = h.api(
        "updateOrCreateEntity",
        &[
            ("tableName", "TRANSACTIONS"),
            ("crm_param_1", "Issue"),
            ("crm_param_1_value", "CRM-1"),
            ("crm_param_2", "Company"),
            ("crm_param_2_value", "Acme, Inc."),
            ("crm_param_3", "Product"),
            ("crm_param_3_value", "Widget"),
            ("crm_param_4", "Type"),
            ("crm_param_4_value", "Income"),
            ("crm_param_5", "Date"),
            ("crm_param_5_value", "2020-01-02"),
            ("crm_param_6", "Sum"),
            ("crm_param_6_value", "21000"),
            ("crm_param_7", "Plan/Fact"),
            ("crm_param_7_value", "Fact"),
        ],
    );
    assert_eq!(answer["success"], true, "{answer}");
    h.cmd()
        .args(["export", "transactions", "--out", "t.csv"])
        .assert()
        .success();
    assert_eq!(h.count("transactionslist"), 1);
    let (headers, rows) = read_csv(&h.path("t.csv"));
    assert_eq!(
        headers,
        vec![
            "Issue",
            "Company",
            "Product",
            "Type",
            "Date",
            "Sum",
            "Plan/Fact"
        ]
    );
    assert_eq!(
        rows,
        vec![vec![
            "CRM-1",
            "Acme, Inc.",
            "Widget",
            "Income",
            "2020-01-02",
            "21000",
            "Fact"
        ]]
    );
}

#[test]
fn bad_columns_and_filters_are_usage_errors() {
    let h = Harness::new();
    h.cmd()
        .args(["export", "companies", "--out", "x.csv", "--columns", "Nmae"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("\"Nmae\"").and(predicate::str::contains("Website")));
    h.cmd()
        .args(["export", "companies", "--out", "x.csv", "--where", "Name"])
        .assert()
        .code(2);
    assert!(h.files().is_empty(), "{:?}", h.files());
}

#[test]
fn auth_error_leaves_no_file_and_keeps_the_old_one() {
    let h = Harness::new();
    populate_companies(&h);
    h.write("companies.csv", "previous export\n");
    h.cmd()
        .env("CRM_API_KEY", "wrong-key")
        .args(["export", "companies", "--out", "companies.csv"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("Invalid apikey")
                .and(predicate::str::contains("wrong-key").not()),
        );
    assert_eq!(h.read("companies.csv"), "previous export\n");
    h.cmd()
        .env("CRM_API_KEY", "wrong-key")
        .args(["export", "companies", "--out", "new.xlsx"])
        .assert()
        .code(1);
    assert_eq!(h.files(), vec!["companies.csv"]);
}

#[test]
fn failing_server_leaves_no_file() {
    let h = Harness::with(SandboxConfig {
        faults: FaultSpec::parse("error=1").expect("fault spec"),
        ..SandboxConfig::default()
    });
    h.cmd()
        .args([
            "export",
            "companies",
            "--out",
            "companies.csv",
            "--max-retries",
            "0",
        ])
        .assert()
        .code(1);
    assert!(h.files().is_empty(), "{:?}", h.files());
}

#[test]
fn unwritable_target_leaves_no_file() {
    let h = Harness::new();
    populate_companies(&h);
    h.cmd()
        .args(["export", "companies", "--out", "missing/dir/companies.csv"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing/dir"));
    std::fs::create_dir(h.path("taken")).expect("mkdir");
    h.cmd()
        .args(["export", "companies", "--out", "taken"])
        .assert()
        .code(1);
    assert_eq!(h.files(), vec!["taken"], "the temporary file was removed");
    assert!(std::fs::read_dir(h.path("taken"))
        .expect("dir")
        .next()
        .is_none());
}

// Round trips need `crm-bulk import`, written on branch wip/import (`import FILE --table T`,
// as its --help shows there). Un-ignore these once it is merged.

fn import(h: &Harness, table: &str, file: &str, extra: &[&str]) {
    h.cmd()
        .args(["import", file, "--table", table])
        .args(extra)
        .assert()
        .success();
}

#[test]
fn companies_round_trip_identically() {
    let source = Harness::new();
    populate_companies(&source);
    source
        .cmd()
        .args(["export", "companies", "--out", "first.csv"])
        .assert()
        .success();
    let target = Harness::new();
    target.write("first.csv", source.read("first.csv"));
    import(&target, "companies", "first.csv", &[]);
    target
        .cmd()
        .args(["export", "companies", "--out", "second.csv"])
        .assert()
        .success();
    assert_eq!(source.read("first.csv"), target.read("second.csv"));
}

#[test]
fn contacts_round_trip_identically_with_their_companies() {
    let source = Harness::new();
    populate_companies(&source);
    for (i, company) in HARD_NAMES.iter().enumerate() {
        let name = format!("Contact {i}, «{company}»");
        let answer = source.api("addcontact", &[("clients-contact_name", &name)]);
        let id = answer["id"].as_str().expect("id").to_string();
        source.api(
            "setcontact",
            &[("companyName", company), ("contactID", &id)],
        );
    }
    for table in ["companies", "contacts"] {
        source
            .cmd()
            .args(["export", table, "--out", &format!("{table}.csv")])
            .assert()
            .success();
    }
    let target = Harness::new();
    for table in ["companies", "contacts"] {
        target.write(
            &format!("{table}.csv"),
            source.read(&format!("{table}.csv")),
        );
        import(&target, table, &format!("{table}.csv"), &[]);
        target
            .cmd()
            .args(["export", table, "--out", &format!("{table}-2.csv")])
            .assert()
            .success();
        assert_eq!(
            source.read(&format!("{table}.csv")),
            target.read(&format!("{table}-2.csv")),
            "{table}"
        );
    }
}

#[test]
fn exported_file_upserts_with_zero_write_calls() {
    let h = Harness::new();
    populate_companies(&h);
    h.cmd()
        .args(["export", "companies", "--out", "companies.csv"])
        .assert()
        .success();
    let before = h.write_calls();
    import(&h, "companies", "companies.csv", &["--mode", "upsert"]);
    assert_eq!(
        h.write_calls(),
        before,
        "nothing changed, so nothing is written"
    );
}
