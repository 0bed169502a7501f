//! The sandbox over real HTTP: every documented command and error, value handling, viewer
//! rights, the REST endpoints, uniqueness under concurrency, persistence, faults, rate
//! limiting and stats. Faults and the CLI live in `sandbox_faults.rs`; the document-only
//! client in `sandbox_doc_client.rs`.

mod common;

use common::{Harness, API_KEY, TOKEN, USER};
use crm_bulk::sandbox::SandboxConfig;
use serde_json::{json, Value};

const STATUS: &str = "clients_field_16f2eb8c-3620-42dd-ac8c-1a643c1612a4";
const ERP: &str = "clients_field_5b0e7a52-8f3c-4d21-9a6e-0c9d1e2f3a4b";
const DEPARTMENT: &str = "clients_field_d1facd51-01e0-4a68-a4f3-4aa3641a590e";
const EMPLOYEES: &str = "clients_field_9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f";
const FOUNDED: &str = "clients_field_2b3c4d5e-6f70-4a1b-8c2d-3e4f5a6b7c8d";
const KEY_ACCOUNT: &str = "clients_field_6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";
const ATTACHMENTS: &str = "clients_field_8eae4416-7a3d-49f2-8ab4-640898bff92d";
const PHONE: &str = "contacts_field_2a7753d6-2179-42ff-95f2-ecd2dd90ed13";
const ACTIVE: &str = "contacts_field_db52cdf2-aac6-4d05-b264-28f2c0b9a489";

