//! The `--map FILE` TOML file: explicit header → attribute mappings, headers to ignore, and
//! constant values. This module only parses it; `map` applies it.
//!
//! ```toml
//! ignore_unknown = false          # optional: skip headers that match no attribute
//! ignore = ["Internal notes"]     # headers never imported
//!
//! [columns]                       # header = attribute name, English name or code
//! "Firma" = "Name"
//! "Web" = "org_www"
//!
//! [constants]                     # attribute = value, the same for every row
//! Type = "Customer"
//! Employees = 10
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::MapError;

/// A parsed map file. Header keys are matched against the file's headers the same lenient
/// way automatic matching works (case, spacing, punctuation, look-alike letters).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapFile {
    /// Header → attribute (name, English name or code).
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Headers to leave out.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Attribute → value set on every row.
    #[serde(default)]
    pub constants: BTreeMap<String, ConstantValue>,
    /// Skip headers that match no attribute instead of failing (as `--ignore-unknown`).
    #[serde(default)]
    pub ignore_unknown: bool,
}

/// A constant as TOML allows it to be written: text, a number, a boolean or a date.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ConstantValue {
    Text(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Date(toml::value::Datetime),
}

impl ConstantValue {
    /// The value as the cell text it stands for.
    pub fn as_text(&self) -> String {
        match self {
            ConstantValue::Text(s) => s.clone(),
            ConstantValue::Integer(n) => n.to_string(),
            ConstantValue::Float(f) => f.to_string(),
            ConstantValue::Boolean(b) => b.to_string(),
            ConstantValue::Date(d) => d.to_string(),
        }
    }
}

impl MapFile {
    pub fn parse(text: &str) -> Result<MapFile, toml::de::Error> {
        toml::from_str(text)
    }

    /// Reads and parses a map file; errors name the file.
    pub fn load(path: &Path) -> Result<MapFile, MapError> {
        let fail = |message: String| MapError::MapFile {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        MapFile::parse(&text).map_err(|e| fail(e.to_string().trim_end().to_string()))
    }
}
