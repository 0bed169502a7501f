//! The sandbox over real HTTP: every documented command and error, viewer rights, command
//! spelling, stats, uniqueness under concurrency and persistence. Values and field errors are
//! in `sandbox_values.rs`, REST in `sandbox_rest.rs`, faults and the CLI in
//! `sandbox_faults.rs`, the document-only client in `sandbox_doc_client.rs`.

mod common;

use common::sandbox::*;
use common::{Harness, API_KEY, USER};
use crm_bulk::sandbox::SandboxConfig;
use serde_json::{json, Value};

#[test]
fn addcompany_and_getcompanybyname_follow_the_document() {
    let h = Harness::new();
    let v = ok(h.api(
        "addcompany",
        &[("clients-org_name", "Teamlead"), ("clients-org_type", "1")],
    ));
    assert_eq!(details(&v), "company has been added");
    let id = v["id"].as_str().expect("id is a string").to_string();

    for lookup in [
        ("companyId", id.as_str()),
        ("companyName", "Teamlead"),
        ("companyName", "teamlead"),
    ] {
        let c = ok(h.api("getcompanybyname", &[lookup]));
        assert_eq!(c["id"], json!(id));
        assert_eq!(c["org_name"], "Teamlead");
        assert_eq!(c["org_type"], "Lead");
        assert_eq!(c["org_industry"], "");
        assert_eq!(c["org_www"], "");
        assert_eq!(c["org_contact"], "");
        assert_eq!(c["org_people"], "Unsupported");
        assert_eq!(c[ATTACHMENTS], "Unsupported");
        assert!(
            c.get("name").is_none(),
            "getcompanybyname keys the name org_name: {c}"
        );
    }
}

#[test]
fn getcompanies_keys_the_name_as_name() {
    let h = Harness::new();
    ok(h.api(
        "addcompany",
        &[
            ("clients-org_name", "Garry's"),
            ("clients-org_type", "Lead"),
            (&format!("clients-{STATUS}"), "11"),
        ],
    ));
    ok(h.api(
        "addcompany",
        &[
            ("clients-org_name", "Reccurence LTD"),
            ("clients-org_type", "4"),
            (&format!("clients-{STATUS}"), "Approved"),
        ],
    ));
    let v = ok(h.api("getcompanies", &[]));
    let companies = v["companies"].as_array().unwrap();
    assert_eq!(companies.len(), 2);
    assert_eq!(companies[0]["name"], "Garry's");
    assert_eq!(companies[0]["org_type"], "Lead");
    assert_eq!(companies[0][STATUS], "Approved");
    assert_eq!(companies[1]["name"], "Reccurence LTD");
    assert_eq!(companies[1]["org_type"], "Competitor");
    assert!(companies[0].get("org_name").is_none());
    assert_eq!(
        companies[0]["id"]
            .as_str()
            .map(|s| s.parse::<u64>().is_ok()),
        Some(true)
    );
}

#[test]
fn editcompany_takes_codes_names_with_look_alikes_and_deletecompany_removes() {
    let h = Harness::new();
    let id = add_company(&h, "Apitest");
    let v = ok(h.api(
        "editcompany",
        &[("companyId", &id), (DEPARTMENT, "Development")],
    ));
    assert_eq!(details(&v), "company has been edited");
    // The document's example spells "Сompany" with a Cyrillic "С".
    ok(h.api(
        "editcompany",
        &[("companyId", &id), ("Сompany Name", "Oliva")],
    ));
    let c = ok(h.api("getcompanybyname", &[("companyId", &id)]));
    assert_eq!(c["org_name"], "Oliva");
    assert_eq!(c[DEPARTMENT], "Development");
    ok(h.api(
        "editcompany",
        &[
            ("companyName", "Oliva"),
            ("Type", "Partner"),
            ("website", "https://oliva.example"),
        ],
    ));
    let c = ok(h.api("getcompanybyname", &[("companyName", "Oliva")]));
    assert_eq!(
        (c["org_type"].as_str(), c["org_www"].as_str()),
        (Some("Partner"), Some("https://oliva.example"))
    );

    let v = ok(h.api("deletecompany", &[("companyName", "oliva")]));
    assert_eq!(details(&v), "company has been removed");
    assert_eq!(
        details(&h.api("getcompanybyname", &[("companyId", &id)])),
        "entry can not be found!"
    );
    assert_eq!(company_count(&h), 0);
}

