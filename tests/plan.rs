//! Planning: modes, key matching, delta, refusals and in-file duplicates.

use std::sync::Arc;

use crm_bulk::map::{MapInput, MapOptions, Mapping};
use crm_bulk::plan::{
    Action, EmptyPolicy, ExistingEntry, Mode, PlanError, PlanOptions, PlanStatus, Planner, Refusal,
    RowPlan,
};
use crm_bulk::read::Record;
use crm_bulk::schema::Schema;
use crm_bulk::validate::{NameIndex, NewOption, ValidateOptions, Validator};

const WEBSITE: &str = "org_www";
const TYPE: &str = "org_type";
const ERP: &str = "clients_field_5b0e7a52-8f3c-4d21-9a6e-0c9d1e2f3a4b";

fn planner_with(
    table: &str,
    headers: &[&str],
    existing: Vec<ExistingEntry>,
    plan: PlanOptions,
    validate: ValidateOptions,
) -> Result<Planner, PlanError> {
    let schema = Schema::default_sandbox();
    let table = schema.table(table).unwrap();
    let headers: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
    let options = MapOptions::default();
    let input = MapInput {
        file: "data.csv",
        headers: &headers,
        table,
        map_file: None,
        options: &options,
    };
    let mapping = Mapping::build(input).unwrap();
    let validator = Validator::new(&schema, &mapping, &validate).unwrap();
    Planner::new(validator, existing, &plan)
}

fn planner(
    headers: &[&str],
    existing: Vec<ExistingEntry>,
    mode: Mode,
    empty: EmptyPolicy,
) -> Planner {
    let options = PlanOptions {
        mode,
        key: None,
        empty,
    };
    planner_with(
        "companies",
        headers,
        existing,
        options,
        ValidateOptions::default(),
    )
    .unwrap()
}

fn entry(id: &str, values: &[(&str, &str)]) -> ExistingEntry {
    let mut e = ExistingEntry {
        id: id.into(),
        ..Default::default()
    };
    for (code, value) in values {
        e.values.insert(code.to_string(), Some(value.to_string()));
    }
    e
}

fn acme() -> ExistingEntry {
    entry(
        "17",
        &[
            ("org_name", "Acme"),
            (WEBSITE, "acme.com"),
            (TYPE, "Lead"),
            (ERP, "E-1"),
        ],
    )
}

fn record(row: u64, cells: &[&str]) -> Record {
    Record {
        row,
        values: cells.iter().map(|s| s.to_string()).collect(),
    }
}

fn plan(p: &mut Planner, row: u64, cells: &[&str]) -> RowPlan {
    p.plan(record(row, cells))
}

#[test]
fn insert_creates_new_keys_and_refuses_existing_ones() {
    let mut p = planner(
        &["Name", "Website"],
        vec![acme()],
        Mode::Insert,
        EmptyPolicy::Keep,
    );
    let new = plan(&mut p, 2, &["Globex", "globex.com"]);
    assert_eq!(new.action, Action::Create);
    assert_eq!(new.describe(), "would create");
    assert_eq!(
        new.create_pairs(),
        [
            ("org_name".into(), "Globex".into()),
            (WEBSITE.into(), "globex.com".into())
        ]
    );
    assert_eq!(new.key.as_deref(), Some("Globex"));
    // Keys match trimmed and ignoring case, as the CRM's uniqueness does.
    let old = plan(&mut p, 3, &["  ACME ", "acme.com"]);
    assert_eq!(
        old.action,
        Action::Refused(Refusal::AlreadyExists { id: "17".into() })
    );
    assert!(old.describe().starts_with("already exists (id 17)"));
    assert_eq!(old.action.status(), PlanStatus::Refused);
}

#[test]
fn update_sends_only_changed_attributes_and_skips_unchanged_rows() {
    let mut p = planner(
        &["Name", "Website", "Type"],
        vec![acme()],
        Mode::Update,
        EmptyPolicy::Keep,
    );
    let unchanged = plan(&mut p, 2, &["acme", "acme.com", "1"]);
    assert_eq!(unchanged.action, Action::Unchanged { id: "17".into() });
    assert_eq!(unchanged.describe(), "unchanged");

    let mut p = planner(
        &["Name", "Website", "Type"],
        vec![acme()],
        Mode::Update,
        EmptyPolicy::Keep,
    );
    let changed = plan(&mut p, 2, &["Acme", "acme.org", "Customer"]);
    let Action::Update { id, changes } = &changed.action else {
        panic!("{:?}", changed.action)
    };
    assert_eq!(id, "17");
    let sent: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c.code.as_str(), c.wire.as_str()))
        .collect();
    assert_eq!(sent, [(WEBSITE, "acme.org"), (TYPE, "2")]);
    assert_eq!(changes[1].before.as_deref(), Some("Lead"));
    assert_eq!(changes[1].after, "Customer");
    assert_eq!(changed.describe(), "would update: Website, Type");

    let missing = plan(&mut p, 3, &["Initech", "", ""]);
    assert_eq!(missing.action, Action::Refused(Refusal::NotFound));
}

