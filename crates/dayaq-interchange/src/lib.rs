//! Dayaq file formats, pure: no file I/O, no database, no async runtime.
//!
//! - [`tabular`]: the one reader of CSV and XLSX files (with the bounds that keep a hostile
//!   spreadsheet from exhausting memory) and the one writer (CSV formula-guarded, XLSX typed
//!   cells). Every import and export goes through it.
//! - [`htcds`]: the HTCDS column mapping, parsing and validation of an import file into
//!   `ValidCase`s with row- and column-named problems, and the cells of an export.
//! - [`questionnaire`]: the follow-up questionnaire file (a survey round): reading and checking
//!   it, writing the individual answers and the summary.
//!
//! - [`charts`]: the national report's charts as accessible SVG (plotters, SVG backend only).
//! - [`documents`]: printable documents (layout model → PDF with krilla, vendored DejaVu Sans):
//!   the national report, referral letter, rehabilitation plan, consent form, her copy.
//!
//! Storage (`dayaq-storage`) calls these with bytes it was given or cases it read; it keeps
//! only the SQL, the encryption and the audit.

pub mod charts;
pub mod documents;
pub mod htcds;
pub mod questionnaire;
pub mod scorecard;
pub mod statistics;
pub mod subject_access;
pub mod tabular;
