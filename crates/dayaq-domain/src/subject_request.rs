//! Data-subject requests (issue #17 part 2): the survivor asks for her record (access), a
//! correction, a restriction of processing or the erasure of her record. Pure rules: the
//! kinds, who may decide what, the closed list of legal refusal reasons, and the state
//! machine. No I/O, no clock (today is passed in).
//!
//! States: `requested` → `completed` (access delivered, correction or restriction accepted,
//! erasure executed) or `refused` (with a legal reason); erasure goes through `approved` (a
//! supervisor other than the person who recorded the request) before it is executed. An
//! accepted (completed) restriction can later be lifted by a supervisor: `completed` → `lifted`,
//! and processing of her data is no longer restricted.

use crate::error::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// Longest free-text refusal reason ("other").
pub const MAX_REASON_CHARS: usize = 2000;
/// Most field names a correction may list.
pub const MAX_CHANGED_FIELDS: usize = 100;

macro_rules! codes {
    ($(#[$m:meta])* $name:ident { $($v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name { $(#[serde(rename = $s)] $v),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
            pub fn parse_code(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$v),)+ _ => None }
            }
        }
    };
}

codes!(
    /// What she asks for.
    RequestKind { Access = "access", Correction = "correction", Restriction = "restriction", Erasure = "erasure" }
);
codes!(
    /// How the request reached the organisation.
    Channel { InPerson = "in_person", ViaCaseworker = "via_caseworker" }
);
codes!(
    /// Where the request stands.
    RequestState { Requested = "requested", Approved = "approved", Refused = "refused", Completed = "completed", Lifted = "lifted" }
);
codes!(
    /// The closed list of legal reasons a request may be refused for.
    RefusalReason {
        OngoingProsecution = "ongoing_prosecution",
        LegalHold = "legal_hold",
        StatutoryRetention = "statutory_retention",
        Other = "other",
    }
);
codes!(
    /// The language her copy of the record is produced in.
    RecordLanguage { Az = "az", Ru = "ru", En = "en" }
);
codes!(
    /// A supervisor's decision on a request.
    Decision { Accept = "accept", Approve = "approve", Refuse = "refuse" }
);

/// A request as typed (API body or form); every field is text so that a bad value is a
/// field-named 422, never a body error.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RequestInput {
    /// access | correction | restriction | erasure
    #[serde(default)]
    pub kind: String,
    /// in_person | via_caseworker
    #[serde(default)]
    pub channel: String,
    /// YYYY-MM-DD (default today; never in the future)
    #[serde(default)]
    pub requested_on: Option<String>,
    /// az | ru | en: the language of her copy (required for access)
    #[serde(default)]
    pub language: Option<String>,
}

/// A request checked against the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRequest {
    pub kind: RequestKind,
    pub channel: Channel,
    pub requested_on: Date,
    pub language: Option<RecordLanguage>,
}

fn parse_date(field: &str, s: &str) -> Result<Date, FieldError> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), f)
        .map_err(|_| FieldError::new(field, "invalid_date", "expected a date as YYYY-MM-DD"))
}

impl RequestInput {
    pub fn validate(&self, today: Date) -> Result<ValidRequest, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let kind = RequestKind::parse_code(self.kind.trim());
        if kind.is_none() {
            errs.push(FieldError::new(
                "kind",
                "invalid_value",
                "expected access, correction, restriction or erasure",
            ));
        }
        let channel = Channel::parse_code(self.channel.trim());
        if channel.is_none() {
            errs.push(FieldError::new(
                "channel",
                "invalid_value",
                "expected in_person or via_caseworker",
            ));
        }
        let requested_on = match self.requested_on.as_deref().map(str::trim) {
            None | Some("") => Some(today),
            Some(s) => match parse_date("requested_on", s) {
                Ok(d) if d > today => {
                    errs.push(FieldError::new(
                        "requested_on",
                        "in_future",
                        "the date is in the future",
                    ));
                    None
                }
                Ok(d) => Some(d),
                Err(e) => {
                    errs.push(e);
                    None
                }
            },
        };
        let language = match self.language.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => match RecordLanguage::parse_code(s) {
                Some(l) => Some(l),
                None => {
                    errs.push(FieldError::new(
                        "language",
                        "invalid_value",
                        "expected az, ru or en",
                    ));
                    None
                }
            },
        };
        if kind == Some(RequestKind::Access)
            && language.is_none()
            && !errs.errors.iter().any(|e| e.field == "language")
        {
            errs.push(FieldError::new(
                "language",
                "required",
                "choose the language of her copy",
            ));
        }
        errs.into_result()?;
        match (kind, channel, requested_on) {
            (Some(kind), Some(channel), Some(requested_on)) => Ok(ValidRequest {
                kind,
                channel,
                requested_on,
                language: if kind == RequestKind::Access {
                    language
                } else {
                    None
                },
            }),
            _ => Err(ValidationErrors::single(FieldError::new(
                "kind",
                "invalid_value",
                "invalid request",
            ))),
        }
    }
}