#[test]
fn upsert_creates_or_updates() {
    let mut p = planner(
        &["Name", "Website"],
        vec![acme()],
        Mode::Upsert,
        EmptyPolicy::Keep,
    );
    assert_eq!(
        plan(&mut p, 2, &["Globex", ""]).action.status(),
        PlanStatus::Create
    );
    assert_eq!(
        plan(&mut p, 3, &["Acme", "new.acme.com"]).action.status(),
        PlanStatus::Update
    );
}

#[test]
fn empty_cells_keep_or_clear_stored_values() {
    let mut keep = planner(
        &["Name", "Website"],
        vec![acme()],
        Mode::Update,
        EmptyPolicy::Keep,
    );
    assert_eq!(
        plan(&mut keep, 2, &["Acme", ""]).action,
        Action::Unchanged { id: "17".into() }
    );
    let mut clear = planner(
        &["Name", "Website"],
        vec![acme()],
        Mode::Update,
        EmptyPolicy::Clear,
    );
    let Action::Update { changes, .. } = plan(&mut clear, 2, &["Acme", ""]).action else {
        panic!()
    };
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (changes[0].code.as_str(), changes[0].wire.as_str()),
        (WEBSITE, "")
    );
}

#[test]
fn clearing_a_required_attribute_is_invalid() {
    let contact = entry(
        "5",
        &[
            ("contact_name", "Kelly"),
            ("contact_company", "Acme"),
            ("contact_email", "k@x.com"),
        ],
    );
    let options = PlanOptions {
        mode: Mode::Update,
        key: Some("E-Mail".into()),
        empty: EmptyPolicy::Clear,
    };
    let mut p = planner_with(
        "contacts",
        &["E-Mail", "Company"],
        vec![contact],
        options,
        ValidateOptions::default(),
    )
    .unwrap();
    let row = plan(&mut p, 2, &["k@x.com", ""]);
    let Action::Invalid(problems) = &row.action else {
        panic!("{:?}", row.action)
    };
    assert!(
        problems[0].message.contains("cannot be cleared"),
        "{problems:?}"
    );
}

#[test]
fn a_key_twice_in_one_file_makes_the_second_row_invalid() {
    let mut p = planner(&["Name"], vec![], Mode::Upsert, EmptyPolicy::Keep);
    assert_eq!(plan(&mut p, 2, &["Globex"]).action, Action::Create);
    let again = plan(&mut p, 3, &[" globex"]);
    let Action::Invalid(problems) = &again.action else {
        panic!("{:?}", again.action)
    };
    assert_eq!(
        problems.len(),
        1,
        "reported once, not also as a unique-value duplicate"
    );
    assert_eq!(
        problems[0].to_string(),
        "data.csv: row 3, column \"Name\": \"globex\" has the same key as row 2: a run writes each key once"
    );
}

#[test]
fn any_attribute_can_be_the_key() {
    let options = PlanOptions {
        mode: Mode::Upsert,
        key: Some("erp id".into()),
        empty: EmptyPolicy::Keep,
    };
    let mut p = planner_with(
        "companies",
        &["ERP ID", "Name"],
        vec![acme()],
        options,
        ValidateOptions::default(),
    )
    .unwrap();
    assert!(p.warnings().is_empty(), "ERP ID is unique");
    // Renaming the company through its ERP ID.
    let Action::Update { id, changes } = plan(&mut p, 2, &["e-1", "Acme Corp"]).action else {
        panic!()
    };
    assert_eq!(id, "17");
    assert_eq!(
        changes.len(),
        1,
        "a key differing only in case is not rewritten: {changes:?}"
    );
    assert_eq!(changes[0].after, "Acme Corp");
    // A new ERP ID whose name is taken by another entry is invalid, not a duplicate create.
    let Action::Invalid(problems) = plan(&mut p, 3, &["E-2", "acme"]).action else {
        panic!()
    };
    assert!(
        problems[0].message.contains("already used by entry 17"),
        "{problems:?}"
    );
}