#[test]
fn contacts_follow_the_document() {
    let h = Harness::new();
    add_company(&h, "Oxi");
    add_company(&h, "apitest");
    let v = ok(h.api(
        "addcontact",
        &[
            ("clients-contact_name", "Andy"),
            ("clients-contact_position", "Manager"),
        ],
    ));
    assert_eq!(details(&v), "contact has been added");
    let kelly = add_contact(&h, "Kelly Dorn", "Oxi");

    let v = ok(h.api(
        "editcontact",
        &[
            ("contactName", "Kelly Dorn"),
            ("contacts_field_2a773", "1234567"),
        ],
    ));
    assert_eq!(details(&v), "contact has been edited");
    ok(h.api("editcontact", &[("contactID", &kelly), ("Active", "true")]));

    let v = ok(h.api(
        "searchEntities",
        &[
            ("tableName", "CONTACTS"),
            ("crm_param_1", "Company"),
            ("crm_param_1_value", "Oxi"),
        ],
    ));
    assert_eq!(v["count"], json!(1));
    let r = &v["records"][0];
    assert_eq!(r["id"], json!(kelly));
    assert_eq!(
        (r["contact_company"].as_str(), r["contact_name"].as_str()),
        (Some("Oxi"), Some("Kelly Dorn"))
    );
    assert_eq!(
        (r["contact_position"].as_str(), r[PHONE].as_str()),
        (Some(""), Some("1234567"))
    );
    assert_eq!(
        (r[ACTIVE].as_str(), r["name"].as_str()),
        (Some("true"), Some("Kelly Dorn"))
    );

    let v = ok(h.api("getcontacts", &[]));
    let contacts = v["contacts"].as_array().unwrap();
    assert_eq!(contacts.len(), 2);
    assert_eq!(contacts[0]["contact_name"], "Andy");
    assert_eq!(contacts[0]["contact_position"], "Manager");
    assert_eq!(contacts[1]["contact_company"], "Oxi");

    for lookup in [
        ("contactId", kelly.as_str()),
        ("contactID", kelly.as_str()),
        ("contactName", "Kelly Dorn"),
    ] {
        let c = ok(h.api("getcontactbyname", &[lookup]));
        assert_eq!(
            (c["id"].as_str(), c["contact_name"].as_str()),
            (Some(kelly.as_str()), Some("Kelly Dorn"))
        );
        assert_eq!(
            (c["contact_company"].as_str(), c[PHONE].as_str()),
            (Some("Oxi"), Some("1234567"))
        );
    }

    let v = ok(h.api(
        "setcontact",
        &[("companyName", "apitest"), ("contactName", "Kelly Dorn")],
    ));
    assert_eq!(details(&v), "company apitest set for contact Kelly Dorn");
    let oxi = ok(h.api("getcompanybyname", &[("companyName", "Oxi")]))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = ok(h.api("setcontact", &[("companyId", &oxi), ("contactID", &kelly)]));
    assert_eq!(details(&v), "company Oxi set for contact Kelly Dorn");
    let v = ok(h.api("unsetcontact", &[("contactName", "Kelly Dorn")]));
    assert_eq!(details(&v), "company Oxi unset for contact Kelly Dorn");
    assert_eq!(
        ok(h.api("getcontactbyname", &[("contactId", &kelly)]))["contact_company"],
        ""
    );

    add_contact(&h, "Lucy", "Oxi");
    let v = ok(h.api("deletecontact", &[("contactName", "Lucy")]));
    assert_eq!(details(&v), "contact has been removed");
    assert_eq!(
        details(&h.api("getcontactbyname", &[("contactName", "Lucy")])),
        "entry can not be found!"
    );
}

