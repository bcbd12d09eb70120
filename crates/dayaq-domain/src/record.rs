//! The rest of the case record around the person: HTCDS "Historic Trafficking Events"
//! (`hte_*`), perpetrator roles (`per_RoleInProcess`, `per_RoleDetails`; no perpetrator
//! identity), dependants (children) linked to the case, and the case status life cycle
//! (`cas_Status` changes, closure with `cas_ReasonForCaseClosure`, explicit reopening, new
//! episodes after re-trafficking).
//!
//! Inputs arrive with HTCDS keys as strings so that every error names its field; `validate`
//! turns them into valid values or a list of field errors. Pure rules: no I/O, no clock (the
//! caller passes today's date).

use crate::case::{MAX_LONG_TEXT, MAX_SHORT_TEXT, parse_date};
use crate::error::{FieldError, ValidationErrors};
use crate::policy::Section;
use crate::vocab::{CaseStatus, Gender, parse_country};
use serde::{Deserialize, Serialize};
use time::Date;

/// Need-to-know: trafficking events are part of the victim context (with the recruitment
/// method, places and methods of control).
pub const EVENTS_SECTION: Section = Section::VictimContext;
/// Perpetrator roles belong with the criminal-justice part of the record (legal section):
/// a legal-consultation referral sees them, a vocational-training one does not.
pub const PERPETRATORS_SECTION: Section = Section::Legal;
/// Dependants (children, their care and schooling needs) belong to the assistance plan: the
/// children-schooling service is granted the plan section.
pub const DEPENDANTS_SECTION: Section = Section::Plan;
/// Reasons for status changes are free text and are shown with the notes, like
/// `cas_ReasonForCaseClosure` on the case itself.
pub const STATUS_REASON_SECTION: Section = Section::Notes;

/// Defines a closed list whose string form is exactly the variant name.
macro_rules! value_list {
    ($(#[$m:meta])* $name:ident, $field:literal, [$($variant:ident),+ $(,)?]) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const FIELD: &'static str = $field;
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant)),+ }
            }

            pub fn parse(s: &str) -> Result<Self, FieldError> {
                Self::parse_for(Self::FIELD, s)
            }

            /// Exact, case-sensitive; the error names `field` and lists the allowed values
            /// (never the submitted value).
            pub fn parse_for(field: &str, s: &str) -> Result<Self, FieldError> {
                match s {
                    $(stringify!($variant) => Ok($name::$variant),)+
                    _ => Err(FieldError::new(
                        field,
                        "invalid_value",
                        format!("not an allowed value for {}; allowed: {}", field,
                            [$(stringify!($variant)),+].join(", ")),
                    )),
                }
            }
        }
    };
}

value_list!(
    /// HTCDS `hte_Type`.
    EventType, "hte_Type", [Recruitment, Transit, Exploitation]
);

value_list!(
    /// HTCDS `per_RoleInProcess` (multiselect).
    PerpetratorRole, "per_RoleInProcess",
    [TravellingPartner, Transporter, RecruiterOrIntermediary, BrokerTravelAgent,
     TransferredIndividual, HarbouredIndividual, SoldIndividual, BoughtIndividual,
     ReceivedIndividual, ControlledIndividual, Smuggler, Abuser, Kidnapper, Exploiter, Other]
);

value_list!(
    /// A dependant's relation to the person (HTCDS has no list; ours).
    Relation, "relation", [Child, Stepchild, Grandchild, Sibling, OtherDependant]
);

impl Relation {
    /// Whether this dependant is one of the person's children counted by HTCDS
    /// `prs_NumberOfChildren` (her own children and stepchildren she raises).
    pub fn counts_as_child(self) -> bool {
        matches!(self, Relation::Child | Relation::Stepchild)
    }
}

fn check_text(errs: &mut ValidationErrors, field: &str, v: &mut Option<String>, max: usize) {
    if let Some(s) = v.as_deref() {
        let t = s.trim();
        if t.is_empty() {
            *v = None;
            return;
        }
        if t.chars().count() > max {
            errs.push(FieldError::new(
                field,
                "too_long",
                format!("{field} is longer than {max} characters"),
            ));
        }
        if t.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            errs.push(FieldError::new(
                field,
                "control_characters",
                format!("{field} contains control characters"),
            ));
        }
        *v = Some(t.to_string());
    }
}

fn required(field: &str) -> FieldError {
    FieldError::new(field, "required", format!("{field} is required"))
}

// ---------------------------------------------------------------- trafficking events

