//! Mapping a file's headers to a table's attributes.
//!
//! A header matches an attribute by code, name or English name, compared in their folded
//! forms ([`fold`]): case, spacing, punctuation and look-alike letters do not matter. An
//! explicit `--map FILE` ([`MapFile`]) wins over automatic matching, lists headers to ignore
//! and sets constants. Every header problem of a file is collected and reported at once
//! ([`MapError::Headers`]). The result, a [`Mapping`], is shown to the user before anything
//! runs ([`Mapping::render`]).
//!
//! This module knows headers and attributes only: it never looks at cell values (that is
//! `validate`'s job) and does no I/O except [`MapFile::load`].

mod file;
pub mod fold;

use std::fmt;

pub use file::{ConstantValue, MapFile};

use crate::schema::{Attribute, TableSchema};
use fold::fold;

/// Options of automatic mapping.
#[derive(Debug, Clone, Default)]
pub struct MapOptions {
    /// Skip headers that match no attribute, reporting them as ignored (`--ignore-unknown`).
    pub ignore_unknown: bool,
}

/// What the mapping is built from.
#[derive(Debug, Clone, Copy)]
pub struct MapInput<'a> {
    /// The file's name as shown in messages.
    pub file: &'a str,
    /// The header row, in file order.
    pub headers: &'a [String],
    pub table: &'a TableSchema,
    pub map_file: Option<&'a MapFile>,
    pub options: &'a MapOptions,
}

/// Each column of a file and the attribute it feeds, plus constants.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// The file's name as shown in messages.
    pub file: String,
    /// The API table name (`CLIENTS`).
    pub table: String,
    /// One per header, in file order (`index` is the cell index in a record).
    pub columns: Vec<Column>,
    /// Values set on every row.
    pub constants: Vec<Constant>,
    /// Required attributes that neither a column nor a constant provides.
    pub unmapped_required: Vec<Attribute>,
}

/// One column of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The cell index in a record.
    pub index: usize,
    /// The header as written in the file.
    pub header: String,
    pub target: Target,
}

/// Where a column goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Attribute(Attribute),
    Ignored(IgnoredBy),
}

/// Why a column is not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoredBy {
    /// Listed in the map file's `ignore`.
    MapFile,
    /// Matches no attribute, and unknown headers are skipped.
    Unknown,
    /// The header cell is empty.
    NoHeader,
}

/// A constant value for one attribute, the same on every row.
#[derive(Debug, Clone, PartialEq)]
pub struct Constant {
    pub attribute: Attribute,
    pub value: String,
}

/// A mapping that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// The map file cannot be read or parsed.
    #[error("{path}: {message}")]
    MapFile { path: String, message: String },
    /// One or more headers (or map file entries) are wrong; all are listed.
    #[error("{}", render_problems(file, problems))]
    Headers {
        file: String,
        problems: Vec<HeaderProblem>,
    },
}

/// One problem with one header or map file entry.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderProblem {
    /// The header (or map file key) concerned.
    pub column: String,
    pub kind: HeaderProblemKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HeaderProblemKind {
    /// The header matches no attribute.
    Unknown { suggestions: Vec<String> },
    /// The header matches several attributes equally well.
    Ambiguous { attributes: Vec<String> },
    /// A second column (or a constant) for an attribute that already has one.
    Duplicate { attribute: String, first: String },
    /// The attribute cannot be written through the API.
    NotImportable { attribute: String, reason: String },
    /// A map file entry names an attribute the table does not have.
    UnknownAttribute {
        value: String,
        suggestions: Vec<String>,
    },
    /// A map file `[columns]` entry names a header the file does not have.
    MissingColumn,
}

impl fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column \"{}\": ", self.column)?;
        match &self.kind {
            HeaderProblemKind::Unknown { suggestions } => {
                write!(f, "matches no attribute")?;
                write_suggestions(f, suggestions)?;
                write!(f, " (map it in a --map file, or skip it with --ignore-unknown)")
            }
            HeaderProblemKind::Ambiguous { attributes } => write!(
                f,
                "matches several attributes ({}); map it explicitly in a --map file",
                attributes.join(", ")
            ),
            HeaderProblemKind::Duplicate { attribute, first } => {
                write!(f, "maps to {attribute}, which \"{first}\" already provides")
            }
            HeaderProblemKind::NotImportable { attribute, reason } => write!(
                f,
                "maps to {attribute}, which {reason}; leave the column out or list it under ignore in a --map file"
            ),
            HeaderProblemKind::UnknownAttribute { value, suggestions } => {
                write!(f, "the map file names attribute \"{value}\", which the table does not have")?;
                write_suggestions(f, suggestions)
            }
            HeaderProblemKind::MissingColumn => write!(f, "the map file maps this header, but the file has no such column"),
        }
    }
}

