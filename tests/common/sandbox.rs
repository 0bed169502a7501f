//! Raw servlet calls, answer checks and the default schema's field codes, for tests that talk
//! to the sandbox directly. It must not use crm-bulk's client: these tests check the sandbox
//! against the vendor's document, independently of our side.

use super::{http_get_json, Harness};
use serde_json::{json, Value};

pub const STATUS: &str = "clients_field_16f2eb8c-3620-42dd-ac8c-1a643c1612a4";
pub const ERP: &str = "clients_field_5b0e7a52-8f3c-4d21-9a6e-0c9d1e2f3a4b";
pub const DEPARTMENT: &str = "clients_field_d1facd51-01e0-4a68-a4f3-4aa3641a590e";
pub const EMPLOYEES: &str = "clients_field_9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f";
pub const FOUNDED: &str = "clients_field_2b3c4d5e-6f70-4a1b-8c2d-3e4f5a6b7c8d";
pub const KEY_ACCOUNT: &str = "clients_field_6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";
pub const ATTACHMENTS: &str = "clients_field_8eae4416-7a3d-49f2-8ab4-640898bff92d";
pub const PHONE: &str = "contacts_field_2a7753d6-2179-42ff-95f2-ecd2dd90ed13";
pub const ACTIVE: &str = "contacts_field_db52cdf2-aac6-4d05-b264-28f2c0b9a489";

/// A servlet call with any key and user, parameters given raw.
pub fn call_as(
    h: &Harness,
    key: Option<&str>,
    user: Option<&str>,
    params: &[(&str, &str)],
) -> Value {
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
    http_get_json(url.as_str())
}

pub fn details(v: &Value) -> &str {
    v["details"]
        .as_str()
        .unwrap_or_else(|| panic!("no string details in {v}"))
}

pub fn ok(v: Value) -> Value {
    assert_eq!(v["success"], json!(true), "{v}");
    v
}

pub fn add_company(h: &Harness, name: &str) -> String {
    let v = ok(h.api("addcompany", &[("clients-org_name", name)]));
    v["id"].as_str().unwrap().to_string()
}

pub fn add_contact(h: &Harness, name: &str, company: &str) -> String {
    let v = ok(h.api(
        "addcontact",
        &[
            ("clients-contact_name", name),
            ("clients-contact_company", company),
        ],
    ));
    v["id"].as_str().unwrap().to_string()
}

pub fn field_errors(v: &Value) -> Vec<(String, String)> {
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

pub fn company_count(h: &Harness) -> usize {
    ok(h.api("getcompanies", &[]))["companies"]
        .as_array()
        .unwrap()
        .len()
}
