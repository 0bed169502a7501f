//! `crm-bulk import` against the in-process sandbox: modes, keys, delta loads, `--empty`,
//! relationships, products, invalid files, and the pre-flight switches.

mod common;

use common::sandbox::ERP;
use common::{statuses, Harness};

fn company<'a>(all: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    all.iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("company {name} exists"))
}

const WEBSITE: &str = "org_www";

const COMPANIES: &str = "\
Name,Type,Website,ERP ID
Acme,Customer,https://acme.example,ERP-1
Globex,Lead,https://globex.example,ERP-2
Initech,Customer,https://initech.example,ERP-3
";

fn import(h: &Harness, file: &str, table: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    h.cmd()
        .args(["import", file, "--table", table, "--rate", "1000"])
        .args(extra)
        .assert()
}

#[test]
fn insert_creates_every_row_and_reports_ids() {
    let h = Harness::new();
    h.write("companies.csv", COMPANIES);
    import(&h, "companies.csv", "companies", &[]).code(0);
    let rows = h.report("companies.report.csv");
    assert_eq!(statuses(&rows), ["created", "created", "created"]);
    assert_eq!(
        rows.iter().map(|r| r["row"].as_str()).collect::<Vec<_>>(),
        ["2", "3", "4"]
    );
    let all = h.companies();
    assert_eq!(all.len(), 3);
    for row in &rows {
        let stored = company(&all, &row["key"]);
        assert_eq!(stored["id"].as_str(), Some(row["id"].as_str()));
    }
    assert_eq!(h.count("addcompany"), 3);
}

#[test]
fn insert_of_an_existing_key_writes_nothing() {
    let h = Harness::new();
    h.write("companies.csv", COMPANIES);
    import(&h, "companies.csv", "companies", &[]).code(0);
    let writes = h.write_calls();
    h.write(
        "again.csv",
        "Name,Website\nAcme,https://new.example\nNewco,https://newco.example\n",
    );
    let out = import(&h, "again.csv", "companies", &[]).code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("row 2"), "{stderr}");
    assert_eq!(h.write_calls(), writes, "an invalid row stops every write");
    let rows = h.report("again.report.csv");
    assert_eq!(statuses(&rows), ["invalid", "skipped"]);
    assert!(rows[1]["message"].contains("invalid"), "{:?}", rows[1]);
}

#[test]
fn update_by_erp_id_sends_only_changed_rows() {
    let h = Harness::new();
    h.write("companies.csv", COMPANIES);
    import(&h, "companies.csv", "companies", &[]).code(0);
    let writes = h.write_calls();
    h.write(
        "update.csv",
        "ERP ID,Name,Website\nERP-1,Acme Corp,https://acme.example\nERP-2,Globex,https://globex.example\n",
    );
    import(
        &h,
        "update.csv",
        "companies",
        &["--mode", "update", "--key", "ERP ID"],
    )
    .code(0);
    let rows = h.report("update.report.csv");
    assert_eq!(statuses(&rows), ["updated", "unchanged"]);
    assert_eq!(rows[0]["key"], "ERP-1");
    assert_eq!(
        h.write_calls(),
        writes + 1,
        "one write per changed row, none for unchanged"
    );
    let all = h.companies();
    assert_eq!(company(&all, "Acme Corp")[ERP], "ERP-1");
}

#[test]
fn update_of_a_missing_key_is_reported() {
    let h = Harness::new();
    h.write(
        "update.csv",
        "Name,Website\nNobody,https://nobody.example\n",
    );
    import(&h, "update.csv", "companies", &["--mode", "update"]).code(3);
    let rows = h.report("update.report.csv");
    assert!(
        matches!(rows[0]["status"].as_str(), "invalid" | "failed"),
        "{rows:?}"
    );
    assert_eq!(h.write_calls(), 0);
}

#[test]
fn upsert_creates_updates_and_leaves_unchanged_rows_alone() {
    let h = Harness::new();
    h.write("companies.csv", COMPANIES);
    import(&h, "companies.csv", "companies", &[]).code(0);
    let writes = h.write_calls();
    h.write(
        "upsert.csv",
        "Name,Type,Website,ERP ID\n\
         Acme,Customer,https://acme.example,ERP-1\n\
         Globex,Customer,https://globex.example,ERP-2\n\
         Umbrella,Lead,https://umbrella.example,ERP-4\n",
    );
    import(&h, "upsert.csv", "companies", &["--mode", "upsert"]).code(0);
    let rows = h.report("upsert.report.csv");
    assert_eq!(statuses(&rows), ["unchanged", "updated", "created"]);
    assert_eq!(h.write_calls(), writes + 2);
    assert_eq!(h.companies().len(), 4);
}

