//! The reliability suite's CI part: every fault kind of the sandbox alone at high rates, mixed
//! faults in upsert mode, the process killed several times over one load, the sandbox
//! restarted mid-load, and two overlapping imports at once. Each test checks exact
//! accounting: rows in = entries out, no duplicates, every row reported once.
//! `tests/import_faults.rs` has the mixed-fault insert and update loads; the long runs
//! (many kills, large files) are `scripts/reliability.sh`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Harness, API_KEY, TOKEN, USER};
use crm_bulk::sandbox::{FaultSpec, Sandbox, SandboxConfig};

type Row = BTreeMap<String, String>;

const SEND: [&str; 6] = [
    "--rate",
    "5000",
    "--concurrency",
    "8",
    "--max-retries",
    "30",
];

fn report(h: &Harness, name: &str) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(h.path(name)).expect("report exists");
    reader
        .deserialize()
        .map(|r| r.expect("report row"))
        .collect()
}

/// `Company i,ERP-i,Website` rows for `range`, the website ending in `tld`.
fn companies_file(range: std::ops::Range<usize>, tld: &str) -> String {
    let mut text = String::from("Name,ERP ID,Website\n");
    for i in range {
        text.push_str(&format!("Company {i:05},ERP-{i:05},https://c{i}.{tld}\n"));
    }
    text
}

fn faulty(spec: &str, seed: u64) -> Harness {
    Harness::with(SandboxConfig {
        faults: FaultSpec::parse(spec).expect("fault spec"),
        seed,
        ..SandboxConfig::default()
    })
}

