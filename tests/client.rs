//! The API client against the real sandbox over HTTP on 127.0.0.1:0: every typed method,
//! the schema join, retries of transient faults, throttling, writes in doubt, authentication
//! and permission errors, and secrets that never leak.

mod common;

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Harness, API_KEY, TOKEN, USER};
use crm_bulk::client::{
    ApiError, CallKind, Client, ClientConfig, EntryRef, FieldValue, RestAuth, RetryPolicy,
    UpsertOutcome,
};
use crm_bulk::sandbox::{FaultSpec, SandboxConfig};
use crm_bulk::schema::{Schema, TableSchema};
use crm_bulk::secret::Secret;

const SECRET_KEY: &str = "KEY-c0ffee-SECRET";
const SECRET_TOKEN: &str = "TOKEN-c0ffee-SECRET";

fn config_for(base_url: &str, user: &str, key: &str, token: &str) -> ClientConfig {
    let mut config = ClientConfig::new(base_url, user, Secret::new(key));
    config.rest_auth = RestAuth::Bearer(Secret::new(token));
    config.rate = NonZeroU32::new(1000).unwrap();
    config.retry = RetryPolicy {
        max_retries: 8,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    };
    config.timeout = Duration::from_secs(10);
    config
}

fn client(h: &Harness) -> Client {
    Client::new(config_for(&h.base_url(), USER, API_KEY, TOKEN)).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn table(name: &str) -> TableSchema {
    Schema::default_sandbox().table(name).cloned().unwrap()
}

fn faults(spec: &str) -> FaultSpec {
    FaultSpec::parse(spec).expect("a valid fault spec")
}

fn pairs(values: &[(&str, &str)]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A sandbox over a database file that already holds `companies` companies, restarted
/// with `config` (so seeding is not hit by the faults under test).
fn seeded(companies: usize, config: SandboxConfig) -> (Harness, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    {
        let seed = Harness::with(SandboxConfig {
            db: Some(db.clone()),
            ..SandboxConfig::default()
        });
        for i in 0..companies {
            let name = format!("Seed {i}");
            let answer = seed.api("addcompany", &[("clients-org_name", name.as_str())]);
            assert_eq!(answer["success"], true, "{answer}");
        }
    }
    (
        Harness::with(SandboxConfig {
            db: Some(db),
            ..config
        }),
        dir,
    )
}

#[test]
fn every_command_has_a_typed_method_that_works() {
    let h = Harness::new();
    let c = client(&h);
    let (clients, contacts, products) = (table("companies"), table("contacts"), table("products"));
    runtime().block_on(async {
        let id = c.add_company(&pairs(&[("org_name", "Acme"), ("org_type", "1")])).await.unwrap();
        let by_id = c.get_company(&clients, EntryRef::Id(&id)).await.unwrap();
        let by_name = c.get_company(&clients, EntryRef::Name("acme")).await.unwrap();
        assert_eq!(by_id, by_name);
        assert_eq!(by_id.text("org_name"), Some("Acme"));
        assert_eq!(by_id.text("org_type"), Some("Lead"), "lists read back as labels");
        assert_eq!(by_id.values.get("org_people"), Some(&FieldValue::Unknown), "usr reads back Unsupported");

        c.edit_company(EntryRef::Id(&id), &pairs(&[("org_www", "https://acme.test")])).await.unwrap();
        let listed = c.list(&clients).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0], c.get(&clients, &id).await.unwrap().unwrap(), "getcompanies and getcompanybyname agree");
        assert_eq!(listed[0].text("org_www"), Some("https://acme.test"));

        let name = clients.name_attribute().unwrap();
        assert_eq!(c.find(&clients, name, " ACME ").await.unwrap().len(), 1);
        assert!(c.find(&clients, name, "nobody").await.unwrap().is_empty());

        let kelly = c.add(&contacts, &pairs(&[("contact_name", "Kelly Dorn")])).await.unwrap();
        c.set_contact(&id, &kelly).await.unwrap();
        let linked = c.get_contact(&contacts, EntryRef::Id(&kelly)).await.unwrap();
        assert_eq!(linked.text("contact_company"), Some("Acme"));
        c.unset_contact(&kelly).await.unwrap();
        c.edit(&contacts, &kelly, &pairs(&[("contact_email", "kelly@acme.test")])).await.unwrap();
        let contact = c.get_contacts(&contacts).await.unwrap().remove(0);
        assert_eq!((contact.text("contact_company"), contact.text("contact_email")), (Some(""), Some("kelly@acme.test")));

        let value = c.add_dictionary_value("Positions", "Architect").await.unwrap();
        assert!(value.is_some(), "the sandbox returns the new value's id");
        c.remove_dictionary_value("Positions", "Architect").await.unwrap();

        let created = c.update_or_create(&products, &pairs(&[("Product Name", "Widget"), ("Price", "5")])).await.unwrap();
        let updated = c.update_or_create(&products, &pairs(&[("Product Name", "widget"), ("Price", "6")])).await.unwrap();
        assert!(matches!(created, UpsertOutcome::Created { id: Some(_) }), "{created:?}");
        assert!(matches!(updated, UpsertOutcome::Updated { .. }), "{updated:?}");
        assert_eq!(created.id(), updated.id());
        let found = c.search_entities(&products, &pairs(&[("Price", "6")])).await.unwrap();
        assert_eq!(found.len(), 1);
        let gadget = c.add(&products, &pairs(&[("prod_name", "Gadget")])).await.unwrap();
        c.edit(&products, &gadget, &pairs(&[("prod_name", "Gadget"), ("prod_sku", "G-1")])).await.unwrap();
        assert_eq!(c.list(&products).await.unwrap().len(), 2);

        assert!(c.transactions().await.unwrap().is_empty());
        c.set_crm_properties("10600").await.unwrap();
        c.sync().await.unwrap();
        assert!(c.fields_list("CLIENTS").await.unwrap().as_array().is_some_and(|a| !a.is_empty()));
        assert_eq!(c.nom_details("CLIENTS", &id).await.unwrap()["recordId"], id.as_str());

        c.delete(&contacts, &kelly).await.unwrap();
        c.delete_company(EntryRef::Name("Acme")).await.unwrap();
        assert_eq!(c.get(&clients, &id).await.unwrap(), None);
        assert!(matches!(c.delete(&clients, &id).await, Err(ApiError::NotFound(m)) if m == "entry can not be found!"));
    });
    assert_eq!(
        c.stats().write_calls,
        h.write_calls(),
        "every write was sent exactly once"
    );
}

