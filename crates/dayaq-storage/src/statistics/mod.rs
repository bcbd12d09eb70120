//! National statistics (issue #15): the SQL that reads the records the domain's counting rules
//! need (`national`), and the CSV/XLSX files of a report (`export`). Counting and disclosure
//! control live in `dayaq_domain::statistics`; this area only reads, authorises and audits.

pub mod export;
mod maintained;
mod national;

pub use crate::aggregates::RebuildInfo;
pub use national::{NationalReportAccess, NationalReportOut};