/// A trafficking event as a client sends it. Unknown keys are rejected.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    #[serde(rename = "hte_Type", default)]
    pub kind: String,
    #[serde(rename = "hte_Country", default)]
    pub country: Option<String>,
    #[serde(rename = "hte_City", default)]
    pub city: Option<String>,
    #[serde(rename = "hte_State", default)]
    pub state: Option<String>,
    #[serde(rename = "hte_Street", default)]
    pub street: Option<String>,
    #[serde(rename = "hte_PostalCode", default)]
    pub postal_code: Option<String>,
    /// YYYY-MM-DD.
    #[serde(rename = "hte_Date", default)]
    pub date: Option<String>,
    #[serde(rename = "hte_Description", default)]
    pub description: Option<String>,
    #[serde(rename = "hte_Latitude", default)]
    pub latitude: Option<f64>,
    #[serde(rename = "hte_Longitude", default)]
    pub longitude: Option<f64>,
}

/// The parts of an event that can point at a person or tell her story: sealed with the case
/// key (street, postal code, exact coordinates, description).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventSealed {
    #[serde(
        rename = "hte_Street",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub street: Option<String>,
    #[serde(
        rename = "hte_PostalCode",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub postal_code: Option<String>,
    #[serde(
        rename = "hte_Description",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub description: Option<String>,
    #[serde(
        rename = "hte_Latitude",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub latitude: Option<f64>,
    #[serde(
        rename = "hte_Longitude",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub longitude: Option<f64>,
}

/// A validated event.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidEvent {
    pub kind: EventType,
    pub country: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub date: Option<Date>,
    pub sealed: EventSealed,
}

/// The earliest date an event may carry.
pub const EARLIEST_EVENT_YEAR: i32 = 1900;

