//! Dayaq domain: the vocabulary (HTCDS value names), validated inputs, rules and the
//! access policy. This crate performs no I/O and never reads the clock: time is passed in.

pub mod assistance;
pub mod attachments;
pub mod audit_view;
pub mod case;
pub mod error;
pub mod followup;
pub mod identification;
pub mod oversight;
pub mod package;
pub mod policy;
pub mod progress;
pub mod record;
pub mod referral;
pub mod release;
pub mod retention;
pub mod role;
pub mod rules;
pub mod sso;
pub mod statistics;
pub mod stats;
pub mod subject_request;
pub mod tokens;
pub mod vocab;
pub mod webhooks;
pub mod zone;

pub use error::{FieldError, ValidationErrors};
pub use policy::{Action, Actor, CaseFacts, Decision, Resource, TargetUser, decide};
pub use role::Role;
