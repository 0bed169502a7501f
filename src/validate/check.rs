//! The per-type checks of one cell: each turns a trimmed, non-empty cell into the value to
//! send and the value the CRM will read back, or says what is wrong and what would be valid.
//! A [`Check`] is built once per column, with everything it needs precomputed (option
//! tables, the date format, the reference index), so checking a cell allocates only where
//! the sent value differs from the cell.

use std::collections::HashMap;
use std::sync::Arc;

use super::date::{DateError, DateFormat};
use super::index::{norm_eq, norm_hash, HashKeyed, NameIndex, Resolved};
use super::Cell;
use crate::schema::{AttrKind, Attribute, Schema};

/// The most characters a `strng` attribute holds.
pub const MAX_TEXT_CHARS: usize = 255;

/// How many option labels a message lists before "and N more".
const LISTED_OPTIONS: usize = 12;

/// The check of one column.
#[derive(Debug)]
pub(crate) enum Check {
    Text {
        max_chars: Option<usize>,
    },
    Email,
    Url,
    Phone,
    Number,
    Date(DateFormat),
    Checkbox,
    Options(OptionTable),
    Reference {
        index: Option<Arc<NameIndex>>,
        noun: &'static str,
    },
}

/// The result of checking one cell.
#[derive(Debug)]
pub(crate) enum Outcome {
    Valid(Cell),
    /// A dictionary label to be added (`--create-missing-options`); sent as the label.
    NewOption(Cell),
    /// What is wrong, and what would be valid (follows the quoted value in messages).
    Invalid(String),
}

/// What building checks needs besides the attribute.
pub(crate) struct CheckContext<'a> {
    pub schema: &'a Schema,
    pub date_format: &'a DateFormat,
    pub create_missing_options: bool,
    pub companies: Option<&'a Arc<NameIndex>>,
    pub contacts: Option<&'a Arc<NameIndex>>,
}

impl Check {
    pub(crate) fn new(attribute: &Attribute, cx: &CheckContext<'_>) -> Check {
        match &attribute.kind {
            AttrKind::Text => Check::Text {
                max_chars: Some(MAX_TEXT_CHARS),
            },
            AttrKind::Email => Check::Email,
            AttrKind::Url => Check::Url,
            AttrKind::Phone => Check::Phone,
            AttrKind::Number => Check::Number,
            AttrKind::Date => Check::Date(cx.date_format.clone()),
            AttrKind::Checkbox => Check::Checkbox,
            AttrKind::List | AttrKind::Dictionary => {
                Check::Options(OptionTable::new(attribute, cx))
            }
            AttrKind::Company => Check::Reference {
                index: cx.companies.cloned(),
                noun: "company",
            },
            AttrKind::Contact => Check::Reference {
                index: cx.contacts.cloned(),
                noun: "contact",
            },
            AttrKind::LongText | AttrKind::Users | AttrKind::Other(_) => {
                Check::Text { max_chars: None }
            }
        }
    }

    /// Checks a trimmed, non-empty cell.
    pub(crate) fn check(&self, value: &str) -> Outcome {
        match self {
            Check::Text { max_chars } => text(value, *max_chars),
            Check::Email => verdict(is_email(value), value, "is not an e-mail address (expected name@example.com)"),
            Check::Url => verdict(
                is_url(value),
                value,
                "is not a web address (expected http://, https:// or a bare domain such as example.com)",
            ),
            Check::Phone => verdict(
                is_phone(value),
                value,
                "is not a phone number (at least 3 digits; only digits, spaces, a leading + and ( ) - . /)",
            ),
            Check::Number => number(value),
            Check::Date(format) => date(format, value),
            Check::Checkbox => checkbox(value),
            Check::Options(table) => table.check(value),
            Check::Reference { index, noun } => reference(index.as_deref(), noun, value),
        }
    }
}

fn verdict(ok: bool, _value: &str, message: &str) -> Outcome {
    if ok {
        Outcome::Valid(Cell::Same)
    } else {
        Outcome::Invalid(message.to_string())
    }
}

fn text(value: &str, max_chars: Option<usize>) -> Outcome {
    // Bytes bound characters from above: only long texts need counting.
    if let Some(max) = max_chars.filter(|max| value.len() > *max) {
        let chars = value.chars().count();
        if chars > max {
            return Outcome::Invalid(format!("is {chars} characters long; at most {max} fit"));
        }
    }
    Outcome::Valid(Cell::Same)
}

/// A pragmatic e-mail check: one `@`, a local part without spaces or stray dots, and a
/// domain of at least two labels.
pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    local_ok && is_domain(domain)
}

