//! Differentially private tables for research releases (issue #16), with the OpenDP
//! library's Rust crate: no noise is sampled here. Pure computation, no I/O, no clock.
//!
//! - The unit of privacy is the person: each person contributes one record to a table (the
//!   record of the latest year of the period in which she/he is counted) and at most
//!   [`MAX_FORMS`] forms of exploitation to the forms table, so one person changes a table by
//!   at most its sensitivity (1, or [`MAX_FORMS`]).
//! - Each table's cells are the whole fixed domain (every year of the period × every value of
//!   the vocabulary, `NotRecorded` included), never only the cells the data fills: an absent
//!   cell would itself disclose.
//! - ε is split evenly over the tables (sequential composition); each table gets OpenDP's
//!   discrete Laplace mechanism (`make_laplace` over a vector of `i64` counts, L1 metric) with
//!   scale = sensitivity / ε-share, checked with the measurement's own privacy map.
//! - Counts after noise are clamped at 0 (post-processing, which costs no privacy); they are
//!   integers already.
//!
//! docs/RELEASES.md describes the tables and the figures.

use dayaq_domain::release::{
    AgeBroad, ReleaseError, ReleaseRecord, Standing, citizenship_group, country_values,
};
use dayaq_domain::statistics::PersonKey;
use dayaq_domain::vocab::{Gender, TypeOfExploitation};
use opendp::accuracy::discrete_laplacian_scale_to_accuracy;
use opendp::domains::{AtomDomain, VectorDomain};
use opendp::measurements::make_laplace;
use opendp::measures::MaxDivergence;
use opendp::metrics::L1Distance;
use std::collections::HashMap;

/// At most this many forms of exploitation of one person are counted in the forms table (in
/// the vocabulary's order): the table's sensitivity.
pub const MAX_FORMS: usize = 3;
/// The ε of a release of tables when the request names none.
pub const DEFAULT_EPSILON: f64 = 1.0;
/// The longest period a release of tables may cover, in years.
pub const MAX_YEARS: i32 = 50;
/// The value of a cell whose variable is not recorded.
pub const NOT_RECORDED: &str = "NotRecorded";

/// The standard tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, utoipa::ToSchema)]
pub enum StandardTable {
    /// year × `prs_Gender` × `ageBroad`
    YearSexAge,
    /// year × `vic_TypeOfExploitation`
    YearExploitation,
    /// year × `prs_Citizenship` (country or region)
    YearCitizenship,
    /// year × `vic_TraffickingStatus` (identified / presumed)
    YearStatus,
}

