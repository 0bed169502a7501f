//! An independent client written from the vendor's API document alone, tried as a new user
//! would: the document's example calls, copied as raw URL strings, run in the document's
//! order against an empty sandbox, each answer compared with the document's response
//! example. Where an example names an entry by an id from the vendor's instance (48, 51, 33,
//! 15, 135), the id the sandbox gave that entry is used; where it needs an entry to exist
//! (apitest, Kelly Dorn, Lucy), it is created first with the document's own `addcompany` /
//! `addcontact` calls. Nothing here uses crm-bulk's client or knowledge of the sandbox.

mod common;

use common::sandbox::{ACTIVE, ATTACHMENTS as FILES, PHONE, STATUS};
use common::Harness;
use serde_json::{json, Value};

struct DocClient {
    base: String,
}

impl DocClient {
    /// `YOUR_JIRA_ADRESS/plugins/servlet/crm/api?apiKey=${apiKey}&userName=${userName}&command=${command}`
    fn call_as(&self, api_key: &str, user: &str, command: &str) -> Value {
        let url = format!(
            "{}/plugins/servlet/crm/api?apiKey={api_key}&userName={user}&command={command}",
            self.base
        );
        common::http_get_json(&url)
    }

    fn call(&self, command: &str) -> Value {
        self.call_as(common::API_KEY, common::USER, command)
    }

    /// Runs `command` and checks every key of `expected` (recursively) in the answer.
    fn expect(&self, command: &str, expected: Value) -> Value {
        let answer = self.call(command);
        assert_contains(&answer, &expected, command);
        answer
    }

    fn id_of(&self, command: &str, expected: Value) -> String {
        self.expect(command, expected)["id"]
            .as_str()
            .expect("ids are strings")
            .to_string()
    }
}

fn assert_contains(actual: &Value, expected: &Value, context: &str) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (key, value) in e {
                let got = a
                    .get(key)
                    .unwrap_or_else(|| panic!("{context}: no \"{key}\" in {actual}"));
                assert_contains(got, value, &format!("{context} / {key}"));
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            assert_eq!(a.len(), e.len(), "{context}: {actual}");
            for (got, want) in a.iter().zip(e) {
                assert_contains(got, want, context);
            }
        }
        _ => assert_eq!(actual, expected, "{context}"),
    }
}