/// Names one request of the case (the body of the export, download and erasure routes).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RequestRef {
    /// The request's id (UUID)
    #[serde(default)]
    pub request: Option<String>,
}

/// The request id of a body: a field-named error when missing or malformed.
pub fn request_id(request: Option<&str>) -> Result<Uuid, ValidationErrors> {
    match request.map(str::trim).filter(|s| !s.is_empty()) {
        None => Err(ValidationErrors::single(FieldError::new(
            "request",
            "required",
            "name the request",
        ))),
        Some(s) => Uuid::parse_str(s).map_err(|_| {
            ValidationErrors::single(FieldError::new(
                "request",
                "invalid_value",
                "expected a request id",
            ))
        }),
    }
}

/// The error for a request id that is not one of the case's requests.
pub fn unknown_request() -> ValidationErrors {
    ValidationErrors::single(FieldError::new(
        "request",
        "unknown",
        "no such request on this case",
    ))
}

/// A supervisor's decision as typed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DecisionInput {
    /// The request's id (UUID)
    #[serde(default)]
    pub request: Option<String>,
    /// accept (correction, restriction) | approve (erasure) | refuse (any)
    #[serde(default)]
    pub decision: String,
    /// With refuse: ongoing_prosecution | legal_hold | statutory_retention | other
    #[serde(default)]
    pub refusal_reason: Option<String>,
    /// With refusal_reason other: the reason in words (sealed with the case key)
    #[serde(default)]
    pub refusal_text: Option<String>,
    /// With a correction accepted: the HTCDS field names that were changed (names only)
    #[serde(default)]
    pub changed_fields: Option<Vec<String>>,
}

/// A decision checked against the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDecision {
    pub decision: Decision,
    pub refusal_reason: Option<RefusalReason>,
    pub refusal_text: Option<String>,
    pub changed_fields: Vec<String>,
}

/// The facts of a stored request the decision rules need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub kind: RequestKind,
    pub state: RequestState,
    pub recorded_by: Uuid,
}

/// Is `name` a field name of the case record (HTCDS)? Passed in by the caller, which knows
/// the HTCDS column list.
pub type KnownField<'a> = &'a dyn Fn(&str) -> bool;

impl DecisionInput {
    /// Checks the decision on request `r` by `decider`. Returns the decision and the state it
    /// moves the request to.
    pub fn validate(
        &self,
        r: Stored,
        decider: Uuid,
        known_field: KnownField<'_>,
    ) -> Result<(ValidDecision, RequestState), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let Some(decision) = Decision::parse_code(self.decision.trim()) else {
            return Err(ValidationErrors::single(FieldError::new(
                "decision",
                "invalid_value",
                "expected accept, approve or refuse",
            )));
        };
        let next = match transition(r, decision, decider) {
            Ok(s) => s,
            Err(e) => return Err(ValidationErrors::single(e)),
        };
        let mut refusal_reason = None;
        let mut refusal_text = None;
        let mut changed_fields = Vec::new();
        let text = self
            .refusal_text
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if decision == Decision::Refuse {
            match self
                .refusal_reason
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                None => errs.push(FieldError::new(
                    "refusal_reason",
                    "required",
                    "a refusal needs a legal reason",
                )),
                Some(s) => match RefusalReason::parse_code(s) {
                    None => errs.push(FieldError::new(
                        "refusal_reason",
                        "invalid_value",
                        "expected ongoing_prosecution, legal_hold, statutory_retention or other",
                    )),
                    Some(reason) => refusal_reason = Some(reason),
                },
            }
            match (refusal_reason, text) {
                (Some(RefusalReason::Other), None) => errs.push(FieldError::new(
                    "refusal_text",
                    "required",
                    "say the reason in words",
                )),
                (_, Some(t)) if t.chars().count() > MAX_REASON_CHARS => errs.push(FieldError::new(
                    "refusal_text",
                    "too_long",
                    "the reason is longer than 2000 characters",
                )),
                (Some(RefusalReason::Other), Some(t)) => refusal_text = Some(t.to_string()),
                _ => {}
            }
        }
        if decision == Decision::Accept && r.kind == RequestKind::Correction {
            let mut names: Vec<String> = self
                .changed_fields
                .iter()
                .flatten()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            names.sort();
            names.dedup();
            if names.is_empty() {
                errs.push(FieldError::new(
                    "changed_fields",
                    "required",
                    "name the fields that were corrected",
                ));
            } else if names.len() > MAX_CHANGED_FIELDS {
                errs.push(FieldError::new(
                    "changed_fields",
                    "too_many",
                    "too many field names",
                ));
            } else if names.iter().any(|n| !known_field(n)) {
                errs.push(FieldError::new(
                    "changed_fields",
                    "unknown_field",
                    "expected HTCDS field names of the case record",
                ));
            } else {
                changed_fields = names;
            }
        }
        errs.into_result()?;
        Ok((
            ValidDecision {
                decision,
                refusal_reason,
                refusal_text,
                changed_fields,
            },
            next,
        ))
    }
}