#[test]
fn field_errors_and_duplicates_come_back_typed() {
    let h = Harness::new();
    let c = client(&h);
    runtime().block_on(async {
        c.add_company(&pairs(&[("org_name", "Acme")]))
            .await
            .unwrap();
        let dup = c
            .add_company(&pairs(&[("org_name", " acme ")]))
            .await
            .unwrap_err();
        assert!(
            matches!(&dup, ApiError::Duplicate { fields } if fields[0].code == "org_name"),
            "{dup:?}"
        );
        let bad = c
            .add_company(&pairs(&[("org_name", "B"), ("org_type", "99")]))
            .await
            .unwrap_err();
        assert!(
            matches!(&bad, ApiError::Field { fields } if fields[0].code == "org_type"),
            "{bad:?}"
        );
        assert!(!dup.is_fatal() && !bad.is_fatal());
    });
}

#[test]
fn the_schema_read_over_rest_is_the_sandbox_schema() {
    let h = Harness::new();
    let c = client(&h);
    let names = [
        "companies",
        "contacts",
        "products",
        "transactions",
        "budget",
    ];
    let got = runtime().block_on(c.schema(&names)).unwrap();
    let want = Schema::default_sandbox();
    assert_eq!(got.date_format, want.date_format);
    for name in names {
        let (g, w) = (got.table(name).unwrap(), want.table(name).unwrap());
        let key = |t: &TableSchema| -> Vec<_> {
            t.attributes
                .iter()
                .map(|a| {
                    (
                        a.id,
                        a.code.clone(),
                        a.name.clone(),
                        a.name_en.clone(),
                        a.kind.clone(),
                        a.required,
                        a.unique,
                        a.read_only,
                        a.is_name,
                        a.dictionary.clone(),
                        a.options.clone(),
                    )
                })
                .collect()
        };
        assert_eq!(key(g), key(w), "table {name}");
    }
    for dictionary in &want.dictionaries {
        assert_eq!(got.dictionary(&dictionary.name), Some(dictionary));
    }
}

