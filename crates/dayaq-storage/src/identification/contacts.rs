//! Intake contacts: recorded by an organisation before (or without) a case; the summary is
//! sealed under the contact's own key and decrypted only on the single-contact read (audited).

use super::{Contact, ContactRow};
use crate::crypto::{SecretKey, field_aad};
use crate::kernel::one_row;
use crate::kernel::{Ctx, ts};
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::identification::ContactChannel;
use dayaq_domain::policy::Action;
use dayaq_domain::{FieldError, ValidationErrors};
use sqlx::{FromRow, Row};
use uuid::Uuid;

impl Store {
    /// Records an intake contact (possibly anonymous); its summary is encrypted under its own key.
    pub async fn create_contact(
        &self,
        ctx: &Ctx<'_>,
        channel: ContactChannel,
        anonymous: bool,
        summary: Option<&str>,
    ) -> Result<Contact> {
        self.authorize_org(ctx, Action::CreateCase)?;
        // An empty contact is refused by its summary (issue #23 §3; screen and API alike).
        let summary = Some(dayaq_domain::identification::contact_summary(
            summary.unwrap_or(""),
        )?);
        if let Some(s) = summary
            && s.chars().count() > dayaq_domain::case::MAX_LONG_TEXT
        {
            return Err(ValidationErrors::single(FieldError::new(
                "summary",
                "too_long",
                "summary is too long",
            ))
            .into());
        }
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let key = SecretKey::generate()?;
        let aad = field_aad("contacts", "summary", &ids, "contact");
        let sealed = summary.map(|s| key.seal(&aad, s.as_bytes())).transpose()?;
        let mut tx = self.begin_write().await?;
        // Wrapped after `begin_write`, which adopts a master key rotated by another process.
        let (kid, wrapped) = self.keys.wrap_case_key(&key)?;
        sqlx::query(
            "INSERT INTO contacts (id, org_id, channel, anonymous, master_key_id, wrapped_key, summary, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&ids)
        .bind(ctx.actor.org_id.to_string())
        .bind(channel.as_str())
        .bind(i64::from(anonymous))
        .bind(kid)
        .bind(wrapped)
        .bind(sealed)
        .bind(ctx.actor.user_id.to_string())
        .bind(millis(ctx.now))
        .execute(&mut *tx)
        .await?;
        let detail = format!("contact={ids} channel={}", channel.as_str());
        let e = ctx.entry_with("contact.create", "success", "", detail);
        tx.commit_with(&e, millis(ctx.now)).await?;
        Ok(Contact {
            id,
            channel: channel.as_str().into(),
            anonymous,
            case_id: None,
            created_at: ts(millis(ctx.now)),
            summary: None,
        })
    }

    /// The organisation's contacts, newest first (summaries stay encrypted).
    pub async fn list_contacts(&self, ctx: &Ctx<'_>, limit: i64) -> Result<Vec<Contact>> {
        self.authorize_org(ctx, Action::ListCases)?;
        let rows = sqlx::query(
            "SELECT id, channel, anonymous, case_id, created_at FROM contacts WHERE org_id = $1 ORDER BY created_at DESC LIMIT $2",
        )
        .bind(ctx.actor.org_id.to_string())
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| ContactRow::from_row(r)?.into_contact(None))
            .collect()
    }

    /// One contact with its summary decrypted (audited).
    pub async fn get_contact(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<Contact> {
        self.authorize_org(ctx, Action::ListCases)?;
        let r = sqlx::query(
            "SELECT id, channel, anonymous, case_id, created_at, master_key_id, wrapped_key, summary FROM contacts WHERE id = $1 AND org_id = $2",
        )
        .bind(id.to_string())
        .bind(ctx.actor.org_id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let ids = id.to_string();
        let summary = match (
            r.try_get::<Option<String>, _>("master_key_id")?,
            r.try_get::<Option<Vec<u8>>, _>("wrapped_key")?,
            r.try_get::<Option<Vec<u8>>, _>("summary")?,
        ) {
            (Some(kid), Some(wrapped), Some(ct)) => {
                let key = self.keys.unwrap_case_key(&kid, &wrapped)?;
                let plain = key.open(&field_aad("contacts", "summary", &ids, "contact"), &ct)?;
                Some(String::from_utf8_lossy(&plain).into_owned())
            }
            _ => None,
        };
        let e = ctx.entry_with("contact.read", "success", "", format!("contact={ids}"));
        self.audit(e, ctx.now).await?;
        ContactRow::from_row(&r)?.into_contact(summary)
    }

    /// Links a contact to a case of the same organisation ("a case keeps its contacts").
    pub async fn link_contact(&self, ctx: &Ctx<'_>, contact: Uuid, case: Uuid) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut w = self.write_case(ctx, &access).await?;
        one_row(sqlx::query(
            "UPDATE contacts SET case_id = $1 WHERE id = $2 AND org_id = $3 AND case_id IS NULL",
        )
        .bind(case.to_string())
        .bind(contact.to_string())
        .bind(access.facts().owner_org.to_string())
        .execute(&mut *w)
        .await?)?;
        let detail = format!("contact={contact}");
        w.event("contact.linked", &detail).await?;
        w.commit("contact.link", detail).await
    }
}
