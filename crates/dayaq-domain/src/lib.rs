//! Dayaq domain: the vocabulary (HTCDS value names), validated inputs, rules and the
//! access policy. This crate performs no I/O and never reads the clock: time is passed in.

pub mod assistance;
pub mod case;
pub mod error;
pub mod followup;
pub mod identification;
pub mod package;
pub mod policy;
pub mod record;
pub mod referral;
pub mod release;
pub mod role;
pub mod statistics;
pub mod stats;
pub mod vocab;

pub use error::{FieldError, ValidationErrors};
pub use policy::{Action, Actor, CaseFacts, Decision, Resource, TargetUser, decide};
pub use role::Role;
