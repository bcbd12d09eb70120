//! Building blocks of the report's tables: a table of count columns, and a counter of rows
//! keyed by category.

use super::{Cell, Column, ColumnKind, Row, Table};
use std::collections::BTreeMap;

fn count_col(key: &'static str) -> Column {
    Column {
        key,
        kind: ColumnKind::Count,
    }
}

pub(super) fn table(id: &'static str, unit: &'static str, columns: &[&'static str]) -> Table {
    Table {
        id,
        unit,
        columns: columns.iter().map(|k| count_col(k)).collect(),
        rows: Vec::new(),
        not_recorded: None,
    }
}

/// Rows keyed by category with one counter per column; rows appear in `order`.
pub(super) struct Counter {
    order: Vec<String>,
    counts: BTreeMap<String, Vec<i64>>,
    width: usize,
}

impl Counter {
    pub(super) fn new(order: impl IntoIterator<Item = String>, width: usize) -> Self {
        let order: Vec<String> = order.into_iter().collect();
        let counts = order.iter().map(|k| (k.clone(), vec![0; width])).collect();
        Self {
            order,
            counts,
            width,
        }
    }
    pub(super) fn add(&mut self, row: &str, col: usize) {
        if !self.counts.contains_key(row) {
            self.order.push(row.to_string());
        }
        let width = self.width;
        let cells = self
            .counts
            .entry(row.to_string())
            .or_insert_with(|| vec![0; width]);
        if let Some(c) = cells.get_mut(col) {
            *c += 1;
        }
    }
    pub(super) fn into_rows(self) -> Vec<Row> {
        let Counter {
            order, mut counts, ..
        } = self;
        order
            .into_iter()
            .filter_map(|k| {
                counts.remove(&k).map(|cells| Row {
                    key: k,
                    cells: cells.into_iter().map(Cell::Value).collect(),
                })
            })
            .collect()
    }
}

pub(super) fn keys<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<String> {
    all.iter().map(|v| f(*v).to_string()).collect()
}
