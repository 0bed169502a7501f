//! The sandbox's SQLite store: entries of every table, the unique-value index and the
//! dictionaries, behind one connection.
//!
//! Every command runs in one transaction ([`Store::transaction`]), serialised by a mutex, so a
//! failed command changes nothing and uniqueness checks cannot race. Entries keep their values
//! as a JSON object of attribute code → stored form (see `values`); this module does not
//! interpret values beyond the name and unique-index columns it is handed.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use super::values::Lookup;
use crate::schema::{OptionValue, Schema};

/// One entry: its id and its stored values by attribute code (unset attributes absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub values: BTreeMap<String, String>,
}

/// What an insert or update writes besides the values: the name column and the unique keys.
pub struct EntryIndex {
    /// The name attribute's stored value, if the table has one and it is set.
    pub name: Option<String>,
    /// `(attribute code, normalised value)` for every unique attribute that is set.
    pub unique: Vec<(String, String)>,
}

pub struct Store {
    conn: Mutex<Connection>,
}

const SCHEMA_SQL: &str = "
CREATE TABLE IF NOT EXISTS entries(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tbl TEXT NOT NULL,
    name TEXT,
    name_norm TEXT,
    vals TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_table ON entries(tbl, id);
CREATE INDEX IF NOT EXISTS entries_by_name ON entries(tbl, name_norm);
CREATE TABLE IF NOT EXISTS uniq(
    tbl TEXT NOT NULL,
    code TEXT NOT NULL,
    norm TEXT NOT NULL,
    entry_id INTEGER NOT NULL,
    PRIMARY KEY(tbl, code, norm)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uniq_by_entry ON uniq(entry_id);
CREATE TABLE IF NOT EXISTS dict_values(
    rid INTEGER PRIMARY KEY AUTOINCREMENT,
    dictionary TEXT NOT NULL,
    code TEXT NOT NULL,
    label TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dict_values_by_dictionary ON dict_values(dictionary);
";

/// The normal form unique values and names are compared in: trimmed, lower-case.
pub fn normalise(value: &str) -> String {
    value.trim().to_lowercase()
}

impl Store {
    /// Opens (or creates) the store and seeds every dictionary of the schema it lacks.
    pub fn open(path: Option<&Path>, schema: &Schema) -> rusqlite::Result<Store> {
        let mut conn = match path {
            Some(path) => {
                let conn = Connection::open(path)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn
            }
            None => Connection::open_in_memory()?,
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA_SQL)?;
        let tx = conn.transaction()?;
        for dictionary in &schema.dictionaries {
            let present: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM dict_values WHERE dictionary = ?1 COLLATE NOCASE)",
                [&dictionary.name],
                |r| r.get(0),
            )?;
            if !present {
                for value in &dictionary.values {
                    tx.execute(
                        "INSERT INTO dict_values(dictionary, code, label) VALUES (?1, ?2, ?3)",
                        params![dictionary.name, value.id, value.label],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    pub fn transaction<T, E>(&self, f: impl FnOnce(&Tx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        // A panic while holding the lock cannot leave a half-written transaction behind
        // (it is rolled back on drop), so a poisoned lock is safe to reuse.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = Tx {
            tx: conn.transaction()?,
            names: RefCell::new(HashMap::new()),
            dictionaries: RefCell::new(HashMap::new()),
        };
        let out = f(&tx)?;
        tx.tx.commit()?;
        Ok(out)
    }
}

/// An entry's table and name, as cached for rendering references.
type NameRow = (String, Option<String>);

/// One open transaction, with per-command caches of names and dictionaries.
pub struct Tx<'c> {
    tx: rusqlite::Transaction<'c>,
    names: RefCell<HashMap<i64, Option<NameRow>>>,
    dictionaries: RefCell<HashMap<String, Vec<OptionValue>>>,
}

fn row_to_entry(id: i64, vals: &str) -> Entry {
    // Values are only ever written by this module as a JSON object of strings.
    let values = serde_json::from_str(vals).unwrap_or_default();
    Entry { id, values }
}

impl Tx<'_> {
    /// Every entry of a table, by id.
    pub fn list(&self, table: &str) -> rusqlite::Result<Vec<Entry>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT id, vals FROM entries WHERE tbl = ?1 ORDER BY id")?;
        let rows = stmt.query_map([table], |r| {
            Ok(row_to_entry(r.get(0)?, &r.get::<_, String>(1)?))
        })?;
        rows.collect()
    }

    pub fn get(&self, table: &str, id: i64) -> rusqlite::Result<Option<Entry>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT id, vals FROM entries WHERE tbl = ?1 AND id = ?2")?;
        stmt.query_row(params![table, id], |r| {
            Ok(row_to_entry(r.get(0)?, &r.get::<_, String>(1)?))
        })
        .optional()
    }

    /// The entry whose name is `name` exactly, else ignoring case (lowest id first).
    pub fn find_by_name(&self, table: &str, name: &str) -> rusqlite::Result<Option<i64>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, name FROM entries WHERE tbl = ?1 AND name_norm = ?2 ORDER BY id",
        )?;
        let candidates = stmt
            .query_map(params![table, normalise(name)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let exact = candidates.iter().find(|(_, n)| n == name);
        Ok(exact.or(candidates.first()).map(|(id, _)| *id))
    }

    /// The unique keys among `index` already held by another entry than `except`.
    pub fn unique_conflicts(
        &self,
        table: &str,
        index: &EntryIndex,
        except: Option<i64>,
    ) -> rusqlite::Result<Vec<String>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT entry_id FROM uniq WHERE tbl = ?1 AND code = ?2 AND norm = ?3",
        )?;
        let mut taken = Vec::new();
        for (code, norm) in &index.unique {
            let holder: Option<i64> = stmt
                .query_row(params![table, code, norm], |r| r.get(0))
                .optional()?;
            if holder.is_some_and(|h| Some(h) != except) {
                taken.push(code.clone());
            }
        }
        Ok(taken)
    }

    pub fn insert(
        &self,
        table: &str,
        values: &BTreeMap<String, String>,
        index: &EntryIndex,
    ) -> rusqlite::Result<i64> {
        let vals = serde_json::to_string(values).unwrap_or_else(|_| "{}".into());
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO entries(tbl, name, name_norm, vals) VALUES (?1, ?2, ?3, ?4)",
        )?;
        stmt.execute(params![
            table,
            index.name,
            index.name.as_deref().map(normalise),
            vals
        ])?;
        let id = self.tx.last_insert_rowid();
        self.write_unique(table, id, index)?;
        Ok(id)
    }

    pub fn update(
        &self,
        table: &str,
        id: i64,
        values: &BTreeMap<String, String>,
        index: &EntryIndex,
    ) -> rusqlite::Result<()> {
        let vals = serde_json::to_string(values).unwrap_or_else(|_| "{}".into());
        self.tx
            .prepare_cached(
                "UPDATE entries SET name = ?1, name_norm = ?2, vals = ?3 WHERE id = ?4",
            )?
            .execute(params![
                index.name,
                index.name.as_deref().map(normalise),
                vals,
                id
            ])?;
        self.tx
            .prepare_cached("DELETE FROM uniq WHERE entry_id = ?1")?
            .execute([id])?;
        self.write_unique(table, id, index)?;
        self.names.borrow_mut().remove(&id);
        Ok(())
    }

    pub fn delete(&self, id: i64) -> rusqlite::Result<()> {
        self.tx
            .execute("DELETE FROM uniq WHERE entry_id = ?1", [id])?;
        self.tx.execute("DELETE FROM entries WHERE id = ?1", [id])?;
        self.names.borrow_mut().remove(&id);
        Ok(())
    }

    fn write_unique(&self, table: &str, id: i64, index: &EntryIndex) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO uniq(tbl, code, norm, entry_id) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (code, norm) in &index.unique {
            stmt.execute(params![table, code, norm, id])?;
        }
        Ok(())
    }

    /// Whether a dictionary exists (has ever had values).
    pub fn dictionary_exists(&self, dictionary: &str) -> rusqlite::Result<Option<String>> {
        self.tx
            .query_row(
                "SELECT dictionary FROM dict_values WHERE dictionary = ?1 COLLATE NOCASE LIMIT 1",
                [dictionary],
                |r| r.get(0),
            )
            .optional()
    }

    /// Adds a value with the next free numeric id and returns that id.
    pub fn add_dictionary_value(&self, dictionary: &str, label: &str) -> rusqlite::Result<String> {
        let next: i64 = self.tx.query_row(
            "SELECT COALESCE(MAX(CAST(code AS INTEGER)), 0) + 1 FROM dict_values",
            [],
            |r| r.get(0),
        )?;
        let code = next.to_string();
        self.tx.execute(
            "INSERT INTO dict_values(dictionary, code, label) VALUES (?1, ?2, ?3)",
            params![dictionary, code, label],
        )?;
        self.dictionaries.borrow_mut().clear();
        Ok(code)
    }

    pub fn remove_dictionary_value(&self, dictionary: &str, code: &str) -> rusqlite::Result<()> {
        self.tx.execute(
            "DELETE FROM dict_values WHERE dictionary = ?1 COLLATE NOCASE AND code = ?2",
            params![dictionary, code],
        )?;
        self.dictionaries.borrow_mut().clear();
        Ok(())
    }
}