/// Every company in the sandbox, asked again while injected faults get in the way.
fn stored_companies(h: &Harness) -> Vec<serde_json::Value> {
    let url = format!(
        "{}/plugins/servlet/crm/api?apiKey={API_KEY}&userName={USER}&command=getcompanies",
        h.base_url()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for _ in 0..200 {
        let answer = runtime.block_on(async {
            let response = reqwest::get(&url).await.ok()?;
            serde_json::from_str::<serde_json::Value>(&response.text().await.ok()?).ok()
        });
        if let Some(answer) = answer.filter(|a| a["success"] == true) {
            return answer["companies"].as_array().cloned().unwrap_or_default();
        }
    }
    panic!("the sandbox never answered getcompanies");
}

/// ERP ID → website of every stored company; panics on a duplicate name or ERP ID.
fn stored_by_erp(h: &Harness) -> BTreeMap<String, String> {
    let erp_code = "clients_field_5b0e7a52-8f3c-4d21-9a6e-0c9d1e2f3a4b";
    let stored = stored_companies(h);
    let mut by_erp = BTreeMap::new();
    let mut names = BTreeSet::new();
    for company in &stored {
        let name = company["name"].as_str().unwrap_or_default().to_string();
        assert!(names.insert(name.clone()), "duplicate entry {name}");
        let erp = company[erp_code].as_str().unwrap_or_default().to_string();
        let www = company["org_www"].as_str().unwrap_or_default().to_string();
        assert!(
            by_erp.insert(erp.clone(), www).is_none(),
            "duplicate key {erp}"
        );
    }
    by_erp
}

/// The report covers rows 2..=rows+1 exactly once, in order, each with a status in `allowed`.
fn assert_reported_once(report: &[Row], rows: usize, allowed: &[&str]) {
    let numbers: Vec<u64> = report.iter().map(|r| r["row"].parse().unwrap()).collect();
    assert_eq!(
        numbers,
        (2..rows as u64 + 2).collect::<Vec<_>>(),
        "every row reported once, in order"
    );
    let odd: Vec<_> = report
        .iter()
        .filter(|r| !allowed.contains(&r["status"].as_str()))
        .collect();
    assert!(odd.is_empty(), "unexpected statuses: {odd:?}");
}

fn import(h: &Harness, file: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    h.cmd()
        .args(["import", file, "--table", "companies", "--key", "ERP ID"])
        .args(SEND)
        .args(extra)
        .assert()
}

#[test]
fn each_fault_kind_alone_at_a_high_rate_loses_and_duplicates_nothing() {
    let rows = 200;
    for (seed, kind) in ["error", "reset", "drop-after-commit"].iter().enumerate() {
        let h = faulty(&format!("{kind}=0.3"), seed as u64 + 21);
        h.write("companies.csv", companies_file(0..rows, "example"));
        import(&h, "companies.csv", &[]).code(0);
        let report = report(&h, "companies.report.csv");
        assert_reported_once(&report, rows, &["created"]);
        let ids: BTreeSet<&str> = report.iter().map(|r| r["id"].as_str()).collect();
        assert_eq!(ids.len(), rows, "{kind}: every row has its own id");
        assert_eq!(
            stored_by_erp(&h).len(),
            rows,
            "{kind}: rows in = entries out"
        );
        assert!(
            h.stats()["faults"][kind].as_u64().unwrap_or(0) > 10,
            "{kind} was injected: {}",
            h.stats()["faults"]
        );
        if *kind == "drop-after-commit" {
            assert!(
                report.iter().any(|r| r["verified"] == "true"),
                "lost answers were verified by key"
            );
        }
    }
}

#[test]
fn throttling_alone_costs_time_never_rows() {
    // Each 429 waits out a Retry-After of one second, so the load is small.
    let rows = 24;
    let h = faulty("throttle=0.3", 5);
    h.write("companies.csv", companies_file(0..rows, "example"));
    import(&h, "companies.csv", &[]).code(0);
    assert_reported_once(&report(&h, "companies.report.csv"), rows, &["created"]);
    assert_eq!(stored_by_erp(&h).len(), rows);
    assert!(h.stats()["throttled"].as_u64().unwrap_or(0) > 0);
}

#[test]
fn mixed_faults_in_upsert_mode_create_and_update_each_row_once() {
    let rows = 300;
    let h = faulty("error=0.15,reset=0.15,drop-after-commit=0.15", 99);
    h.write("first.csv", companies_file(0..rows / 2, "example"));
    import(&h, "first.csv", &[]).code(0);
    h.write("all.csv", companies_file(0..rows, "org"));
    import(&h, "all.csv", &["--mode", "upsert"]).code(0);

    let report = report(&h, "all.report.csv");
    assert_reported_once(&report, rows, &["created", "updated"]);
    let updated = report.iter().filter(|r| r["status"] == "updated").count();
    assert_eq!(updated, rows / 2, "the first half existed and was updated");
    let stored = stored_by_erp(&h);
    assert_eq!(stored.len(), rows, "rows in = entries out");
    let stale: Vec<_> = stored.values().filter(|w| !w.ends_with(".org")).collect();
    assert!(stale.is_empty(), "every entry got the new value: {stale:?}");
}

/// The binary as a plain child process, so the test can kill it.
fn spawn_import(dir: &Path, base_url: &str, file: &str, extra: &[&str]) -> Child {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("crm-bulk"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CRM_") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(dir)
        .env("CRM_URL", base_url)
        .env("CRM_USER", USER)
        .env("CRM_API_KEY", API_KEY)
        .env("CRM_TOKEN", TOKEN)
        .args(["import", file, "--table", "companies", "--key", "ERP ID"])
        .args([
            "--rate",
            "5000",
            "--concurrency",
            "4",
            "--max-retries",
            "30",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts")
}

/// Waits until the sandbox has received `adds` addcompany calls; false if the child ended first.
fn wait_for_adds(h: &Harness, child: &mut Child, adds: u64) -> bool {
    let started = Instant::now();
    while h.count("addcompany") < adds {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the import never got going"
        );
        if child.try_wait().expect("child status").is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    true
}

#[test]
fn killed_at_several_points_and_resumed_each_time_loads_exactly_once() {
    let rows = 400;
    let h = Harness::with(SandboxConfig {
        latency: Duration::from_millis(5),
        ..SandboxConfig::default()
    });
    h.write("companies.csv", companies_file(0..rows, "example"));
    let mut kills = 0;
    for (round, threshold) in [25u64, 110, 190, 300].into_iter().enumerate() {
        let extra: &[&str] = if round == 0 { &[] } else { &["--resume"] };
        let mut child = spawn_import(h.dir.path(), &h.base_url(), "companies.csv", extra);
        if wait_for_adds(&h, &mut child, threshold) {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        child.wait().expect("reaped");
    }
    assert!(kills >= 2, "the load was killed mid-way at least twice");
    h.cmd()
        .args(["import", "companies.csv", "--table", "companies"])
        .args(["--key", "ERP ID", "--rate", "5000", "--resume"])
        .assert()
        .code(0);

    assert_eq!(stored_by_erp(&h).len(), rows, "exactly once at the end");
    let report = report(&h, "companies.report.csv");
    assert_reported_once(&report, rows, &["created"]);
    let ids: BTreeSet<&str> = report.iter().map(|r| r["id"].as_str()).collect();
    assert_eq!(ids.len(), rows, "every row has its own id");
}

#[test]
fn sandbox_restarted_mid_load_ends_exactly_once() {
    let rows = 300;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = |listen| SandboxConfig {
        listen,
        db: Some(dir.path().join("crm.db")),
        latency: Duration::from_millis(10),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config("127.0.0.1:0".parse().unwrap())).expect("starts");
    let addr = sandbox.addr();
    let h = Harness {
        sandbox,
        dir: tempfile::tempdir().expect("temp dir"),
    };
    h.write("companies.csv", companies_file(0..rows, "example"));
    let mut child = spawn_import(h.dir.path(), &h.base_url(), "companies.csv", &[]);
    assert!(
        wait_for_adds(&h, &mut child, 60),
        "the import ended before the restart"
    );

    let Harness { sandbox, dir: work } = h;
    sandbox.shutdown();
    // Down long enough for calls to meet refused connections, not long enough to exhaust
    // the retries.
    std::thread::sleep(Duration::from_millis(300));
    let sandbox = Sandbox::start(config(addr)).expect("restarts on the same port and file");
    let h = Harness { sandbox, dir: work };

    let output = child.wait_with_output().expect("import ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stored_by_erp(&h).len(),
        rows,
        "exactly once after a restart"
    );
    let report = report(&h, "companies.report.csv");
    assert_reported_once(&report, rows, &["created"]);
}

#[test]
fn two_overlapping_upserts_at_once_leave_each_key_once() {
    let h = Harness::with(SandboxConfig {
        latency: Duration::from_millis(2),
        ..SandboxConfig::default()
    });
    // Rows 100..200 are in both files, with different websites.
    h.write("a.csv", companies_file(0..200, "a"));
    h.write("b.csv", companies_file(100..300, "b"));
    let upsert = ["--mode", "upsert"];
    let a = spawn_import(h.dir.path(), &h.base_url(), "a.csv", &upsert);
    let b = spawn_import(h.dir.path(), &h.base_url(), "b.csv", &upsert);
    let a = a.wait_with_output().expect("a ends");
    let b = b.wait_with_output().expect("b ends");

    let stored = stored_by_erp(&h);
    assert_eq!(stored.len(), 300, "each key once, none lost");
    let (report_a, report_b) = (report(&h, "a.report.csv"), report(&h, "b.report.csv"));
    // A create that loses the race to the other run is turned into an update: no row fails.
    let statuses = ["created", "updated", "unchanged"];
    assert_reported_once(&report_a, 200, &statuses);
    assert_reported_once(&report_b, 200, &statuses);
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    assert_eq!(
        b.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&b.stderr)
    );
    // A key both files hold ends with the value of a run that reported it written.
    for i in 100..200 {
        let key = format!("ERP-{i:05}");
        let www = &stored[&key];
        let written_by = |report: &[Row]| {
            report
                .iter()
                .any(|r| r["key"] == key && (r["status"] == "created" || r["status"] == "updated"))
        };
        let by_a = www.ends_with(".a") && written_by(&report_a);
        let by_b = www.ends_with(".b") && written_by(&report_b);
        assert!(
            by_a || by_b,
            "{key}: {www} was written by a run that says so"
        );
    }
}

/// Collects the pool's outcomes for [`an_upsert_create_that_loses_a_race_updates_instead`].
#[derive(Default)]
struct Collect(std::sync::Mutex<Vec<crm_bulk::execute::Outcome<u64>>>);

impl crm_bulk::execute::Hooks<u64> for Collect {
    fn before_create(&self, _: &u64) -> std::io::Result<()> {
        Ok(())
    }
    fn finished(&self, outcome: crm_bulk::execute::Outcome<u64>) {
        self.0.lock().unwrap().push(outcome);
    }
}

/// The create of an upsert row whose key another writer created after the pre-flight read
/// comes back "already in use": in upsert mode that row is an update, in insert mode a
/// failure (regression: both modes used to fail it).
#[test]
fn an_upsert_create_that_loses_a_race_updates_instead() {
    use crm_bulk::client::{Client, ClientConfig};
    use crm_bulk::execute::{ExecOptions, Job, Pool, Stop, WriteOp, Written};

    let h = Harness::new();
    let erp = "clients_field_5b0e7a52-8f3c-4d21-9a6e-0c9d1e2f3a4b";
    h.api(
        "addcompany",
        &[
            ("clients-org_name", "Race Co"),
            (&format!("clients-{erp}"), "R-1"),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for update_on_duplicate_key in [true, false] {
        let outcomes = runtime.block_on(async {
            let client = Client::new(ClientConfig::new(
                h.base_url(),
                USER,
                crm_bulk::secret::Secret::new(API_KEY),
            ))
            .unwrap();
            let schema = crm_bulk::schema::Schema::default_sandbox();
            let table = schema.table("CLIENTS").unwrap().clone();
            let key = table.attribute(erp).unwrap().clone();
            let options = ExecOptions {
                table,
                key,
                concurrency: 1,
                max_resends: 3,
                update_on_duplicate_key,
            };
            let hooks = std::sync::Arc::new(Collect::default());
            let pool = Pool::start(client, options, hooks.clone(), Stop::default());
            let values = vec![
                ("org_name".to_string(), "Race Co".to_string()),
                (erp.to_string(), "R-1".to_string()),
                ("org_www".to_string(), "https://race.example".to_string()),
            ];
            let op = WriteOp::Add(values);
            pool.send(Job {
                key: "R-1".into(),
                op,
                payload: 2,
            })
            .await;
            pool.finish().await;
            let outcomes = std::mem::take(&mut *hooks.0.lock().unwrap());
            outcomes
        });
        assert_eq!(outcomes.len(), 1);
        let expected = if update_on_duplicate_key {
            Written::Updated
        } else {
            Written::Failed
        };
        assert_eq!(outcomes[0].written, expected, "{:?}", outcomes[0].message);
    }
    let stored = h.api("getcompanybyname", &[("companyName", "Race Co")]);
    assert_eq!(stored["org_www"], "https://race.example");
    assert_eq!(
        h.api("getcompanies", &[])["companies"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