#[test]
fn a_key_that_is_not_unique_warns_and_ambiguous_matches_are_refused() {
    let a = entry(
        "1",
        &[
            ("org_name", "A"),
            (
                "clients_field_d1facd51-01e0-4a68-a4f3-4aa3641a590e",
                "Sales",
            ),
        ],
    );
    let b = entry(
        "2",
        &[
            ("org_name", "B"),
            (
                "clients_field_d1facd51-01e0-4a68-a4f3-4aa3641a590e",
                "sales",
            ),
        ],
    );
    let options = PlanOptions {
        mode: Mode::Update,
        key: Some("Department".into()),
        empty: EmptyPolicy::Keep,
    };
    let mut p = planner_with(
        "companies",
        &["Department", "Website"],
        vec![a, b],
        options,
        ValidateOptions::default(),
    )
    .unwrap();
    assert_eq!(p.warnings().len(), 1);
    assert!(p.warnings()[0].contains("Department is not unique"));
    let row = plan(&mut p, 2, &["Sales", "x.com"]);
    assert_eq!(
        row.action,
        Action::Refused(Refusal::Ambiguous {
            ids: vec!["1".into(), "2".into()]
        })
    );
}

#[test]
fn plan_errors_for_missing_keys_and_required_columns() {
    let update = PlanOptions {
        mode: Mode::Update,
        ..Default::default()
    };
    let err = planner_with(
        "companies",
        &["Website"],
        vec![],
        update.clone(),
        ValidateOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, PlanError::KeyNotInFile { ref key, .. } if key == "Name"),
        "{err}"
    );
    let err = planner_with(
        "transactions",
        &["Sum"],
        vec![],
        update,
        ValidateOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::NoKey { .. }), "{err}");
    let insert = PlanOptions::default();
    let err = planner_with(
        "contacts",
        &["Full Name"],
        vec![],
        insert,
        ValidateOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "data.csv: the file has no column for Company, required to create entries (add the column, a constant in a --map file, or use --mode update)"
    );
    let keyed = PlanOptions {
        key: Some("Nope".into()),
        ..Default::default()
    };
    assert!(planner_with(
        "companies",
        &["Name"],
        vec![],
        keyed,
        ValidateOptions::default()
    )
    .is_err());
}

#[test]
fn upsert_rows_need_a_key_value() {
    let mut p = planner(
        &["Name", "Website"],
        vec![],
        Mode::Upsert,
        EmptyPolicy::Keep,
    );
    let Action::Invalid(problems) = plan(&mut p, 2, &["", "x.com"]).action else {
        panic!()
    };
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("rows are matched by Name")),
        "{problems:?}"
    );
}

#[test]
fn references_compare_by_name_and_unknown_stored_values_are_sent() {
    let companies = Arc::new(NameIndex::new([("1".to_string(), "Acme Inc".to_string())]));
    let validate = ValidateOptions {
        companies: Some(companies),
        ..Default::default()
    };
    let mut stored = entry(
        "9",
        &[("contact_name", "Kelly"), ("contact_company", "Acme Inc")],
    );
    stored.values.insert(
        "contacts_field_2a7753d6-2179-42ff-95f2-ecd2dd90ed13".into(),
        None,
    );
    let options = PlanOptions {
        mode: Mode::Upsert,
        ..Default::default()
    };
    let mut p = planner_with(
        "contacts",
        &["Full Name", "Company"],
        vec![stored.clone()],
        options.clone(),
        validate.clone(),
    )
    .unwrap();
    assert_eq!(
        plan(&mut p, 2, &["Kelly", "(1)"]).action,
        Action::Unchanged { id: "9".into() }
    );

    let mut p = planner_with(
        "contacts",
        &["Full Name", "Company", "Phone"],
        vec![stored],
        options,
        validate,
    )
    .unwrap();
    let Action::Update { changes, .. } =
        plan(&mut p, 2, &["Kelly", "acme inc", "+1 555 0100"]).action
    else {
        panic!()
    };
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].before, None);
}

