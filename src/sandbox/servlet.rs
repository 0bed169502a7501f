//! The servlet gate (`/plugins/servlet/crm/api`): parameters, the command table, and the
//! documented checks in their documented order (missing parameters, API key, user, command,
//! permission). Running a command that passed the gate is `commands`' job; HTTP is `server`'s.

use serde_json::{json, Value};

use crate::secret::Secret;

/// The request's parameters, query string first, then a form body, in the order sent.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: &str, body: &[u8]) -> Params {
        let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.extend(
            url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
        Params(pairs)
    }

    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value among several parameter names.
    pub fn any(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .filter_map(|n| self.get(n))
            .find(|v| !v.trim().is_empty())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Parameters that select what a command acts on; never attributes.
pub const RESERVED: &[&str] = &[
    "apiKey",
    "userName",
    "command",
    "companyId",
    "companyName",
    "contactId",
    "contactID",
    "contactName",
    "tableName",
];

/// Every servlet command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    GetCompanies,
    GetCompanyByName,
    AddCompany,
    EditCompany,
    DeleteCompany,
    GetContacts,
    GetContactByName,
    AddContact,
    EditContact,
    SetContact,
    UnsetContact,
    DeleteContact,
    AddDictionaryValue,
    RemoveDictionaryValue,
    SearchEntities,
    TransactionsList,
    SetCrmProperties,
    Sync,
    UpdateOrCreateEntity,
}

const COMMANDS: &[(&str, Command)] = &[
    ("getcompanies", Command::GetCompanies),
    ("getcompanybyname", Command::GetCompanyByName),
    ("addcompany", Command::AddCompany),
    ("editcompany", Command::EditCompany),
    ("deletecompany", Command::DeleteCompany),
    ("getcontacts", Command::GetContacts),
    ("getcontactbyname", Command::GetContactByName),
    ("addcontact", Command::AddContact),
    ("editcontact", Command::EditContact),
    ("setcontact", Command::SetContact),
    ("unsetcontact", Command::UnsetContact),
    ("deletecontact", Command::DeleteContact),
    ("adddictionaryvalue", Command::AddDictionaryValue),
    ("removedictionaryvalue", Command::RemoveDictionaryValue),
    ("searchEntities", Command::SearchEntities),
    ("transactionslist", Command::TransactionsList),
    ("setcrmproperties", Command::SetCrmProperties),
    ("sync", Command::Sync),
    ("updateOrCreateEntity", Command::UpdateOrCreateEntity),
];

/// The document's unknown-command answer, word for word (quirks included).
pub const UNKNOWN_COMMAND: &str = "only sync, getcompanies, addcompany, getcompanybyname, editcompany, deletecompany, getcontacts, addcontact, getcontactbyname, editcompany, deletecontact, setcontact, unsetcontact, setcrmproperties, adddictionaryvalue, searchEntities, editcontact, transactionslist commands allowed";

pub const MISSING_BASICS: &str = "userName, apiKey and command parameters are required!";

impl Command {
    /// Matches a command name ignoring case.
    pub fn parse(name: &str) -> Option<Command> {
        COMMANDS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(_, c)| *c)
    }

    /// The documented spelling, used in the stats.
    pub fn canonical(self) -> &'static str {
        COMMANDS
            .iter()
            .find(|(_, c)| *c == self)
            .map(|(n, _)| *n)
            .unwrap_or("")
    }

    /// The CRM right a write needs; reads need none beyond being a known user.
    pub fn right(self) -> Option<&'static str> {
        use Command::*;
        match self {
            AddCompany | EditCompany | DeleteCompany => Some("Edit companies"),
            AddContact | EditContact | DeleteContact | SetContact | UnsetContact => {
                Some("Edit contacts")
            }
            AddDictionaryValue | RemoveDictionaryValue | UpdateOrCreateEntity => {
                Some("Edit directories")
            }
            Sync | SetCrmProperties => Some("CRM administration"),
            _ => None,
        }
    }
}

/// The name a request is counted under in the stats.
pub fn stats_name(params: &Params) -> String {
    match params.get("command") {
        Some(name) => Command::parse(name)
            .map(|c| c.canonical().to_string())
            .unwrap_or_else(|| name.to_string()),
        None => String::new(),
    }
}

/// Who may call the servlet.
pub struct Users {
    pub api_key: Secret,
    /// The full-rights user.
    pub admin: String,
}

/// The built-in read-only user.
pub const VIEWER: &str = "viewer";

/// `{"success": false, "details": message}`.
pub fn refusal(message: &str) -> Value {
    json!({"success": false, "details": message})
}

/// Runs the documented checks; `Err` holds the answer to send instead of running a command.
pub fn gate(params: &Params, users: &Users) -> Result<Command, Value> {
    let (Some(user), Some(key), Some(command)) = (
        params.any(&["userName"]),
        params.any(&["apiKey"]),
        params.any(&["command"]),
    ) else {
        return Err(refusal(MISSING_BASICS));
    };
    if key != users.api_key.expose() {
        return Err(refusal("Invalid apikey!"));
    }
    let full_rights = user.eq_ignore_ascii_case(&users.admin);
    if !full_rights && !user.eq_ignore_ascii_case(VIEWER) {
        return Err(refusal(&format!("User {user} can not be found!")));
    }
    let command = Command::parse(command).ok_or_else(|| refusal(UNKNOWN_COMMAND))?;
    match command.right() {
        Some(right) if !full_rights => Err(refusal(&format!(
            "To access this resource user need \"{right}\" permissions."
        ))),
        _ => Ok(command),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Users {
        Users {
            api_key: Secret::new("k"),
            admin: "admin".into(),
        }
    }

    fn check(query: &str) -> Result<Command, String> {
        gate(&Params::parse(query, b""), &users())
            .map_err(|v| v["details"].as_str().unwrap_or("").to_string())
    }

    #[test]
    fn checks_run_in_the_documented_order() {
        assert_eq!(check("apiKey=x&command=sync").unwrap_err(), MISSING_BASICS);
        assert_eq!(
            check("apiKey=x&userName=bob&command=nope").unwrap_err(),
            "Invalid apikey!"
        );
        assert_eq!(
            check("apiKey=k&userName=bob&command=nope").unwrap_err(),
            "User bob can not be found!"
        );
        assert_eq!(
            check("apiKey=k&userName=admin&command=nope").unwrap_err(),
            UNKNOWN_COMMAND
        );
        assert_eq!(
            check("apiKey=k&userName=viewer&command=addcompany").unwrap_err(),
            "To access this resource user need \"Edit companies\" permissions."
        );
        assert_eq!(
            check("apiKey=k&userName=viewer&command=getCompanies"),
            Ok(Command::GetCompanies)
        );
        assert_eq!(
            check("apiKey=k&userName=admin&command=transactionsList"),
            Ok(Command::TransactionsList)
        );
    }
}