#[test]
fn dictionaries_add_and_remove_values() {
    let h = Harness::new();
    let v = ok(h.api(
        "adddictionaryvalue",
        &[("dictionaryName", "Positions"), ("newvalue", "architect")],
    ));
    assert_eq!(details(&v), "new value has been added to the dictionary");
    let id = v["id"].as_str().unwrap().to_string();
    let dup = h.api(
        "adddictionaryvalue",
        &[("dictionaryName", "positions"), ("newvalue", " Architect ")],
    );
    assert_eq!(
        field_errors(&dup),
        vec![(
            "newvalue".to_string(),
            "This value is already in use".to_string()
        )]
    );

    add_company(&h, "Oxi");
    ok(h.api(
        "addcontact",
        &[
            ("clients-contact_name", "Ann"),
            ("clients-contact_company", "Oxi"),
            ("clients-contact_position", &id),
        ],
    ));
    assert_eq!(
        ok(h.api("getcontactbyname", &[("contactName", "Ann")]))["contact_position"],
        "architect"
    );

    let v = ok(h.api(
        "removedictionaryvalue",
        &[
            ("dictionaryName", "Positions"),
            ("valuetoremove", "architect"),
        ],
    ));
    assert_eq!(
        details(&v),
        "the value has been removed from the dictionary"
    );
    let again = h.api(
        "removedictionaryvalue",
        &[
            ("dictionaryName", "Positions"),
            ("valuetoremove", "architect"),
        ],
    );
    assert_eq!(details(&again), "entry can not be found!");
    let unknown = h.api(
        "adddictionaryvalue",
        &[("dictionaryName", "Nope"), ("newvalue", "x")],
    );
    assert_eq!(details(&unknown), "entry can not be found!");
}

#[test]
fn search_without_pairs_lists_the_whole_table_and_upsert_is_idempotent() {
    let h = Harness::new();
    let v = ok(h.api(
        "updateOrCreateEntity",
        &[
            ("tableName", "PRODUCTS"),
            ("crm_param_1", "Product Name"),
            ("crm_param_1_value", "Test"),
        ],
    ));
    assert_eq!(details(&v), "new record has been added");
    let id = v["id"].as_str().unwrap().to_string();
    let v = ok(h.api(
        "updateOrCreateEntity",
        &[
            ("tableName", "PRODUCTS"),
            ("crm_param_1", "Product Name"),
            ("crm_param_1_value", "test"),
            ("crm_param_2", "Price"),
            ("crm_param_2_value", "9.5"),
        ],
    ));
    assert_eq!(details(&v), "record has been updated");
    assert_eq!(v["id"], json!(id));
    ok(h.api(
        "updateOrCreateEntity",
        &[
            ("tableName", "PRODUCTS"),
            ("crm_param_1", "prod_name"),
            ("crm_param_1_value", "Other"),
        ],
    ));

    let all = ok(h.api("searchEntities", &[("tableName", "PRODUCTS")]));
    assert_eq!(all["count"], json!(2));
    // The update writes every attribute sent, the name's spelling included.
    assert_eq!(all["records"][0]["prod_name"], "test");
    assert_eq!(all["records"][0]["prod_price"], "9.5");
    assert_eq!(all["records"][0]["name"], "test");
    let one = ok(h.api(
        "searchEntities",
        &[
            ("tableName", "products"),
            ("crm_param_1", "Price"),
            ("crm_param_1_value", " 9.5 "),
        ],
    ));
    assert_eq!(one["count"], json!(1));
    assert_eq!(
        details(&h.api("searchEntities", &[("tableName", "NOPE")])),
        "entry can not be found!"
    );
    assert_eq!(
        details(&h.api("searchEntities", &[])),
        "tableName parameters are required!"
    );
    assert_eq!(
        details(&h.api("updateOrCreateEntity", &[])),
        "tableName parameters are required!"
    );
}

#[test]
fn setcrmproperties_and_sync_answer_as_documented() {
    let h = Harness::new();
    assert_eq!(
        details(&ok(h.api("setcrmproperties", &[("issueId", "10600")]))),
        "setCrmProperties done"
    );
    assert_eq!(
        details(&h.api("setcrmproperties", &[])),
        "issueId parameters are required!"
    );
    assert_eq!(details(&ok(h.api("sync", &[]))), "sync process started");
}