/// The state a decision moves a request to, or why it may not be taken.
/// - only a request still `requested` is decided (an approved erasure can still be refused
///   until it is executed);
/// - accept: correction and restriction; approve: erasure only, and never by the person who
///   recorded the request; refuse: any kind. Access is completed by producing the export.
pub fn transition(r: Stored, d: Decision, decider: Uuid) -> Result<RequestState, FieldError> {
    use RequestKind as K;
    use RequestState as S;
    let open = r.state == S::Requested
        || (r.state == S::Approved && r.kind == K::Erasure && d == Decision::Refuse);
    if !open {
        return Err(FieldError::new(
            "decision",
            "already_decided",
            "this request has already been decided",
        ));
    }
    match (d, r.kind) {
        (Decision::Refuse, _) => Ok(S::Refused),
        (Decision::Accept, K::Correction | K::Restriction) => Ok(S::Completed),
        (Decision::Approve, K::Erasure) if decider == r.recorded_by => Err(FieldError::new(
            "decision",
            "four_eyes",
            "an erasure is approved by a supervisor other than the one who recorded it",
        )),
        (Decision::Approve, K::Erasure) => Ok(S::Approved),
        _ => Err(FieldError::new(
            "decision",
            "not_for_kind",
            "this decision does not apply to this kind of request",
        )),
    }
}

/// May an access export be produced for a request in this state? (Again after a lost
/// download: a new export with a new passphrase.)
pub fn may_export(r: Stored) -> Result<(), FieldError> {
    if r.kind != RequestKind::Access {
        return Err(FieldError::new(
            "request",
            "not_access",
            "only an access request produces her record",
        ));
    }
    if r.state == RequestState::Refused {
        return Err(FieldError::new(
            "request",
            "refused",
            "this request was refused",
        ));
    }
    Ok(())
}

/// May this request be lifted? Only a restriction that was accepted (and is in force).
pub fn may_lift(r: Stored) -> Result<(), FieldError> {
    if r.kind != RequestKind::Restriction {
        return Err(FieldError::new(
            "request",
            "not_restriction",
            "only a restriction is lifted",
        ));
    }
    if r.state != RequestState::Completed {
        return Err(FieldError::new(
            "request",
            "not_in_force",
            "this restriction is not in force",
        ));
    }
    Ok(())
}

