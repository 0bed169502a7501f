//! List answers (`getcompanies`, `getcontacts`, `searchEntities`) parsed straight into
//! [`Entry`]s, one element at a time, instead of first building the whole answer as a
//! `serde_json::Value` tree.
//!
//! A list answer holds the whole table (the API has no paging), so for 100,000 companies the
//! tree alone took several times the answer's size. Here only the element being read exists
//! as a `Value`; it is turned into an entry by [`parse_entry`], so the lenient rules (ids as
//! strings or numbers, `name` vs `org_name`, `Unsupported`) are exactly those of
//! [`response`](super::response). Anything that is not a well-formed answer object (not JSON,
//! not an object) is handed to the general [`parse_answer`] path so that its messages stay
//! the same. No I/O here.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::error::ApiError;
use super::response::{classify, parse_answer, parse_bool, parse_entries, parse_entry, shorten};
use super::Entry;
use crate::schema::TableSchema;

/// Parses a list answer body: its entries under `key`, or the classified failure.
pub fn parse_list_answer(
    command: &str,
    body: &str,
    key: &str,
    table: &TableSchema,
) -> Result<Vec<Entry>, ApiError> {
    let text = body.trim_start_matches('\u{feff}');
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = AnswerSeed { key, table };
    let parsed = seed
        .deserialize(&mut de)
        .and_then(|answer| de.end().map(|()| answer));
    let Ok(Some(answer)) = parsed else {
        // Not JSON, or not an object: the general path says which, as for any command.
        return parse_answer(command, body).and_then(|object| parse_entries(&object, key, table));
    };
    match answer.success.as_ref().map(parse_bool) {
        Some(Some(true)) => answer.entries.unwrap_or_else(|| Ok(Vec::new())),
        Some(Some(false)) => Err(classify(
            command,
            answer.details.as_ref().unwrap_or(&Value::Null),
        )),
        _ => Err(ApiError::Protocol(format!(
            "the answer to {command} has no success flag: {}",
            shorten(body, 120)
        ))),
    }
}

/// The parts of a list answer that matter; everything else is skipped unread.
struct ListAnswer {
    success: Option<Value>,
    details: Option<Value>,
    /// `None` when the answer has no such key (an empty table).
    entries: Option<Result<Vec<Entry>, ApiError>>,
}

/// Reads the top-level object; `None` when the answer is JSON but not an object.
struct AnswerSeed<'a> {
    key: &'a str,
    table: &'a TableSchema,
}

impl<'de> DeserializeSeed<'de> for AnswerSeed<'_> {
    type Value = Option<ListAnswer>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AnswerSeed<'_> {
    type Value = Option<ListAnswer>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut answer = ListAnswer {
            success: None,
            details: None,
            entries: None,
        };
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            // A repeated key replaces the earlier value, as in a parsed `Value` object.
            match &*name {
                "success" => answer.success = Some(map.next_value()?),
                "details" => answer.details = Some(map.next_value()?),
                k if k == self.key => {
                    let seed = EntriesSeed {
                        key: self.key,
                        table: self.table,
                    };
                    answer.entries = Some(map.next_value_seed(seed)?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(answer))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Reads the value under the list key: an array of entries (or `null`, no entries). The
/// first bad element decides the error, as in [`parse_entries`]; the rest is still read so
/// that the JSON stays well-formed.
struct EntriesSeed<'a> {
    key: &'a str,
    table: &'a TableSchema,
}

impl EntriesSeed<'_> {
    fn not_a_list<E>(&self) -> Result<Result<Vec<Entry>, ApiError>, E> {
        Ok(Err(ApiError::Protocol(format!(
            "\"{}\" is not a list",
            self.key
        ))))
    }
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = Result<Vec<Entry>, ApiError>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = Result<Vec<Entry>, ApiError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let mut failure = None;
        // One element at a time: only this element exists as a `Value`.
        while let Some(item) = seq.next_element::<Value>()? {
            if failure.is_some() {
                continue;
            }
            let entry = match &item {
                Value::Object(object) => parse_entry(object, self.table),
                _ => Err(ApiError::Protocol(format!(
                    "an element of \"{}\" is not an object",
                    self.key
                ))),
            };
            match entry {
                Ok(entry) => entries.push(entry),
                Err(err) => failure = Some(err),
            }
        }
        Ok(match failure {
            Some(err) => Err(err),
            None => Ok(entries),
        })
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Ok(Vec::new()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.not_a_list()
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        self.not_a_list()
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        self.not_a_list()
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        self.not_a_list()
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        self.not_a_list()
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        self.not_a_list()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;
    use serde_json::json;

    fn clients() -> TableSchema {
        Schema::default_sandbox()
            .table("companies")
            .cloned()
            .expect("CLIENTS")
    }

    /// The streaming parse and the general path agree on every kind of answer.
    fn both(body: &str) -> (Result<Vec<Entry>, ApiError>, Result<Vec<Entry>, ApiError>) {
        let table = clients();
        let streamed = parse_list_answer("getcompanies", body, "companies", &table);
        let general = parse_answer("getcompanies", body)
            .and_then(|object| parse_entries(&object, "companies", &table));
        (streamed, general)
    }

    fn same(body: &str) {
        let (streamed, general) = both(body);
        assert_eq!(
            format!("{streamed:?}"),
            format!("{general:?}"),
            "answer: {body}"
        );
    }

    #[test]
    fn entries_parse_as_the_general_path_does() {
        let body = json!({"companies": [
            {"id": 1, "name": "Garry's", "org_type": "Lead", "org_people": "Unsupported"},
            {"id": "2", "org_name": "Acme", "name": "Acme", "x": 5, "y": null, "z": true}],
            "success": "true", "other": {"a": [1, 2]}})
        .to_string();
        let (streamed, _) = both(&body);
        let entries = streamed.expect("entries");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].text("org_name"), Some("Garry's"));
        assert_eq!(entries[1].id, "2");
        same(&body);
        same(&format!("\u{feff}{body}"));
    }

    #[test]
    fn failures_and_odd_answers_match_the_general_path() {
        for body in [
            r#"{"success":false,"details":"Invalid apikey!"}"#,
            r#"{"success":"false","details":[{"fieldCode":"a","errorMessage":"x"}]}"#,
            r#"{"companies":[]}"#,
            r#"{"success":true}"#,
            r#"{"success":true,"companies":null}"#,
            r#"{"success":true,"companies":"many"}"#,
            r#"{"success":true,"companies":{"a":1}}"#,
            r#"{"success":true,"companies":[1,{"id":2}]}"#,
            r#"{"success":true,"companies":[{"name":"no id"}]}"#,
            r#"[1,2]"#,
            r#""text""#,
            "<html>login</html>",
            r#"{"success":true,"companies":[] } trailing"#,
        ] {
            same(body);
        }
    }
}