impl EventInput {
    /// Checks every field; `today` bounds the date (an event cannot be in the future).
    pub fn validate(self, today: Date) -> Result<ValidEvent, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let kind = match self.kind.trim() {
            "" => {
                errs.push(required("hte_Type"));
                None
            }
            k => EventType::parse(k).map_err(|e| errs.push(e)).ok(),
        };
        let mut country = self.country.map(|c| c.trim().to_string());
        if country.as_deref() == Some("") {
            country = None;
        }
        if let Some(c) = &country
            && let Err(e) = parse_country("hte_Country", c)
        {
            errs.push(e);
        }
        let mut city = self.city;
        let mut state = self.state;
        let mut street = self.street;
        let mut postal_code = self.postal_code;
        let mut description = self.description;
        check_text(&mut errs, "hte_City", &mut city, MAX_SHORT_TEXT);
        check_text(&mut errs, "hte_State", &mut state, MAX_SHORT_TEXT);
        check_text(&mut errs, "hte_Street", &mut street, MAX_SHORT_TEXT);
        check_text(&mut errs, "hte_PostalCode", &mut postal_code, 20);
        check_text(
            &mut errs,
            "hte_Description",
            &mut description,
            MAX_LONG_TEXT,
        );
        let date = match self.date.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => match parse_date("hte_Date", d) {
                Ok(d) if d > today => {
                    errs.push(FieldError::new(
                        "hte_Date",
                        "in_future",
                        "hte_Date cannot be in the future",
                    ));
                    None
                }
                Ok(d) if d.year() < EARLIEST_EVENT_YEAR => {
                    errs.push(FieldError::new(
                        "hte_Date",
                        "too_early",
                        format!("hte_Date cannot be before {EARLIEST_EVENT_YEAR}"),
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
        check_coordinates(&mut errs, self.latitude, self.longitude);
        errs.into_result()?;
        Ok(ValidEvent {
            kind: kind.ok_or_else(|| ValidationErrors::single(required("hte_Type")))?,
            country,
            city,
            state,
            date,
            sealed: EventSealed {
                street,
                postal_code,
                description,
                latitude: self.latitude,
                longitude: self.longitude,
            },
        })
    }
}

/// Latitude in [-90, 90], longitude in [-180, 180], finite, and given together.
pub fn check_coordinates(errs: &mut ValidationErrors, lat: Option<f64>, lon: Option<f64>) {
    if let Some(x) = lat
        && !(x.is_finite() && (-90.0..=90.0).contains(&x))
    {
        errs.push(FieldError::new(
            "hte_Latitude",
            "out_of_range",
            "hte_Latitude must be between -90 and 90",
        ));
    }
    if let Some(x) = lon
        && !(x.is_finite() && (-180.0..=180.0).contains(&x))
    {
        errs.push(FieldError::new(
            "hte_Longitude",
            "out_of_range",
            "hte_Longitude must be between -180 and 180",
        ));
    }
    match (lat, lon) {
        (Some(_), None) => errs.push(FieldError::new(
            "hte_Longitude",
            "required_with_latitude",
            "hte_Longitude is required with hte_Latitude",
        )),
        (None, Some(_)) => errs.push(FieldError::new(
            "hte_Latitude",
            "required_with_longitude",
            "hte_Latitude is required with hte_Longitude",
        )),
        _ => {}
    }
}

/// An event as the API returns it (sealed parts opened when the reader may see them).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: uuid::Uuid,
    #[serde(rename = "hte_Type")]
    pub kind: EventType,
    #[serde(rename = "hte_Country", skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(rename = "hte_City", skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(rename = "hte_State", skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// YYYY-MM-DD.
    #[serde(rename = "hte_Date", skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(flatten)]
    pub sealed: EventSealed,
    pub created_at: String,
    /// Entry time in milliseconds, the last ordering key.
    #[serde(skip)]
    pub entered_ms: i64,
}

/// Chronological order: dated events by date; on the same date recruitment, then transit,
/// then exploitation; undated events last; ties in the order they were entered.
pub fn sort_chronologically(v: &mut [EventView]) {
    v.sort_by(|a, b| {
        (a.date.is_none(), &a.date, a.kind, a.entered_ms, a.id).cmp(&(
            b.date.is_none(),
            &b.date,
            b.kind,
            b.entered_ms,
            b.id,
        ))
    });
}

// ---------------------------------------------------------------- perpetrator roles

/// One perpetrator's part in the process, without identity. Unknown keys are rejected.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerpetratorInput {
    #[serde(rename = "per_RoleInProcess", default)]
    pub roles: Vec<String>,
    #[serde(rename = "per_RoleDetails", default)]
    pub details: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPerpetrator {
    /// Deduplicated, in HTCDS list order.
    pub roles: Vec<PerpetratorRole>,
    pub details: Option<String>,
}

impl PerpetratorInput {
    /// At least one role; every role an HTCDS value; "Other" needs details.
    pub fn validate(self) -> Result<ValidPerpetrator, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let mut roles = Vec::new();
        for (i, r) in self.roles.iter().enumerate() {
            match PerpetratorRole::parse_for(&format!("per_RoleInProcess[{i}]"), r.trim()) {
                Ok(r) if !roles.contains(&r) => roles.push(r),
                Ok(_) => {}
                Err(e) => errs.push(e),
            }
        }
        if self.roles.is_empty() {
            errs.push(required("per_RoleInProcess"));
        }
        roles.sort();
        let mut details = self.details;
        check_text(&mut errs, "per_RoleDetails", &mut details, MAX_LONG_TEXT);
        if roles.contains(&PerpetratorRole::Other) && details.is_none() {
            errs.push(FieldError::new(
                "per_RoleDetails",
                "required_for_other",
                "per_RoleDetails is required when per_RoleInProcess includes Other",
            ));
        }
        errs.into_result()?;
        Ok(ValidPerpetrator { roles, details })
    }
}

/// Stored form of a role list: HTCDS value names joined by `;` (as HTCDS multiselects).
pub fn encode_roles(roles: &[PerpetratorRole]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

/// Reads a stored role list; unknown names are an error (the database is checked data).
pub fn decode_roles(s: &str) -> Result<Vec<PerpetratorRole>, FieldError> {
    s.split(';')
        .filter(|x| !x.is_empty())
        .map(PerpetratorRole::parse)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PerpetratorView {
    pub id: uuid::Uuid,
    #[serde(rename = "per_RoleInProcess")]
    pub roles: Vec<PerpetratorRole>,
    #[serde(rename = "per_RoleDetails", skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    pub created_at: String,
}

// ---------------------------------------------------------------- dependants

/// A dependant (child) linked to the case. Give `birth_year` or `age`, not both.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DependantInput {
    #[serde(default)]
    pub relation: String,
    #[serde(rename = "prs_Gender", default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub birth_year: Option<i64>,
    #[serde(default)]
    pub age: Option<i64>,
    /// Lives with the person (true) or elsewhere (false; then `whereabouts` may say where).
    #[serde(default)]
    pub with_victim: bool,
    /// Where the dependant lives when not with her: sealed with the case key.
    #[serde(default)]
    pub whereabouts: Option<String>,
    #[serde(default)]
    pub needs_schooling: bool,
    #[serde(default)]
    pub needs_childcare: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDependant {
    pub relation: Relation,
    pub gender: Option<Gender>,
    pub birth_year: Option<i32>,
    pub with_victim: bool,
    pub whereabouts: Option<String>,
    pub needs_schooling: bool,
    pub needs_childcare: bool,
}

/// Oldest age (and furthest birth year back) accepted for a dependant.
pub const MAX_DEPENDANT_AGE: i64 = 100;

impl DependantInput {
    /// `today` turns an age into a birth year (this year minus the age: the year is what is
    /// kept, so "age 7" recorded in 2026 reads as born 2019).
    pub fn validate(self, today: Date) -> Result<ValidDependant, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let relation = match self.relation.trim() {
            "" => {
                errs.push(required("relation"));
                None
            }
            r => Relation::parse(r).map_err(|e| errs.push(e)).ok(),
        };
        let gender = match self.gender.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(g) => Gender::parse(g).map_err(|e| errs.push(e)).ok(),
        };
        let year = i64::from(today.year());
        let birth_year = match (self.birth_year, self.age) {
            (Some(_), Some(_)) => {
                errs.push(FieldError::new(
                    "age",
                    "conflicts_with_birth_year",
                    "give birth_year or age, not both",
                ));
                None
            }
            (Some(y), None) if (year - MAX_DEPENDANT_AGE..=year).contains(&y) => Some(y),
            (Some(_), None) => {
                errs.push(FieldError::new(
                    "birth_year",
                    "out_of_range",
                    format!(
                        "birth_year must be between {} and {year}",
                        year - MAX_DEPENDANT_AGE
                    ),
                ));
                None
            }
            (None, Some(a)) if (0..=MAX_DEPENDANT_AGE).contains(&a) => Some(year - a),
            (None, Some(_)) => {
                errs.push(FieldError::new(
                    "age",
                    "out_of_range",
                    format!("age must be between 0 and {MAX_DEPENDANT_AGE}"),
                ));
                None
            }
            (None, None) => None,
        };
        let mut whereabouts = self.whereabouts;
        check_text(&mut errs, "whereabouts", &mut whereabouts, MAX_SHORT_TEXT);
        if self.with_victim && whereabouts.is_some() {
            errs.push(FieldError::new(
                "whereabouts",
                "only_when_elsewhere",
                "whereabouts is recorded only for a dependant who does not live with her",
            ));
        }
        errs.into_result()?;
        Ok(ValidDependant {
            relation: relation.ok_or_else(|| ValidationErrors::single(required("relation")))?,
            gender,
            birth_year: birth_year.and_then(|y| i32::try_from(y).ok()),
            with_victim: self.with_victim,
            whereabouts,
            needs_schooling: self.needs_schooling,
            needs_childcare: self.needs_childcare,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DependantView {
    pub id: uuid::Uuid,
    pub relation: Relation,
    #[serde(rename = "prs_Gender", skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_year: Option<i32>,
    /// This year minus the birth year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<i32>,
    pub with_victim: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whereabouts: Option<String>,
    pub needs_schooling: bool,
    pub needs_childcare: bool,
    pub created_at: String,
}

/// How the linked child records compare with `prs_NumberOfChildren`.
///
/// Rule: only dependants whose relation counts as a child (`Relation::counts_as_child`) are
/// compared. When `prs_NumberOfChildren` is set, the records may not exceed it (a new child
/// record beyond it is refused; correct the number first); fewer records are allowed (children
/// are recorded as the case worker learns about them) and shown as "n of N recorded". When it
/// is not set, any number may be recorded. If the number is later lowered below the records,
/// the mismatch is reported (`consistent = false`), never hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChildrenCount {
    #[serde(rename = "prs_NumberOfChildren")]
    pub declared: Option<i64>,
    pub recorded: i64,
    pub consistent: bool,
    pub complete: bool,
}

pub fn children_count(declared: Option<i64>, recorded: i64) -> ChildrenCount {
    ChildrenCount {
        declared,
        recorded,
        consistent: declared.is_none_or(|d| recorded <= d),
        complete: declared.is_some_and(|d| recorded == d),
    }
}

/// Whether one more dependant of `relation` may be linked, given the declared number and
/// the child records already linked.
pub fn check_new_dependant(
    relation: Relation,
    declared: Option<i64>,
    recorded_children: i64,
) -> Result<(), FieldError> {
    match declared {
        Some(d) if relation.counts_as_child() && recorded_children >= d => Err(FieldError::new(
            "prs_NumberOfChildren",
            "exceeds_number_of_children",
            "the case records fewer children (prs_NumberOfChildren) than this would link; correct prs_NumberOfChildren first",
        )),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------- status and episodes

/// The kind of a status-history entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusChange {
    /// Between open statuses (Active ↔ FollowUp).
    Change,
    /// To Closed or ClosedReferred (reason required).
    Close,
    /// An explicit reopening of a closed case (reason required).
    Reopen,
    /// The first status of a case opened as a new episode.
    NewEpisode,
}

impl StatusChange {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusChange::Change => "change",
            StatusChange::Close => "close",
            StatusChange::Reopen => "reopen",
            StatusChange::NewEpisode => "new_episode",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            StatusChange::Change,
            StatusChange::Close,
            StatusChange::Reopen,
            StatusChange::NewEpisode,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

pub fn is_closed(s: CaseStatus) -> bool {
    matches!(s, CaseStatus::Closed | CaseStatus::ClosedReferred)
}

fn reason_text(errs: &mut ValidationErrors, field: &str, reason: Option<&str>) -> Option<String> {
    let mut r = reason.map(str::to_string);
    check_text(errs, field, &mut r, MAX_LONG_TEXT);
    r
}

/// A status change that is not a reopening: the case must be open, the status must change,
/// and closing needs `cas_ReasonForCaseClosure`. Returns the kind and the cleaned reason.
pub fn check_status_change(
    from: CaseStatus,
    to: &str,
    reason: Option<&str>,
) -> Result<(CaseStatus, StatusChange, Option<String>), ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let to = match to.trim() {
        "" => {
            errs.push(required("cas_Status"));
            None
        }
        s => CaseStatus::parse(s).map_err(|e| errs.push(e)).ok(),
    };
    let reason = reason_text(&mut errs, "cas_ReasonForCaseClosure", reason);
    if is_closed(from) {
        errs.push(FieldError::new(
            "cas_Status",
            "closed_needs_reopen",
            "the case is closed; reopen it (with a reason) to change its status",
        ));
    } else if to == Some(from) {
        errs.push(FieldError::new(
            "cas_Status",
            "unchanged",
            "the case already has this cas_Status",
        ));
    }
    if to.is_some_and(is_closed) && reason.is_none() {
        errs.push(FieldError::new(
            "cas_ReasonForCaseClosure",
            "required",
            "cas_ReasonForCaseClosure is required to close a case",
        ));
    }
    errs.into_result()?;
    let to = to.ok_or_else(|| ValidationErrors::single(required("cas_Status")))?;
    let kind = if is_closed(to) {
        StatusChange::Close
    } else {
        StatusChange::Change
    };
    Ok((to, kind, reason))
}

/// Reopening: only a closed case, to an open status (Active by default), with a reason.
pub fn check_reopen(
    from: CaseStatus,
    to: Option<&str>,
    reason: Option<&str>,
) -> Result<(CaseStatus, String), ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let to = match to.map(str::trim) {
        None | Some("") => Some(CaseStatus::Active),
        Some(s) => CaseStatus::parse(s).map_err(|e| errs.push(e)).ok(),
    };
    if !is_closed(from) {
        errs.push(FieldError::new(
            "cas_Status",
            "not_closed",
            "only a closed case can be reopened",
        ));
    }
    if to.is_some_and(is_closed) {
        errs.push(FieldError::new(
            "cas_Status",
            "must_be_open",
            "a reopened case is Active or FollowUp",
        ));
    }
    let reason = reason_text(&mut errs, "reason", reason);
    if reason.is_none() {
        errs.push(required("reason"));
    }
    errs.into_result()?;
    match (to, reason) {
        (Some(t), Some(r)) => Ok((t, r)),
        _ => Err(ValidationErrors::single(required("reason"))),
    }
}

/// A new episode (re-trafficking) is opened from the latest episode of the person, once that
/// case is no longer Active (closed or in follow-up), with a reason.
pub fn check_new_episode(
    previous: CaseStatus,
    previous_is_latest: bool,
    reason: Option<&str>,
) -> Result<String, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    if previous == CaseStatus::Active {
        errs.push(FieldError::new(
            "cas_Status",
            "previous_case_active",
            "the case is still Active: record the new events in it, or close it first",
        ));
    }
    if !previous_is_latest {
        errs.push(FieldError::new(
            "previous_case",
            "not_latest_episode",
            "a new episode is opened from the latest episode of the person",
        ));
    }
    let reason = reason_text(&mut errs, "reason", reason);
    if reason.is_none() {
        errs.push(required("reason"));
    }
    errs.into_result()?;
    reason.ok_or_else(|| ValidationErrors::single(required("reason")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 22);

    fn fields(e: ValidationErrors) -> Vec<(String, &'static str)> {
        e.errors.into_iter().map(|e| (e.field, e.code)).collect()
    }

    fn event(kind: &str) -> EventInput {
        EventInput {
            kind: kind.into(),
            ..Default::default()
        }
    }

    #[test]
    fn event_validates_and_seals_the_sensitive_parts() {
        let e = EventInput {
            kind: "Exploitation".into(),
            country: Some("TR".into()),
            city: Some(" Istanbul ".into()),
            street: Some("Some street 5".into()),
            date: Some("2025-03-01".into()),
            description: Some("Worked 16 hours a day".into()),
            latitude: Some(41.0),
            longitude: Some(28.9),
            ..Default::default()
        }
        .validate(TODAY)
        .unwrap();
        assert_eq!(e.kind, EventType::Exploitation);
        assert_eq!(e.city.as_deref(), Some("Istanbul"));
        assert_eq!(e.sealed.street.as_deref(), Some("Some street 5"));
        assert_eq!(e.sealed.latitude, Some(41.0));
        assert_eq!(e.date, Some(date!(2025 - 03 - 01)));
    }

    #[test]
    fn event_errors_name_their_fields() {
        let e = EventInput {
            kind: "Transport".into(),
            country: Some("az".into()),
            date: Some("2030-01-01".into()),
            latitude: Some(91.0),
            ..Default::default()
        }
        .validate(TODAY)
        .unwrap_err();
        let f = fields(e);
        assert!(f.contains(&("hte_Type".into(), "invalid_value")));
        assert!(f.contains(&("hte_Country".into(), "invalid_country")));
        assert!(f.contains(&("hte_Date".into(), "in_future")));
        assert!(f.contains(&("hte_Latitude".into(), "out_of_range")));
        assert!(f.contains(&("hte_Longitude".into(), "required_with_latitude")));
        assert_eq!(
            fields(event("").validate(TODAY).unwrap_err()),
            vec![("hte_Type".into(), "required")]
        );
        let old = EventInput {
            date: Some("1899-12-31".into()),
            ..event("Transit")
        };
        assert_eq!(
            fields(old.validate(TODAY).unwrap_err()),
            vec![("hte_Date".into(), "too_early")]
        );
    }

    #[test]
    fn error_messages_never_repeat_the_value() {
        let e = EventInput {
            kind: "SecretPlace".into(),
            ..Default::default()
        }
        .validate(TODAY)
        .unwrap_err();
        assert!(!e.errors[0].message.contains("SecretPlace"));
    }

    fn view(id: u128, date: Option<&str>, kind: EventType, entered: i64) -> EventView {
        EventView {
            id: uuid::Uuid::from_u128(id),
            kind,
            country: None,
            city: None,
            state: None,
            date: date.map(str::to_string),
            sealed: EventSealed::default(),
            created_at: String::new(),
            entered_ms: entered,
        }
    }

    #[test]
    fn chronological_order() {
        let mut v = vec![
            view(1, None, EventType::Recruitment, 1),
            view(2, Some("2025-05-01"), EventType::Exploitation, 2),
            view(3, Some("2025-05-01"), EventType::Transit, 3),
            view(4, Some("2024-01-01"), EventType::Recruitment, 4),
        ];
        sort_chronologically(&mut v);
        let ids: Vec<u128> = v.iter().map(|e| e.id.as_u128()).collect();
        assert_eq!(ids, vec![4, 3, 2, 1]);
    }

    #[test]
    fn perpetrator_roles() {
        let p = PerpetratorInput {
            roles: vec![
                "Exploiter".into(),
                "RecruiterOrIntermediary".into(),
                "Exploiter".into(),
            ],
            details: None,
        }
        .validate()
        .unwrap();
        assert_eq!(
            p.roles,
            vec![
                PerpetratorRole::RecruiterOrIntermediary,
                PerpetratorRole::Exploiter
            ]
        );
        assert_eq!(encode_roles(&p.roles), "RecruiterOrIntermediary;Exploiter");
        assert_eq!(
            decode_roles("RecruiterOrIntermediary;Exploiter"),
            Ok(p.roles)
        );
        let e = PerpetratorInput {
            roles: vec!["Other".into(), "Boss".into()],
            details: Some("  ".into()),
        }
        .validate()
        .unwrap_err();
        let f = fields(e);
        assert!(f.contains(&("per_RoleInProcess[1]".into(), "invalid_value")));
        assert!(f.contains(&("per_RoleDetails".into(), "required_for_other")));
        assert_eq!(
            fields(PerpetratorInput::default().validate().unwrap_err()),
            vec![("per_RoleInProcess".into(), "required")]
        );
    }

    #[test]
    fn dependants() {
        let d = DependantInput {
            relation: "Child".into(),
            gender: Some("Masculine".into()),
            age: Some(7),
            with_victim: false,
            whereabouts: Some("With grandmother".into()),
            needs_schooling: true,
            ..Default::default()
        }
        .validate(TODAY)
        .unwrap();
        assert_eq!(d.birth_year, Some(2019));
        assert_eq!(d.relation, Relation::Child);
        let e = DependantInput {
            relation: "Cousin".into(),
            gender: Some("Boy".into()),
            birth_year: Some(2010),
            age: Some(16),
            with_victim: true,
            whereabouts: Some("x".into()),
            ..Default::default()
        }
        .validate(TODAY)
        .unwrap_err();
        let f = fields(e);
        assert!(f.contains(&("relation".into(), "invalid_value")));
        assert!(f.contains(&("prs_Gender".into(), "invalid_value")));
        assert!(f.contains(&("age".into(), "conflicts_with_birth_year")));
        assert!(f.contains(&("whereabouts".into(), "only_when_elsewhere")));
        let e = DependantInput {
            relation: "Child".into(),
            birth_year: Some(2027),
            ..Default::default()
        }
        .validate(TODAY)
        .unwrap_err();
        assert_eq!(fields(e), vec![("birth_year".into(), "out_of_range")]);
    }

    #[test]
    fn children_rule() {
        assert!(check_new_dependant(Relation::Child, Some(2), 1).is_ok());
        let e = check_new_dependant(Relation::Child, Some(2), 2).unwrap_err();
        assert_eq!(e.field, "prs_NumberOfChildren");
        assert!(check_new_dependant(Relation::Sibling, Some(0), 5).is_ok());
        assert!(check_new_dependant(Relation::Stepchild, None, 9).is_ok());
        let c = children_count(Some(2), 1);
        assert!(c.consistent && !c.complete);
        assert!(!children_count(Some(1), 2).consistent);
        assert!(children_count(None, 3).consistent);
    }

    #[test]
    fn closing_needs_reason_and_closed_needs_reopen() {
        let (to, kind, r) =
            check_status_change(CaseStatus::Active, "Closed", Some(" returned home ")).unwrap();
        assert_eq!(
            (to, kind, r.as_deref()),
            (
                CaseStatus::Closed,
                StatusChange::Close,
                Some("returned home")
            )
        );
        assert_eq!(
            fields(check_status_change(CaseStatus::Active, "Closed", None).unwrap_err()),
            vec![("cas_ReasonForCaseClosure".into(), "required")]
        );
        assert_eq!(
            fields(check_status_change(CaseStatus::Closed, "Active", Some("x")).unwrap_err()),
            vec![("cas_Status".into(), "closed_needs_reopen")]
        );
        assert_eq!(
            fields(check_status_change(CaseStatus::Active, "Open", None).unwrap_err()),
            vec![("cas_Status".into(), "invalid_value")]
        );
        let (to, r) = check_reopen(CaseStatus::ClosedReferred, None, Some("new need")).unwrap();
        assert_eq!((to, r.as_str()), (CaseStatus::Active, "new need"));
        assert!(check_reopen(CaseStatus::Closed, Some("Closed"), Some("x")).is_err());
        assert_eq!(
            fields(check_reopen(CaseStatus::FollowUp, None, None).unwrap_err()),
            vec![
                ("cas_Status".into(), "not_closed"),
                ("reason".into(), "required")
            ]
        );
    }

    #[test]
    fn new_episode_rules() {
        assert!(check_new_episode(CaseStatus::Closed, true, Some("re-trafficked")).is_ok());
        assert!(check_new_episode(CaseStatus::FollowUp, true, Some("re-trafficked")).is_ok());
        let f = fields(check_new_episode(CaseStatus::Active, false, None).unwrap_err());
        assert_eq!(
            f,
            vec![
                ("cas_Status".into(), "previous_case_active"),
                ("previous_case".into(), "not_latest_episode"),
                ("reason".into(), "required")
            ]
        );
    }

    fn any_status() -> impl Strategy<Value = CaseStatus> {
        proptest::sample::select(CaseStatus::ALL.to_vec())
    }

    proptest! {
        /// Every value outside the HTCDS lists is refused, naming the field.
        #[test]
        fn vocab_rejects_unknown(s in ".{0,20}") {
            let known = EventType::ALL.iter().any(|x| x.as_str() == s);
            match EventType::parse(&s) {
                Ok(_) => prop_assert!(known),
                Err(e) => { prop_assert!(!known); prop_assert_eq!(e.field, "hte_Type"); }
            }
            let known = PerpetratorRole::ALL.iter().any(|x| x.as_str() == s);
            prop_assert_eq!(PerpetratorRole::parse(&s).is_ok(), known);
        }

        /// Any subset of HTCDS roles validates and survives the stored form.
        #[test]
        fn role_subsets_round_trip(mask in 1u32..(1 << 15)) {
            let roles: Vec<String> = PerpetratorRole::ALL.iter().enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, r)| r.as_str().to_string()).collect();
            let p = PerpetratorInput { roles, details: Some("d".into()) }.validate().unwrap();
            prop_assert_eq!(decode_roles(&encode_roles(&p.roles)), Ok(p.roles.clone()));
            prop_assert_eq!(p.roles.len() as u32, mask.count_ones());
        }

        /// Coordinates are accepted exactly inside the ranges.
        #[test]
        fn coordinates(lat in -200.0f64..200.0, lon in -400.0f64..400.0) {
            let r = EventInput { latitude: Some(lat), longitude: Some(lon), ..event("Transit") }.validate(TODAY);
            prop_assert_eq!(r.is_ok(), lat.abs() <= 90.0 && lon.abs() <= 180.0);
        }

        /// Chronological sort: a permutation, dated before undated, dates non-decreasing.
        #[test]
        fn sort_is_chronological(items in proptest::collection::vec((proptest::option::of(0u32..5000), 0usize..3, 0i64..100), 0..20)) {
            let mut v: Vec<EventView> = items.iter().enumerate().map(|(i, (d, k, t))| {
                let date = d.map(|d| (date!(2010 - 01 - 01) + time::Duration::days(i64::from(d))).to_string());
                view(i as u128, date.as_deref(), EventType::ALL[*k], *t)
            }).collect();
            sort_chronologically(&mut v);
            prop_assert_eq!(v.len(), items.len());
            for w in v.windows(2) {
                match (&w[0].date, &w[1].date) {
                    (Some(a), Some(b)) => prop_assert!(a < b || (a == b && w[0].kind <= w[1].kind)),
                    (None, Some(_)) => prop_assert!(false, "undated before dated"),
                    _ => {}
                }
            }
        }

        /// Status changes: never from a closed case, never to the same status, closing only
        /// with a reason; reopening only a closed case, to an open status, with a reason.
        #[test]
        fn status_rules(from in any_status(), to in any_status(), reason in proptest::option::of("[a-z ]{0,8}")) {
            let has_reason = reason.as_deref().is_some_and(|r| !r.trim().is_empty());
            let ok = check_status_change(from, to.as_str(), reason.as_deref()).is_ok();
            prop_assert_eq!(ok, !is_closed(from) && from != to && (!is_closed(to) || has_reason));
            let ok = check_reopen(from, Some(to.as_str()), reason.as_deref()).is_ok();
            prop_assert_eq!(ok, is_closed(from) && !is_closed(to) && has_reason);
            let ok = check_new_episode(from, true, reason.as_deref()).is_ok();
            prop_assert_eq!(ok, from != CaseStatus::Active && has_reason);
        }

        /// Child records never exceed a declared prs_NumberOfChildren through this rule.
        #[test]
        fn children_never_exceed_declared(declared in 0i64..6, adds in proptest::collection::vec(0usize..5, 0..12)) {
            let mut recorded = 0i64;
            for a in adds {
                let rel = Relation::ALL[a];
                if check_new_dependant(rel, Some(declared), recorded).is_ok() && rel.counts_as_child() {
                    recorded += 1;
                }
            }
            prop_assert!(recorded <= declared);
            prop_assert!(children_count(Some(declared), recorded).consistent);
        }

        /// Age and birth year agree: age a today means birth year = this year − a.
        #[test]
        fn age_to_birth_year(age in 0i64..=100) {
            let d = DependantInput { relation: "Child".into(), age: Some(age), with_victim: true, ..Default::default() }.validate(TODAY).unwrap();
            prop_assert_eq!(d.birth_year, Some(2026 - age as i32));
        }
    }
}
