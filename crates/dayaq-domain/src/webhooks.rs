//! Webhooks (issue 22 §4), the pure part: event types, the payload (ids and the event type
//! only — never personal data), endpoint validation (https, or http on loopback only) and the
//! retry schedule (exponential backoff with a cap).

use crate::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use uuid::Uuid;

/// What happened. Emitted in the transaction of the change itself (storage's outbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum EventType {
    /// A referral addressed to the organisation arrived (sent to the receiver).
    #[serde(rename = "referral.received")]
    ReferralReceived,
    /// The receiver accepted or declined a referral (sent to the sender).
    #[serde(rename = "referral.answered")]
    ReferralAnswered,
    /// A formal identification decision on a case (sent to the case's owner).
    #[serde(rename = "decision.made")]
    DecisionMade,
    /// The survivor answered a self check-in (sent to the case's owner).
    #[serde(rename = "checkin.answered")]
    CheckinAnswered,
}

impl EventType {
    pub const ALL: &'static [EventType] = &[
        EventType::ReferralReceived,
        EventType::ReferralAnswered,
        EventType::DecisionMade,
        EventType::CheckinAnswered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ReferralReceived => "referral.received",
            EventType::ReferralAnswered => "referral.answered",
            EventType::DecisionMade => "decision.made",
            EventType::CheckinAnswered => "checkin.answered",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.iter().copied().find(|e| e.as_str() == s)
    }
}

/// The ids an event points at. Only UUIDs: the type cannot carry text, so a payload cannot
/// carry a name, an address or a note. The receiver fetches details with its own token,
/// under the same policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventSubject {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub case_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub referral_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub decision_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub checkin_id: Option<Uuid>,
}

/// The body of a delivery (Standard Webhooks' recommended shape: `type`, `timestamp`, `data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventPayload {
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the change happened (RFC 3339, UTC).
    pub timestamp: String,
    pub data: EventSubject,
}

impl EventPayload {
    /// The payload of `event` about `subject` at `at`, as the JSON text that is signed and sent.
    pub fn json(event: EventType, subject: &EventSubject, at: time::OffsetDateTime) -> String {
        let timestamp = at
            .to_offset(time::UtcOffset::UTC)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let p = EventPayload {
            event_type: event,
            timestamp,
            data: subject.clone(),
        };
        serde_json::to_string(&p).unwrap_or_default()
    }
}

/// Longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2000;

/// An endpoint as submitted (screen or API).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct EndpointInput {
    /// `https://…`; plain `http://` only to a loopback host (a receiver on the same machine).
    pub url: String,
    /// Event types (`referral.received`, `referral.answered`, `decision.made`,
    /// `checkin.answered`).
    #[serde(default)]
    pub events: Vec<String>,
}

/// A checked endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidEndpoint {
    pub url: String,
    pub events: Vec<EventType>,
}

fn loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(a) => IpAddr::V4(*a).is_loopback(),
        url::Host::Ipv6(a) => IpAddr::V6(*a).is_loopback(),
    }
}

impl EndpointInput {
    /// Checks the URL (https, or http to loopback; no credentials, no fragment) and the event
    /// types (at least one, all known); every problem is named by its field.
    pub fn validate(&self) -> Result<ValidEndpoint, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let raw = self.url.trim();
        let url = if raw.is_empty() {
            errs.push(FieldError::new("url", "required", "the URL is required"));
            None
        } else if raw.len() > MAX_URL_LEN {
            errs.push(FieldError::new("url", "too_long", "the URL is too long"));
            None
        } else {
            match url::Url::parse(raw) {
                Err(_) => {
                    errs.push(FieldError::new("url", "invalid", "this is not a URL"));
                    None
                }
                Ok(u) => {
                    let secure = u.scheme() == "https";
                    let local_http = u.scheme() == "http" && u.host().is_some_and(|h| loopback(&h));
                    if u.host().is_none() {
                        errs.push(FieldError::new("url", "invalid", "the URL has no host"));
                        None
                    } else if !(secure || local_http) {
                        errs.push(FieldError::new(
                            "url",
                            "not_https",
                            "the URL must use https (plain http only on this machine)",
                        ));
                        None
                    } else if !u.username().is_empty() || u.password().is_some() {
                        errs.push(FieldError::new(
                            "url",
                            "credentials_in_url",
                            "the URL must not carry a user name or password",
                        ));
                        None
                    } else if u.fragment().is_some() {
                        errs.push(FieldError::new(
                            "url",
                            "invalid",
                            "the URL must not have a #fragment",
                        ));
                        None
                    } else {
                        Some(u.to_string())
                    }
                }
            }
        };
        let mut events = Vec::new();
        for e in &self.events {
            match EventType::parse(e.trim()) {
                Some(t) if !events.contains(&t) => events.push(t),
                Some(_) => {}
                None => errs.push(FieldError::new(
                    "events",
                    "unknown",
                    "an unknown event type",
                )),
            }
        }
        if self.events.is_empty() {
            errs.push(FieldError::new(
                "events",
                "required",
                "choose at least one event type",
            ));
        }
        errs.into_result()?;
        events.sort_by_key(|e| e.as_str());
        Ok(ValidEndpoint {
            url: url.unwrap_or_default(),
            events,
        })
    }
}