/// May an erasure be executed for a request in this state?
pub fn may_execute(r: Stored) -> Result<(), FieldError> {
    if r.kind != RequestKind::Erasure {
        return Err(FieldError::new(
            "request",
            "not_erasure",
            "only an erasure request is executed",
        ));
    }
    if r.state != RequestState::Approved {
        return Err(FieldError::new(
            "request",
            "not_approved",
            "an erasure is executed only after a supervisor approved it",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: Uuid = Uuid::from_u128(1);
    const B: Uuid = Uuid::from_u128(2);

    fn today() -> Date {
        time::macros::date!(2026 - 12 - 05)
    }

    #[test]
    fn access_needs_a_language_and_others_drop_it() {
        let mut i = RequestInput {
            kind: "access".into(),
            channel: "in_person".into(),
            ..Default::default()
        };
        let e = i.validate(today()).unwrap_err();
        assert!(e.errors.iter().any(|e| e.field == "language"));
        i.language = Some("ru".into());
        assert_eq!(
            i.validate(today()).unwrap().language,
            Some(RecordLanguage::Ru)
        );
        i.kind = "erasure".into();
        assert_eq!(i.validate(today()).unwrap().language, None);
    }

    #[test]
    fn bad_input_names_each_field() {
        let i = RequestInput {
            kind: "delete".into(),
            channel: "phone".into(),
            requested_on: Some("2027-01-01".into()),
            language: Some("de".into()),
        };
        let e = i.validate(today()).unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "channel", "requested_on", "language"]);
    }

    #[test]
    fn refusal_needs_a_reason_and_other_needs_words() {
        let r = Stored {
            kind: RequestKind::Erasure,
            state: RequestState::Requested,
            recorded_by: A,
        };
        let known = |_: &str| true;
        let mut d = DecisionInput {
            decision: "refuse".into(),
            ..Default::default()
        };
        assert!(d.validate(r, B, &known).is_err());
        d.refusal_reason = Some("other".into());
        let e = d.validate(r, B, &known).unwrap_err();
        assert_eq!(e.errors[0].field, "refusal_text");
        d.refusal_reason = Some("ongoing_prosecution".into());
        let (v, s) = d.validate(r, B, &known).unwrap();
        assert_eq!(s, RequestState::Refused);
        assert_eq!(v.refusal_reason, Some(RefusalReason::OngoingProsecution));
    }

    #[test]
    fn correction_lists_known_field_names() {
        let r = Stored {
            kind: RequestKind::Correction,
            state: RequestState::Requested,
            recorded_by: A,
        };
        let known = |s: &str| s.starts_with("prs_");
        let mut d = DecisionInput {
            decision: "accept".into(),
            changed_fields: Some(vec!["prs_FirstName".into(), "nonsense".into()]),
            ..Default::default()
        };
        assert_eq!(
            d.validate(r, B, &known).unwrap_err().errors[0].code,
            "unknown_field"
        );
        d.changed_fields = Some(vec!["prs_FirstName".into(), "prs_FirstName".into()]);
        let (v, s) = d.validate(r, B, &known).unwrap();
        assert_eq!(
            (v.changed_fields, s),
            (vec!["prs_FirstName".to_string()], RequestState::Completed)
        );
    }

    fn kind() -> impl Strategy<Value = RequestKind> {
        prop::sample::select(RequestKind::ALL)
    }
    fn state() -> impl Strategy<Value = RequestState> {
        prop::sample::select(RequestState::ALL)
    }
    fn decision() -> impl Strategy<Value = Decision> {
        prop::sample::select(Decision::ALL)
    }

    proptest! {
        /// Nobody approves an erasure they recorded; only erasures are ever approved.
        #[test]
        fn approval_is_four_eyes_and_erasure_only(k in kind(), s in state(), d in decision(), same in any::<bool>()) {
            let r = Stored { kind: k, state: s, recorded_by: A };
            let decider = if same { A } else { B };
            if let Ok(next) = transition(r, d, decider) {
                if next == RequestState::Approved {
                    prop_assert_eq!(k, RequestKind::Erasure);
                    prop_assert!(!same);
                }
                // A decided request stays decided (except refusing an approved erasure).
                prop_assert!(s == RequestState::Requested || (s == RequestState::Approved && next == RequestState::Refused));
                // Completion by decision never applies to access or erasure.
                if next == RequestState::Completed {
                    prop_assert!(matches!(k, RequestKind::Correction | RequestKind::Restriction));
                }
            }
        }

        /// Execution only follows an approval; an export never follows a refusal.
        #[test]
        fn execution_needs_approval(k in kind(), s in state()) {
            let r = Stored { kind: k, state: s, recorded_by: A };
            prop_assert_eq!(may_execute(r).is_ok(), k == RequestKind::Erasure && s == RequestState::Approved);
            prop_assert_eq!(may_export(r).is_ok(), k == RequestKind::Access && s != RequestState::Refused);
        }

        /// Only a restriction in force is lifted; a lifted request is never decided again.
        #[test]
        fn only_a_restriction_in_force_is_lifted(k in kind(), s in state(), d in decision()) {
            let r = Stored { kind: k, state: s, recorded_by: A };
            prop_assert_eq!(may_lift(r).is_ok(), k == RequestKind::Restriction && s == RequestState::Completed);
            if s == RequestState::Lifted {
                prop_assert!(transition(r, d, B).is_err());
            }
        }
    }
}