impl StandardTable {
    pub const ALL: &'static [StandardTable] = &[
        Self::YearSexAge,
        Self::YearExploitation,
        Self::YearCitizenship,
        Self::YearStatus,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::YearSexAge => "year_sex_age",
            Self::YearExploitation => "year_exploitation",
            Self::YearCitizenship => "year_citizenship",
            Self::YearStatus => "year_status",
        }
    }

    /// Parses a table name; the error names `variables`.
    pub fn parse(s: &str) -> Result<Self, ReleaseError> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| ReleaseError::UnknownVariable(s.chars().take(64).collect()))
    }

    /// The variables of the table, after the year.
    pub fn variables(self) -> &'static [&'static str] {
        match self {
            Self::YearSexAge => &["prs_Gender", "ageBroad"],
            Self::YearExploitation => &["vic_TypeOfExploitation"],
            Self::YearCitizenship => &["prs_Citizenship"],
            Self::YearStatus => &["vic_TraffickingStatus"],
        }
    }

    /// How much one person can change the table (L1).
    pub fn sensitivity(self) -> u32 {
        match self {
            Self::YearExploitation => MAX_FORMS as u32,
            _ => 1,
        }
    }

    /// The categories of one year, in a fixed order (each a value per variable).
    fn categories(self) -> Vec<Vec<&'static str>> {
        let with_nr = |xs: Vec<&'static str>| {
            let mut xs = xs;
            xs.push(NOT_RECORDED);
            xs
        };
        match self {
            Self::YearSexAge => {
                let sexes = with_nr(Gender::ALL.iter().map(|g| g.as_str()).collect());
                let ages = with_nr(AgeBroad::ALL.iter().map(|a| a.as_str()).collect());
                sexes
                    .iter()
                    .flat_map(|s| ages.iter().map(move |a| vec![*s, *a]))
                    .collect()
            }
            Self::YearExploitation => {
                with_nr(TypeOfExploitation::ALL.iter().map(|t| t.as_str()).collect())
                    .into_iter()
                    .map(|x| vec![x])
                    .collect()
            }
            Self::YearCitizenship => with_nr(country_values())
                .into_iter()
                .map(|x| vec![x])
                .collect(),
            Self::YearStatus => Standing::ALL.iter().map(|s| vec![s.as_str()]).collect(),
        }
    }

    /// The categories one record adds to (one, or up to [`MAX_FORMS`] forms).
    fn record_categories(self, r: &ReleaseRecord) -> Vec<Vec<&'static str>> {
        match self {
            Self::YearSexAge => vec![vec![
                r.sex.map_or(NOT_RECORDED, |g| g.as_str()),
                r.age
                    .and_then(AgeBroad::of)
                    .map_or(NOT_RECORDED, AgeBroad::as_str),
            ]],
            Self::YearExploitation if r.forms.is_empty() => vec![vec![NOT_RECORDED]],
            Self::YearExploitation => r
                .forms
                .iter()
                .take(MAX_FORMS)
                .map(|f| vec![f.as_str()])
                .collect(),
            Self::YearCitizenship => {
                vec![vec![
                    citizenship_group(&r.citizenship).unwrap_or(NOT_RECORDED),
                ]]
            }
            Self::YearStatus => vec![vec![r.standing.as_str()]],
        }
    }
}

/// A request for tables.
#[derive(Debug, Clone, PartialEq)]
pub struct DpParams {
    /// Total ε of the release, split evenly over `tables`.
    pub epsilon: f64,
    /// The first and last year of the period (the years of the tables' rows).
    pub years: (i32, i32),
    pub tables: Vec<StandardTable>,
}

impl DpParams {
    /// The default request: ε = [`DEFAULT_EPSILON`], every standard table.
    pub fn standard(years: (i32, i32)) -> Self {
        Self {
            epsilon: DEFAULT_EPSILON,
            years,
            tables: StandardTable::ALL.to_vec(),
        }
    }
}

/// One noisy cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpCell {
    pub year: i32,
    /// One value per variable of the table.
    pub values: Vec<&'static str>,
    pub count: i64,
}

/// One released table with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct DpTable {
    pub table: StandardTable,
    /// The mechanism, as the README prints it.
    pub mechanism: &'static str,
    pub epsilon: f64,
    /// Pure ε-DP: no δ.
    pub delta: Option<f64>,
    pub sensitivity: u32,
    pub scale: f64,
    /// E|noise| of one cell before clamping.
    pub expected_abs_error: f64,
    /// |noise| stays below this in 95 % of cells (OpenDP's accuracy bound, α = 0.05).
    pub accuracy_95: f64,
    pub cells: Vec<DpCell>,
}

/// The tables of one release.
#[derive(Debug, Clone, PartialEq)]
pub struct DpTables {
    pub epsilon: f64,
    pub years: (i32, i32),
    pub tables: Vec<DpTable>,
}

pub const MECHANISM: &str = "discrete Laplace (geometric), OpenDP make_laplace on i64 counts";

/// E|X| of the discrete Laplace distribution with this scale: 2q / (1 − q²), q = e^(−1/scale).
pub fn expected_abs_error(scale: f64) -> f64 {
    if scale <= 0.0 {
        return 0.0;
    }
    let q = (-1.0 / scale).exp();
    2.0 * q / (1.0 - q * q)
}