fn write_suggestions(f: &mut fmt::Formatter<'_>, suggestions: &[String]) -> fmt::Result {
    if suggestions.is_empty() {
        return Ok(());
    }
    let quoted: Vec<String> = suggestions.iter().map(|s| format!("\"{s}\"")).collect();
    write!(f, "; did you mean {}?", quoted.join(" or "))
}

/// Header problems shown in one error; a file with thousands of stray columns gets a count
/// for the rest instead of thousands of lines.
const SHOWN_PROBLEMS: usize = 20;

fn render_problems(file: &str, problems: &[HeaderProblem]) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(|p| format!("{file}: {p}"))
        .collect();
    if problems.len() > SHOWN_PROBLEMS {
        lines.push(format!(
            "{file}: ... and {} more columns with problems",
            problems.len() - SHOWN_PROBLEMS
        ));
    }
    lines.join("\n")
}

impl Mapping {
    /// Maps a file's headers, collecting every problem.
    pub fn build(input: MapInput<'_>) -> Result<Mapping, MapError> {
        let mut builder = Builder {
            input,
            problems: Vec::new(),
            index: AttributeIndex::new(input.table),
        };
        let columns = builder.columns();
        let constants = builder.constants(&columns);
        builder.check_map_file_columns();
        if !builder.problems.is_empty() {
            return Err(MapError::Headers {
                file: input.file.to_string(),
                problems: builder.problems,
            });
        }
        let provided = |code: &str| {
            columns
                .iter()
                .any(|c| matches!(&c.target, Target::Attribute(a) if a.code == code))
                || constants
                    .iter()
                    .any(|k: &Constant| k.attribute.code == code)
        };
        let unmapped_required = input
            .table
            .attributes
            .iter()
            .filter(|a| a.required && !provided(&a.code))
            .cloned()
            .collect();
        Ok(Mapping {
            file: input.file.to_string(),
            table: input.table.table.clone(),
            columns,
            constants,
            unmapped_required,
        })
    }

    /// The mapped columns with their attributes, in file order.
    pub fn attributes(&self) -> impl Iterator<Item = (&Column, &Attribute)> {
        self.columns.iter().filter_map(|c| match &c.target {
            Target::Attribute(a) => Some((c, a)),
            Target::Ignored(_) => None,
        })
    }

    /// The column feeding an attribute, by code.
    pub fn column_for(&self, code: &str) -> Option<&Column> {
        self.attributes()
            .find(|(_, a)| a.code == code)
            .map(|(c, _)| c)
    }

    /// Finds a mapped column by its header or by its attribute's code, name or English name
    /// (folded), as `--key` names it.
    pub fn find(&self, header_or_attribute: &str) -> Option<(&Column, &Attribute)> {
        let wanted = fold(header_or_attribute);
        self.attributes()
            .find(|(c, _)| fold(&c.header) == wanted)
            .or_else(|| {
                self.attributes()
                    .find(|(_, a)| a.code == header_or_attribute.trim())
            })
            .or_else(|| {
                self.attributes().find(|(_, a)| {
                    fold(&a.name) == wanted || fold(&a.name_en) == wanted || fold(&a.code) == wanted
                })
            })
    }

    /// Columns that are not imported, with the reason.
    pub fn ignored(&self) -> impl Iterator<Item = (&Column, IgnoredBy)> {
        self.columns.iter().filter_map(|c| match c.target {
            Target::Ignored(by) => Some((c, by)),
            Target::Attribute(_) => None,
        })
    }

