//! National statistics (issue #15): the SQL that reads the records the domain's counting rules
//! need (`national`), and the CSV/XLSX files of a report (`export`). Counting and disclosure
//! control live in `dayaq_domain::statistics`; this area only reads, authorises and audits.
//! `gaps` is the assistance-gap view (part 2): its SQL and its files.

pub mod export;
pub mod gaps;
mod maintained;
mod national;
mod scorecard;

pub use crate::aggregates::RebuildInfo;
pub use national::{NationalReportAccess, NationalReportOut};
pub use scorecard::{ScorecardAccess, scorecard_csv, scorecard_xlsx};
