//! Sandbox values and field errors over real HTTP: the documented written and read-back forms
//! of every attribute type, every field error at once, and the transaction list's rendering.

mod common;

use common::sandbox::*;
use common::Harness;
use serde_json::json;

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
