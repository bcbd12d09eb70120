//! The storage kernel: the plumbing every area store shares, and nothing of any one area.
//!
//! - [`context`]: [`Ctx`] — who acts, from where, when (passed to every case operation);
//!   [`Acting`] — who performs an account administration (a user or `cli:<os user>`).
//! - [`access`]: the policy check. [`Store::authorize_case`](crate::Store::authorize_case)
//!   loads the case's facts once, asks `dayaq_domain::decide`, audits and maps a denial, and
//!   returns a [`CaseAccess`]. Further questions on the same request (a section, closing)
//!   are answered from the facts it carries (`CaseAccess::may`, `Store::require`), without
//!   reloading them.
//! - [`case_keys`]: the case key, opened only with a `&CaseAccess`.
//! - [`events`]: the case timeline row (`case_events`), written only with a `&CaseAccess`.
//! - [`tx`]: [`WriteTx`] and `Store::begin_write` (the SQLite write turn, key adoption, the
//!   audit seal on commit).
//! - [`rows`]: time and row helpers (`millis`, `from_millis`, `ts`, `uuid_of`, `unique_as`).
//! - [`write`]: [`CaseWrite`] — one change to a checked case: transaction, timeline event,
//!   audit row, commit (`Store::write_case`).
//!
//! Why the public `Store` methods still take `ctx` and a case id rather than a `CaseAccess`:
//! authorisation lives behind the storage boundary, so no handler can reach case data without
//! it, whatever the handler does. Inside the crate, `CaseAccess` makes "checked once" a fact
//! of the types: it has private fields and no public constructor (only this module builds
//! one, after `decide` allowed), and every private helper that reads or writes case data
//! (`case_key`, `case_event`, `write_status` …) takes `&CaseAccess`. A public case-scoped
//! method therefore authorises exactly once and passes the value down; the test
//! `query_count` (crates/dayaq/tests/it/query_count.rs) counts the fact loads
//! (`Store::case_facts_loads`).
//!
//! Dependencies: the kernel uses `audit`, `crypto` and `keys`, never an area module; the
//! area modules use the kernel (checked by `tests::no_import_cycles_between_modules`).

pub mod access;
pub mod case_keys;
pub mod context;
pub mod events;
pub mod rows;
pub mod tx;
pub mod write;

pub use access::CaseAccess;
pub use context::{Acting, Ctx};
pub use rows::{from_millis, millis};
pub(crate) use rows::{one_row, ts, unique_as, uuid_of};
pub(crate) use tx::WriteTx;
pub(crate) use write::CaseWrite;