/// Two or more labels of letters, digits and inner hyphens, the last one letters only.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.chars().count() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.chars().count() >= 2 && t.chars().all(char::is_alphabetic))
        || labels.last().is_some_and(|t| t.starts_with("xn--"));
    labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok
}

/// An `http://` or `https://` address with a host, or a bare domain with an optional port
/// and path (`www.example.com/about`), which is how CRM exports usually hold websites.
/// Other schemes (`ftp:`, `mailto:`, `javascript:`) are refused. The value is sent as written.
pub fn is_url(value: &str) -> bool {
    if value.chars().any(char::is_whitespace) {
        return false;
    }
    let lower = value.get(..8).unwrap_or(value).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return url::Url::parse(value).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()));
    }
    if value.contains("://") {
        return false;
    }
    let host_end = value.find(['/', '?', '#']).unwrap_or(value.len());
    let host_port = &value[..host_end];
    let host = match host_port.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        Some(_) => return false,
        None => host_port,
    };
    is_domain(host) && url::Url::parse(&format!("http://{value}")).is_ok()
}

/// Digits, spaces, `( ) - . /` and one leading `+`, with at least three digits.
pub fn is_phone(value: &str) -> bool {
    let body = value.strip_prefix('+').unwrap_or(value);
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    digits >= 3
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || " ()-./".contains(c))
}

/// `[+-]digits[.digits]`, the form the API takes; a leading `+` is dropped.
fn number(value: &str) -> Outcome {
    if is_plain_number(value) {
        return match value.strip_prefix('+') {
            Some(unsigned) => Outcome::Valid(Cell::Owned(unsigned.to_string())),
            None => Outcome::Valid(Cell::Same),
        };
    }
    match suggest_number(value) {
        Some(fixed) => Outcome::Invalid(format!(
            "is not a number: write it without thousands separators and with \".\" for decimals, as {fixed}"
        )),
        None => Outcome::Invalid("is not a number (digits with an optional sign and \".\" for decimals, e.g. 1234.5)".into()),
    }
}

pub fn is_plain_number(value: &str) -> bool {
    let body = value.strip_prefix(['+', '-']).unwrap_or(value);
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.map_or(true, digits)
}

/// The number a person probably meant by `1,234,567`, `1 234,5`, `1.234,50` or `12,5`.
fn suggest_number(value: &str) -> Option<String> {
    let compact: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    let (commas, dots) = (compact.matches(',').count(), compact.matches('.').count());
    let last_comma = compact.rfind(',');
    let last_dot = compact.rfind('.');
    let fixed = match (commas, dots) {
        (0, _) => compact,
        // "1.234,50": dots group thousands, the comma is the decimal point.
        (1, _) if last_dot.is_some() && last_dot < last_comma => {
            compact.replace('.', "").replace(',', ".")
        }
        // "12,5" is a decimal comma; "1,234" a thousands separator.
        (1, 0) if compact.len() - last_comma.unwrap_or(0) != 4 => compact.replace(',', "."),
        _ => compact.replace(',', ""),
    };
    is_plain_number(&fixed).then_some(fixed)
}

fn date(format: &DateFormat, value: &str) -> Outcome {
    match format.read(value) {
        Ok(date) => Outcome::Valid(format.write_short(date).map_or_else(|| Cell::Owned(format.write(date)), Cell::Short)),
        Err(DateError::NotADate) => Outcome::Invalid(format!(
            "is not a date (write YYYY-MM-DD, or the CRM's format {}, e.g. {})",
            format.spec(),
            format.example()
        )),
        Err(DateError::OutOfRange(date)) => Outcome::Invalid(format!(
            "is {date}, outside 1969-2068: the CRM's date format {} has two-digit years and would store another century",
            format.spec()
        )),
    }
}

fn checkbox(value: &str) -> Outcome {
    let yes = ["true", "yes", "1"]
        .iter()
        .any(|v| v.eq_ignore_ascii_case(value));
    let no = ["false", "no", "0"]
        .iter()
        .any(|v| v.eq_ignore_ascii_case(value));
    match (yes, no) {
        (true, _) => Outcome::Valid(Cell::Static("true")),
        (_, true) => Outcome::Valid(Cell::Static("false")),
        _ => Outcome::Invalid("is not a checkbox value (true/false, yes/no or 1/0)".into()),
    }
}

