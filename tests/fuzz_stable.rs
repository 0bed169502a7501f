//! The fuzz targets of `fuzz/` on the stable toolchain: the same target functions
//! (`fuzz/targets.rs`) fed by proptest with random bytes and with random sequences of the
//! tokens these formats are made of (quotes, delimiters, brackets, byte-order marks, invalid
//! UTF-8). Not coverage-guided like `cargo fuzz`, but it runs everywhere, in CI included.
//! `FUZZ_CASES=N` raises the number of cases per target (`scripts/reliability.sh fuzz`).

#[path = "../fuzz/targets.rs"]
mod targets;

use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

const TOKENS: &[&[u8]] = &[
    b",",
    b";",
    b"\t",
    b"|",
    b"\"",
    b"\"\"",
    b"\n",
    b"\r\n",
    b"\r",
    b"Name",
    b"Website",
    b"E-Mail",
    b"x",
    b"1",
    b"-0.5e3",
    b" ",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"\xff",
    b"\xc3\x28",
    b"\0",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\"Name\":",
    b"null",
    b"true",
    b"\"\\u0000\"",
    b"\"\\ud800\"",
    b"PK\x03\x04",
    b"\"success\":",
    b"\"companies\":",
    b"\"details\":",
    b"\"id\":",
    b"\"records\":{\"rows\":",
    b"Unsupported",
];

/// Random bytes, or a random sequence of format tokens.
fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        prop::collection::vec(prop::sample::select(TOKENS), 0..400)
            .prop_map(|tokens| tokens.concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn read_csv_never_panics(data in input()) {
        targets::read_csv(&data);
    }

    #[test]
    fn read_json_never_panics(data in input()) {
        targets::read_json(&data);
    }

    #[test]
    fn read_ndjson_never_panics(data in input()) {
        targets::read_ndjson(&data);
    }

    #[test]
    fn read_xlsx_never_panics(data in input()) {
        targets::read_xlsx(&data);
    }

    #[test]
    fn parse_answer_never_panics(data in input()) {
        targets::parse_answer(&data);
    }
}

/// Servlet answers shaped like the real ones, with random values in every slot.
fn answer() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| if n.is_finite() {
            n.to_string()
        } else {
            "1".into()
        }),
        ".{0,12}".prop_map(|s| serde_json::Value::String(s).to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("\"Unsupported\"".to_string()),
    ];
    let entry = prop::collection::vec(
        (
            prop::sample::select(vec!["id", "name", "org_name", "org_www", "nameEn", "x"]),
            value.clone(),
        ),
        0..6,
    )
    .prop_map(|pairs| {
        let fields: Vec<String> = pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", fields.join(","))
    });
    (
        prop::sample::select(vec!["true", "false", "\"true\"", "\"FALSE\"", "1", "null"]),
        prop::sample::select(vec!["companies", "contacts", "records", "details"]),
        prop::collection::vec(prop_oneof![entry, value], 0..5),
    )
        .prop_map(|(success, key, items)| {
            format!("{{\"success\":{success},\"{key}\":[{}]}}", items.join(","))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() * 4, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parse_answer_survives_answer_shaped_input(body in answer()) {
        targets::parse_answer(body.as_bytes());
    }
}
