//! `crm-bulk fields` through the real binary: every default sandbox table via CRM_URL and
//! via `--sandbox`, JSON output, `--help` with an example, and the error without a target.

mod common;

use common::{Harness, DEFAULT_TABLES as TABLES};
use crm_bulk::schema::Schema;
use predicates::prelude::*;

#[test]
fn lists_every_default_table_via_crm_url() {
    let h = Harness::new();
    let schema = Schema::default_sandbox();
    for name in TABLES {
        let output = h.cmd().args(["fields", name]).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.contains("NAME") && stdout.contains("OPTIONS"),
            "{stdout}"
        );
        for attr in &schema.table(name).unwrap().attributes {
            assert!(
                stdout.contains(&attr.code) && stdout.contains(&attr.name),
                "{name}: {} missing\n{stdout}",
                attr.code
            );
        }
    }
}

#[test]
fn shows_types_flags_and_options() {
    let h = Harness::new();
    let output = h.cmd().args(["fields", "companies"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = |code: &str| {
        stdout
            .lines()
            .find(|l| l.contains(code))
            .unwrap_or_default()
            .to_string()
    };
    let name = line("org_name");
    assert!(
        name.contains("text (name)") && name.matches("yes").count() == 2,
        "required and unique: {name}"
    );
    assert!(
        line("org_type").contains("1=Lead, 2=Customer, 3=Partner, 4=Competitor"),
        "{stdout}"
    );
    assert!(
        line("org_industry").contains("dictionary Industries:"),
        "{stdout}"
    );
    assert!(
        line("org_people").contains("users (unsupported)") && line("org_people").contains("yes"),
        "{stdout}"
    );
}

#[test]
fn json_output_is_the_saved_schema_shape() {
    let h = Harness::new();
    let output = h
        .cmd()
        .args(["fields", "contacts", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let schema = Schema::from_json(&String::from_utf8_lossy(&output.stdout)).expect("a schema");
    let want = Schema::default_sandbox();
    assert_eq!(schema.tables.len(), 1);
    assert_eq!(
        schema.table("contacts").unwrap().attributes.len(),
        want.table("contacts").unwrap().attributes.len()
    );
    assert_eq!(schema.dictionary("Positions"), want.dictionary("Positions"));
}

#[test]
fn works_with_the_embedded_sandbox() {
    let h = Harness::new();
    for name in TABLES {
        h.cmd()
            .env_remove("CRM_URL")
            .args(["fields", name, "--sandbox", "--sandbox-db", "local.db"])
            .assert()
            .success()
            .stdout(predicate::str::contains("CODE"));
    }
    assert!(
        h.path("local.db").exists(),
        "the sandbox database is the one named"
    );
}

#[test]
fn no_url_and_no_sandbox_is_a_clear_error() {
    let h = Harness::new();
    h.cmd()
        .env_remove("CRM_URL")
        .args(["fields", "companies"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("--url")
                .and(predicate::str::contains("CRM_URL"))
                .and(predicate::str::contains("--sandbox")),
        );
    assert!(
        !h.path("crm-sandbox.db").exists(),
        "never falls back to the sandbox"
    );
}

#[test]
fn an_unknown_table_says_so() {
    let h = Harness::new();
    h.cmd()
        .args(["fields", "nosuch"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("NOSUCH"));
}

#[test]
fn help_shows_an_example() {
    let h = Harness::new();
    let help = h.help("fields");
    assert!(help.contains("Examples:"), "{help}");
    assert!(
        help.contains("crm-bulk fields companies --sandbox"),
        "{help}"
    );
}

#[test]
fn secrets_can_come_from_files_and_basic_auth_works() {
    let h = Harness::new();
    h.write("key.txt", format!("{}\n", common::API_KEY));
    h.write("token.txt", format!("{}\n", common::TOKEN));
    h.write("password.txt", common::TOKEN);
    for args in [
        ["--api-key-file", "key.txt", "--token-file", "token.txt"],
        [
            "--api-key-file",
            "key.txt",
            "--password-file",
            "password.txt",
        ],
    ] {
        h.cmd()
            .env_remove("CRM_API_KEY")
            .env_remove("CRM_TOKEN")
            .args(["fields", "products"])
            .args(args)
            .assert()
            .success()
            .stdout(predicate::str::contains("prod_name"));
    }
}

#[test]
fn missing_credentials_are_explained() {
    let h = Harness::new();
    h.cmd()
        .env_remove("CRM_API_KEY")
        .args(["fields", "companies"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("CRM_API_KEY").and(predicate::str::contains("--api-key-file")),
        );
    h.cmd()
        .env_remove("CRM_TOKEN")
        .args(["fields", "companies"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("CRM_TOKEN").and(predicate::str::contains("--password-file")),
        );
}

#[test]
fn insecure_warns_loudly_and_a_bad_ca_file_stops() {
    let h = Harness::new();
    h.cmd()
        .args(["fields", "budget", "--insecure"])
        .assert()
        .success()
        .stderr(predicate::str::contains("WARNING: --insecure"));
    h.write("ca.pem", "not a certificate");
    h.cmd()
        .args(["fields", "budget", "--ca-cert", "ca.pem"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("ca.pem"));
}
