//! Lookups by normalised value: the entries already in the CRM ([`ExistingIndex`]), company
//! and contact names for references ([`NameIndex`]), and the values seen so far in a file
//! ([`SeenIndex`]).
//!
//! Values are normalised as the CRM compares unique values: trimmed and case-insensitive.
//! Indexes key on a 128-bit hash of the normalised value ([`norm_hash`]) so that lookups
//! allocate nothing. Where the candidates are at hand (existing entries, names) a hash hit is
//! confirmed by comparing the values; the file's own index keeps only hashes, so that its
//! memory per row is a few dozen bytes: two different values would have to collide on 128
//! bits (odds below 1e-25 for ten million rows) to be reported as duplicates.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// The normalised form of a value: trimmed and lower case.
pub fn normalize(value: &str) -> String {
    value.trim().to_lowercase()
}

/// Whether two values are equal once normalised, without allocating.
pub fn norm_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// A 128-bit hash of the normalised value (SipHash-1-3 and FNV-1a over the lower-cased,
/// trimmed bytes), computed without allocating.
pub fn norm_hash(value: &str) -> u128 {
    let value = value.trim();
    let mut hasher = Hash128::default();
    let mut buffer = [0u8; 64];
    let mut len = 0;
    let mut push = |bytes: &[u8], hasher: &mut Hash128| {
        if len + bytes.len() > buffer.len() {
            hasher.write(&buffer[..len]);
            len = 0;
        }
        buffer[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    if value.is_ascii() {
        for chunk in value.as_bytes().chunks(32) {
            let mut lower = [0u8; 32];
            for (l, b) in lower.iter_mut().zip(chunk) {
                *l = b.to_ascii_lowercase();
            }
            push(&lower[..chunk.len()], &mut hasher);
        }
    } else {
        let mut utf8 = [0u8; 4];
        for c in value.chars().flat_map(char::to_lowercase) {
            push(c.encode_utf8(&mut utf8).as_bytes(), &mut hasher);
        }
    }
    hasher.write(&buffer[..len]);
    hasher.finish128()
}

struct Hash128 {
    sip: std::collections::hash_map::DefaultHasher,
    fnv: u64,
}

impl Default for Hash128 {
    fn default() -> Self {
        Hash128 {
            sip: std::collections::hash_map::DefaultHasher::new(),
            fnv: 0xcbf2_9ce4_8422_2325,
        }
    }
}

impl Hash128 {
    fn write(&mut self, bytes: &[u8]) {
        self.sip.write(bytes);
        for b in bytes {
            self.fnv = (self.fnv ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish128(&self) -> u128 {
        (u128::from(self.sip.finish()) << 64) | u128::from(self.fnv)
    }
}

/// A hasher for keys that already are good hashes: it keeps the low 64 bits.
#[derive(Default)]
pub struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = (n as u64) ^ ((n >> 64) as u64).rotate_left(29);
    }
}

/// A map keyed by [`norm_hash`] values.
pub type HashKeyed<V> = HashMap<u128, V, BuildHasherDefault<PreHashed>>;

/// An entry already in the CRM, as the client read it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExistingEntry {
    pub id: String,
    /// Read-back values by attribute code (labels, company names, instance-format dates).
    /// `None` is a value the API could not render (`Unsupported`): unknown, never compared.
    pub values: BTreeMap<String, Option<String>>,
}

/// What an existing entry holds for one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored<'a> {
    /// Unset or empty.
    Empty,
    Value(&'a str),
    /// The API could not render it.
    Unknown,
}

impl ExistingEntry {
    pub fn get(&self, code: &str) -> Stored<'_> {
        match self.values.get(code) {
            None => Stored::Empty,
            Some(None) => Stored::Unknown,
            Some(Some(v)) if v.trim().is_empty() => Stored::Empty,
            Some(Some(v)) => Stored::Value(v),
        }
    }
}

/// The CRM's entries of one table, indexed by the normalised values of some attributes
/// (the unique ones and the matching key). Built once per run from one read of the table.
#[derive(Debug, Default)]
pub struct ExistingIndex {
    entries: Vec<ExistingEntry>,
    by_code: HashMap<String, HashKeyed<Vec<u32>>>,
}

impl ExistingIndex {
    /// Indexes `entries` by the attributes `codes`.
    pub fn new<S: AsRef<str>>(entries: Vec<ExistingEntry>, codes: &[S]) -> Self {
        let mut by_code: HashMap<String, HashKeyed<Vec<u32>>> = HashMap::new();
        for code in codes {
            let code = code.as_ref();
            let mut index: HashKeyed<Vec<u32>> = HashKeyed::default();
            for (i, entry) in entries.iter().enumerate() {
                if let Stored::Value(v) = entry.get(code) {
                    index.entry(norm_hash(v)).or_default().push(i as u32);
                }
            }
            by_code.insert(code.to_string(), index);
        }
        ExistingIndex { entries, by_code }
    }

    pub fn entries(&self) -> &[ExistingEntry] {
        &self.entries
    }

    /// Whether `code` was indexed.
    pub fn indexes(&self, code: &str) -> bool {
        self.by_code.contains_key(code)
    }

    /// The entries whose `code` equals `value` once normalised (an indexed code only).
    pub fn lookup<'a>(
        &'a self,
        code: &'a str,
        value: &'a str,
    ) -> impl Iterator<Item = &'a ExistingEntry> + 'a {
        self.positions(code, value).map(|i| &self.entries[i])
    }

    /// Like [`lookup`](Self::lookup), as positions in [`entries`](Self::entries).
    pub fn positions<'a>(
        &'a self,
        code: &'a str,
        value: &'a str,
    ) -> impl Iterator<Item = usize> + 'a {
        let hits = self
            .by_code
            .get(code)
            .and_then(|index| index.get(&norm_hash(value)));
        hits.into_iter()
            .flatten()
            .map(|&i| i as usize)
            .filter(move |&i| match self.entries[i].get(code) {
                Stored::Value(v) => norm_eq(v, value),
                _ => false,
            })
    }
}