    /// The mapping as readable lines, for `validate --show-mapping` and `--dry-run`:
    /// `  "Company Name" -> Name (org_name, text, required, unique)`.
    pub fn render(&self) -> String {
        let mut out = format!("{} -> {}\n", self.file, self.table);
        for column in &self.columns {
            let header = if column.header.trim().is_empty() {
                format!("(column {}, no header)", column.index + 1)
            } else {
                format!("\"{}\"", column.header)
            };
            let target = match &column.target {
                Target::Attribute(a) => describe_attribute(a),
                Target::Ignored(IgnoredBy::MapFile) => "ignored (map file)".to_string(),
                Target::Ignored(IgnoredBy::Unknown) => "ignored (matches no attribute)".to_string(),
                Target::Ignored(IgnoredBy::NoHeader) => "ignored (no header)".to_string(),
            };
            out.push_str(&format!("  {header} -> {target}\n"));
        }
        for constant in &self.constants {
            out.push_str(&format!(
                "  constant \"{}\" -> {}\n",
                constant.value,
                describe_attribute(&constant.attribute)
            ));
        }
        for attribute in &self.unmapped_required {
            out.push_str(&format!(
                "  (no column) -> {}: rows that create entries will be invalid\n",
                describe_attribute(attribute)
            ));
        }
        out
    }
}

/// `Name (org_name, text, required, unique)`.
pub fn describe_attribute(a: &Attribute) -> String {
    let mut traits = vec![a.code.as_str(), a.kind.describe()];
    if a.required {
        traits.push("required");
    }
    if a.unique {
        traits.push("unique");
    }
    format!("{} ({})", a.name, traits.join(", "))
}

/// Attributes by their folded code, name and English name.
struct AttributeIndex<'a> {
    table: &'a TableSchema,
    folded: Vec<[String; 3]>,
}

impl<'a> AttributeIndex<'a> {
    fn new(table: &'a TableSchema) -> Self {
        let folded = table
            .attributes
            .iter()
            .map(|a| [fold(&a.code), fold(&a.name), fold(&a.name_en)])
            .collect();
        AttributeIndex { table, folded }
    }

    /// The attributes a name matches: an exact code first, else every folded match.
    fn lookup(&self, name: &str) -> Vec<&'a Attribute> {
        if let Some(a) = self.table.attribute(name.trim()) {
            return vec![a];
        }
        let wanted = fold(name);
        if wanted.is_empty() {
            return Vec::new();
        }
        self.table
            .attributes
            .iter()
            .zip(&self.folded)
            .filter(|(_, f)| f.contains(&wanted))
            .map(|(a, _)| a)
            .collect()
    }

    /// Up to three importable attribute names close to `name`, closest first.
    fn suggest(&self, name: &str) -> Vec<String> {
        let wanted = fold(name);
        let mut close: Vec<(usize, &str)> = self
            .table
            .attributes
            .iter()
            .zip(&self.folded)
            .filter(|(a, _)| a.is_importable())
            .filter_map(|(a, f)| {
                f.iter()
                    .filter_map(|f| fold::is_close(&wanted, f))
                    .min()
                    .map(|d| (d, a.name.as_str()))
            })
            .collect();
        close.sort();
        close.dedup_by(|a, b| a.1 == b.1);
        close
            .into_iter()
            .take(3)
            .map(|(_, n)| n.to_string())
            .collect()
    }
}

struct Builder<'a> {
    input: MapInput<'a>,
    problems: Vec<HeaderProblem>,
    index: AttributeIndex<'a>,
}

impl<'a> Builder<'a> {
    fn problem(&mut self, column: &str, kind: HeaderProblemKind) {
        self.problems.push(HeaderProblem {
            column: column.to_string(),
            kind,
        });
    }

    fn columns(&mut self) -> Vec<Column> {
        let mut columns: Vec<Column> = Vec::with_capacity(self.input.headers.len());
        for (index, header) in self.input.headers.iter().enumerate() {
            let target = match self.target(header) {
                Some(target) => target,
                None => continue,
            };
            if let Target::Attribute(a) = &target {
                if let Some(first) = columns
                    .iter()
                    .find(|c| matches!(&c.target, Target::Attribute(b) if b.code == a.code))
                {
                    let kind = HeaderProblemKind::Duplicate {
                        attribute: a.name.clone(),
                        first: first.header.clone(),
                    };
                    self.problem(header, kind);
                    continue;
                }
            }
            columns.push(Column {
                index,
                header: header.clone(),
                target,
            });
        }
        columns
    }

