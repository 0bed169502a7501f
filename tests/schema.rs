//! `crm-bulk schema pull` and `schema show`: a schema pulled from one sandbox and served by a
//! second one (through `sandbox --schema FILE`) reads back the same, table by table.

mod common;

use clap::Parser;
use common::Harness;
use crm_bulk::cli::{Cli, Command};
use crm_bulk::sandbox::SandboxConfig;
use crm_bulk::schema::{AttrKind, Attribute, OptionValue, Schema, TableSchema};

/// The default schema, changed so a pull that ignored the instance would show it: another
/// date format, a new list attribute on companies, a renamed contact attribute, an extra
/// dictionary value and a custom directory.
fn modified_schema() -> Schema {
    let mut schema = Schema::default_sandbox();
    schema.date_format = "%d.%m.%Y".into();
    let companies = schema
        .tables
        .iter_mut()
        .find(|t| t.table == "CLIENTS")
        .unwrap();
    companies.attributes.push(Attribute {
        id: 9901,
        code: "clients_field_0000aaaa-1111-4222-8333-444455556666".into(),
        name: "Region".into(),
        name_en: "Region".into(),
        kind: AttrKind::List,
        required: true,
        unique: false,
        read_only: false,
        is_name: false,
        dictionary: None,
        options: vec![
            OptionValue {
                id: "71".into(),
                label: "DACH".into(),
            },
            OptionValue {
                id: "72".into(),
                label: "Nordics".into(),
            },
        ],
        show: true,
        tab: 0,
    });
    let contacts = schema
        .tables
        .iter_mut()
        .find(|t| t.table == "CONTACTS")
        .unwrap();
    let position = contacts
        .attributes
        .iter_mut()
        .find(|a| a.code == "contact_position")
        .unwrap();
    position.name = "Rolle".into();
    let dictionary = position.dictionary.clone().unwrap();
    schema
        .dictionaries
        .iter_mut()
        .find(|d| d.name == dictionary)
        .unwrap()
        .values
        .push(OptionValue {
            id: "999".into(),
            label: "Chief Rehearsal Officer".into(),
        });
    let mut name = companies_like_name_attribute();
    name.code = "suppliers_name".into();
    schema.tables.push(TableSchema {
        table: "SUPPLIERS".into(),
        attributes: vec![name],
    });
    schema
}

fn companies_like_name_attribute() -> Attribute {
    let schema = Schema::default_sandbox();
    schema
        .table("CLIENTS")
        .unwrap()
        .name_attribute()
        .unwrap()
        .clone()
}

fn fields(h: &Harness, table: &str) -> String {
    let out = h.cmd().args(["fields", table]).output().unwrap();
    assert!(
        out.status.success(),
        "fields {table}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A sandbox started the way `crm-bulk sandbox --schema FILE` starts one.
fn sandbox_serving(file: &std::path::Path) -> Harness {
    let cli = Cli::try_parse_from([
        "crm-bulk".as_ref(),
        "sandbox".as_ref(),
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--db".as_ref(),
        ":memory:".as_ref(),
        "--schema".as_ref(),
        file.as_os_str(),
    ])
    .unwrap();
    let Command::Sandbox(args) = cli.command else {
        unreachable!()
    };
    Harness::with(args.config().unwrap())
}

#[test]
fn a_pulled_schema_served_by_another_sandbox_reads_back_the_same() {
    let original = Harness::with(SandboxConfig {
        schema: modified_schema(),
        ..SandboxConfig::default()
    });
    let pulled = original.path("prod-schema.json");
    let out = original
        .cmd()
        .args(["schema", "pull", "--out"])
        .arg(&pulled)
        .args(["--table", "SUPPLIERS"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("6 tables") && said.contains("date format %d.%m.%Y"),
        "{said}"
    );

    let rehearsal = sandbox_serving(&pulled);
    for table in [
        "companies",
        "contacts",
        "products",
        "transactions",
        "budget",
        "SUPPLIERS",
    ] {
        let before = fields(&original, table);
        let after = fields(&rehearsal, table);
        assert_eq!(before, after, "fields {table} differs");
    }
    let companies = fields(&rehearsal, "companies");
    assert!(
        companies.contains("Region") && companies.contains("71=DACH, 72=Nordics"),
        "{companies}"
    );
    let contacts = fields(&rehearsal, "contacts");
    assert!(
        contacts.contains("Rolle") && contacts.contains("999=Chief Rehearsal Officer"),
        "{contacts}"
    );

    let saved = Schema::from_json(&std::fs::read_to_string(&pulled).unwrap()).unwrap();
    assert_eq!(saved.date_format, "%d.%m.%Y");
    let json = |h: &Harness| {
        let out = h
            .cmd()
            .args(["fields", "companies", "--json"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(
        json(&original),
        json(&rehearsal),
        "the date format and attributes agree"
    );
}

#[test]
fn a_failed_pull_leaves_the_last_good_file_alone() {
    let h = Harness::new();
    let file = h.write("schema.json", "last good\n");
    let out = h
        .cmd()
        .env("CRM_TOKEN", "wrong-token")
        .args(["schema", "pull", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        !said.contains("wrong-token"),
        "the token is never shown: {said}"
    );
    assert_eq!(h.read("schema.json"), "last good\n");
    let leftovers: Vec<_> = std::fs::read_dir(h.dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
}

#[test]
fn schema_show_prints_every_table_of_a_saved_file() {
    let h = Harness::new();
    let file = h.write("s.json", modified_schema().to_json());
    let out = h
        .cmd()
        .args(["schema", "show"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("date format %d.%m.%Y, 6 tables"), "{text}");
    for table in [
        "companies (CLIENTS):",
        "contacts (CONTACTS):",
        "SUPPLIERS (SUPPLIERS):",
    ] {
        assert!(text.contains(table), "{table} missing: {text}");
    }
    let bad = h.write("bad.json", "{}");
    let out = h.cmd().args(["schema", "show"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a crm-bulk schema file"));
}