fn check(params: &DpParams) -> Result<(), ReleaseError> {
    if !params.epsilon.is_finite() || params.epsilon <= 0.0 {
        return Err(ReleaseError::Epsilon(
            "epsilon must be a positive number".into(),
        ));
    }
    if params.tables.is_empty() {
        return Err(ReleaseError::Variables("ask for at least one table".into()));
    }
    let mut seen = params.tables.clone();
    seen.sort();
    seen.dedup();
    if seen.len() != params.tables.len() {
        return Err(ReleaseError::Variables("a table is asked for twice".into()));
    }
    let (a, b) = params.years;
    if a > b || b - a >= MAX_YEARS {
        return Err(ReleaseError::Period(format!(
            "a release of tables covers 1 to {MAX_YEARS} whole years"
        )));
    }
    Ok(())
}

/// One record per person: the latest year of the period in which she/he is counted (so one
/// person adds to at most one record of each table).
fn one_per_person<'a>(
    records: impl IntoIterator<Item = &'a ReleaseRecord>,
    years: (i32, i32),
) -> Vec<&'a ReleaseRecord> {
    let mut latest: HashMap<&PersonKey, &ReleaseRecord> = HashMap::new();
    for r in records
        .into_iter()
        .filter(|r| (years.0..=years.1).contains(&r.year))
    {
        let e = latest.entry(&r.person).or_insert(r);
        if r.year > e.year {
            *e = r;
        }
    }
    latest.into_values().collect()
}

/// Where each (year, values) cell of a table is in its cell list.
type CellIndex = HashMap<(i32, Vec<&'static str>), usize>;

/// The exact counts of some standard tables, fed a page of records at a time (storage
/// streams a period's records by page of persons): memory holds the tables' cells, never
/// the records. Never released as such: [`dp_tables_from`] adds the noise.
#[derive(Debug, Clone)]
pub struct TableCounts {
    years: (i32, i32),
    tables: Vec<(StandardTable, Vec<DpCell>, CellIndex)>,
}

impl TableCounts {
    /// Every cell of `tables` over `years`, at zero.
    pub fn new(years: (i32, i32), tables: &[StandardTable]) -> Self {
        let tables = tables
            .iter()
            .map(|&table| {
                let cats = table.categories();
                let cells: Vec<DpCell> = (years.0..=years.1)
                    .flat_map(|year| {
                        cats.iter().map(move |c| DpCell {
                            year,
                            values: c.clone(),
                            count: 0,
                        })
                    })
                    .collect();
                let index = cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| ((c.year, c.values.clone()), i))
                    .collect();
                (table, cells, index)
            })
            .collect();
        Self { years, tables }
    }

    /// Counts a page of records. Every record of a person must come in the same page (the
    /// person's latest year in the period is the one counted).
    pub fn add_page<'a>(&mut self, records: impl IntoIterator<Item = &'a ReleaseRecord>) {
        for r in one_per_person(records, self.years) {
            for (table, cells, index) in &mut self.tables {
                for c in table.record_categories(r) {
                    if let Some(i) = index.get(&(r.year, c)) {
                        cells[*i].count += 1;
                    }
                }
            }
        }
    }

    /// The exact cells of `table`, in the order of its cells (empty if not counted).
    pub fn cells(&self, table: StandardTable) -> Vec<DpCell> {
        self.tables
            .iter()
            .find(|(t, _, _)| *t == table)
            .map(|(_, cells, _)| cells.clone())
            .unwrap_or_default()
    }
}

/// The exact counts of one table, in the order of its cells (for tests and the utility
/// figures; never released).
pub fn exact_counts(
    records: &[ReleaseRecord],
    years: (i32, i32),
    table: StandardTable,
) -> Vec<DpCell> {
    let mut counts = TableCounts::new(years, &[table]);
    counts.add_page(records);
    counts.cells(table)
}

fn mechanism_error(e: opendp::error::Error) -> ReleaseError {
    ReleaseError::Mechanism(format!("{:?}", e.variant))
}

/// The noisy tables of a release.
pub fn dp_tables(records: &[ReleaseRecord], params: &DpParams) -> Result<DpTables, ReleaseError> {
    check(params)?;
    let mut counts = TableCounts::new(params.years, &params.tables);
    counts.add_page(records);
    dp_tables_from(&counts, params)
}

