//! The request context: who acts, from where, when.

use crate::audit::AuditEntry;
use dayaq_domain::policy::Actor;

/// Who acts, from where, when. Passed to every case operation.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub actor: &'a Actor,
    pub source: &'a str,
    pub now: time::OffsetDateTime,
}

impl Ctx<'_> {
    pub(crate) fn entry(
        &self,
        action: &'static str,
        outcome: &'static str,
        case_id: &str,
    ) -> AuditEntry {
        AuditEntry {
            actor_user: self.actor.user_id.to_string(),
            actor_org: self.actor.org_id.to_string(),
            action,
            outcome,
            case_id: case_id.to_string(),
            source: self.source.to_string(),
            detail: String::new(),
            grant: "",
        }
    }

    /// [`Ctx::entry`] with its detail (codes and ids only, never personal data).
    pub(crate) fn entry_with(
        &self,
        action: &'static str,
        outcome: &'static str,
        case_id: &str,
        detail: String,
    ) -> AuditEntry {
        AuditEntry {
            detail,
            ..self.entry(action, outcome, case_id)
        }
    }
}

/// Who performs an administrative action, as recorded in the audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    /// A user id, or `cli:<os user>` for the command line.
    pub user: String,
    /// The acting user's organisation id (empty for the CLI).
    pub org: String,
    /// Client address, or `cli`.
    pub source: String,
}

impl Acting {
    pub fn user(actor: &Actor, source: &str) -> Acting {
        Acting {
            user: actor.user_id.to_string(),
            org: actor.org_id.to_string(),
            source: source.to_string(),
        }
    }

    /// The operator of the command line: `cli:<os user>` (from `USER` / `LOGNAME`).
    pub fn cli() -> Acting {
        let os_user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".into());
        let os_user: String = os_user
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
            .take(64)
            .collect();
        Acting {
            user: format!("cli:{os_user}"),
            org: String::new(),
            source: "cli".into(),
        }
    }

    pub(crate) fn entry(&self, action: &'static str, outcome: &'static str) -> AuditEntry {
        let mut e = AuditEntry::new(action, outcome);
        e.actor_user = self.user.clone();
        e.actor_org = self.org.clone();
        e.source = self.source.clone();
        e
    }
}
