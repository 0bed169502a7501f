//! One place that maps a table to the servlet commands that list, get, add and edit its
//! entries, and the parameter names each command uses.
//!
//! Companies and contacts have their own commands; every other table (products,
//! transactions, budget, custom directories) is reached through `searchEntities` and
//! `updateOrCreateEntity`. This module knows nothing of HTTP: it names commands and
//! parameters, and `Client` sends them.

use crate::schema::TableSchema;

/// How a table is reached through the servlet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// `CLIENTS`: getcompanies, getcompanybyname, addcompany, editcompany(companyId).
    Companies,
    /// `CONTACTS`: getcontacts, getcontactbyname, addcontact, editcontact(contactId).
    Contacts,
    /// Everything else: searchEntities and updateOrCreateEntity by `tableName`.
    Directory,
}

/// The commands of one table.
#[derive(Debug, Clone, Copy)]
pub struct TableOps {
    pub kind: TableKind,
}

/// The prefix addcompany and addcontact put before attribute codes (the document uses
/// `clients-` for contacts too).
pub const ADD_PREFIX: &str = "clients-";

impl TableOps {
    pub fn of(table: &TableSchema) -> TableOps {
        TableOps::for_name(&table.table)
    }

    pub fn for_name(table: &str) -> TableOps {
        let kind = match table.to_ascii_uppercase().as_str() {
            "CLIENTS" => TableKind::Companies,
            "CONTACTS" => TableKind::Contacts,
            _ => TableKind::Directory,
        };
        TableOps { kind }
    }

    /// The command listing every entry, and the answer's key holding them.
    pub fn list(&self) -> (&'static str, &'static str) {
        match self.kind {
            TableKind::Companies => ("getcompanies", "companies"),
            TableKind::Contacts => ("getcontacts", "contacts"),
            TableKind::Directory => ("searchEntities", "records"),
        }
    }

    /// The command reading one entry by id or name, with its id and name parameters.
    pub fn get(&self) -> Option<(&'static str, &'static str, &'static str)> {
        match self.kind {
            TableKind::Companies => Some(("getcompanybyname", "companyId", "companyName")),
            TableKind::Contacts => Some(("getcontactbyname", "contactId", "contactName")),
            TableKind::Directory => None,
        }
    }

    /// The add command, when the table has one (else entries are created by upsert).
    pub fn add(&self) -> Option<&'static str> {
        match self.kind {
            TableKind::Companies => Some("addcompany"),
            TableKind::Contacts => Some("addcontact"),
            TableKind::Directory => None,
        }
    }

    /// The edit command and its id parameter, when the table has one.
    pub fn edit(&self) -> Option<(&'static str, &'static str)> {
        match self.kind {
            TableKind::Companies => Some(("editcompany", "companyId")),
            TableKind::Contacts => Some(("editcontact", "contactId")),
            TableKind::Directory => None,
        }
    }

    /// The delete command and its id parameter, when the table has one.
    pub fn delete(&self) -> Option<(&'static str, &'static str)> {
        match self.kind {
            TableKind::Companies => Some(("deletecompany", "companyId")),
            TableKind::Contacts => Some(("deletecontact", "contactId")),
            TableKind::Directory => None,
        }
    }
}

/// `crm_param_N` / `crm_param_N_value` pairs, numbered from 1, for searchEntities and
/// updateOrCreateEntity.
pub fn crm_params(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .enumerate()
        .flat_map(|(i, (attr, value))| {
            [
                (format!("crm_param_{}", i + 1), attr.clone()),
                (format!("crm_param_{}_value", i + 1), value.clone()),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_map_to_their_commands() {
        assert_eq!(
            TableOps::for_name("CLIENTS").list(),
            ("getcompanies", "companies")
        );
        assert_eq!(
            TableOps::for_name("contacts").edit(),
            Some(("editcontact", "contactId"))
        );
        assert_eq!(
            TableOps::for_name("PRODUCTS").list(),
            ("searchEntities", "records")
        );
        assert_eq!(TableOps::for_name("BUDGET").add(), None);
    }

    #[test]
    fn crm_params_are_numbered_from_one() {
        let p = crm_params(&[
            ("Product Name".into(), "Test".into()),
            ("Price".into(), "5".into()),
        ]);
        assert_eq!(p[0], ("crm_param_1".into(), "Product Name".into()));
        assert_eq!(p[3], ("crm_param_2_value".into(), "5".into()));
    }
}