/// After this many failed attempts a delivery is given up (state `failed`, on the log).
pub const MAX_ATTEMPTS: u32 = 12;
/// The first retry's delay; each further retry doubles it.
pub const FIRST_RETRY_MS: i64 = 30_000;
/// No retry waits longer than this.
pub const MAX_RETRY_MS: i64 = 6 * 3_600_000;
/// A claimed delivery whose worker did not finish (killed, hung) is claimable again after this.
pub const LEASE_MS: i64 = 60_000;

/// When to try again after `attempts` failed attempts: `None` once `MAX_ATTEMPTS` is reached.
pub fn retry_delay_ms(attempts: u32) -> Option<i64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let shift = attempts.saturating_sub(1).min(30);
    Some(
        FIRST_RETRY_MS
            .saturating_mul(1_i64 << shift)
            .min(MAX_RETRY_MS),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input(url: &str) -> EndpointInput {
        EndpointInput {
            url: url.into(),
            events: vec!["referral.received".into()],
        }
    }

    fn code(r: Result<ValidEndpoint, ValidationErrors>) -> Option<String> {
        r.err().map(|e| e.errors[0].code.to_string())
    }

    #[test]
    fn urls_must_be_https_except_on_loopback() {
        assert!(input("https://agency.example/hooks").validate().is_ok());
        assert!(input("http://127.0.0.1:9000/hook").validate().is_ok());
        assert!(input("http://[::1]:9000/hook").validate().is_ok());
        assert!(input("http://localhost/hook").validate().is_ok());
        assert_eq!(
            code(input("http://agency.example/hook").validate()).as_deref(),
            Some("not_https")
        );
        assert_eq!(
            code(input("http://10.0.0.1/hook").validate()).as_deref(),
            Some("not_https")
        );
        assert_eq!(
            code(input("ftp://agency.example/").validate()).as_deref(),
            Some("not_https")
        );
        assert_eq!(
            code(input("https://u:p@agency.example/").validate()).as_deref(),
            Some("credentials_in_url")
        );
        assert_eq!(
            code(input("not a url").validate()).as_deref(),
            Some("invalid")
        );
        assert_eq!(code(input("").validate()).as_deref(), Some("required"));
    }

    #[test]
    fn events_are_known_and_required() {
        let mut i = input("https://a.example/");
        i.events = vec![];
        assert_eq!(code(i.validate()).as_deref(), Some("required"));
        i.events = vec!["case.deleted".into()];
        assert_eq!(code(i.validate()).as_deref(), Some("unknown"));
        i.events = vec!["decision.made".into(), "decision.made".into()];
        assert_eq!(
            i.validate().map(|v| v.events),
            Ok(vec![EventType::DecisionMade])
        );
    }

    #[test]
    fn payload_holds_type_time_and_ids_only() {
        let id = Uuid::nil();
        let s = EventSubject {
            referral_id: Some(id),
            ..Default::default()
        };
        let at = time::macros::datetime!(2026-12-05 10:00 UTC);
        let j = EventPayload::json(EventType::ReferralReceived, &s, at);
        assert_eq!(
            j,
            r#"{"type":"referral.received","timestamp":"2026-12-05T10:00:00Z","data":{"referral_id":"00000000-0000-0000-0000-000000000000"}}"#
        );
    }

    proptest! {
        /// The delays grow (never shrink) and stay within the cap, until attempts run out.
        #[test]
        fn backoff_grows_and_is_capped(n in 0u32..40) {
            match (retry_delay_ms(n), retry_delay_ms(n + 1)) {
                (Some(a), Some(b)) => {
                    prop_assert!(a >= FIRST_RETRY_MS && b >= a && b <= MAX_RETRY_MS);
                }
                (Some(_), None) => prop_assert_eq!(n + 1, MAX_ATTEMPTS),
                (None, b) => {
                    prop_assert!(n >= MAX_ATTEMPTS);
                    prop_assert!(b.is_none());
                }
            }
        }

        /// Only https or loopback http is ever accepted, whatever the host.
        #[test]
        fn accepted_urls_are_https_or_loopback(scheme in "(https?|ftp)", host in "[a-z0-9.]{1,20}") {
            if let Ok(v) = input(&format!("{scheme}://{host}/x")).validate() {
                let ok = v.url.starts_with("https://")
                    || v.url.starts_with("http://127.")
                    || v.url.starts_with("http://localhost");
                prop_assert!(ok, "{}", v.url);
            }
        }
    }
}