#[test]
fn an_unchanged_reload_makes_zero_write_calls() {
    let h = Harness::new();
    h.write("companies.csv", COMPANIES);
    import(&h, "companies.csv", "companies", &["--mode", "upsert"]).code(0);
    let writes = h.write_calls();
    assert_eq!(writes, 3);
    let reads = h.count("getcompanies");
    import(&h, "companies.csv", "companies", &["--mode", "upsert"]).code(0);
    assert_eq!(
        h.write_calls(),
        writes,
        "a nightly reload of an unchanged file writes nothing"
    );
    assert_eq!(
        statuses(&h.report("companies.report.csv")),
        ["unchanged"; 3]
    );
    assert_eq!(
        h.count("getcompanies"),
        reads + 1,
        "one read of the table per run, never one per row"
    );
}

#[test]
fn empty_cells_keep_stored_values_unless_asked_to_clear() {
    let h = Harness::new();
    h.write("companies.csv", COMPANIES);
    import(&h, "companies.csv", "companies", &[]).code(0);
    h.write("blank.csv", "Name,Website\nAcme,\n");
    import(&h, "blank.csv", "companies", &["--mode", "update"]).code(0);
    assert_eq!(statuses(&h.report("blank.report.csv")), ["unchanged"]);
    assert_eq!(
        company(&h.companies(), "Acme")[WEBSITE],
        "https://acme.example"
    );
    import(
        &h,
        "blank.csv",
        "companies",
        &["--mode", "update", "--empty", "clear"],
    )
    .code(0);
    assert_eq!(statuses(&h.report("blank.report.csv")), ["updated"]);
    assert_eq!(company(&h.companies(), "Acme")[WEBSITE], "");
}

#[test]
fn contacts_link_to_companies_by_name_and_id() {
    let h = Harness::new();
    h.write("companies.csv", COMPANIES);
    import(&h, "companies.csv", "companies", &[]).code(0);
    let globex_id = company(&h.companies(), "Globex")["id"]
        .as_str()
        .unwrap()
        .to_string();
    h.write(
        "contacts.csv",
        format!(
            "Full Name,Company,E-Mail\nKelly Dorn,Acme,kelly@acme.example\nAlan Lemon,({globex_id}),alan@globex.example\n"
        ),
    );
    import(&h, "contacts.csv", "contacts", &[]).code(0);
    assert_eq!(h.count("setcontact"), 0, "the link goes in the add call");
    let contacts = h.api("getcontacts", &[])["contacts"]
        .as_array()
        .cloned()
        .unwrap();
    let company_of = |name: &str| {
        contacts
            .iter()
            .find(|c| c["contact_name"] == name)
            .expect("contact exists")["contact_company"]
            .clone()
    };
    assert_eq!(company_of("Kelly Dorn"), "Acme");
    assert_eq!(company_of("Alan Lemon"), "Globex");

    // Moving a contact to another company on update links it with setcontact.
    h.write("move.csv", "Full Name,Company\nKelly Dorn,Initech\n");
    import(&h, "move.csv", "contacts", &["--mode", "update"]).code(0);
    assert_eq!(statuses(&h.report("move.report.csv")), ["updated"]);
    let contacts = h.api("getcontacts", &[])["contacts"]
        .as_array()
        .cloned()
        .unwrap();
    let kelly = contacts
        .iter()
        .find(|c| c["contact_name"] == "Kelly Dorn")
        .unwrap();
    assert_eq!(kelly["contact_company"], "Initech");
}

#[test]
fn a_contact_of_an_unknown_company_is_invalid() {
    let h = Harness::new();
    h.write(
        "contacts.csv",
        "Full Name,Company\nKelly Dorn,Nowhere Inc\n",
    );
    let out = import(&h, "contacts.csv", "contacts", &[]).code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("contacts.csv: row 2, column \"Company\""),
        "{stderr}"
    );
    assert_eq!(h.write_calls(), 0);
}

#[test]
fn products_go_through_update_or_create_entity() {
    let h = Harness::new();
    h.write(
        "products.csv",
        "Product Name,Price,SKU\nServer,1200,CRM-SRV\nData Center,4800,CRM-DC\n",
    );
    import(&h, "products.csv", "products", &[]).code(0);
    assert_eq!(h.count("updateOrCreateEntity"), 2);
    assert_eq!(
        statuses(&h.report("products.report.csv")),
        ["created", "created"]
    );
    let records = h.api("searchEntities", &[("tableName", "PRODUCTS")]);
    assert_eq!(records["records"].as_array().map(Vec::len), Some(2));

    h.write(
        "products.csv",
        "Product Name,Price,SKU\nServer,1300,CRM-SRV\nData Center,4800,CRM-DC\n",
    );
    import(&h, "products.csv", "products", &["--mode", "upsert"]).code(0);
    assert_eq!(
        statuses(&h.report("products.report.csv")),
        ["updated", "unchanged"]
    );
    assert_eq!(h.count("updateOrCreateEntity"), 3);
}

