//! In-app notifications of an organisation (and role).
use super::*;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub ref_id: String,
    pub created_at: String,
    pub read: bool,
}

impl Store {
    pub(super) async fn notify(
        conn: &mut AnyConnection,
        org: Uuid,
        role: Option<&str>,
        kind: &str,
        ref_id: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query("INSERT INTO notifications (id, org_id, role, kind, ref_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(Uuid::new_v4().to_string())
            .bind(org.to_string())
            .bind(role)
            .bind(kind)
            .bind(ref_id)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

impl Store {
    // ---------- notifications ----------

    /// Notifications for the actor's organisation (and role), newest first.
    pub async fn notifications(&self, ctx: &Ctx<'_>) -> Result<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, kind, ref_id, created_at, read_at FROM notifications WHERE org_id = $1 AND (role IS NULL OR role = $2) \
             ORDER BY created_at DESC LIMIT 100",
        )
        .bind(ctx.actor.org_id.to_string())
        .bind(ctx.actor.role.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    kind: r.try_get("kind")?,
                    ref_id: r.try_get("ref_id")?,
                    created_at: ts(r.try_get("created_at")?),
                    read: r.try_get::<Option<i64>, _>("read_at")?.is_some(),
                })
            })
            .collect()
    }
}
