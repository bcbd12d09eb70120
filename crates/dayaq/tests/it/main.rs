//! The one integration-test binary of the workspace (`cargo nextest run --workspace`).
//!
//! Storage tests run on SQLite by default and on PostgreSQL when `DAYAQ_TEST_DATABASE_URL`
//! is set (see `kit::db`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod alerts;
mod api;
mod assistance;
mod audit_viewer;
mod authz_matrix;
mod bench_smoke;
mod checkin;
mod e2e;
mod e2e_assistance;
mod followup;
mod htcds;
mod identification;
mod kit;
mod query_count;
mod record;
mod referral_package;
mod referrals;
mod releases;
mod releases_gen;
mod retention;
mod rules;
mod security_accounts;
mod security_audit;
mod security_auth;
mod security_files;
mod security_needtoknow;
mod statistics;
mod statistics_gaps;
mod statistics_scorecard;
mod statistics_sdc;
mod statistics_speed;
mod storage;
mod subject_requests;
mod tokens;
mod webhooks;