fn reference(index: Option<&NameIndex>, noun: &str, value: &str) -> Outcome {
    let Some(index) = index else {
        return Outcome::Valid(Cell::Same);
    };
    match index.resolve(value) {
        Resolved::Found(named) => Outcome::Valid(Cell::Shared { wire: named.wire.clone(), readback: named.name.clone() }),
        Resolved::Pending(_) => Outcome::Valid(Cell::Same),
        Resolved::Ambiguous(ids) => Outcome::Invalid(format!(
            "names {} {noun}s (ids {}); write the one you mean as (id)",
            ids.len(),
            ids.join(", ")
        )),
        Resolved::NotFound => Outcome::Invalid(format!(
            "names no {noun} in the CRM (write an existing {noun}'s name or its (id), or import the {noun} first)"
        )),
    }
}

/// The options of one list or dictionary attribute, looked up by label (any case) and then
/// by id. Labels come first because exports and the CRM's screens show labels.
#[derive(Debug)]
pub(crate) struct OptionTable {
    attribute: String,
    options: Vec<(Arc<str>, Arc<str>)>,
    by_id: HashMap<String, usize>,
    by_label: HashKeyed<usize>,
    /// The dictionary new labels may be added to, when `--create-missing-options` is on.
    creatable_in: Option<String>,
}

impl OptionTable {
    fn new(attribute: &Attribute, cx: &CheckContext<'_>) -> OptionTable {
        let options: Vec<(Arc<str>, Arc<str>)> = attribute
            .options_in(cx.schema)
            .iter()
            .map(|o| (Arc::from(o.id.trim()), Arc::from(o.label.trim())))
            .collect();
        let by_id = options
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.to_string(), i))
            .collect();
        let mut by_label = HashKeyed::default();
        for (i, (_, label)) in options.iter().enumerate() {
            by_label.entry(norm_hash(label)).or_insert(i);
        }
        let creatable_in = match attribute.kind {
            AttrKind::Dictionary if cx.create_missing_options => attribute.dictionary.clone(),
            _ => None,
        };
        OptionTable {
            attribute: attribute.name.clone(),
            options,
            by_id,
            by_label,
            creatable_in,
        }
    }

    /// Option `i`'s id and label.
    pub(crate) fn option(&self, i: u32) -> Option<(&str, &str)> {
        self.options
            .get(i as usize)
            .map(|(id, label)| (&**id, &**label))
    }

    /// The dictionary new labels go to, if creating them is allowed.
    pub(crate) fn creatable_in(&self) -> Option<&str> {
        self.creatable_in.as_deref()
    }

    fn check(&self, value: &str) -> Outcome {
        let found = self
            .by_label
            .get(&norm_hash(value))
            .copied()
            .filter(|&i| norm_eq(&self.options[i].1, value))
            .or_else(|| self.by_id.get(value).copied());
        if let Some(i) = found {
            return Outcome::Valid(Cell::Choice(i as u32));
        }
        if self.creatable_in.is_some() {
            return Outcome::NewOption(Cell::Same);
        }
        let mut labels: Vec<&str> = self
            .options
            .iter()
            .take(LISTED_OPTIONS)
            .map(|(_, l)| &**l)
            .collect();
        let more = self.options.len().saturating_sub(LISTED_OPTIONS);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        if labels.is_empty() {
            labels.push("none");
        }
        Outcome::Invalid(format!(
            "is not an option of {} (valid: {}{more})",
            self.attribute,
            labels.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in [
            "kelly@example.com",
            "a.b+c@sub.example.co.uk",
            "jörg@bücher.de",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "kelly@",
            "@example.com",
            "kelly@example",
            "a b@example.com",
            "a..b@example.com",
            "a@b@c.com",
            "a@-x.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn urls() {
        for ok in [
            "https://example.com",
            "http://localhost:8080/x",
            "example.com",
            "www.example.com/about?x=1",
            "example.com:8080",
        ] {
            assert!(is_url(ok), "{ok}");
        }
        for bad in [
            "ftp://example.com",
            "javascript:alert(1)",
            "mailto:a@b.com",
            "example",
            "http://",
            "exa mple.com",
            "https//x.com",
        ] {
            assert!(!is_url(bad), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert!(is_phone("+1 (555) 010-9999"));
        assert!(is_phone("030/123.45"));
        assert!(!is_phone("12"));
        assert!(!is_phone("call me"));
        assert!(!is_phone("1+2345"));
    }

    #[test]
    fn number_suggestions() {
        assert_eq!(suggest_number("1,234,567").as_deref(), Some("1234567"));
        assert_eq!(suggest_number("1 234,5").as_deref(), Some("1234.5"));
        assert_eq!(suggest_number("1.234,50").as_deref(), Some("1234.50"));
        assert_eq!(suggest_number("12,5").as_deref(), Some("12.5"));
        assert_eq!(suggest_number("abc"), None);
        assert!(
            is_plain_number("-12.5")
                && is_plain_number("+3")
                && !is_plain_number("1.")
                && !is_plain_number("1e5")
        );
    }
}
