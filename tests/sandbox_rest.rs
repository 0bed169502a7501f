//! The sandbox's REST endpoints over real HTTP: authentication, the document's `fieldsList`
//! and `getNomDetails` shapes, the blank form for `nomId=0`, and 404s.

mod common;

use common::{Harness, TOKEN, USER};
use serde_json::{json, Value};

enum Auth<'a> {
    None,
    Basic(&'a str, &'a str),
    Bearer(&'a str),
}

fn rest(h: &Harness, path: &str, auth: Auth) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let request = reqwest::Client::new().get(format!("{}{path}", h.base_url()));
        let request = match auth {
            Auth::None => request,
            Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
            Auth::Bearer(token) => request.bearer_auth(token),
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.unwrap())
    })
}

const CONTACT_FIELDS: &str = "/rest/admin_rest/1.0/fields/CONTACTS/fieldsList";

#[test]
fn rest_needs_jira_credentials() {
    let h = Harness::new();
    let unauthenticated =
        json!({"message": "Client must be authenticated to access this resource."});
    assert_eq!(
        rest(&h, CONTACT_FIELDS, Auth::None),
        (401, unauthenticated.clone())
    );
    assert_eq!(
        rest(&h, CONTACT_FIELDS, Auth::Basic(USER, "wrong")),
        (401, unauthenticated.clone())
    );
    assert_eq!(
        rest(&h, CONTACT_FIELDS, Auth::Basic("bob", TOKEN)),
        (401, unauthenticated.clone())
    );
    assert_eq!(
        rest(&h, CONTACT_FIELDS, Auth::Bearer("wrong")),
        (401, unauthenticated.clone())
    );
    // The servlet's API key is not a Jira credential.
    assert_eq!(
        rest(&h, CONTACT_FIELDS, Auth::Bearer(common::API_KEY)),
        (401, unauthenticated)
    );
    assert_eq!(rest(&h, CONTACT_FIELDS, Auth::Basic(USER, TOKEN)).0, 200);
    assert_eq!(
        rest(&h, CONTACT_FIELDS, Auth::Basic("viewer", TOKEN)).0,
        200
    );
    assert_eq!(rest(&h, CONTACT_FIELDS, Auth::Bearer(TOKEN)).0, 200);
    assert_eq!(h.stats()["rest"]["fieldsList"], json!(8));
}

