//! One typed method per servlet command and REST endpoint, named after the command.
//!
//! Each method sends exactly the parameters the API document (as read by
//! `docs/api-notes.md`) names and parses the answer into typed values. Choosing the right
//! command for a table is `ops`'s job; pacing and retries are the send loop's.

use serde_json::{Map, Value};

use super::error::ApiError;
use super::response::{details_text, parse_entry, parse_id, parse_transactions};
use super::tables::{crm_params, ADD_PREFIX};
use super::{encode, CallKind, Client, Entry, TransactionRow, UpsertOutcome};
use crate::schema::TableSchema;

/// How a command names one company or contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryRef<'a> {
    /// By id (`companyId`, `contactId`): unambiguous, what the client prefers.
    Id(&'a str),
    /// By name (`companyName`, `contactName`).
    Name(&'a str),
}

impl EntryRef<'_> {
    fn param(&self, id: &str, name: &str) -> (String, String) {
        match self {
            EntryRef::Id(value) => (id.to_string(), value.to_string()),
            EntryRef::Name(value) => (name.to_string(), value.to_string()),
        }
    }
}

type Params = Vec<(String, String)>;

fn with_prefix(values: &[(String, String)], prefix: &str) -> Params {
    values
        .iter()
        .map(|(code, value)| (format!("{prefix}{code}"), value.clone()))
        .collect()
}

fn new_id(command: &str, answer: &Map<String, Value>) -> Result<String, ApiError> {
    answer
        .get("id")
        .and_then(parse_id)
        .ok_or_else(|| ApiError::Protocol(format!("{command} succeeded but the answer has no id")))
}

impl Client {
    /// `getcompanies`: every company.
    pub async fn get_companies(&self, table: &TableSchema) -> Result<Vec<Entry>, ApiError> {
        self.call_list("getcompanies", &[], "companies", table)
            .await
    }

    /// `getcompanybyname` by id or name.
    pub async fn get_company(
        &self,
        table: &TableSchema,
        entry: EntryRef<'_>,
    ) -> Result<Entry, ApiError> {
        let params = [entry.param("companyId", "companyName")];
        let answer = self
            .call("getcompanybyname", CallKind::Read, &params)
            .await?;
        parse_entry(&answer, table)
    }

    /// `addcompany` with `clients-<code>=value` per attribute; returns the new id.
    pub async fn add_company(&self, values: &[(String, String)]) -> Result<String, ApiError> {
        let answer = self
            .call(
                "addcompany",
                CallKind::Write,
                &with_prefix(values, ADD_PREFIX),
            )
            .await?;
        new_id("addcompany", &answer)
    }

    /// `editcompany`: `<code>=value` per attribute (an empty value clears it).
    pub async fn edit_company(
        &self,
        entry: EntryRef<'_>,
        values: &[(String, String)],
    ) -> Result<(), ApiError> {
        let mut params = vec![entry.param("companyId", "companyName")];
        params.extend_from_slice(values);
        self.call("editcompany", CallKind::Write, &params)
            .await
            .map(drop)
    }

    /// `deletecompany`.
    pub async fn delete_company(&self, entry: EntryRef<'_>) -> Result<(), ApiError> {
        let params = [entry.param("companyId", "companyName")];
        self.call("deletecompany", CallKind::Write, &params)
            .await
            .map(drop)
    }

    /// `getcontacts`: every contact.
    pub async fn get_contacts(&self, table: &TableSchema) -> Result<Vec<Entry>, ApiError> {
        self.call_list("getcontacts", &[], "contacts", table).await
    }

    /// `getcontactbyname` by id or name (a name names the contact with the lowest id).
    pub async fn get_contact(
        &self,
        table: &TableSchema,
        entry: EntryRef<'_>,
    ) -> Result<Entry, ApiError> {
        let params = [entry.param("contactId", "contactName")];
        let answer = self
            .call("getcontactbyname", CallKind::Read, &params)
            .await?;
        parse_entry(&answer, table)
    }

    /// `addcontact` with `clients-<code>=value` (the document's prefix for contacts too).
    pub async fn add_contact(&self, values: &[(String, String)]) -> Result<String, ApiError> {
        let answer = self
            .call(
                "addcontact",
                CallKind::Write,
                &with_prefix(values, ADD_PREFIX),
            )
            .await?;
        new_id("addcontact", &answer)
    }

    /// `editcontact`.
    pub async fn edit_contact(
        &self,
        entry: EntryRef<'_>,
        values: &[(String, String)],
    ) -> Result<(), ApiError> {
        let mut params = vec![entry.param("contactId", "contactName")];
        params.extend_from_slice(values);
        self.call("editcontact", CallKind::Write, &params)
            .await
            .map(drop)
    }