impl Lookup for Tx<'_> {
    fn entry_by_name(&self, table: &str, name: &str) -> rusqlite::Result<Option<i64>> {
        self.find_by_name(table, name)
    }

    fn entry_name(&self, table: &str, id: i64) -> rusqlite::Result<Option<String>> {
        if let Some(cached) = self.names.borrow().get(&id) {
            return Ok(cached
                .as_ref()
                .filter(|(t, _)| t == table)
                .map(|(_, n)| n.clone().unwrap_or_default()));
        }
        let row: Option<NameRow> = self
            .tx
            .prepare_cached("SELECT tbl, name FROM entries WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let found = row
            .as_ref()
            .filter(|(t, _)| t == table)
            .map(|(_, n)| n.clone().unwrap_or_default());
        self.names.borrow_mut().insert(id, row);
        Ok(found)
    }

    fn dictionary_values(&self, dictionary: &str) -> rusqlite::Result<Vec<OptionValue>> {
        let key = dictionary.to_lowercase();
        if let Some(values) = self.dictionaries.borrow().get(&key) {
            return Ok(values.clone());
        }
        let mut stmt = self.tx.prepare_cached(
            "SELECT code, label FROM dict_values WHERE dictionary = ?1 COLLATE NOCASE ORDER BY rid",
        )?;
        let values = stmt
            .query_map([dictionary], |r| {
                Ok(OptionValue {
                    id: r.get(0)?,
                    label: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        self.dictionaries.borrow_mut().insert(key, values.clone());
        Ok(values)
    }
}