#[test]
fn the_documents_examples_work_as_documented() {
    let h = Harness::new();
    let doc = DocClient { base: h.base_url() };
    let added = json!({"success": true, "details": "company has been added"});
    let contact_added = json!({"success": true, "details": "contact has been added"});

    // Get companies (after adding the two companies of the response example).
    let garry = doc.id_of(
        &format!(
            "addcompany&clients-org_name=Garry's&clients-org_type=1&clients-{STATUS}=Approved"
        ),
        added.clone(),
    );
    doc.id_of(
        &format!(
            "addcompany&clients-org_name=Reccurence%20LTD&clients-org_type=4&clients-{STATUS}=11"
        ),
        added.clone(),
    );
    doc.expect(
        "getcompanies",
        json!({"success": true, "companies": [
            {"id": garry, STATUS: "Approved", "name": "Garry's", "org_type": "Lead"},
            {STATUS: "Approved", "name": "Reccurence LTD", "org_type": "Competitor"},
        ]}),
    );

    // Get a company.
    let apitest = doc.id_of(
        "addcompany&clients-org_name=apitest&clients-org_type=1",
        added.clone(),
    );
    let company = json!({"success": true, "id": apitest, "org_name": "apitest", "org_type": "Lead", "org_industry": "",
        "org_www": "", FILES: "Unsupported", "org_contact": "", "org_people": "Unsupported"});
    doc.expect(
        &format!("getcompanybyname&companyId={apitest}"),
        company.clone(),
    );
    doc.expect("getcompanybyname&companyName=apitest", company);

    // Create a company.
    let teamlead = doc.id_of(
        "addcompany&clients-org_name=Teamlead&clients-org_type=1",
        added.clone(),
    );

    // Update a company (the document's 51 is the company just created).
    let edited = json!({"success": true, "details": "company has been edited"});
    doc.expect(&format!("editcompany&companyId={teamlead}&clients_field_d1facd51-01e0-4a68-a4f3-4aa3641a590e=Development"), edited.clone());
    doc.expect(
        &format!("editcompany&companyId={teamlead}&Сompany%20Name=Oliva"),
        edited,
    );
    doc.expect(
        &format!("getcompanybyname&companyId={teamlead}"),
        json!({"org_name": "Oliva", "clients_field_d1facd51-01e0-4a68-a4f3-4aa3641a590e": "Development"}),
    );

    // Delete a company.
    doc.expect(
        "deletecompany&companyName=Apitest",
        json!({"success": true, "details": "company has been removed"}),
    );
    doc.expect(
        "getcompanybyname&companyName=apitest",
        json!({"success": false, "details": "entry can not be found!"}),
    );

    // Get contacts (after adding the contacts of the response example).
    let oxi = doc.id_of("addcompany&clients-org_name=Oxi", added.clone());
    doc.id_of("addcompany&clients-org_name=JustiCo%20", added.clone());
    let kelly = doc.id_of(
        "addcontact&clients-contact_name=Kelly%20Dorn&clients-contact_company=Oxi",
        contact_added.clone(),
    );
    doc.id_of(
        "addcontact&clients-contact_name=Alan%20Lemon&clients-contact_company=JustiCo%20",
        contact_added.clone(),
    );
    doc.expect(
        "getcontacts",
        json!({"success": true, "contacts": [
            {"id": kelly, "contact_company": "Oxi", "contact_name": "Kelly Dorn", "contact_position": "", PHONE: ""},
            {"contact_company": "JustiCo ", "contact_name": "Alan Lemon", "contact_position": "", PHONE: ""},
        ]}),
    );

    // Get a contact.
    let contact = json!({"success": true, "id": kelly, PHONE: "", "contact_name": "Kelly Dorn", "contact_company": "Oxi", "contact_position": ""});
    doc.expect(
        &format!("getcontactbyname&contactId={kelly}"),
        contact.clone(),
    );
    doc.expect("getcontactbyname&contactName=Kelly%20Dorn", contact);

    // Create a contact.
    let andy = doc.id_of(
        "addcontact&clients-contact_name=Andy&clients-contact_position=Manager",
        contact_added.clone(),
    );

    // Update a contact (the document abbreviates the phone attribute's code).
    doc.expect(
        "editcontact&contactName=Kelly%20Dorn&contacts_field_2a773=1234567",
        json!({"success": true, "details": "contact has been edited"}),
    );

    // Link a contact to a company.
    doc.id_of("addcompany&clients-org_name=apitest", added.clone());
    doc.expect(
        "setcontact&companyName=apitest&contactName=Kelly%20Dorn",
        json!({"success": true, "details": "company apitest set for contact Kelly Dorn"}),
    );
    doc.expect(
        &format!("setcontact&companyId={teamlead}&contactID={andy}"),
        json!({"success": true, "details": "company Oliva set for contact Andy"}),
    );

    // Delete a contact.
    doc.id_of(
        "addcontact&clients-contact_name=Lucy&clients-contact_company=Oxi",
        contact_added,
    );
    doc.expect(
        "deletecontact&contactName=Lucy",
        json!({"success": true, "details": "contact has been removed"}),
    );

    // Custom directory entries.
    doc.expect(
        "adddictionaryvalue&dictionaryName=Positions&newvalue=architect",
        json!({"success": true, "details": "new value has been added to the dictionary"}),
    );
    doc.expect(
        "removedictionaryvalue&dictionaryName=Positions&valuetoremove=architect",
        json!({"success": true, "details": "the value has been removed from the dictionary"}),
    );

    // Search (Kelly back at Oxi and active, as in the response example).
    doc.expect(
        "setcontact&companyName=Oxi&contactName=Kelly%20Dorn",
        json!({"success": true}),
    );
    doc.expect(
        &format!("editcontact&contactName=Kelly%20Dorn&{ACTIVE}=true"),
        json!({"success": true}),
    );
    doc.expect(
        "searchEntities&tableName=CONTACTS&crm_param_1=Company&crm_param_1_value=Oxi",
        json!({"success": true, "records": [{"id": kelly, "contact_company": "Oxi", "contact_name": "Kelly Dorn",
            "contact_position": "", PHONE: "1234567", ACTIVE: "true", "name": "Kelly Dorn"}], "count": 1}),
    );

    // Transactions (one created through the generic directory command).
    let tran = format!(
        "updateOrCreateEntity&tableName=TRANSACTIONS&crm_param_1=Issue&crm_param_1_value=SUP-116&crm_param_2=Company&crm_param_2_value=({oxi})&crm_param_3=Product&crm_param_3_value=123&crm_param_4=Type&crm_param_4_value=Income&crm_param_5=Date&crm_param_5_value=2/Jan/20&crm_param_6=Sum&crm_param_6_value=123&crm_param_7=Plan/Fact&crm_param_7_value=Plan"
    );
    let tran_id = doc.id_of(
        &tran,
        json!({"success": true, "details": "new record has been added"}),
    );
    doc.expect(
        "transactionslist",
        json!({"success": true, "records": {"userdata": {"allSum": "123", "allSumVal": "123"}, "total": "1", "records": "1",
            "tranRemovePerm": true, "page": "1", "tranEditRecordPerm": true, "tranExportPerm": true,
            "rows": [{"companyId": oxi, "companyName": "Oxi", "id": tran_id,
                "cell": ["SUP-116", "Oxi", "123", "Income", "2/Jan/20", "123", "Plan"], "direction": "debet"}],
            "tranFormView": true, "alwaysShowDecimalPart": false}}),
    );

    doc.expect(
        "setcrmproperties&issueId=10600",
        json!({"success": true, "details": "setCrmProperties done"}),
    );
    doc.expect(
        "sync",
        json!({"success": true, "details": "sync process started"}),
    );
    doc.expect(
        "updateOrCreateEntity&tableName=PRODUCTS&crm_param_1=Product%20Name&crm_param_1_value=Test",
        json!({"success": true, "details": "new record has been added"}),
    );
}

