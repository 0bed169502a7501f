//! The shared test harness: an in-process sandbox on 127.0.0.1:0, a temporary working
//! directory, and the real `crm-bulk` binary run with an isolated environment pointed at that
//! sandbox; plus the helpers several test files need (reading a report or any CSV, generating
//! input files, raw servlet calls, the sandbox's field codes). Every integration test file
//! includes it with `mod common;`. It must not hold assertions about one subcommand: those
//! belong in that subcommand's test file.
#![allow(dead_code)]

pub mod read;
pub mod sandbox;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use crm_bulk::sandbox::{FaultSpec, Sandbox, SandboxConfig};
use tempfile::TempDir;

/// The default sandbox credentials (see `SandboxConfig::default`).
pub const API_KEY: &str = "sandbox-key";
pub const TOKEN: &str = "sandbox-token";
pub const USER: &str = "admin";

/// The default sandbox schema's tables, in its order.
pub const DEFAULT_TABLES: [&str; 5] = [
    "companies",
    "contacts",
    "products",
    "transactions",
    "budget",
];

/// The arguments of [`Harness::import_companies`]: a fast load of `companies.csv`.
pub const IMPORT_COMPANIES: &[&str] = &[
    "import",
    "companies.csv",
    "--table",
    "companies",
    "--rate",
    "5000",
];

pub struct Harness {
    pub sandbox: Sandbox,
    pub dir: TempDir,
}

impl Harness {
    /// A sandbox with the default schema, in memory.
    pub fn new() -> Harness {
        Harness::with(SandboxConfig::default())
    }

    pub fn with(config: SandboxConfig) -> Harness {
        let sandbox = Sandbox::start(config).expect("sandbox starts");
        let dir = tempfile::tempdir().expect("temp dir");
        Harness { sandbox, dir }
    }

    /// A sandbox that injects `spec` faults (see `FaultSpec::parse`) with a fixed seed.
    pub fn faulty(spec: &str, seed: u64) -> Harness {
        Harness::with(SandboxConfig {
            faults: FaultSpec::parse(spec).expect("fault spec"),
            seed,
            ..SandboxConfig::default()
        })
    }

    pub fn base_url(&self) -> String {
        self.sandbox.base_url()
    }

