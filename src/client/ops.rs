//! Table-level operations: list, get, find, add, edit and delete an entry of any table,
//! choosing the command [`super::tables::TableOps`] names for it.
//!
//! Companies and contacts use their own commands and ids. Other tables have no add, edit or
//! get-by-id command; they are written through `updateOrCreateEntity`, which matches by the
//! name attribute, so "edit" there needs the entry's name among the values.

use super::commands::EntryRef;
use super::error::ApiError;
use super::tables::{TableKind, TableOps};
use super::{Client, Entry, UpsertOutcome};
use crate::schema::{Attribute, TableSchema};

impl Client {
    /// Every entry of a table: getcompanies, getcontacts, or searchEntities with no pairs.
    pub async fn list(&self, table: &TableSchema) -> Result<Vec<Entry>, ApiError> {
        match TableOps::of(table).kind {
            TableKind::Companies => self.get_companies(table).await,
            TableKind::Contacts => self.get_contacts(table).await,
            TableKind::Directory => self.search_entities(table, &[]).await,
        }
    }

    /// Entries whose `attr` reads back as `value` (ignoring case and surrounding spaces),
    /// through searchEntities by the attribute's name, as the document does. Used to look a
    /// row's key up, and to verify a write in doubt.
    pub async fn find(
        &self,
        table: &TableSchema,
        attr: &Attribute,
        value: &str,
    ) -> Result<Vec<Entry>, ApiError> {
        self.search_entities(table, &[(attr.name.clone(), value.to_string())])
            .await
    }

    /// One company or contact by id; `None` when it does not exist. Other tables have no
    /// get-by-id command: their entries come from [`Client::list`] or [`Client::find`].
    pub async fn get(&self, table: &TableSchema, id: &str) -> Result<Option<Entry>, ApiError> {
        let entry = match TableOps::of(table).kind {
            TableKind::Companies => self.get_company(table, EntryRef::Id(id)).await,
            TableKind::Contacts => self.get_contact(table, EntryRef::Id(id)).await,
            TableKind::Directory => return Err(no_command(table, "get an entry by id")),
        };
        match entry {
            Ok(entry) => Ok(Some(entry)),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Adds an entry from `(code, wire value)` pairs and returns its id. For tables without an
    /// add command this is updateOrCreateEntity, which must create: if it updated an entry
    /// of the same name instead, that is reported as [`ApiError::Rejected`].
    pub async fn add(
        &self,
        table: &TableSchema,
        values: &[(String, String)],
    ) -> Result<String, ApiError> {
        match TableOps::of(table).kind {
            TableKind::Companies => self.add_company(values).await,
            TableKind::Contacts => self.add_contact(values).await,
            TableKind::Directory => match self.update_or_create(table, &by_name(table, values)).await? {
                UpsertOutcome::Created { id: Some(id) } => Ok(id),
                UpsertOutcome::Created { id: None } => self.id_by_name(table, values).await,
                UpsertOutcome::Updated { id } => Err(ApiError::Rejected(format!(
                    "an entry with this name already existed in {}; updateOrCreateEntity updated it{} instead of adding one",
                    table.table,
                    id.map(|id| format!(" (id {id})")).unwrap_or_default()
                ))),
            },
        }
    }

    /// Edits an entry by id with `(code, wire value)` pairs (an empty value clears). For
    /// tables without an edit command the values must include the name attribute, and the
    /// entry is updated through updateOrCreateEntity.
    pub async fn edit(
        &self,
        table: &TableSchema,
        id: &str,
        values: &[(String, String)],
    ) -> Result<(), ApiError> {
        match TableOps::of(table).kind {
            TableKind::Companies => self.edit_company(EntryRef::Id(id), values).await,
            TableKind::Contacts => self.edit_contact(EntryRef::Id(id), values).await,
            TableKind::Directory => {
                let named = table
                    .name_attribute()
                    .is_some_and(|n| values.iter().any(|(code, _)| *code == n.code));
                if !named {
                    return Err(no_command(
                        table,
                        "edit an entry without its name among the values",
                    ));
                }
                match self.update_or_create(table, &by_name(table, values)).await? {
                    UpsertOutcome::Updated { id: Some(got) } if got != id => Err(ApiError::Rejected(format!(
                        "updateOrCreateEntity updated entry {got} of {}, not entry {id}: their names are the same",
                        table.table
                    ))),
                    UpsertOutcome::Updated { .. } => Ok(()),
                    UpsertOutcome::Created { id: got } => Err(ApiError::Rejected(format!(
                        "no entry of {} has this name any more; updateOrCreateEntity created a new one{}",
                        table.table,
                        got.map(|g| format!(" (id {g})")).unwrap_or_default()
                    ))),
                }
            }
        }
    }

    /// Deletes a company or contact by id (other tables have no delete command).
    pub async fn delete(&self, table: &TableSchema, id: &str) -> Result<(), ApiError> {
        match TableOps::of(table).kind {
            TableKind::Companies => self.delete_company(EntryRef::Id(id)).await,
            TableKind::Contacts => self.delete_contact(EntryRef::Id(id)).await,
            TableKind::Directory => Err(no_command(table, "delete an entry")),
        }
    }

    /// The id of the entry just created, for servers that do not send it: the single entry
    /// whose name attribute has the value sent.
    async fn id_by_name(
        &self,
        table: &TableSchema,
        values: &[(String, String)],
    ) -> Result<String, ApiError> {
        let missing = || {
            ApiError::Protocol(format!(
                "updateOrCreateEntity on {} did not return the new id",
                table.table
            ))
        };
        let name = table.name_attribute().ok_or_else(missing)?;
        let (_, value) = values
            .iter()
            .find(|(code, _)| *code == name.code)
            .ok_or_else(missing)?;
        let found = self.find(table, name, value).await?;
        match found.as_slice() {
            [only] => Ok(only.id.clone()),
            _ => Err(missing()),
        }
    }
}

/// `(code, value)` pairs as `(attribute name, value)` pairs for the crm_param commands.
fn by_name(table: &TableSchema, values: &[(String, String)]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|(code, value)| {
            let name = table
                .attribute(code)
                .map_or_else(|| code.clone(), |a| a.name.clone());
            (name, value.clone())
        })
        .collect()
}

fn no_command(table: &TableSchema, what: &str) -> ApiError {
    ApiError::Unsupported {
        command: format!("{} ({what})", table.table),
        message: format!("the API has no command to {what} in {}", table.table),
    }
}
