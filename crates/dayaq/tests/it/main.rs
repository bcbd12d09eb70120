//! The one integration-test binary of the workspace (`cargo nextest run --workspace`).
//!
//! Storage tests run on SQLite by default and on PostgreSQL when `DAYAQ_TEST_DATABASE_URL`
//! is set (see `kit::db`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod alerts;
mod api;
mod assistance;
mod attachments;
mod audit_viewer;
mod authz_matrix;
mod bench_smoke;
mod caseload;
mod checkin;
mod documents_pdf;
mod e2e;
mod e2e_assistance;
mod e2e_forms;
mod e2e_phone;
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
mod sso;
mod statistics;
mod statistics_gaps;
mod statistics_scorecard;
mod statistics_sdc;
mod statistics_speed;
mod storage;
mod subject_requests;
// Issue #23 §2/§4: human error pages, the session that ended, time zones (w5-session).
mod e2e_session;
mod human_pages;
// issue #23 §8–§10 (w5-receiver)
mod receiver;
mod tokens;
mod webhooks;
// Issue 22 §2: passkeys and recovery codes (w6-passkey).
mod e2e_passkeys;
mod passkeys;
