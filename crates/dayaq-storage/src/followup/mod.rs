//! Long-term follow-up storage: the survivor's contact protocol (personal parts sealed with
//! the case key), the follow-up plan and its tasks, logged contacts (checked against the
//! protocol), reintegration assessments, questionnaire import and per-question summaries.
//! Rules live in `dayaq_domain::followup`.

mod assessments;
mod checkin;
mod contacts;
mod plan;
mod protocol;
mod questionnaire;
mod schedule;

pub use assessments::*;
pub use checkin::*;
pub use contacts::*;
pub use plan::*;
pub use protocol::*;
pub use questionnaire::*;
pub use schedule::*;

use crate::audit::append;
use crate::crypto::field_aad;
use crate::kernel::{CaseAccess, Ctx};
use crate::kernel::{ts, uuid_of};
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::followup::{
    self as rules, Answers, Breach, Channel, ContactRules, DEFAULT_MAX_FAILED, DEFAULT_MONTHS,
    DEFAULT_UTC_OFFSET_MIN, MAX_TEXT, QUESTIONS, RiskFlag, ScheduleSource, Trajectory, Window,
};
/// The inputs of the protocol and of an assessment, and their checks, are domain types.
pub use dayaq_domain::followup::{AssessmentInput, ProtocolInput};
use dayaq_domain::identification::follow_up_covered;
use dayaq_domain::policy::{Action, Resource, Section, decide};
use dayaq_domain::stats::Cell;
use dayaq_domain::{FieldError, ValidationErrors};
/// The questionnaire file format (reading, checking, columns).
pub use dayaq_interchange::questionnaire::{
    QuestionnaireRow, parse_questionnaire, questionnaire_columns,
};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow, Row};
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

fn invalid(field: &str, code: &'static str, msg: &str) -> StoreError {
    ValidationErrors::single(FieldError::new(field, code, msg)).into()
}
fn parse_date(field: &str, s: &str) -> Result<Date> {
    rules::parse_day(field, s).map_err(|e| ValidationErrors::single(e).into())
}
fn date_str(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}
/// The local (Azerbaijan) date of `now`.
pub fn today(now: OffsetDateTime) -> Date {
    let off = UtcOffset::from_whole_seconds(DEFAULT_UTC_OFFSET_MIN * 60).unwrap_or(UtcOffset::UTC);
    now.to_offset(off).date()
}

fn clean(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl Store {
    async fn followup_consent(&self, conn: &mut AnyConnection, case: &str) -> Result<bool> {
        let rows =
            sqlx::query("SELECT purpose, given, withdrawn_at FROM consents WHERE case_id = $1")
                .bind(case)
                .fetch_all(&mut *conn)
                .await?;
        let mut facts = Vec::new();
        for r in &rows {
            let purpose: String = r.try_get("purpose")?;
            if let Ok(p) = dayaq_domain::identification::ConsentPurpose::parse(&purpose) {
                facts.push(dayaq_domain::identification::ConsentFact {
                    purpose: p,
                    given: r.try_get::<i64, _>("given")? != 0,
                    recipient_org: None,
                    recipient_org_type: None,
                    withdrawn: r.try_get::<Option<i64>, _>("withdrawn_at")?.is_some(),
                });
            }
        }
        Ok(follow_up_covered(&facts))
    }
}