/// One company or contact a reference can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: Arc<str>,
    pub name: Arc<str>,
    /// `(id)`: how a resolved reference is sent.
    pub wire: Arc<str>,
}

/// How a reference resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved<'a> {
    /// An entry in the CRM (or created earlier in this run, id known).
    Found(&'a Named),
    /// An entry that will be created earlier in this run; sent by name.
    Pending(&'a str),
    /// Several entries have this name (contacts): their ids.
    Ambiguous(Vec<&'a str>),
    NotFound,
}

/// Companies (or contacts) by name and by id, for reference columns. Names are matched
/// trimmed and case-insensitively, `(id)` by id.
#[derive(Debug, Default, Clone)]
pub struct NameIndex {
    entries: Vec<Named>,
    by_name: HashKeyed<Vec<u32>>,
    by_id: HashMap<Arc<str>, u32>,
    pending: HashKeyed<Arc<str>>,
}

impl NameIndex {
    /// Builds the index from `(id, name)` pairs.
    pub fn new<I: IntoIterator<Item = (String, String)>>(entries: I) -> Self {
        let mut index = NameIndex::default();
        for (id, name) in entries {
            index.add_created(&id, &name);
        }
        index
    }

    /// Adds an entry created during this run, so that later rows resolve it at once.
    pub fn add_created(&mut self, id: &str, name: &str) {
        let i = self.entries.len() as u32;
        let id: Arc<str> = Arc::from(id.trim());
        let named = Named {
            id: id.clone(),
            name: Arc::from(name.trim()),
            wire: Arc::from(format!("({id})")),
        };
        if !name.trim().is_empty() {
            self.by_name.entry(norm_hash(name)).or_default().push(i);
        }
        self.by_id.insert(id, i);
        self.entries.push(named);
    }

    /// Declares that an entry with this name will be created earlier in this run (a
    /// companies file loaded before this one), so references to it are valid.
    pub fn add_pending(&mut self, name: &str) {
        if !name.trim().is_empty() {
            self.pending.insert(norm_hash(name), Arc::from(name.trim()));
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Resolves a reference written as a name or as `(id)`.
    pub fn resolve(&self, value: &str) -> Resolved<'_> {
        let value = value.trim();
        if let Some(id) = value.strip_prefix('(').and_then(|v| v.strip_suffix(')')) {
            return match self.by_id.get(id.trim()) {
                Some(&i) => Resolved::Found(&self.entries[i as usize]),
                None => Resolved::NotFound,
            };
        }
        let hash = norm_hash(value);
        let found: Vec<&Named> = self
            .by_name
            .get(&hash)
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i as usize])
            .filter(|n| norm_eq(&n.name, value))
            .collect();
        match found.as_slice() {
            [one] => Resolved::Found(one),
            [] => match self.pending.get(&hash) {
                Some(name) if norm_eq(name, value) => Resolved::Pending(name),
                _ => Resolved::NotFound,
            },
            many => Resolved::Ambiguous(many.iter().map(|n| &*n.id).collect()),
        }
    }
}

/// A 128-bit key stored as two `u64`s: 8-byte aligned, so that a table slot with its row
/// number takes 24 bytes rather than the 32 a 16-byte aligned `u128` needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SeenKey(u64, u64);

impl std::hash::Hash for SeenKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0 ^ self.1.rotate_left(29));
    }
}

/// The values seen so far in one file, per field: normalised-value hash → first row.
#[derive(Debug, Default)]
pub struct SeenIndex {
    seen: HashMap<SeenKey, u64, BuildHasherDefault<PreHashed>>,
}

impl SeenIndex {
    /// Records `value` of field `field` at `row`; returns the earlier row that had it.
    pub fn insert(&mut self, field: usize, value: &str, row: u64) -> Option<u64> {
        // Mixing the field into the hash keeps one table for all fields.
        let hash = norm_hash(value)
            ^ (field as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
        let key = SeenKey(hash as u64, (hash >> 64) as u64);
        match self.seen.entry(key) {
            std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(row);
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_case_and_surrounding_spaces() {
        assert_eq!(norm_hash(" Acme "), norm_hash("ACME"));
        assert_eq!(norm_hash("Ärzte GmbH"), norm_hash("ärzte gmbh "));
        assert_ne!(norm_hash("Acme"), norm_hash("Acme Inc"));
        let long = "x".repeat(200);
        assert_eq!(norm_hash(&long), norm_hash(&long.to_uppercase()));
        assert!(norm_eq(" Ärzte", "ärzte"));
    }

    #[test]
    fn seen_index_reports_first_row_per_field() {
        let mut seen = SeenIndex::default();
        assert_eq!(seen.insert(0, "a", 2), None);
        assert_eq!(seen.insert(1, "a", 3), None);
        assert_eq!(seen.insert(0, " A", 4), Some(2));
    }
}