#[test]
fn documented_errors_word_for_word() {
    let h = Harness::new();
    let missing = "userName, apiKey and command parameters are required!";
    assert_eq!(
        details(&call_as(
            &h,
            Some(API_KEY),
            None,
            &[("command", "getcompanies")]
        )),
        missing
    );
    assert_eq!(
        details(&call_as(
            &h,
            None,
            Some(USER),
            &[("command", "getcompanies")]
        )),
        missing
    );
    assert_eq!(
        details(&call_as(&h, Some(API_KEY), Some(USER), &[])),
        missing
    );
    assert_eq!(
        details(&call_as(
            &h,
            Some(API_KEY),
            Some(""),
            &[("command", "sync")]
        )),
        missing
    );
    assert_eq!(
        details(&call_as(
            &h,
            Some("wrong"),
            Some(USER),
            &[("command", "getcompanies")]
        )),
        "Invalid apikey!"
    );
    assert_eq!(
        details(&call_as(
            &h,
            Some(API_KEY),
            Some("bob"),
            &[("command", "getcompanies")]
        )),
        "User bob can not be found!"
    );
    assert_eq!(
        details(&call_as(&h, Some(API_KEY), Some(USER), &[("command", "getcompany")])),
        "only sync, getcompanies, addcompany, getcompanybyname, editcompany, deletecompany, getcontacts, addcontact, getcontactbyname, editcompany, deletecontact, setcontact, unsetcontact, setcrmproperties, adddictionaryvalue, searchEntities, editcontact, transactionslist commands allowed"
    );
    assert_eq!(
        details(&h.api("getcompanybyname", &[])),
        "companyId or companyName parameters are required!"
    );
    assert_eq!(
        details(&h.api("editcompany", &[("org_name", "x")])),
        "companyId or companyName parameters are required!"
    );
    assert_eq!(
        details(&h.api("deletecontact", &[])),
        "contactId or contactName parameters are required!"
    );
    assert_eq!(
        details(&h.api("adddictionaryvalue", &[("dictionaryName", "Positions")])),
        "dictionaryName and newvalue parameters are required!"
    );
    assert_eq!(
        details(&h.api("removedictionaryvalue", &[("valuetoremove", "x")])),
        "dictionaryName and valuetoremove parameters are required!"
    );
    assert_eq!(
        details(&h.api("getcompanybyname", &[("companyId", "48")])),
        "entry can not be found!"
    );
    assert_eq!(
        details(&h.api("deletecompany", &[("companyName", "nobody")])),
        "entry can not be found!"
    );
    assert_eq!(
        details(&h.api("getcontactbyname", &[("contactId", "abc")])),
        "entry can not be found!"
    );

    add_company(&h, "Dup");
    let dup = h.api("addcompany", &[("clients-org_name", "  dup ")]);
    assert_eq!(
        dup.to_string(),
        r#"{"success":false,"details":[{"fieldCode":"org_name","errorMessage":"This value is already in use"}]}"#
    );
}

#[test]
fn viewer_reads_but_cannot_write() {
    let h = Harness::new();
    add_company(&h, "Oxi");
    let viewer = |params: &[(&str, &str)]| call_as(&h, Some(API_KEY), Some("viewer"), params);
    for read in ["getcompanies", "getcontacts", "transactionslist"] {
        ok(viewer(&[("command", read)]));
    }
    ok(viewer(&[
        ("command", "getcompanybyname"),
        ("companyName", "Oxi"),
    ]));
    ok(viewer(&[
        ("command", "searchEntities"),
        ("tableName", "CLIENTS"),
    ]));
    let rights = [
        ("addcompany", "Edit companies"),
        ("editcompany", "Edit companies"),
        ("deletecompany", "Edit companies"),
        ("addcontact", "Edit contacts"),
        ("editcontact", "Edit contacts"),
        ("deletecontact", "Edit contacts"),
        ("setcontact", "Edit contacts"),
        ("unsetcontact", "Edit contacts"),
        ("adddictionaryvalue", "Edit directories"),
        ("removedictionaryvalue", "Edit directories"),
        ("updateOrCreateEntity", "Edit directories"),
        ("sync", "CRM administration"),
        ("setcrmproperties", "CRM administration"),
    ];
    for (command, right) in rights {
        let v = viewer(&[
            ("command", command),
            ("companyName", "Oxi"),
            ("clients-org_name", "New"),
        ]);
        assert_eq!(
            details(&v),
            format!("To access this resource user need \"{right}\" permissions."),
            "{command}"
        );
    }
    assert_eq!(company_count(&h), 1);
    assert_eq!(
        ok(h.api("getcompanybyname", &[("companyName", "Oxi")]))["org_name"],
        "Oxi"
    );
}