    /// The `crm-bulk` binary, run in the temp dir, with every CRM_* variable of the outer
    /// environment removed and the sandbox's connection set.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.process())
    }

    /// The same as [`Harness::cmd`], as a plain `std::process::Command`, for tests that must
    /// spawn the binary and signal or kill it.
    pub fn process(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("crm-bulk"));
        for (key, _) in std::env::vars() {
            if key.starts_with("CRM_") {
                cmd.env_remove(key);
            }
        }
        cmd.current_dir(self.dir.path())
            .env("CRM_URL", self.base_url())
            .env("CRM_USER", USER)
            .env("CRM_API_KEY", API_KEY)
            .env("CRM_TOKEN", TOKEN)
            .env("NO_COLOR", "1");
        cmd
    }

    /// `crm-bulk import companies.csv --table companies --rate 5000` followed by `extra`.
    pub fn import_companies(&self, extra: &[&str]) -> Command {
        let mut cmd = self.cmd();
        cmd.args(IMPORT_COMPANIES).args(extra);
        cmd
    }

    /// The `--help` text of a subcommand (which must print it and exit 0).
    pub fn help(&self, subcommand: &str) -> String {
        let out = self.cmd().args([subcommand, "--help"]).assert().success();
        String::from_utf8_lossy(&out.get_output().stdout).into_owned()
    }

    /// The report (or any CSV) `name` in the temp dir, one map per row.
    pub fn report(&self, name: &str) -> Vec<Row> {
        read_report(&self.path(name))
    }

    /// Every company the sandbox holds, as `getcompanies` lists them.
    pub fn companies(&self) -> Vec<serde_json::Value> {
        self.api("getcompanies", &[])["companies"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Names of the files in the temp dir (temporary leftovers included), sorted.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Writes a file into the temp dir and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).expect("read test file")
    }

    /// Calls one servlet command over real HTTP and returns the JSON answer.
    pub fn api(&self, command: &str, params: &[(&str, &str)]) -> serde_json::Value {
        let mut url =
            url::Url::parse(&format!("{}/plugins/servlet/crm/api", self.base_url())).unwrap();
        url.query_pairs_mut()
            .append_pair("apiKey", API_KEY)
            .append_pair("userName", USER)
            .append_pair("command", command);
        for (k, v) in params {
            url.query_pairs_mut().append_pair(k, v);
        }
        // A sandbox with injected faults may reset or fail a read; reads are safe to repeat,
        // so the harness retries them (writes are sent once: a test must see their faults).
        let is_read = command.starts_with("get")
            || command.eq_ignore_ascii_case("searchEntities")
            || command.eq_ignore_ascii_case("transactionslist");
        let attempts = if is_read { 50 } else { 1 };
        let mut last = String::new();
        for _ in 0..attempts {
            match try_get_json(url.as_str()) {
                Ok((status, value)) if status < 429 || !is_read => return value,
                Ok((status, value)) => last = format!("HTTP {status}: {value}"),
                Err(e) => last = e,
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("{command}: no answer after {attempts} attempts: {last}")
    }

    /// Total servlet requests per command, from `GET /__sandbox/stats`.
    pub fn stats(&self) -> serde_json::Value {
        http_get_json(&format!("{}/__sandbox/stats", self.base_url()))
    }

    /// How many requests of `command` the sandbox has received.
    pub fn count(&self, command: &str) -> u64 {
        self.stats()["requests"][command].as_u64().unwrap_or(0)
    }

    /// Write calls received, summed over every write command.
    pub fn write_calls(&self) -> u64 {
        const WRITES: &[&str] = &[
            "addcompany",
            "editcompany",
            "deletecompany",
            "addcontact",
            "editcontact",
            "setcontact",
            "unsetcontact",
            "deletecontact",
            "adddictionaryvalue",
            "removedictionaryvalue",
            "updateOrCreateEntity",
            "setcrmproperties",
            "sync",
        ];
        WRITES.iter().map(|c| self.count(c)).sum()
    }
}

/// A blocking GET returning the HTTP status and the JSON body, or why there was none.
pub fn try_get_json(url: &str) -> Result<(u16, serde_json::Value), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let response = reqwest::get(url)
            .await
            .map_err(|e| e.without_url().to_string())?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| e.to_string())?;
        let value = serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))?;
        Ok((status, value))
    })
}

/// A blocking GET returning JSON, for tests (a plain HTTP client, independent of ours).
pub fn http_get_json(url: &str) -> serde_json::Value {
    try_get_json(url)
        .map(|(_, value)| value)
        .unwrap_or_else(|e| panic!("GET: {e}"))
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// One report row: column header to cell.
pub type Row = BTreeMap<String, String>;

/// Reads a CSV report into one map per row.
pub fn read_report(path: &Path) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(path).expect("report exists");
    reader
        .deserialize()
        .map(|r| r.expect("report row"))
        .collect()
}

/// The `status` column of report rows.
pub fn statuses(rows: &[Row]) -> Vec<String> {
    rows.iter().map(|r| r["status"].clone()).collect()
}

/// A CSV file as its header and its rows, cells in file order.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).expect("opens as CSV");
    let headers = reader
        .headers()
        .expect("headers")
        .iter()
        .map(String::from)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("record").iter().map(String::from).collect())
        .collect();
    (headers, rows)
}

/// The cells of the column headed `name`.
pub fn column<'a>(headers: &[String], rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let i = headers
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no {name} in {headers:?}"));
    rows.iter().map(|r| r[i].as_str()).collect()
}

/// A companies CSV of `rows` rows: `Company 00000,ERP-00000`, and so on.
pub fn companies_file(rows: usize) -> String {
    let mut text = String::from("Name,ERP ID\n");
    for i in 0..rows {
        text.push_str(&format!("Company {i:05},ERP-{i:05}\n"));
    }
    text
}

/// As [`companies_file`], with a `Website` column (`https://c0.example`, ...).
pub fn companies_file_with_websites(rows: usize) -> String {
    let mut text = String::from("Name,ERP ID,Website\n");
    for i in 0..rows {
        text.push_str(&format!("Company {i:05},ERP-{i:05},https://c{i}.example\n"));
    }
    text
}