/// The noisy tables of a release from its exact counts (which must count `params.tables`
/// over `params.years`).
pub fn dp_tables_from(counts: &TableCounts, params: &DpParams) -> Result<DpTables, ReleaseError> {
    check(params)?;
    if counts.years != params.years
        || params
            .tables
            .iter()
            .any(|t| !counts.tables.iter().any(|(x, _, _)| x == t))
    {
        return Err(ReleaseError::Variables(
            "the counts do not cover the tables asked for".into(),
        ));
    }
    let share = params.epsilon / params.tables.len() as f64;
    let mut tables = Vec::new();
    for &table in &params.tables {
        let sensitivity = table.sensitivity();
        let scale = f64::from(sensitivity) / share;
        let meas = make_laplace::<_, _, MaxDivergence>(
            VectorDomain::new(AtomDomain::<i64>::default()),
            L1Distance::<i64>::default(),
            scale,
            None,
        )
        .map_err(mechanism_error)?;
        // The library's own privacy map: the loss at this sensitivity must fit the share.
        let loss = meas.map(&i64::from(sensitivity)).map_err(mechanism_error)?;
        if loss > share * (1.0 + 1e-9) {
            return Err(ReleaseError::Mechanism(
                "privacy loss above the epsilon share".into(),
            ));
        }
        let mut cells = counts.cells(table);
        let exact: Vec<i64> = cells.iter().map(|c| c.count).collect();
        let noisy = meas.invoke(&exact).map_err(mechanism_error)?;
        for (c, n) in cells.iter_mut().zip(noisy) {
            c.count = n.max(0);
        }
        tables.push(DpTable {
            table,
            mechanism: MECHANISM,
            epsilon: share,
            delta: None,
            sensitivity,
            scale,
            expected_abs_error: expected_abs_error(scale),
            accuracy_95: discrete_laplacian_scale_to_accuracy(scale, 0.05)
                .map_err(mechanism_error)?,
            cells,
        });
    }
    Ok(DpTables {
        epsilon: params.epsilon,
        years: params.years,
        tables,
    })
}

/// The columns of the tables' CSV: the table, the year, every variable of any table, the
/// noisy count. A variable a table does not have is empty on its rows.
pub const CSV_COLUMNS: &[&str] = &[
    "table",
    "yearOfRegistration",
    "prs_Gender",
    "ageBroad",
    "vic_TypeOfExploitation",
    "prs_Citizenship",
    "vic_TraffickingStatus",
    "count",
];

impl DpTables {
    /// One CSV (UTF-8, comma, CRLF) with every table in long form. Every cell is a schema
    /// value name, a year or a number: nothing needs quoting, no cell can start a formula.
    pub fn to_csv(&self) -> String {
        let mut s = CSV_COLUMNS.join(",");
        s.push_str("\r\n");
        for t in &self.tables {
            let vars = t.table.variables();
            for c in &t.cells {
                let mut row = vec![t.table.as_str().to_string(), c.year.to_string()];
                for col in &CSV_COLUMNS[2..CSV_COLUMNS.len() - 1] {
                    let v = vars
                        .iter()
                        .position(|v| v == col)
                        .and_then(|i| c.values.get(i))
                        .copied()
                        .unwrap_or("");
                    row.push(v.to_string());
                }
                row.push(c.count.to_string());
                s.push_str(&row.join(","));
                s.push_str("\r\n");
            }
        }
        s
    }

    /// The method, per table, for the release's README (plain text).
    pub fn method(&self) -> String {
        let mut s = format!(
            "Differential privacy: total epsilon {} over {} table(s), split evenly (sequential composition); pure epsilon-DP (no delta).\n\
             Unit of privacy: the person (one record per person, the latest year counted in the period; at most {MAX_FORMS} forms of exploitation).\n\
             Counts after noise are clamped at 0 (post-processing).\n",
            self.epsilon,
            self.tables.len()
        );
        for t in &self.tables {
            s.push_str(&format!(
                "- {}: mechanism {}; epsilon {:.4}; sensitivity {}; scale {:.4}; expected absolute error {:.3}; 95% of cells within ±{:.1}\n",
                t.table.as_str(),
                t.mechanism,
                t.epsilon,
                t.sensitivity,
                t.scale,
                t.expected_abs_error,
                t.accuracy_95
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests;
