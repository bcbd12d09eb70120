//! The one test kit every integration test uses.
//!
//! - [`db`]: a fresh store per test on SQLite or PostgreSQL (`DAYAQ_TEST_DATABASE_URL`), the
//!   application served on a random local port, the `dayaq` binary, seed organisations,
//!   users and cases.
//! - [`api`]: API tokens and JSON calls with a bearer token; the screens through a
//!   cookie-keeping client (sign-in, second factor, CSRF field, forms).
//! - [`browser`]: the headless-Chromium harness (chromedriver with its retry, axe-core,
//!   screenshots), used by the `e2e*` tests.
//! - [`pdf`]: the text and the first page (PNG) of a printable document (poppler-utils).
//!
//! `db` and `api` are re-exported here (`use crate::kit::{spawn_app, api_call}`); the browser
//! harness is named by its module (`use crate::kit::browser::run`).

pub mod api;
pub mod browser;
pub mod db;
pub mod pdf;

pub use api::*;
pub use db::*;
pub use pdf::*;
