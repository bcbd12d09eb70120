//! Single sign-on with OpenID Connect (issue 22 §1): the rules of an organisation's provider
//! settings (issuer and redirect URLs, e-mail domains, the claim → role map) and the decisions
//! taken on a verified ID token (allowed domain, mapped role). Pure: no I/O, no clock.

use crate::{FieldError, Role, ValidationErrors};
use std::net::IpAddr;

/// What an administrator gives for an organisation's provider (CLI `org set-oidc`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderInput {
    /// The name on the sign-in button ("Sign in with …").
    pub display_name: String,
    /// The issuer URL (`https://…`; plain http only on this machine, for tests).
    pub issuer: String,
    /// Dayaq's callback URL as registered at the provider (`…/login/sso/callback`).
    pub redirect_uri: String,
    pub client_id: String,
    /// The path of the file holding the client secret (the secret is never stored).
    pub secret_file: String,
    /// E-mail domains whose users may sign in (empty: any; the ID token's e-mail must then be
    /// verified and in one of them).
    pub allowed_domains: Vec<String>,
    /// The ID-token claim whose values map to roles (empty: roles stay as the administrator set
    /// them).
    pub role_claim: String,
    /// `value=role` pairs, in priority order (the first value the user has wins).
    pub role_map: Vec<String>,
    pub local_passwords_allowed: bool,
}

/// Checked provider settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub display_name: String,
    pub issuer: String,
    pub redirect_uri: String,
    pub client_id: String,
    pub secret_file: String,
    pub allowed_domains: Vec<String>,
    pub role_claim: String,
    pub role_map: RoleMap,
    pub local_passwords_allowed: bool,
}

/// Claim values → roles, in priority order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMap(pub Vec<(String, Role)>);

impl RoleMap {
    /// Parses `value=role` entries; an entry without `=` or with an unknown role is an error
    /// on `field`.
    pub fn parse(field: &'static str, entries: &[String]) -> Result<RoleMap, FieldError> {
        let mut v = Vec::new();
        for e in entries {
            let Some((value, role)) = e.rsplit_once('=') else {
                return Err(FieldError::new(
                    field,
                    "invalid",
                    "each role mapping is value=role",
                ));
            };
            let value = value.trim();
            if value.is_empty() || value.len() > 200 {
                return Err(FieldError::new(
                    field,
                    "invalid",
                    "a role mapping's claim value must be 1-200 characters",
                ));
            }
            let role = Role::parse(role.trim()).map_err(|_| {
                FieldError::new(
                    field,
                    "unknown_role",
                    "a role mapping names an unknown role",
                )
            })?;
            v.push((value.to_string(), role));
        }
        Ok(RoleMap(v))
    }

    /// The stored form: one `value=role` per line.
    pub fn to_lines(&self) -> String {
        self.0
            .iter()
            .map(|(v, r)| format!("{v}={}", r.as_str()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Reads the stored form back (lines written by `to_lines`).
    pub fn from_lines(s: &str) -> Result<RoleMap, FieldError> {
        let entries: Vec<String> = s
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        RoleMap::parse("role_map", &entries)
    }

    /// The role of the first mapping whose value the user's claim carries.
    pub fn role_for(&self, values: &[String]) -> Option<Role> {
        self.0
            .iter()
            .find(|(v, _)| values.iter().any(|x| x == v))
            .map(|(_, r)| *r)
    }
}

fn loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(a) => IpAddr::V4(*a).is_loopback(),
        url::Host::Ipv6(a) => IpAddr::V6(*a).is_loopback(),
    }
}

/// An https URL (http only to a loopback host), without credentials, query or fragment.
fn check_url(field: &'static str, raw: &str, errs: &mut ValidationErrors) -> String {
    let raw = raw.trim();
    let ok = match url::Url::parse(raw) {
        Ok(u) => {
            let secure = u.scheme() == "https";
            let local = u.scheme() == "http" && u.host().is_some_and(|h| loopback(&h));
            u.host().is_some()
                && (secure || local)
                && u.username().is_empty()
                && u.password().is_none()
                && u.query().is_none()
                && u.fragment().is_none()
                && raw.len() <= 500
        }
        Err(_) => false,
    };
    if !ok {
        errs.push(FieldError::new(
            field,
            "invalid_url",
            "an https URL without user, query or fragment is required (plain http only on this machine)",
        ));
    }
    raw.to_string()
}

/// A lower-case domain name: letters, digits, '-' and '.', with a dot.
fn valid_domain(d: &str) -> bool {
    (3..=253).contains(&d.len())
        && d.contains('.')
        && !d.starts_with('.')
        && !d.ends_with('.')
        && d.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

impl ProviderInput {
    /// Checks every field, naming each problem.
    pub fn validate(&self) -> Result<Provider, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let display_name = self.display_name.trim().to_string();
        if display_name.is_empty() || display_name.chars().count() > 80 {
            errs.push(FieldError::new(
                "display_name",
                "invalid_length",
                "the provider's name must be 1-80 characters",
            ));
        }
        let issuer = check_url("issuer", &self.issuer, &mut errs);
        let redirect_uri = check_url("redirect_uri", &self.redirect_uri, &mut errs);
        let client_id = self.client_id.trim().to_string();
        if client_id.is_empty() || client_id.len() > 200 {
            errs.push(FieldError::new(
                "client_id",
                "invalid_length",
                "the client id must be 1-200 characters",
            ));
        }
        let secret_file = self.secret_file.trim().to_string();
        if secret_file.is_empty() || !secret_file.starts_with('/') {
            errs.push(FieldError::new(
                "secret_file",
                "not_absolute",
                "the client secret file must be an absolute path",
            ));
        }
        let mut allowed_domains = Vec::new();
        for d in &self.allowed_domains {
            let d = d.trim().to_ascii_lowercase();
            if d.is_empty() {
                continue;
            }
            if valid_domain(&d) {
                if !allowed_domains.contains(&d) {
                    allowed_domains.push(d);
                }
            } else {
                errs.push(FieldError::new(
                    "allowed_domains",
                    "invalid_domain",
                    "an allowed e-mail domain is not a domain name",
                ));
            }
        }
        let role_claim = self.role_claim.trim().to_string();
        if role_claim.len() > 100 || role_claim.contains(char::is_whitespace) {
            errs.push(FieldError::new(
                "role_claim",
                "invalid",
                "the role claim is a claim name without spaces",
            ));
        }
        let role_map = match RoleMap::parse("role_map", &self.role_map) {
            Ok(m) => m,
            Err(e) => {
                errs.push(e);
                RoleMap::default()
            }
        };
        if role_claim.is_empty() != role_map.0.is_empty() {
            errs.push(FieldError::new(
                "role_map",
                "incomplete",
                "a role claim needs at least one mapping, and mappings need the claim",
            ));
        }
        errs.into_result()?;
        Ok(Provider {
            display_name,
            issuer,
            redirect_uri,
            client_id,
            secret_file,
            allowed_domains,
            role_claim,
            role_map,
            local_passwords_allowed: self.local_passwords_allowed,
        })
    }
}

/// Why a single sign-on is refused: a short code, audited and shown as a human page (never
/// anything from the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No pending sign-in for this `state`, its browser binding differs, or it expired
    /// (including a callback replayed).
    UnknownState,
    /// The provider answered with an error (the user cancelled, …).
    ProviderError,
    /// The provider could not be reached or its metadata was unusable.
    ProviderUnavailable,
    /// The code could not be exchanged (reused code, wrong verifier, wrong client).
    TokenExchange,
    /// The ID token failed verification (signature, issuer, audience, expiry, nonce).
    InvalidToken,
    /// No account is linked to this (issuer, subject).
    UnknownSubject,
    /// The linked account is disabled.
    Disabled,
    /// The e-mail is missing, unverified or outside the allowed domains.
    EmailDomain,
    /// A role claim is configured and none of the user's values maps to a role.
    NoRole,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::UnknownState => "unknown_state",
            Refusal::ProviderError => "provider_error",
            Refusal::ProviderUnavailable => "provider_unavailable",
            Refusal::TokenExchange => "token_exchange",
            Refusal::InvalidToken => "invalid_token",
            Refusal::UnknownSubject => "unknown_subject",
            Refusal::Disabled => "disabled",
            Refusal::EmailDomain => "email_domain",
            Refusal::NoRole => "no_role",
        }
    }
}