#[test]
fn fields_list_is_the_documents_example() {
    let h = Harness::new();
    let (status, body) = rest(&h, CONTACT_FIELDS, Auth::Bearer(TOKEN));
    assert_eq!(status, 200);
    // The document's example, in its order; the sandbox adds a unique ERP ID after it.
    let documented: Value = serde_json::from_str(r#"[{"isinorder":false,"tab":12,"isdisabled":null,"name":"Phone","show":false,"isreadonly":false,"disabled":null,"id":47,"nameen":"Phone","type":"phone","required":false},{"isinorder":false,"tab":12,"isdisabled":null,"name":"Full Name","show":true,"isreadonly":false,"disabled":null,"id":28,"nameen":"Full Name","type":"strng","required":true},{"isinorder":false,"tab":12,"isdisabled":null,"name":"Company","show":true,"isreadonly":false,"disabled":null,"id":25,"nameen":"Company","type":"org","required":true},{"isinorder":false,"tab":12,"isdisabled":null,"name":"Position","show":true,"isreadonly":false,"disabled":null,"id":29,"nameen":"Position","type":"dic","required":false},{"isinorder":false,"tab":12,"isdisabled":null,"name":"JIRA login","show":false,"isreadonly":true,"disabled":null,"id":27,"nameen":"JIRA login","type":"strng","required":false},{"isinorder":false,"tab":12,"isdisabled":null,"name":"E-Mail","show":true,"isreadonly":false,"disabled":null,"id":26,"nameen":"E-Mail","type":"eml","required":false},{"isinorder":false,"tab":12,"isdisabled":null,"name":"Active","show":true,"isreadonly":false,"disabled":null,"id":92,"nameen":"Active","type":"chckbx","required":false}]"#).unwrap();
    let fields = body.as_array().unwrap();
    assert_eq!(fields.len(), 8);
    assert_eq!(Value::Array(fields[..7].to_vec()), documented);
    assert_eq!(fields[7]["name"], "ERP ID");
    for table in ["CLIENTS", "clients", "PRODUCTS", "TRANSACTIONS", "BUDGET"] {
        let (status, body) = rest(
            &h,
            &format!("/rest/admin_rest/1.0/fields/{table}/fieldsList"),
            Auth::Bearer(TOKEN),
        );
        assert_eq!(status, 200, "{table}");
        assert!(body.as_array().is_some_and(|a| !a.is_empty()), "{table}");
    }
    assert_eq!(
        rest(
            &h,
            "/rest/admin_rest/1.0/fields/NOPE/fieldsList",
            Auth::Bearer(TOKEN)
        )
        .0,
        404
    );
}

fn nom(h: &Harness, query: &str) -> (u16, Value) {
    rest(
        h,
        &format!("/rest/catalog-rest/1.0/catalog/getNomDetails?{query}"),
        Auth::Basic(USER, TOKEN),
    )
}

#[test]
fn nom_details_gives_codes_options_and_values() {
    let h = Harness::new();
    // nomId=0 (or none): the blank form of a new entry.
    for query in ["nomId=0&tableName=CONTACTS", "tableName=CONTACTS"] {
        let (status, blank) = nom(&h, query);
        assert_eq!(status, 200);
        assert_eq!(blank["recordId"], "0");
        assert_eq!(blank["dateFormat"], "%e/%b/%y");
        assert_eq!(
            blank["fieldsTabs"],
            json!([{"id": 12, "code": "contact_main", "name": "Main"}])
        );
        let fields = blank["fields"].as_array().unwrap();
        assert!(fields
            .iter()
            .all(|f| f["value"] == "" && f["tableName"] == "CONTACTS"));
        let name = fields.iter().find(|f| f["id"] == 28).unwrap();
        assert_eq!(
            (
                name["code"].as_str(),
                name["isName"].as_bool(),
                name["isRequired"].as_bool()
            ),
            (Some("contact_name"), Some(true), Some(true))
        );
        let position = fields
            .iter()
            .find(|f| f["code"] == "contact_position")
            .unwrap();
        assert_eq!(position["dictionaryType"], "Positions");
        assert!(position["values"]
            .as_array()
            .unwrap()
            .contains(&json!({"code": "67", "value": "Support Manager"})));
        let login = fields
            .iter()
            .find(|f| f["code"] == "contact_login")
            .unwrap();
        assert_eq!(
            (login["isLogin"].as_bool(), login["isReadonly"].as_bool()),
            (Some(true), Some(true))
        );
        let email = fields
            .iter()
            .find(|f| f["code"] == "contact_email")
            .unwrap();
        assert_eq!(email["isUnique"], json!(true));
        for key in [
            "past90start",
            "monthend",
            "q4end",
            "lastyearstart",
            "companiesViewPerm",
            "locale",
        ] {
            assert!(blank.get(key).is_some(), "{key}");
        }
    }

    let id = h.api(
        "addcompany",
        &[("clients-org_name", "Oxi"), ("clients-org_type", "2")],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, entry) = nom(&h, &format!("nomId={id}&tableName=CLIENTS"));
    assert_eq!(status, 200);
    assert_eq!(entry["recordId"], json!(id));
    let fields = entry["fields"].as_array().unwrap();
    let name = fields.iter().find(|f| f["code"] == "org_name").unwrap();
    assert_eq!(
        (name["value"].as_str(), name["isUnique"].as_bool()),
        (Some("Oxi"), Some(true))
    );
    let kind = fields.iter().find(|f| f["code"] == "org_type").unwrap();
    assert_eq!(
        (kind["value"].as_str(), kind["selectValue"].as_str()),
        (Some("Customer"), Some("2"))
    );
    assert_eq!(kind["values"][0], json!({"code": "1", "value": "Lead"}));

    assert_eq!(nom(&h, "nomId=999&tableName=CLIENTS").0, 404);
    assert_eq!(
        nom(&h, &format!("nomId={id}&tableName=CONTACTS")).0,
        404,
        "an id of another table"
    );
    assert_eq!(nom(&h, "nomId=0&tableName=NOPE").0, 404);
    assert_eq!(nom(&h, "nomId=0").0, 404);
    let (_, viewer) = rest(
        &h,
        "/rest/catalog-rest/1.0/catalog/getNomDetails?tableName=CLIENTS",
        Auth::Basic("viewer", TOKEN),
    );
    assert_eq!(
        (viewer["readonly"].as_bool(), viewer["addPerm"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(h.stats()["rest"]["getNomDetails"], json!(8));
}
