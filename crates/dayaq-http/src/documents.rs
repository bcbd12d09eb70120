//! Printable documents (issue #21 §2): the labels of each kind in the reader's language, the
//! query and the answer shared by the API routes that give them (`?lang=az|ru|en`, default the
//! account's language; `Content-Disposition: attachment` with a neutral file name, never a
//! name or a case number). The storage reads each source through the policy and audits the
//! printing (`dayaq_storage::documents`); the layout and the PDF are pure
//! (`dayaq_interchange::documents`). The plan's labels live with the plan screen
//! (`pages/assistance/document.rs`), her copy's with her copy (`subject_access.rs`).

use crate::auth::Authed;
use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use crate::subject_access::{field_label, value_text};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use dayaq_domain::policy::Section;
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_interchange::documents::{Block, Document, pdf};
use dayaq_interchange::subject_access::htcds_case;
use dayaq_storage::documents::{ConsentSource, ReferralLetterSource};
use serde::Deserialize;

/// The language of a printed document.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DocQuery {
    /// The document's language: `az`, `ru` or `en` (default: the account's language).
    #[serde(default)]
    lang: Option<String>,
}

impl DocQuery {
    /// The asked language, else the account's; a 422 naming `lang` for any other value.
    pub(crate) fn lang(&self, a: &Authed) -> Result<Lang, AppError> {
        match self
            .lang
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(Lang::parse(&a.user.locale).unwrap_or(Lang::Az)),
            Some(l) => Lang::parse(l).ok_or_else(|| {
                AppError::Invalid(ValidationErrors::single(FieldError::new(
                    "lang",
                    "unknown",
                    "az, ru or en",
                )))
            }),
        }
    }
}

/// The PDF as a download: neutral name (`kind-YYYY-MM-DD.pdf`), never cached.
pub(crate) fn pdf_answer(d: &Document, kind: &str, now: time::OffsetDateTime) -> Response {
    match pdf(d) {
        Ok(bytes) => {
            let day = now.date();
            let name = format!(
                "{kind}-{:04}-{:02}-{:02}.pdf",
                day.year(),
                u8::from(day.month()),
                day.day()
            );
            (
                [
                    (CONTENT_TYPE, "application/pdf".to_string()),
                    (
                        CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                    (CACHE_CONTROL, "no-store".to_string()),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => AppError::Internal(e.0).into_response(),
    }
}

/// A document in `lang` with its title and blocks; the footer before the page number is
/// `Dayaq · <title> · page`.
pub(crate) fn document(lang: Lang, t: &Tr, title: String, blocks: Vec<Block>) -> Document {
    Document {
        lang: lang.code().into(),
        footer: format!("Dayaq · {title} · {}", t.get("doc-page")),
        title,
        blocks,
    }
}

/// Signature lines: one per person, each with a date line.
pub(crate) fn signatures(t: &Tr, people: &[&str]) -> Block {
    Block::Signatures {
        people: people.iter().map(|k| t.get(k)).collect(),
        date: t.get("doc-date"),
    }
}

/// A section's name as a heading (`identity` → `Identity`).
fn section_name(t: &Tr, s: Section) -> String {
    let key = match s {
        Section::Identity => "identity",
        Section::ContactDetails => "contact-details",
        Section::VictimContext => "victim-context",
        Section::Health => "health",
        Section::Legal => "legal",
        Section::Plan => "plan",
        Section::Services => "services",
        Section::FollowUp => "follow-up",
        Section::Notes => "notes",
    };
    let name = t.get(&format!("package-section-{key}"));
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => name,
    }
}

/// The referral letter: who refers whom to whom for what, then ONLY the parts of the record
/// the referral's services cover (the case was cut to them by `redact_case` in the store),
/// signature lines for both organisations.
pub(crate) fn referral_letter(lang: Lang, s: &ReferralLetterSource) -> Document {
    let t = Tr::new(lang);
    let r = &s.referral;
    let title = t.get("doc-referral-title");
    let services = r
        .services
        .iter()
        .map(|x| t.get(&format!("service-{}", x.to_lowercase())))
        .collect::<Vec<_>>()
        .join(", ");
    let mut head = vec![
        (t.get("doc-referral-from"), s.from_org.clone()),
        (t.get("doc-referral-to"), s.to_org.clone()),
        (t.get("doc-date"), t.datetime(&r.created_at)),
        (t.get("doc-case-number"), r.case_number.clone()),
        (t.get("doc-referral-services"), services),
        (
            t.get("doc-referral-reason"),
            t.vocab("cas_ReasonForOutgoingReferral", &r.reason),
        ),
    ];
    if let Some(d) = &r.details {
        head.push((t.get("doc-referral-details"), d.clone()));
    }
    // The case number is in the head already.
    let record: Vec<(String, String)> = htcds_case(&s.case)
        .iter()
        .filter(|(k, _)| k.as_str() != "case_number")
        .map(|(k, v)| (field_label(&t, k), value_text(&t, k, v)))
        .collect();
    let covered = s
        .sections
        .iter()
        .map(|x| section_name(&t, *x))
        .collect::<Vec<_>>()
        .join(", ");
    let blocks = vec![
        Block::KeyValues(head),
        Block::Paragraph(t.get("doc-referral-only")),
        Block::Heading(t.get("doc-referral-sections")),
        Block::Paragraph(covered),
        Block::Heading(t.get("doc-referral-record")),
        Block::KeyValues(record),
        Block::Paragraph(t.get("doc-referral-in-dayaq")),
        signatures(&t, &["doc-sign-sender", "doc-sign-receiver"]),
    ];
    document(lang, &t, title, blocks)
}

/// The consent form of a recorded consent, for her signature: the purpose, to whom, her
/// answer, who gave it, and her right to withdraw it.
pub(crate) fn consent_form(lang: Lang, s: &ConsentSource) -> Document {
    let t = Tr::new(lang);
    let c = &s.consent;
    let purpose = t.get(&format!("consent-purpose-{}", c.purpose.to_lowercase()));
    let title = format!("{}: {purpose}", t.get("doc-consent-title"));
    let recipient = s
        .recipient
        .clone()
        .or(c
            .recipient_org_type
            .as_deref()
            .map(|x| t.vocab("org_Type", x)))
        .unwrap_or_else(|| "—".into());
    let mut kv = vec![
        (t.get("doc-organisation"), s.holder.clone()),
        (t.get("doc-case-number"), s.case_number.clone()),
        (t.get("consent-purpose"), purpose),
        (t.get("consent-recipient"), recipient),
        (
            t.get("consent-answer"),
            t.get(if c.given {
                "consent-given"
            } else {
                "consent-declined"
            }),
        ),
        (
            t.get("consent-given-by"),
            t.get(&format!("consent-by-{}", c.given_by.to_lowercase())),
        ),
        (
            t.get("consent-language"),
            Lang::parse(&c.language)
                .map(|l| l.native_name().to_string())
                .unwrap_or_else(|| c.language.clone()),
        ),
        (t.get("consent-recorded"), t.datetime(&c.recorded_at)),
    ];
    if let Some(w) = &c.withdrawn_at {
        kv.push((t.get("consent-withdrawn"), t.datetime(w)));
    }
    let blocks = vec![
        Block::KeyValues(kv),
        Block::Paragraph(t.get("doc-consent-intro")),
        Block::Paragraph(t.get("doc-consent-withdraw")),
        signatures(&t, &["doc-sign-survivor", "doc-sign-caseworker"]),
    ];
    document(lang, &t, title, blocks)
}