    /// `deletecontact`.
    pub async fn delete_contact(&self, entry: EntryRef<'_>) -> Result<(), ApiError> {
        let params = [entry.param("contactId", "contactName")];
        self.call("deletecontact", CallKind::Write, &params)
            .await
            .map(drop)
    }

    /// `setcontact` by ids: links a contact to a company.
    pub async fn set_contact(&self, company_id: &str, contact_id: &str) -> Result<(), ApiError> {
        let params = [
            ("companyId".to_string(), company_id.to_string()),
            ("contactID".to_string(), contact_id.to_string()),
        ];
        self.call("setcontact", CallKind::Write, &params)
            .await
            .map(drop)
    }

    /// `unsetcontact` by id: unlinks a contact from its company.
    pub async fn unset_contact(&self, contact_id: &str) -> Result<(), ApiError> {
        let params = [("contactID".to_string(), contact_id.to_string())];
        self.call("unsetcontact", CallKind::Write, &params)
            .await
            .map(drop)
    }

    /// `adddictionaryvalue`; the new value's id when the server sends one (an extension).
    pub async fn add_dictionary_value(
        &self,
        dictionary: &str,
        label: &str,
    ) -> Result<Option<String>, ApiError> {
        let params = [
            ("dictionaryName".to_string(), dictionary.to_string()),
            ("newvalue".to_string(), label.to_string()),
        ];
        let answer = self
            .call("adddictionaryvalue", CallKind::Write, &params)
            .await?;
        Ok(answer.get("id").and_then(parse_id))
    }

    /// `removedictionaryvalue` by label or id.
    pub async fn remove_dictionary_value(
        &self,
        dictionary: &str,
        value: &str,
    ) -> Result<(), ApiError> {
        let params = [
            ("dictionaryName".to_string(), dictionary.to_string()),
            ("valuetoremove".to_string(), value.to_string()),
        ];
        self.call("removedictionaryvalue", CallKind::Write, &params)
            .await
            .map(drop)
    }

    /// `searchEntities`: entries of `table` matching every `(attribute name or code, value)`
    /// pair; no pairs lists the whole table (see the notes, "Listing a whole table").
    pub async fn search_entities(
        &self,
        table: &TableSchema,
        pairs: &[(String, String)],
    ) -> Result<Vec<Entry>, ApiError> {
        let mut params = vec![("tableName".to_string(), table.table.clone())];
        params.extend(crm_params(pairs));
        self.call_list("searchEntities", &params, "records", table)
            .await
    }

    /// `updateOrCreateEntity` with `(attribute name, value)` pairs: updates the entry whose
    /// name attribute matches, else creates one.
    pub async fn update_or_create(
        &self,
        table: &TableSchema,
        pairs: &[(String, String)],
    ) -> Result<UpsertOutcome, ApiError> {
        let mut params = vec![("tableName".to_string(), table.table.clone())];
        params.extend(crm_params(pairs));
        let answer = self
            .call("updateOrCreateEntity", CallKind::Write, &params)
            .await?;
        let id = answer.get("id").and_then(parse_id);
        if details_text(&answer)
            .to_ascii_lowercase()
            .contains("updated")
        {
            Ok(UpsertOutcome::Updated { id })
        } else {
            Ok(UpsertOutcome::Created { id })
        }
    }

    /// `transactionslist`: every transaction.
    pub async fn transactions(&self) -> Result<Vec<TransactionRow>, ApiError> {
        let answer = self.call("transactionslist", CallKind::Read, &[]).await?;
        parse_transactions(&answer)
    }

    /// `setcrmproperties` for an issue (custom field) id.
    pub async fn set_crm_properties(&self, issue_id: &str) -> Result<(), ApiError> {
        let params = [("issueId".to_string(), issue_id.to_string())];
        self.call("setcrmproperties", CallKind::Write, &params)
            .await
            .map(drop)
    }

    /// `sync`: starts the Jira users → CRM contacts synchronisation.
    pub async fn sync(&self) -> Result<(), ApiError> {
        self.call("sync", CallKind::Write, &[]).await.map(drop)
    }

    /// REST `fieldsList` of a table (the raw JSON array, in form order).
    pub async fn fields_list(&self, table: &str) -> Result<Value, ApiError> {
        let path = format!("/rest/admin_rest/1.0/fields/{}/fieldsList", encode(table));
        self.rest(&format!("fieldsList of {table}"), &path).await
    }

    /// REST `getNomDetails` of one entry (`nom_id` `0`: the blank form of a new entry).
    pub async fn nom_details(&self, table: &str, nom_id: &str) -> Result<Value, ApiError> {
        let path = format!(
            "/rest/catalog-rest/1.0/catalog/getNomDetails?nomId={}&tableName={}",
            encode(nom_id),
            encode(table)
        );
        self.rest(&format!("getNomDetails of {table}"), &path).await
    }
}