#[test]
fn values_compare_by_type() {
    let schema = Schema::default_sandbox();
    let clients = schema.table("companies").unwrap();
    let code = |name: &str| clients.find(name).unwrap().code.clone();
    let mut stored = entry("17", &[("org_name", "Acme")]);
    for (name, value) in [
        ("Employees", "1200.0"),
        ("Founded", "7/May/20"),
        ("Key account", "true"),
        ("E-Mail", "A@X.com"),
    ] {
        stored.values.insert(code(name), Some(value.into()));
    }
    let headers = ["Name", "Employees", "Founded", "Key account", "E-Mail"];
    let mut p = planner(&headers, vec![stored], Mode::Update, EmptyPolicy::Keep);
    let row = plan(&mut p, 2, &["Acme", "1200", "2020-05-07", "yes", "a@x.com"]);
    assert_eq!(row.action, Action::Unchanged { id: "17".into() });
}

#[test]
fn new_dictionary_values_come_from_rows_that_will_be_written() {
    let validate = ValidateOptions {
        create_missing_options: true,
        ..Default::default()
    };
    let options = PlanOptions {
        mode: Mode::Insert,
        ..Default::default()
    };
    let mut p = planner_with(
        "companies",
        &["Name", "Industry", "E-Mail"],
        vec![],
        options,
        validate,
    )
    .unwrap();
    plan(&mut p, 2, &["A", "Mining", ""]);
    plan(&mut p, 3, &["B", "mining", ""]);
    plan(&mut p, 4, &["C", "Fishing", "not-an-email"]);
    assert_eq!(
        p.new_options(),
        [NewOption {
            dictionary: "Industries".into(),
            label: "Mining".into()
        }]
    );
}

#[test]
fn chunks_are_planned_in_input_order_with_duplicates_found_across_threads() {
    let mut p = planner(
        &["Name", "Website"],
        vec![],
        Mode::Upsert,
        EmptyPolicy::Keep,
    );
    let mut records: Vec<Record> = (0..5000)
        .map(|i| record(i + 2, &[&format!("Company {i}"), "x.com"]))
        .collect();
    records.push(record(5002, &["company 42", ""]));
    let plans = p.plan_chunk(records);
    assert_eq!(plans.len(), 5001);
    assert!(plans
        .iter()
        .enumerate()
        .all(|(i, plan)| plan.row() == i as u64 + 2));
    assert!(plans[..5000]
        .iter()
        .all(|plan| plan.action == Action::Create));
    let Action::Invalid(problems) = &plans[5000].action else {
        panic!()
    };
    assert!(problems[0].message.contains("same key as row 44"));
}

#[test]
fn a_chunk_gets_the_same_plans_as_its_rows_one_by_one() {
    // Mixed rows over several pipeline batches: updates, unchanged rows, invalid cells,
    // in-file duplicates far apart, options by label and by id.
    let headers = ["Name", "Website", "Type", "ERP ID"];
    let existing = || vec![acme(), entry("18", &[("org_name", "Globex")])];
    let new = || planner(&headers, existing(), Mode::Upsert, EmptyPolicy::Clear);
    let types = ["Lead", "customer", "2", "Nonsense", ""];
    let rows: Vec<Vec<String>> = (0..7000u64)
        .map(|i| {
            let name = match i % 1000 {
                7 => "acme".to_string(),
                8 => " Globex ".to_string(),
                9 => format!("Company {}", i / 3),
                _ => format!("Company {i}"),
            };
            let site = if i % 11 == 0 { "not a url" } else { "acme.com" };
            let erp = if i % 13 == 0 {
                String::new()
            } else {
                format!("E-{i}")
            };
            vec![name, site.into(), types[(i % 5) as usize].into(), erp]
        })
        .collect();
    let records = || -> Vec<Record> {
        rows.iter()
            .enumerate()
            .map(|(i, cells)| Record {
                row: i as u64 + 2,
                values: cells.clone(),
            })
            .collect()
    };
    let mut one_by_one = new();
    let expected: Vec<(Option<String>, Action)> = records()
        .into_iter()
        .map(|r| {
            let plan = one_by_one.plan(r);
            (plan.key.clone(), plan.action)
        })
        .collect();
    let mut chunked = new();
    let got: Vec<(Option<String>, Action)> = chunked
        .plan_chunk(records())
        .into_iter()
        .map(|plan| (plan.key.clone(), plan.action))
        .collect();
    assert!(expected
        .iter()
        .any(|(_, a)| matches!(a, Action::Invalid(_))));
    assert!(expected
        .iter()
        .any(|(_, a)| matches!(a, Action::Update { .. })));
    assert_eq!(got, expected);
}