/// A servlet call with any key and user, parameters given raw.
fn call_as(h: &Harness, key: Option<&str>, user: Option<&str>, params: &[(&str, &str)]) -> Value {
    let mut url = url::Url::parse(&format!("{}/plugins/servlet/crm/api", h.base_url())).unwrap();
    {
        let mut q = url.query_pairs_mut();
        if let Some(key) = key {
            q.append_pair("apiKey", key);
        }
        if let Some(user) = user {
            q.append_pair("userName", user);
        }
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    common::http_get_json(url.as_str())
}

fn details(v: &Value) -> &str {
    v["details"]
        .as_str()
        .unwrap_or_else(|| panic!("no string details in {v}"))
}

fn ok(v: Value) -> Value {
    assert_eq!(v["success"], json!(true), "{v}");
    v
}

fn add_company(h: &Harness, name: &str) -> String {
    let v = ok(h.api("addcompany", &[("clients-org_name", name)]));
    v["id"].as_str().unwrap().to_string()
}

fn add_contact(h: &Harness, name: &str, company: &str) -> String {
    let v = ok(h.api(
        "addcontact",
        &[
            ("clients-contact_name", name),
            ("clients-contact_company", company),
        ],
    ));
    v["id"].as_str().unwrap().to_string()
}

fn field_errors(v: &Value) -> Vec<(String, String)> {
    assert_eq!(v["success"], json!(false), "{v}");
    v["details"]
        .as_array()
        .unwrap_or_else(|| panic!("details is not an array: {v}"))
        .iter()
        .map(|e| {
            (
                e["fieldCode"].as_str().unwrap().to_string(),
                e["errorMessage"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn company_count(h: &Harness) -> usize {
    ok(h.api("getcompanies", &[]))["companies"]
        .as_array()
        .unwrap()
        .len()
}

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
fn transactionslist_has_the_documented_shape() {
    let h = Harness::new();
    let teamlead = add_company(&h, "Teamlead");
    add_company(&h, "Reccurence LTD");
    let tran = |company: &str,
                kind: &str,
                date: &str,
                sum: &str,
                plan: &str,
                issue: &str,
                product: &str| {
        ok(h.api(
            "updateOrCreateEntity",
            &[
                ("tableName", "TRANSACTIONS"),
                ("crm_param_1", "Issue"),
                ("crm_param_1_value", issue),
                ("crm_param_2", "Company"),
                ("crm_param_2_value", company),
                ("crm_param_3", "Product"),
                ("crm_param_3_value", product),
                ("crm_param_4", "Type"),
                ("crm_param_4_value", kind),
                ("crm_param_5", "Date"),
                ("crm_param_5_value", date),
                ("crm_param_6", "Sum"),
                ("crm_param_6_value", sum),
                ("crm_param_7", "Plan/Fact"),
                ("crm_param_7_value", plan),
            ],
        ))
    };
    tran(
        "Teamlead",
        "Income",
        "30/Oct/19",
        "21000",
        "Fact",
        "",
        "Jira SD",
    );
    tran(
        "Reccurence LTD",
        "1",
        "2020-01-02",
        "123",
        "1",
        "SUP-116",
        "123",
    );
    tran("(1)", "Expense", "05/Feb/21", "1000", "Plan", "", "x");
    let v = ok(h.api("transactionsList", &[]));
    let records = &v["records"];
    assert_eq!(records["records"], "3");
    assert_eq!(
        (records["total"].as_str(), records["page"].as_str()),
        (Some("1"), Some("1"))
    );
    assert_eq!(
        records["userdata"],
        json!({"allSum": "22,123", "allSumVal": "22123"})
    );
    let rows = records["rows"].as_array().unwrap();
    assert_eq!(
        rows[0]["cell"],
        json!([
            "",
            "Teamlead",
            "Jira SD",
            "Income",
            "30/Oct/19",
            "21,000",
            "Fact"
        ])
    );
    assert_eq!(
        (
            rows[0]["companyId"].as_str(),
            rows[0]["companyName"].as_str()
        ),
        (Some(teamlead.as_str()), Some("Teamlead"))
    );
    assert_eq!(rows[0]["direction"], "debet");
    assert_eq!(
        rows[1]["cell"],
        json!([
            "SUP-116",
            "Reccurence LTD",
            "123",
            "Income",
            "2/Jan/20",
            "123",
            "Plan"
        ])
    );
    assert_eq!(rows[2]["direction"], "credit");
    for key in [
        "tranRemovePerm",
        "tranEditRecordPerm",
        "tranExportPerm",
        "tranFormView",
    ] {
        assert_eq!(records[key], json!(true), "{key}");
    }
    assert_eq!(records["alwaysShowDecimalPart"], json!(false));
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
fn field_errors_are_reported_together_and_change_nothing() {
    let h = Harness::new();
    let erp = format!("clients-{ERP}");
    ok(h.api(
        "addcompany",
        &[("clients-org_name", "First"), (&erp, "E-1")],
    ));
    let long = "x".repeat(256);
    let v = h.api(
        "addcompany",
        &[
            ("clients-org_type", "Nope"),
            (&format!("clients-{EMPLOYEES}"), "12a"),
            (&format!("clients-{FOUNDED}"), "31/Feb/20"),
            (&format!("clients-{KEY_ACCOUNT}"), "maybe"),
            ("clients-org_contact", "Nobody"),
            ("clients-org_people", "bob"),
            (&format!("clients-{DEPARTMENT}"), &long),
            ("clients-nonsense", "1"),
        ],
    );
    let errors = field_errors(&v);
    let expect = [
        ("clients-nonsense", "Unknown attribute"),
        ("org_type", "Unknown option \"Nope\""),
        (EMPLOYEES, "Invalid number"),
        (FOUNDED, "Invalid date"),
        (KEY_ACCOUNT, "Invalid checkbox value"),
        ("org_contact", "Entry \"Nobody\" can not be found"),
        (
            "org_people",
            "This attribute can not be set through the API",
        ),
        (DEPARTMENT, "The value is longer than 255 characters"),
        ("org_name", "This field is required"),
    ];
    for (code, message) in expect {
        assert!(
            errors.contains(&(code.to_string(), message.to_string())),
            "missing {code}: {message} in {errors:?}"
        );
    }
    assert_eq!(errors.len(), expect.len(), "{errors:?}");
    // Both unique attributes clash: one element each.
    let v = h.api(
        "addcompany",
        &[("clients-org_name", "FIRST"), (&erp, "e-1 ")],
    );
    assert_eq!(field_errors(&v).len(), 2);
    assert_eq!(company_count(&h), 1);
    // Clearing the required name is refused; the entry keeps it.
    let v = h.api("editcompany", &[("companyName", "First"), ("org_name", "")]);
    assert_eq!(
        field_errors(&v),
        vec![("org_name".into(), "This field is required".into())]
    );
    assert_eq!(
        ok(h.api("getcompanybyname", &[("companyName", "First")]))[ERP],
        "E-1"
    );
}

#[test]
fn values_round_trip_in_their_documented_forms() {
    let h = Harness::new();
    let first = add_company(&h, "Alpha");
    let id = ok(h.api(
        "addcompany",
        &[
            ("clients-org_name", "Beta"),
            ("clients-org_industry", "Retail"),
            (&format!("clients-{FOUNDED}"), "7/May/20"),
            (&format!("clients-{KEY_ACCOUNT}"), "yes"),
            (&format!("clients-{EMPLOYEES}"), "-12.50"),
            ("clients-org_type", "customer"),
        ],
    ))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let c = ok(h.api("getcompanybyname", &[("companyId", &id)]));
    assert_eq!(c["org_industry"], "Retail");
    assert_eq!(c[FOUNDED], "07/May/20");
    assert_eq!(c[KEY_ACCOUNT], "true");
    assert_eq!(c[EMPLOYEES], "-12.50");
    assert_eq!(c["org_type"], "Customer");

    ok(h.api(
        "editcompany",
        &[
            ("companyId", &id),
            (FOUNDED, "1999-12-31"),
            ("org_industry", "204"),
            (KEY_ACCOUNT, "0"),
        ],
    ));
    let c = ok(h.api("getcompanybyname", &[("companyId", &id)]));
    assert_eq!(
        (
            c[FOUNDED].as_str(),
            c["org_industry"].as_str(),
            c[KEY_ACCOUNT].as_str()
        ),
        (Some("31/Dec/99"), Some("Finance"), Some("false"))
    );
    // An empty value clears.
    ok(h.api(
        "editcompany",
        &[("companyId", &id), ("org_industry", ""), (FOUNDED, "")],
    ));
    let c = ok(h.api("getcompanybyname", &[("companyId", &id)]));
    assert_eq!(
        (c["org_industry"].as_str(), c[FOUNDED].as_str()),
        (Some(""), Some(""))
    );

    // References by (id) and by name, read back as the current name.
    let contact = add_contact(&h, "Carl", &format!("({first})"));
    ok(h.api(
        "editcompany",
        &[("companyId", &id), ("org_contact", &format!("({contact})"))],
    ));
    ok(h.api(
        "editcompany",
        &[("companyId", &first), ("org_name", "Alpha Renamed")],
    ));
    assert_eq!(
        ok(h.api("getcontactbyname", &[("contactId", &contact)]))["contact_company"],
        "Alpha Renamed"
    );
    assert_eq!(
        ok(h.api("getcompanybyname", &[("companyId", &id)]))["org_contact"],
        "Carl"
    );
    let v = h.api(
        "addcontact",
        &[
            ("clients-contact_name", "Dan"),
            ("clients-contact_company", &format!("({contact})")),
        ],
    );
    assert_eq!(
        field_errors(&v)[0].1,
        format!("Entry \"({contact})\" can not be found")
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