    /// The target of one header, or `None` after recording a problem.
    fn target(&mut self, header: &str) -> Option<Target> {
        if fold(header).is_empty() && header.trim().is_empty() {
            return Some(Target::Ignored(IgnoredBy::NoHeader));
        }
        let map_file = self.input.map_file;
        if let Some(map) = map_file {
            if map.ignore.iter().any(|h| same_header(h, header)) {
                return Some(Target::Ignored(IgnoredBy::MapFile));
            }
            if let Some((_, value)) = map.columns.iter().find(|(h, _)| same_header(h, header)) {
                let attribute = self.map_file_attribute(header, value)?;
                return self.importable(header, attribute);
            }
        }
        let found = self.index.lookup(header);
        match found.as_slice() {
            [] if self.input.options.ignore_unknown
                || map_file.is_some_and(|m| m.ignore_unknown) =>
            {
                Some(Target::Ignored(IgnoredBy::Unknown))
            }
            [] => {
                let suggestions = self.index.suggest(header);
                self.problem(header, HeaderProblemKind::Unknown { suggestions });
                None
            }
            [one] => self.importable(header, one),
            many => {
                let attributes = many
                    .iter()
                    .map(|a| format!("{} ({})", a.name, a.code))
                    .collect();
                self.problem(header, HeaderProblemKind::Ambiguous { attributes });
                None
            }
        }
    }

    /// The one attribute a map file entry names, or `None` after recording a problem.
    fn map_file_attribute(&mut self, column: &str, value: &str) -> Option<&'a Attribute> {
        let found = self.index.lookup(value);
        match found.as_slice() {
            [one] => Some(one),
            [] => {
                let suggestions = self.index.suggest(value);
                self.problem(
                    column,
                    HeaderProblemKind::UnknownAttribute {
                        value: value.to_string(),
                        suggestions,
                    },
                );
                None
            }
            many => {
                let attributes = many
                    .iter()
                    .map(|a| format!("{} ({})", a.name, a.code))
                    .collect();
                self.problem(column, HeaderProblemKind::Ambiguous { attributes });
                None
            }
        }
    }

    fn importable(&mut self, column: &str, attribute: &Attribute) -> Option<Target> {
        if attribute.is_importable() {
            return Some(Target::Attribute(attribute.clone()));
        }
        let reason = if attribute.read_only {
            "is read-only".to_string()
        } else {
            format!(
                "has type {}, which the API cannot write",
                attribute.kind.describe()
            )
        };
        self.problem(
            column,
            HeaderProblemKind::NotImportable {
                attribute: attribute.name.clone(),
                reason,
            },
        );
        None
    }

    fn constants(&mut self, columns: &[Column]) -> Vec<Constant> {
        let Some(map) = self.input.map_file else {
            return Vec::new();
        };
        let mut constants: Vec<Constant> = Vec::new();
        for (name, value) in &map.constants {
            let Some(attribute) = self.map_file_attribute(name, name) else {
                continue;
            };
            let Some(Target::Attribute(attribute)) = self.importable(name, attribute) else {
                continue;
            };
            let column = columns
                .iter()
                .find(|c| matches!(&c.target, Target::Attribute(a) if a.code == attribute.code));
            let constant = constants
                .iter()
                .find(|k| k.attribute.code == attribute.code);
            let first = column
                .map(|c| c.header.clone())
                .or(constant.map(|k| format!("constant {}", k.attribute.name)));
            if let Some(first) = first {
                self.problem(
                    name,
                    HeaderProblemKind::Duplicate {
                        attribute: attribute.name.clone(),
                        first,
                    },
                );
                continue;
            }
            constants.push(Constant {
                attribute,
                value: value.as_text(),
            });
        }
        constants
    }

    fn check_map_file_columns(&mut self) {
        let Some(map) = self.input.map_file else {
            return;
        };
        for header in map.columns.keys() {
            if !self.input.headers.iter().any(|h| same_header(h, header)) {
                self.problem(header, HeaderProblemKind::MissingColumn);
            }
        }
    }
}

/// Headers in a map file match the file's headers in their folded forms.
fn same_header(a: &str, b: &str) -> bool {
    a.trim() == b.trim() || (!fold(a).is_empty() && fold(a) == fold(b))
}