#[test]
fn an_invalid_file_writes_nothing_and_names_file_row_and_column() {
    let h = Harness::new();
    h.write(
        "companies.csv",
        "Name,Website,E-Mail\nAcme,https://acme.example,info@acme.example\nGlobex,https://globex.example,kelly@\n",
    );
    let out = import(&h, "companies.csv", "companies", &[]).code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("companies.csv: row 3, column \"E-Mail\": \"kelly@\""),
        "{stderr}"
    );
    assert_eq!(h.write_calls(), 0);
    let rows = h.report("companies.report.csv");
    assert_eq!(statuses(&rows), ["skipped", "invalid"]);
}

#[test]
fn skip_invalid_loads_the_valid_rows() {
    let h = Harness::new();
    h.write(
        "companies.csv",
        "Name,E-Mail\nAcme,info@acme.example\nGlobex,kelly@\nInitech,\n",
    );
    h.cmd()
        .args([
            "import",
            "companies.csv",
            "--table",
            "companies",
            "--rate",
            "1000",
            "--skip-invalid",
        ])
        .args(["--failures", "failed.csv"])
        .assert()
        .code(3);
    assert_eq!(
        statuses(&h.report("companies.report.csv")),
        ["created", "invalid", "created"]
    );
    assert_eq!(h.count("addcompany"), 2);
    let failures = h.read("failed.csv");
    assert!(failures.starts_with("Name,E-Mail,"), "{failures}");
    assert!(failures.contains("Globex,kelly@,"), "{failures}");
}

#[test]
fn max_invalid_tolerates_a_few_bad_rows() {
    let h = Harness::new();
    h.write(
        "companies.csv",
        "Name,E-Mail\nAcme,info@acme.example\nGlobex,kelly@\n",
    );
    import(&h, "companies.csv", "companies", &["--max-invalid", "0"]).code(3);
    assert_eq!(h.write_calls(), 0);
    import(&h, "companies.csv", "companies", &["--max-invalid", "1"]).code(3);
    assert_eq!(h.count("addcompany"), 1);
}

#[test]
fn missing_options_are_created_before_the_rows_that_use_them() {
    let h = Harness::new();
    h.write(
        "companies.csv",
        "Name,Industry\nAcme,Space Travel\nGlobex,Space Travel\n",
    );
    import(&h, "companies.csv", "companies", &[]).code(3);
    assert_eq!(h.write_calls(), 0);
    import(
        &h,
        "companies.csv",
        "companies",
        &["--create-missing-options"],
    )
    .code(0);
    assert_eq!(
        h.count("adddictionaryvalue"),
        1,
        "one new value, added once"
    );
    assert_eq!(
        company(&h.companies(), "Globex")["org_industry"],
        "Space Travel"
    );
}

#[test]
fn the_summary_json_counts_statuses_and_calls() {
    let h = Harness::new();
    h.write("companies.csv", COMPANIES);
    import(
        &h,
        "companies.csv",
        "companies",
        &["--summary-json", "summary.json"],
    )
    .code(0);
    let summary: serde_json::Value =
        serde_json::from_str(&h.read("summary.json")).expect("summary is JSON");
    let text = summary.to_string();
    assert!(text.contains("created"), "{text}");
    assert!(text.contains('3'), "{text}");
}

#[test]
fn json_report_on_request() {
    let h = Harness::new();
    h.write("companies.csv", COMPANIES);
    import(
        &h,
        "companies.csv",
        "companies",
        &["--report", "out.json", "--report-format", "json"],
    )
    .code(0);
    let rows: serde_json::Value = serde_json::from_str(&h.read("out.json")).expect("JSON report");
    let rows = rows.as_array().expect("an array of rows");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["status"], "created");
    assert_eq!(rows[0]["row"], 2);
}

#[test]
fn help_documents_empty_modes_and_exit_codes() {
    let h = Harness::new();
    let help = h.help("import");
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("vendor's own importer clears"), "{help}");
    assert!(help.contains("--resume"), "{help}");
}

#[test]
fn a_permission_error_stops_the_run_and_sends_nothing_more() {
    let h = Harness::new();
    h.write("companies.csv", COMPANIES);
    let out = h
        .cmd()
        .env("CRM_USER", "viewer")
        .args([
            "import",
            "companies.csv",
            "--table",
            "companies",
            "--rate",
            "1000",
            "--concurrency",
            "1",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("permission"), "{stderr}");
    assert_eq!(h.count("addcompany"), 1, "the first refusal stops the run");
    let rows = h.report("companies.report.csv");
    assert_eq!(rows.len(), 3, "every row is still reported");
    assert!(rows.iter().all(|r| r["status"] == "skipped"), "{rows:?}");
    assert!(rows[2]["message"].contains("not sent"), "{rows:?}");
}