/// Whether the ID token's e-mail passes the organisation's domain rule.
pub fn email_allowed(allowed: &[String], email: Option<&str>, verified: bool) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let Some(email) = email else { return false };
    let Some((_, domain)) = email.rsplit_once('@') else {
        return false;
    };
    verified && allowed.iter().any(|d| d.eq_ignore_ascii_case(domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ProviderInput {
        ProviderInput {
            display_name: "Agency SSO".into(),
            issuer: "https://id.agency.example/realms/staff".into(),
            redirect_uri: "https://dayaq.example/login/sso/callback".into(),
            client_id: "dayaq".into(),
            secret_file: "/etc/dayaq/oidc-secret".into(),
            allowed_domains: vec!["Agency.Example".into()],
            role_claim: "groups".into(),
            role_map: vec!["nrm-sup=supervisor".into(), "nrm-cw=caseworker".into()],
            local_passwords_allowed: false,
        }
    }

    #[test]
    fn valid_settings_are_normalised() {
        let p = input().validate().unwrap();
        assert_eq!(p.allowed_domains, vec!["agency.example".to_string()]);
        assert_eq!(p.role_map.0.len(), 2);
        assert_eq!(
            RoleMap::from_lines(&p.role_map.to_lines()).unwrap(),
            p.role_map
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = ProviderInput {
            display_name: " ".into(),
            issuer: "http://id.agency.example".into(),
            redirect_uri: "https://dayaq.example/cb?x=1".into(),
            client_id: String::new(),
            secret_file: "secret.txt".into(),
            allowed_domains: vec!["not a domain".into()],
            role_claim: "groups".into(),
            role_map: vec!["x=emperor".into()],
            local_passwords_allowed: true,
        };
        let e = bad.validate().unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        for f in [
            "display_name",
            "issuer",
            "redirect_uri",
            "client_id",
            "secret_file",
            "allowed_domains",
            "role_map",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        let local = ProviderInput {
            issuer: "http://127.0.0.1:9000".into(),
            ..input()
        };
        assert!(local.validate().is_ok());
    }

    #[test]
    fn role_map_priority_and_domains() {
        let m = input().validate().unwrap().role_map;
        assert_eq!(
            m.role_for(&["nrm-cw".into(), "nrm-sup".into()]),
            Some(Role::Supervisor)
        );
        assert_eq!(m.role_for(&["other".into()]), None);
        let d = vec!["agency.example".to_string()];
        assert!(email_allowed(&d, Some("a@AGENCY.example"), true));
        assert!(!email_allowed(&d, Some("a@agency.example"), false));
        assert!(!email_allowed(&d, Some("a@evil.example"), true));
        assert!(!email_allowed(&d, None, true));
        assert!(email_allowed(&[], None, false));
    }
}
