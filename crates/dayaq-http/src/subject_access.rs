//! Her copy of her record (issue #17 part 2, access request), shared by the JSON API
//! (`api/subject_requests.rs`) and the screen (`pages/subject_requests.rs`): the readable
//! HTML in the language chosen on the request, the HTCDS JSON document, both packed in a ZIP
//! that the store encrypts to a one-time passphrase. Nothing of it is kept in clear: the ZIP
//! lives in memory only, the passphrase is returned once.

use crate::AppState;
use crate::error::AppError;
use crate::i18n::{LOCALES, Lang, Tr};
use askama::Template;
use dayaq_domain::subject_request::RequestRef;
use dayaq_interchange::documents::{Block, Document, pdf};
use dayaq_interchange::subject_access::{
    AccessDocument, FORMAT, Recipient, VERSION, htcds_case, pack,
};
use dayaq_storage::cases::Ctx;
use dayaq_storage::subject_requests::Zeroizing;
use fluent_templates::{LanguageIdentifier, Loader};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "subject_access_record.html")]
struct RecordHtml {
    t: Tr,
    holder: String,
    made: String,
    /// (label, HTCDS field name, value)
    rows: Vec<(String, String, String)>,
    /// (organisation, how, when)
    recipients: Vec<(String, String, String)>,
}

impl RecordHtml {
    /// The same copy as a printable document (issue #21 §2): what the page shows, in order.
    fn document(&self, lang: Lang) -> Document {
        let t = &self.t;
        let title = t.get("dsr-copy-title");
        let recipients = if self.recipients.is_empty() {
            Block::Paragraph(t.get("dsr-copy-no-recipients"))
        } else {
            Block::KeyValues(
                self.recipients
                    .iter()
                    .map(|(org, how, when)| (org.clone(), format!("{how} · {when}")))
                    .collect(),
            )
        };
        crate::documents::document(
            lang,
            t,
            title,
            vec![
                Block::Paragraph(t.get("dsr-copy-intro")),
                Block::KeyValues(vec![
                    (t.get("dsr-copy-holder"), self.holder.clone()),
                    (t.get("dsr-copy-made"), self.made.clone()),
                ]),
                Block::Heading(t.get("dsr-copy-record")),
                Block::KeyValues(
                    self.rows
                        .iter()
                        .map(|(label, _, value)| (label.clone(), value.clone()))
                        .collect(),
                ),
                Block::Heading(t.get("dsr-copy-recipients")),
                recipients,
                Block::Paragraph(t.get("dsr-copy-machine")),
            ],
        )
    }
}

/// The label of an HTCDS field in `t`'s language (the field name when there is none).
pub(crate) fn field_label(t: &Tr, name: &str) -> String {
    let key = format!("field-{}", name.replace('_', "-")).to_lowercase();
    let id: Option<LanguageIdentifier> = t.code().parse().ok();
    id.and_then(|id| LOCALES.try_lookup(&id, &key))
        .unwrap_or_else(|| name.to_string())
}

/// A value as she reads it: vocabulary values translated, lists joined.
pub(crate) fn value_text(t: &Tr, field: &str, v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => t.vocab(field, s),
        serde_json::Value::Array(xs) => xs
            .iter()
            .map(|x| match x {
                serde_json::Value::String(s) => t.vocab(field, s),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// How an organisation received her data, as she reads it.
const HOW: &[(&str, &str)] = &[
    ("referral", "dsr-how-referral"),
    ("package", "dsr-how-package"),
    ("transfer", "dsr-how-transfer"),
];

/// Makes her copy for access request `r` and seals it; gives the passphrase (shown once).
pub(crate) async fn make_copy(
    state: &AppState,
    ctx: &Ctx<'_>,
    case: Uuid,
    r: &RequestRef,
) -> Result<Zeroizing<String>, AppError> {
    let src = state.store.subject_access_source(ctx, case, r).await?;
    let lang = Lang::parse(src.language.as_str()).unwrap_or(Lang::Az);
    let t = Tr::new(lang);
    let created = ctx.now.format(&Rfc3339).unwrap_or_default();
    let how = |h: &str| {
        HOW.iter()
            .find(|(code, _)| *code == h)
            .map(|(_, k)| t.get(k))
            .unwrap_or_else(|| h.to_string())
    };
    let doc = AccessDocument {
        format: FORMAT.into(),
        version: VERSION,
        created: created.clone(),
        language: lang.code().into(),
        holder: src.owner_org.clone(),
        case: htcds_case(&src.case),
        recipients: src
            .recipients
            .iter()
            .map(|r| Recipient {
                organisation: r.organisation.clone(),
                how: r.how.clone(),
                at: r.at.clone(),
                state: r.state.clone(),
            })
            .collect(),
    };
    let page = RecordHtml {
        holder: src.owner_org.clone(),
        made: t.datetime(&created),
        rows: doc
            .case
            .iter()
            .map(|(k, v)| (field_label(&t, k), k.clone(), value_text(&t, k, v)))
            .collect(),
        recipients: src
            .recipients
            .iter()
            .map(|r| (r.organisation.clone(), how(&r.how), t.datetime(&r.at)))
            .collect(),
        t,
    };
    let html = page
        .render()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let printable = Zeroizing::new(pdf(&page.document(lang)).map_err(|e| AppError::Internal(e.0))?);
    let zip = Zeroizing::new(
        pack(&html, &doc, &printable).map_err(|e| AppError::Internal(e.to_string()))?,
    );
    drop(html);
    drop(doc);
    Ok(state.store.seal_subject_access(ctx, case, r, &zip).await?)
}

/// The download name of her copy: no personal data, only the date.
pub(crate) fn download_name(state: &AppState) -> String {
    let d = state.now().date();
    format!(
        "record-{:04}-{:02}-{:02}.zip.age",
        d.year(),
        u8::from(d.month()),
        d.day()
    )
}
