//! transactionslist rows as TRANSACTIONS records.
//!
//! transactionslist answers with `cell` arrays, not attribute codes. Their order is fixed by
//! docs/api-notes.md: issue key, company name, product, type label, date, sum, plan/fact
//! label. Each position is mapped to the TRANSACTIONS attribute with the sandbox's code for
//! it (`tran_issue`, ...) when the table has that code, else to the attribute at the same
//! position in form order. This module maps; it does not fetch.

use crate::client::TransactionRow;
use crate::schema::TableSchema;

use super::values::RawValue;
use super::Record;

/// The attribute codes of the `cell` positions, in order.
pub const CELL_CODES: [&str; 7] = [
    "tran_issue",
    "tran_company",
    "tran_product",
    "tran_type",
    "tran_date",
    "tran_sum",
    "tran_plan_fact",
];

/// Which attribute code each `cell` position holds, for one instance's TRANSACTIONS table.
#[derive(Debug, Clone)]
pub struct CellMap {
    codes: Vec<String>,
}

impl CellMap {
    pub fn new(table: &TableSchema) -> CellMap {
        let codes = CELL_CODES
            .iter()
            .enumerate()
            .filter_map(|(i, code)| match table.attribute(code) {
                Some(a) => Some(a.code.clone()),
                None => table.attributes.get(i).map(|a| a.code.clone()),
            })
            .collect();
        CellMap { codes }
    }

    fn position(&self, code: &str) -> Option<usize> {
        self.codes.iter().position(|c| c == code)
    }
}

/// One transaction: its id and `cell` values, read through a [`CellMap`].
#[derive(Debug, Clone, Copy)]
pub struct TransactionRecord<'a> {
    pub id: &'a str,
    /// The `cell` values in transactionslist order ([`CELL_CODES`]).
    pub cells: [&'a str; 7],
    pub map: &'a CellMap,
}

impl<'a> TransactionRecord<'a> {
    pub fn new(row: &'a TransactionRow, map: &'a CellMap) -> TransactionRecord<'a> {
        let cells = [
            row.issue_key.as_str(),
            row.company_name.as_str(),
            row.product.as_str(),
            row.kind.as_str(),
            row.date.as_str(),
            row.sum.as_str(),
            row.plan_fact.as_str(),
        ];
        TransactionRecord {
            id: &row.id,
            cells,
            map,
        }
    }
}

impl Record for TransactionRecord<'_> {
    fn id(&self) -> &str {
        self.id
    }

    fn value(&self, code: &str) -> RawValue<'_> {
        let text = self
            .map
            .position(code)
            .and_then(|i| self.cells.get(i))
            .copied()
            .unwrap_or("");
        if text == "Unsupported" {
            RawValue::Unknown
        } else {
            RawValue::Text(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::columns::{Columns, ColumnsOptions};
    use crate::export::values::{Normaliser, ValueOptions};
    use crate::schema::Schema;

    #[test]
    fn cells_map_to_attributes_and_values_normalise() {
        let table = Schema::default_sandbox()
            .table("transactions")
            .expect("table")
            .clone();
        let map = CellMap::new(&table);
        let row = TransactionRow {
            id: "5".into(),
            company_id: "1".into(),
            company_name: "Acme, Inc.".into(),
            issue_key: "CRM-1".into(),
            product: "Widget".into(),
            kind: "Income".into(),
            date: "2/Jan/20".into(),
            sum: "21,000".into(),
            plan_fact: "Fact".into(),
            direction: "debet".into(),
        };
        let record = TransactionRecord::new(&row, &map);
        let columns = Columns::resolve(&table, &ColumnsOptions::default()).expect("columns");
        assert_eq!(
            columns.headers(),
            vec![
                "Issue",
                "Company",
                "Product",
                "Type",
                "Date",
                "Sum",
                "Plan/Fact"
            ]
        );
        let mut n = Normaliser::new(ValueOptions {
            date_format: "%e/%b/%y".into(),
            excel_safe: false,
        });
        let mut row = Vec::new();
        n.row(&record, &columns, &mut row);
        assert_eq!(
            row,
            vec![
                "CRM-1",
                "Acme, Inc.",
                "Widget",
                "Income",
                "2020-01-02",
                "21000",
                "Fact"
            ]
        );
        assert!(n.warnings().is_empty());
    }

    #[test]
    fn other_codes_map_by_form_position() {
        let mut table = Schema::default_sandbox()
            .table("transactions")
            .expect("table")
            .clone();
        table.attributes[1].code = "transactions_field_x".into();
        let map = CellMap::new(&table);
        let cells = ["CRM-1", "Acme", "", "", "", "Unsupported", ""];
        let record = TransactionRecord {
            id: "5",
            cells,
            map: &map,
        };
        assert_eq!(record.value("transactions_field_x"), RawValue::Text("Acme"));
        assert_eq!(
            record.value("tran_company"),
            RawValue::Text(""),
            "no such code"
        );
        assert_eq!(record.value("tran_sum"), RawValue::Unknown);
    }
}