#[test]
fn the_documents_common_errors_are_answered_word_for_word() {
    let h = Harness::new();
    let doc = DocClient { base: h.base_url() };
    let url = |query: &str| {
        common::http_get_json(&format!("{}/plugins/servlet/crm/api?{query}", doc.base))
    };

    assert_eq!(
        doc.call_as("not-the-key", common::USER, "getcompanies"),
        json!({"success": false, "details": "Invalid apikey!"})
    );
    assert_eq!(
        doc.call_as(common::API_KEY, "username", "getcompanies"),
        json!({"success": false, "details": "User username can not be found!"})
    );
    let missing = json!({"success": false, "details": "userName, apiKey and command parameters are required!"});
    assert_eq!(
        url(&format!("apiKey={}&command=getcompanies", common::API_KEY)),
        missing
    );
    assert_eq!(
        url(&format!("userName={}&command=getcompanies", common::USER)),
        missing
    );
    assert_eq!(
        url(&format!(
            "apiKey={}&userName={}",
            common::API_KEY,
            common::USER
        )),
        missing
    );
    assert_eq!(
        doc.call("getcompanybyname"),
        json!({"success": false, "details": "companyId or companyName parameters are required!"})
    );
    assert_eq!(
        doc.call("nonexistingcommand"),
        json!({"success": false, "details": "only sync, getcompanies, addcompany, getcompanybyname, editcompany, deletecompany, getcontacts, addcontact, getcontactbyname, editcompany, deletecontact, setcontact, unsetcontact, setcrmproperties, adddictionaryvalue, searchEntities, editcontact, transactionslist commands allowed"})
    );
    assert_eq!(
        doc.call("getcompanybyname&companyId=48"),
        json!({"success": false, "details": "entry can not be found!"})
    );
    doc.expect(
        "addcompany&clients-org_name=Teamlead",
        json!({"success": true}),
    );
    assert_eq!(
        doc.call("addcompany&clients-org_name=Teamlead"),
        json!({"success": false, "details": [{"fieldCode": "org_name", "errorMessage": "This value is already in use"}]})
    );
    assert_eq!(
        doc.call_as(
            common::API_KEY,
            "viewer",
            "addcompany&clients-org_name=Other"
        ),
        json!({"success": false, "details": "To access this resource user need \"Edit companies\" permissions."})
    );
}