#[test]
fn commands_ignore_case_and_accept_form_posts() {
    let h = Harness::new();
    ok(h.api("ADDCOMPANY", &[("clients-org_name", "Upper")]));
    ok(h.api("GetCompanyByName", &[("companyName", "Upper")]));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = runtime.block_on(async {
        let form = [
            ("apiKey", API_KEY),
            ("userName", USER),
            ("command", "addcompany"),
            ("clients-org_name", "Posted Co"),
        ];
        let r = reqwest::Client::new()
            .post(format!("{}/plugins/servlet/crm/api", h.base_url()))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "application/json");
        r.json::<Value>().await.unwrap()
    });
    assert_eq!(details(&ok(body)), "company has been added");
    assert_eq!(company_count(&h), 2);
    assert_eq!(h.count("addcompany"), 2);
    assert_eq!(
        h.count("getCompanyByName"),
        0,
        "counted under the canonical spelling"
    );
    assert_eq!(h.count("getcompanybyname"), 1);
}

#[test]
fn stats_count_every_request() {
    let h = Harness::new();
    h.api("getcompanies", &[]);
    h.api("getcompanies", &[]);
    h.api("addcompany", &[("clients-org_name", "S")]);
    h.api("searchentities", &[("tableName", "CLIENTS")]);
    call_as(&h, Some("bad"), Some(USER), &[("command", "sync")]);
    call_as(&h, Some(API_KEY), Some(USER), &[("command", "frobnicate")]);
    let s = h.stats();
    assert_eq!(
        s["requests"],
        json!({"addcompany": 1, "frobnicate": 1, "getcompanies": 2, "searchEntities": 1, "sync": 1})
    );
    assert_eq!(s["throttled"], json!(0));
    assert_eq!(
        s["faults"],
        json!({"drop-after-commit": 0, "error": 0, "reset": 0, "throttle": 0})
    );
    assert_eq!(s["rest"], json!({"fieldsList": 0, "getNomDetails": 0}));
    let lib = h.sandbox.stats();
    assert_eq!(lib.count("getcompanies"), 2);
    assert_eq!(
        serde_json::to_value(&lib).unwrap()["requests"],
        h.stats()["requests"]
    );
    assert_eq!(h.write_calls(), 2);
}

#[test]
fn unique_values_hold_under_concurrent_adds() {
    let h = Harness::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = format!(
        "{}/plugins/servlet/crm/api?apiKey={API_KEY}&userName={USER}&command=addcompany&clients-org_name=Same%20Name",
        h.base_url()
    );
    let answers: Vec<Value> = runtime.block_on(async {
        let client = reqwest::Client::new();
        let calls = (0..16).map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                client
                    .get(url)
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            })
        });
        let mut out = Vec::new();
        for call in calls.collect::<Vec<_>>() {
            out.push(call.await.unwrap());
        }
        out
    });
    let added = answers
        .iter()
        .filter(|a| a["success"] == json!(true))
        .count();
    let dups = answers
        .iter()
        .filter(|a| a["details"][0]["errorMessage"] == json!("This value is already in use"))
        .count();
    assert_eq!((added, dups), (1, 15), "{answers:?}");
    assert_eq!(company_count(&h), 1);
}

#[test]
fn the_store_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    let config = SandboxConfig {
        db: Some(db.clone()),
        ..SandboxConfig::default()
    };
    let h = Harness::with(config.clone());
    let id = add_company(&h, "Durable");
    let v = ok(h.api(
        "adddictionaryvalue",
        &[("dictionaryName", "Industries"), ("newvalue", "Mining")],
    ));
    ok(h.api(
        "editcompany",
        &[("companyId", &id), ("org_industry", "Mining")],
    ));
    ok(h.api(
        "removedictionaryvalue",
        &[("dictionaryName", "Positions"), ("valuetoremove", "CEO")],
    ));
    drop(h);

    let h = Harness::with(config);
    let c = ok(h.api("getcompanybyname", &[("companyName", "Durable")]));
    assert_eq!(
        (c["id"].as_str(), c["org_industry"].as_str()),
        (Some(id.as_str()), Some("Mining"))
    );
    assert_eq!(
        field_errors(&h.api("addcompany", &[("clients-org_name", "durable")]))[0].1,
        "This value is already in use"
    );
    let again = h.api(
        "adddictionaryvalue",
        &[("dictionaryName", "Industries"), ("newvalue", "Mining")],
    );
    assert_eq!(field_errors(&again).len(), 1, "the added value persisted");
    let re = ok(h.api(
        "adddictionaryvalue",
        &[("dictionaryName", "Positions"), ("newvalue", "CEO")],
    ));
    assert_ne!(
        re["id"], v["id"],
        "removed seed values are not re-seeded and ids are not reused"
    );
    assert!(db.exists());
}