#[test]
fn reads_recover_from_transient_faults() {
    let (h, _dir) = seeded(
        3,
        SandboxConfig {
            faults: faults("error=0.3,reset=0.2"),
            seed: 7,
            ..SandboxConfig::default()
        },
    );
    let c = client(&h);
    let clients = table("companies");
    runtime().block_on(async {
        for _ in 0..30 {
            let entries = c
                .list(&clients)
                .await
                .expect("a read survives transient faults");
            assert_eq!(entries.len(), 3);
        }
    });
    let stats = c.stats();
    let server = h.stats();
    eprintln!("faults: {stats:?}, server {server}");
    let faulted = server["faults"]["error"].as_u64().unwrap_or(0)
        + server["faults"]["reset"].as_u64().unwrap_or(0);
    assert!(stats.retries > 0 && faulted > 0, "{stats:?} {server}");
    assert_eq!(stats.calls, 30);
    assert_eq!(
        h.count("getcompanies"),
        stats.calls + stats.retries,
        "every attempt reached the server"
    );
}

#[test]
fn a_read_gives_up_after_max_retries_without_doubt() {
    let h = Harness::with(SandboxConfig {
        faults: faults("error=1"),
        ..SandboxConfig::default()
    });
    let mut config = config_for(&h.base_url(), USER, API_KEY, TOKEN);
    config.retry.max_retries = 2;
    let c = Client::new(config).unwrap();
    let err = runtime().block_on(c.transactions()).unwrap_err();
    assert!(
        matches!(&err, ApiError::Transient { in_doubt: false, message } if message.contains("500")),
        "{err:?}"
    );
    assert_eq!(h.count("transactionslist"), 3, "one call and two retries");
}

