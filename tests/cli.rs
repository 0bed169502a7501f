//! The command line as people read it: `--help` of every command (snapshots), shell
//! completions and the man page generated from the same definitions, and log output at
//! `-vv` (text and JSON) that never shows a secret, even when a call fails.

mod common;

use common::Harness;
use crm_bulk::sandbox::SandboxConfig;
use crm_bulk::secret::Secret;

const SUBCOMMANDS: &[&str] = &[
    "sandbox",
    "fields",
    "template",
    "validate",
    "import",
    "export",
    "run",
    "schema",
    "completions",
    "man",
];

/// The binary with no CRM_* variable set (clap shows `[env: CRM_URL=...]` values in help,
/// and the harness's URL has a random port) and a fixed help width.
fn crm_bulk(args: &[&str]) -> std::process::Output {
    let h = Harness::new();
    h.cmd()
        .env_remove("CRM_URL")
        .env_remove("CRM_USER")
        .env("COLUMNS", "100")
        .args(args)
        .output()
        .unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = crm_bulk(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_for_each_shell_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.len() > 1000, "{shell}: {script}");
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completions lack {sub}");
        }
        assert!(
            script.contains("dry-run") && script.contains("api-key-file"),
            "{shell}"
        );
    }
    let out = crm_bulk(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn the_man_page_renders_as_roff_with_every_subcommand() {
    let page = stdout_of(&["man"]);
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "{}",
        &page[..80.min(page.len())]
    );
    assert!(page.contains(".TH crm-bulk"), "a roff title line");
    assert!(page.contains("Bulk import and export"), "the description");
    for sub in SUBCOMMANDS {
        assert!(page.contains(sub), "man page lacks {sub}");
    }
    assert!(
        page.contains("Exit codes"),
        "the exit-code table from the long help"
    );
}

fn help(args: &[&str]) -> String {
    let mut full = args.to_vec();
    full.push("--help");
    stdout_of(&full)
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!("help_top", help(&[]));
}

#[test]
fn help_of_each_subcommand() {
    let mut commands: Vec<Vec<&str>> = SUBCOMMANDS.iter().map(|s| vec![*s]).collect();
    commands.push(vec!["schema", "pull"]);
    commands.push(vec!["schema", "show"]);
    for command in commands {
        let name = format!("help_{}", command.join("_"));
        insta::assert_snapshot!(name, help(&command));
    }
}

/// A sandbox whose key and token are distinctive, so any leak is visible.
fn secret_sandbox() -> Harness {
    Harness::with(SandboxConfig {
        api_key: Secret::new("KEY-4f1d9c-SECRET"),
        token: Secret::new("TOKEN-8e2b7a-SECRET"),
        ..SandboxConfig::default()
    })
}

fn assert_no_secret(label: &str, out: &std::process::Output, secrets: &[&str]) {
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "{label}: {secret} shown in:\n{text}"
            );
        }
    }
}

#[test]
fn no_secret_in_log_lines_at_vv_when_calls_fail_or_succeed() {
    let h = secret_sandbox();
    h.write("c.csv", "Name,ERP ID\nAlpha,ERP-1\n");
    let wrong = ["WRONG-KEY-77aa-SECRET", "WRONG-TOKEN-99bb-SECRET"];
    let right = ["KEY-4f1d9c-SECRET", "TOKEN-8e2b7a-SECRET"];
    for format in ["text", "json"] {
        // A failing servlet call (wrong key) and a failing REST call (wrong token).
        for args in [&["export", "companies"][..], &["fields", "companies"][..]] {
            let out = h
                .cmd()
                .env("CRM_API_KEY", wrong[0])
                .env("CRM_TOKEN", wrong[1])
                .env("CRM_BULK_LOG", "trace")
                .args(["-vv", "--log-format", format])
                .args(args)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(1), "{args:?} fails");
            assert!(!out.stderr.is_empty(), "something was logged");
            assert_no_secret(&format!("{format} {args:?}"), &out, &wrong);
        }
        // A whole import that succeeds, with every request logged.
        let out = h
            .cmd()
            .env("CRM_API_KEY", right[0])
            .env("CRM_TOKEN", right[1])
            .args([
                "-vv",
                "--log-format",
                format,
                "import",
                "c.csv",
                "--table",
                "companies",
            ])
            .args(["--mode", "upsert"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.lines().count() > 5, "-vv logs the calls: {stderr}");
        assert_no_secret(&format!("{format} import"), &out, &right);
        if format == "json" {
            let first = stderr
                .lines()
                .find(|l| l.starts_with('{'))
                .expect("a JSON line");
            let _: serde_json::Value = serde_json::from_str(first).expect("log lines are JSON");
        }
    }
}

#[test]
fn quiet_hides_info_lines() {
    let h = Harness::new();
    let loud = h
        .cmd()
        .args(["export", "products", "--out", "p.csv"])
        .output()
        .unwrap();
    let quiet = h
        .cmd()
        .args(["-q", "export", "products", "--out", "p.csv"])
        .output()
        .unwrap();
    assert!(loud.status.success() && quiet.status.success());
    let loud = String::from_utf8_lossy(&loud.stderr);
    assert!(loud.contains("INFO"), "{loud}");
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("INFO"));
}