#[test]
fn throttling_slows_the_client_instead_of_failing() {
    let h = Harness::with(SandboxConfig {
        rate_limit: Some(5),
        ..SandboxConfig::default()
    });
    let mut config = config_for(&h.base_url(), USER, API_KEY, TOKEN);
    config.rate = NonZeroU32::new(50).unwrap();
    let c = Client::new(config).unwrap();
    let clients = table("companies");
    runtime().block_on(async {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (c, clients) = (c.clone(), clients.clone());
                tokio::spawn(async move {
                    for _ in 0..5 {
                        c.list(&clients)
                            .await
                            .expect("throttled calls are retried, not failed");
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.await.unwrap();
        }
    });
    let stats = c.stats();
    eprintln!(
        "throttling: {stats:?}, rate now {}/s, server {}",
        c.current_rate(),
        h.stats()
    );
    assert_eq!(stats.calls, 20);
    assert!(
        stats.throttled > 0,
        "the server throttled some calls: {stats:?}"
    );
    assert_eq!(
        h.stats()["throttled"].as_u64(),
        Some(stats.throttled),
        "every 429 was seen by the client"
    );
    assert!(
        c.current_rate() < 50.0,
        "the client slowed down: {}",
        c.current_rate()
    );
}

#[test]
fn writes_in_doubt_are_handed_back_and_not_resent() {
    for spec in ["drop-after-commit=1", "reset=1", "error=1"] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("crm.db");
        let h = Harness::with(SandboxConfig {
            db: Some(db.clone()),
            faults: faults(spec),
            ..SandboxConfig::default()
        });
        let c = client(&h);
        let err = runtime()
            .block_on(c.add_company(&pairs(&[("org_name", "Doubtful")])))
            .unwrap_err();
        assert!(err.in_doubt(), "{spec}: {err:?}");
        assert!(!err.is_fatal() && !err.is_retryable(), "{spec}");
        assert_eq!(
            h.count("addcompany"),
            1,
            "{spec}: the write was sent once, not resent"
        );
        assert_eq!(c.stats().retries, 0, "{spec}");
        drop(h);
        // What the server did depends on the fault: that is exactly why it is "in doubt".
        let after = Harness::with(SandboxConfig {
            db: Some(db),
            ..SandboxConfig::default()
        });
        let exists =
            after.api("getcompanybyname", &[("companyName", "Doubtful")])["success"] == true;
        assert_eq!(exists, spec.starts_with("drop-after-commit"), "{spec}");
    }
}

#[test]
fn authentication_errors_stop_at_once_with_the_documents_words() {
    let h = Harness::new();
    let rt = runtime();
    let clients = table("companies");
    let bad_key = Client::new(config_for(&h.base_url(), USER, "wrong-key", TOKEN)).unwrap();
    let err = rt.block_on(bad_key.list(&clients)).unwrap_err();
    assert_eq!(err, ApiError::Auth("Invalid apikey!".into()));
    assert!(err.is_fatal());
    let nobody = Client::new(config_for(&h.base_url(), "nobody", API_KEY, TOKEN)).unwrap();
    let err = rt.block_on(nobody.list(&clients)).unwrap_err();
    assert_eq!(err, ApiError::Auth("User nobody can not be found!".into()));
    assert_eq!(
        h.count("getcompanies"),
        2,
        "no retries of authentication errors"
    );
    let bad_token = Client::new(config_for(&h.base_url(), USER, API_KEY, "wrong-token")).unwrap();
    let err = rt
        .block_on(bad_token.table_schema("companies"))
        .unwrap_err();
    assert!(
        matches!(&err, ApiError::Auth(m) if m.contains("Client must be authenticated")),
        "{err:?}"
    );
    assert_eq!(h.stats()["rest"]["fieldsList"].as_u64(), Some(1));
}

#[test]
fn permission_errors_name_the_missing_right() {
    let h = Harness::new();
    let viewer = Client::new(config_for(&h.base_url(), "viewer", API_KEY, TOKEN)).unwrap();
    let rt = runtime();
    assert!(
        rt.block_on(viewer.list(&table("companies"))).is_ok(),
        "viewer may read"
    );
    let err = rt
        .block_on(viewer.add_company(&pairs(&[("org_name", "X")])))
        .unwrap_err();
    assert_eq!(
        err,
        ApiError::Permission {
            message: "To access this resource user need \"Edit companies\" permissions.".into(),
            right: Some("Edit companies".into())
        }
    );
    assert!(err.is_fatal());
    let err = rt
        .block_on(viewer.update_or_create(&table("products"), &pairs(&[("Product Name", "X")])))
        .unwrap_err();
    assert!(
        matches!(&err, ApiError::Permission { right: Some(r), .. } if r == "Edit directories"),
        "{err:?}"
    );
    assert_eq!(h.count("addcompany"), 1);
    assert_eq!(
        h.api("getcompanies", &[])["companies"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}

/// A log writer that keeps everything written, for the secrets test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary. A global subscriber, because a thread-local one can
/// miss events whose callsites other tests' threads registered first.
fn captured_log() -> Captured {
    static LOG: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        log
    })
    .clone()
}

fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn secrets_never_appear_in_errors_debug_or_logs() {
    let wrong = Harness::new();
    let faulty = Harness::with(SandboxConfig {
        faults: faults("reset=1"),
        ..SandboxConfig::default()
    });
    let log = captured_log();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut seen = Vec::new();
    for base in [wrong.base_url(), faulty.base_url(), closed_port_url()] {
        let mut config = config_for(&base, USER, SECRET_KEY, SECRET_TOKEN);
        config.retry.max_retries = 1;
        let c = Client::new(config).unwrap();
        seen.push(format!("{c:?}"));
        let results = rt.block_on(async {
            vec![
                c.list(&table("companies")).await.map(drop),
                c.add_company(&pairs(&[("org_name", "X")])).await.map(drop),
                c.table_schema("companies").await.map(drop),
                c.call("getcompanies", CallKind::Read, &[]).await.map(drop),
            ]
        });
        for result in results {
            let err = result.expect_err("every call fails");
            seen.push(format!("{err} {err:?}"));
        }
    }
    let logs = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("retrying"),
        "the failures were logged: {logs}"
    );
    seen.push(logs);
    let all = seen.join("\n");
    assert!(
        all.contains("Invalid apikey!") && all.contains("(redacted)"),
        "{all}"
    );
    for secret in [SECRET_KEY, SECRET_TOKEN, "c0ffee"] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
}

#[test]
fn the_binary_never_prints_the_key_or_token() {
    let h = Harness::new();
    for url in [h.base_url(), closed_port_url()] {
        for args in [
            &["fields", "companies", "-vv"][..],
            &["template", "contacts", "-vv"][..],
        ] {
            let output = h
                .cmd()
                .args(args)
                .env("CRM_URL", &url)
                .env("CRM_API_KEY", SECRET_KEY)
                .env("CRM_TOKEN", SECRET_TOKEN)
                .env("CRM_BULK_LOG", "trace")
                .output()
                .unwrap();
            assert!(!output.status.success(), "{args:?} against {url} fails");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(text.contains("error"), "{text}");
            assert!(!text.contains("c0ffee"), "secret leaked:\n{text}");
        }
    }
}
