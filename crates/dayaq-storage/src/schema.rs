//! The logical schema: every table and column with its kind, in foreign-key order.
//! Backups and restores are driven by this list, and a test checks that both engines'
//! migrations produce exactly these tables and columns.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Blob,
}

use Kind::*;

pub type Table = (&'static str, &'static [(&'static str, Kind)]);

pub const TABLES: &[Table] = &[
    (
        "organisations",
        &[
            ("id", Text),
            ("slug", Text),
            ("name", Text),
            ("org_type", Text),
            ("region", Text),
            ("created_at", Int),
            ("timezone", Text),
        ],
    ),
    (
        "users",
        &[
            ("id", Text),
            ("org_id", Text),
            ("username", Text),
            ("role", Text),
            ("password_hash", Text),
            ("totp_secret", Blob),
            ("totp_enabled", Int),
            ("totp_last_step", Int),
            ("locale", Text),
            ("disabled", Int),
            ("created_at", Int),
            ("password_changed_at", Int),
        ],
    ),
    (
        "login_failures",
        &[
            ("id", Text),
            ("user_id", Text),
            ("source", Text),
            ("at", Int),
        ],
    ),
    (
        "sessions",
        &[
            ("id_hash", Text),
            ("user_id", Text),
            ("public_id", Text),
            ("csrf", Text),
            ("mfa_ok", Int),
            ("created_at", Int),
            ("last_seen", Int),
            ("user_agent", Text),
            ("source", Text),
            ("revoked_at", Int),
            ("mfa_attempts", Int),
        ],
    ),
    (
        "api_tokens",
        &[
            ("id", Text),
            ("user_id", Text),
            ("token_hash", Text),
            ("label", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("revoked_at", Int),
            ("last_used_at", Int),
            ("scope", Text),
        ],
    ),
    (
        "user_enrolments",
        &[
            ("id", Text),
            ("user_id", Text),
            ("token_hash", Text),
            ("created_by", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("used_at", Int),
        ],
    ),
    (
        "keyring",
        &[("name", Text), ("master_key_id", Text), ("wrapped", Blob)],
    ),
    (
        "cases",
        &[
            ("id", Text),
            ("case_number", Text),
            ("owner_org_id", Text),
            ("created_by", Text),
            ("version", Int),
            ("cas_status", Text),
            ("vic_trafficking_status", Text),
            ("prs_gender", Text),
            ("age_when_trafficked", Int),
            ("age_band", Text),
            ("identity", Blob),
            ("closure", Blob),
            ("created_at", Int),
            ("updated_at", Int),
            ("erased_at", Int),
        ],
    ),
    (
        "case_values",
        &[("case_id", Text), ("field", Text), ("value", Text)],
    ),
    (
        "case_keys",
        &[
            ("case_id", Text),
            ("master_key_id", Text),
            ("wrapped", Blob),
        ],
    ),
    (
        "blind_index",
        &[
            ("case_id", Text),
            ("org_id", Text),
            ("kind", Text),
            ("digest", Text),
        ],
    ),
    (
        "case_events",
        &[
            ("id", Text),
            ("case_id", Text),
            ("at", Int),
            ("actor_user", Text),
            ("kind", Text),
            ("detail", Text),
        ],
    ),
    (
        "audit_log",
        &[
            ("seq", Int),
            ("at", Int),
            ("actor_user", Text),
            ("actor_org", Text),
            ("action", Text),
            ("outcome", Text),
            ("case_id", Text),
            ("source", Text),
            ("detail", Text),
            ("prev_hash", Text),
            ("hash", Text),
            ("access_grant", Text),
        ],
    ),
    (
        "audit_head",
        &[
            ("id", Int),
            ("seq", Int),
            ("hash", Text),
            ("mac_seq", Int),
            ("mac_hash", Text),
            ("mac", Text),
            ("mac_key_id", Text),
        ],
    ),
    (
        "contacts",
        &[
            ("id", Text),
            ("org_id", Text),
            ("channel", Text),
            ("anonymous", Int),
            ("case_id", Text),
            ("master_key_id", Text),
            ("wrapped_key", Blob),
            ("summary", Blob),
            ("created_by", Text),
            ("created_at", Int),
        ],
    ),
    (
        "screenings",
        &[
            ("id", Text),
            ("case_id", Text),
            ("act", Int),
            ("means", Int),
            ("purpose", Int),
            ("is_child", Int),
            ("methods_of_control", Text),
            ("types_of_exploitation", Text),
            ("ilo_indicators", Text),
            ("possible_victim", Int),
            ("screened_by", Text),
            ("screened_by_org", Text),
            ("created_at", Int),
        ],
    ),
    (
        "identification_decisions",
        &[
            ("id", Text),
            ("case_id", Text),
            ("status", Text),
            ("decision_making_org", Text),
            ("decided_by", Text),
            ("decided_by_org", Text),
            ("decided_on", Text),
            ("reference", Text),
            ("created_at", Int),
        ],
    ),
    (
        "consents",
        &[
            ("id", Text),
            ("case_id", Text),
            ("purpose", Text),
            ("given", Int),
            ("recipient_org", Text),
            ("recipient_org_type", Text),
            ("given_by", Text),
            ("language", Text),
            ("recorded_by", Text),
            ("recorded_at", Int),
            ("withdrawn_at", Int),
            ("withdrawn_by", Text),
        ],
    ),
    (
        "org_services",
        &[
            ("id", Text),
            ("org_id", Text),
            ("service", Text),
            ("region", Text),
            ("city", Text),
            ("languages", Text),
            ("opening_hours", Text),
            ("capacity", Int),
            ("requires_police_cooperation", Int),
            ("requires_criminal_case", Int),
            ("requires_identified_victim", Int),
            ("women_only", Int),
            ("children_only", Int),
            ("adults_only", Int),
        ],
    ),
    (
        "referrals",
        &[
            ("id", Text),
            ("case_id", Text),
            ("from_org", Text),
            ("to_org", Text),
            ("services", Text),
            ("reason", Text),
            ("details", Blob),
            ("state", Text),
            ("consent_override", Blob),
            ("override_by", Text),
            ("created_by", Text),
            ("created_at", Int),
            ("responded_by", Text),
            ("responded_at", Int),
            ("decline_reason", Text),
            ("ended_at", Int),
            ("off_platform", Int),
            ("travel", Blob),
            ("ended_by", Text),
        ],
    ),
    (
        "break_glass",
        &[
            ("id", Text),
            ("case_id", Text),
            ("user_id", Text),
            ("org_id", Text),
            ("reason", Blob),
            ("created_at", Int),
            ("expires_at", Int),
        ],
    ),
    (
        "notifications",
        &[
            ("id", Text),
            ("org_id", Text),
            ("role", Text),
            ("kind", Text),
            ("ref_id", Text),
            ("created_at", Int),
            ("read_at", Int),
        ],
    ),
    (
        "case_legal",
        &[
            ("case_id", Text),
            ("criminal_case_ref", Blob),
            ("cooperation", Text),
            ("witness", Int),
            ("compensation_claim", Int),
            ("non_punishment", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "org_export_settings",
        &[
            ("org_id", Text),
            ("approval_required", Int),
            ("updated_by", Text),
            ("updated_at", Int),
        ],
    ),
    (
        "export_requests",
        &[
            ("id", Text),
            ("org_id", Text),
            ("requested_by", Text),
            ("requested_at", Int),
            ("state", Text),
            ("decided_by", Text),
            ("decided_at", Int),
            ("used_at", Int),
        ],
    ),
];

use crate::{Engine, Result, Store};
use sqlx::Row;

/// One column as the engine reports it: (table, column, kind).
pub type ColumnInfo = (String, String, Kind);

fn kind_of(engine_type: &str) -> Option<Kind> {
    match engine_type.to_ascii_lowercase().as_str() {
        "bigint" | "integer" => Some(Int),
        "text" => Some(Text),
        "blob" | "bytea" => Some(Blob),
        _ => None,
    }
}

impl Store {
    /// Reads the live schema from the engine's catalogue (user tables only), sorted.
    pub async fn live_schema(&self) -> Result<Vec<ColumnInfo>> {
        let q = match self.engine {
            Engine::Sqlite => {
                "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'"
            }
            Engine::Postgres => {
                "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'"
            }
        };
        let mut out = Vec::new();
        for r in sqlx::query(q).fetch_all(&self.pool).await? {
            let t: String = r.try_get("table_name")?;
            let c: String = r.try_get("column_name")?;
            let ty: String = r.try_get("data_type")?;
            let k = kind_of(&ty).ok_or_else(|| {
                crate::StoreError::Data(format!("unexpected column type in {t}.{c}"))
            })?;
            out.push((t, c, k));
        }
        out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        Ok(out)
    }
}

/// Every table of every module, in foreign-key order (backup and restore follow it).
pub fn all_tables() -> Vec<Table> {
    TABLES
        .iter()
        .chain(ASSISTANCE_TABLES)
        .chain(FOLLOWUP_TABLES)
        .chain(PACKAGES_TABLES)
        .chain(RECORD_TABLES)
        .chain(SCORECARD_TABLES)
        .chain(RELEASE_TABLES)
        .chain(AUDIT_ARCHIVE_TABLES)
        .chain(ALERTS_TABLES)
        .chain(RULES_TABLES)
        .chain(RETENTION_TABLES)
        .chain(SUBJECT_REQUEST_TABLES)
        .chain(CASELOAD_TABLES)
        .chain(ATTACHMENT_TABLES)
        .chain(WEBHOOK_TABLES)
        .chain(OIDC_TABLES)
        .chain(PASSKEY_TABLES)
        .copied()
        .collect()
}

/// The expected schema from `all_tables()` and the derived `STATISTICS_TABLES`, sorted like
/// `live_schema`.
pub fn expected_schema() -> Vec<ColumnInfo> {
    let mut v: Vec<ColumnInfo> = all_tables()
        .iter()
        .chain(STATISTICS_TABLES)
        .chain(ALERT_STATE_TABLES)
        .chain(FORM_TOKEN_TABLES)
        .chain(OIDC_PENDING_TABLES)
        .flat_map(|(t, cols)| {
            cols.iter()
                .map(move |(c, k)| (t.to_string(), c.to_string(), *k))
        })
        .collect();
    v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    v
}

/// Tables of the assistance area (`assistance.rs`), in foreign-key order.
pub const ASSISTANCE_TABLES: &[Table] = &[
    (
        "funding_sources",
        &[
            ("id", Text),
            ("org_id", Text),
            ("name", Text),
            ("kind", Text),
            ("created_at", Int),
        ],
    ),
    (
        "grants",
        &[
            ("id", Text),
            ("source_id", Text),
            ("amount_minor", Int),
            ("currency", Text),
            ("period_start", Text),
            ("period_end", Text),
            ("purpose", Text),
            ("created_at", Int),
        ],
    ),
    (
        "needs_assessments",
        &[
            ("id", Text),
            ("case_id", Text),
            ("org_id", Text),
            ("assessed_by", Text),
            ("assessed_at", Int),
            ("priorities", Blob),
        ],
    ),
    (
        "assessment_needs",
        &[
            ("id", Text),
            ("assessment_id", Text),
            ("domain", Text),
            ("severity", Text),
            ("notes", Blob),
        ],
    ),
    (
        "plans",
        &[
            ("id", Text),
            ("case_id", Text),
            ("org_id", Text),
            ("spl_type", Text),
            ("spl_objectives", Blob),
            ("spl_planned_end_date", Text),
            ("spl_actual_end_date", Text),
            ("review_on", Text),
            ("survivor_agreed", Int),
            ("agreed_at", Int),
            ("approved_by", Text),
            ("approved_at", Int),
            ("created_by", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "plan_goals",
        &[
            ("id", Text),
            ("plan_id", Text),
            ("term", Text),
            ("domain", Text),
            ("description", Blob),
            ("created_at", Int),
        ],
    ),
    (
        "plan_actions",
        &[
            ("id", Text),
            ("plan_id", Text),
            ("goal_id", Text),
            ("domain", Text),
            ("service", Text),
            ("responsible_org", Text),
            ("due_on", Text),
            ("status", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "shelter_facilities",
        &[
            ("id", Text),
            ("org_id", Text),
            ("name", Text),
            ("beds", Int),
            ("max_stay_days", Int),
            ("state_shelter", Int),
            ("created_at", Int),
        ],
    ),
    (
        "shelter_stays",
        &[
            ("id", Text),
            ("case_id", Text),
            ("facility_id", Text),
            ("admitted_on", Text),
            ("dependants", Int),
            ("exited_on", Text),
            ("exit_destination", Text),
            ("daily_cost_minor", Int),
            ("funding_source_id", Text),
            ("created_by", Text),
            ("created_at", Int),
        ],
    ),
    (
        "shelter_extensions",
        &[
            ("id", Text),
            ("stay_id", Text),
            ("days", Int),
            ("reason", Blob),
            ("requested_by", Text),
            ("requested_at", Int),
            ("approved_by", Text),
            ("approved_at", Int),
        ],
    ),
    (
        "services_delivered",
        &[
            ("id", Text),
            ("case_id", Text),
            ("plan_action_id", Text),
            ("service", Text),
            ("provider_org", Text),
            ("started_on", Text),
            ("ended_on", Text),
            ("outcome", Text),
            ("details", Blob),
            ("cost_minor", Int),
            ("funding_source_id", Text),
            ("created_by", Text),
            ("created_at", Int),
        ],
    ),
    (
        "allowance_payments",
        &[
            ("id", Text),
            ("person_key", Text),
            ("case_id", Text),
            ("org_id", Text),
            ("amount_minor", Int),
            ("currency", Text),
            ("status", Text),
            ("created_by", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
];

/// Tables of the followup area (`followup.rs`), in foreign-key order.
pub const FOLLOWUP_TABLES: &[Table] = &[
    (
        "followup_protocols",
        &[
            ("case_id", Text),
            ("channels", Text),
            ("windows", Text),
            ("utc_offset_min", Int),
            ("do_not_contact", Int),
            ("caller_user", Text),
            ("language", Text),
            ("sealed", Blob),
            ("updated_by", Text),
            ("updated_at", Int),
        ],
    ),
    (
        "followup_plans",
        &[
            ("case_id", Text),
            ("assistance_end", Text),
            ("months", Text),
            ("max_failed", Int),
            ("lost_contact_at", Int),
            ("updated_by", Text),
            ("updated_at", Int),
        ],
    ),
    (
        "followup_tasks",
        &[
            ("id", Text),
            ("case_id", Text),
            ("kind", Text),
            ("request", Text),
            ("due_on", Text),
            ("assignee", Text),
            ("channel", Text),
            ("planned_at", Int),
            ("state", Text),
            ("done_at", Int),
            ("created_by", Text),
            ("created_at", Int),
        ],
    ),
    (
        "followup_contacts",
        &[
            ("id", Text),
            ("case_id", Text),
            ("task_id", Text),
            ("channel", Text),
            ("at", Int),
            ("by_user", Text),
            ("reached", Int),
            ("outside_protocol", Int),
            ("breaches", Text),
            ("justification", Blob),
            ("created_at", Int),
        ],
    ),
    (
        "followup_assessments",
        &[
            ("id", Text),
            ("case_id", Text),
            ("round", Text),
            ("assessed_on", Text),
            ("answers", Text),
            ("words", Blob),
            ("source", Text),
            ("created_by", Text),
            ("created_at", Int),
        ],
    ),
    (
        "followup_org_schedules",
        &[
            ("org_id", Text),
            ("months", Text),
            ("updated_by", Text),
            ("updated_at", Int),
        ],
    ),
    // Self check-in (issue 17, migration 0019).
    (
        "followup_checkins",
        &[
            ("id", Text),
            ("case_id", Text),
            ("token_hash", Text),
            ("code_hash", Text),
            ("cover", Text),
            ("language", Text),
            ("created_by", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("answered_at", Int),
            ("revoked_at", Int),
            ("expiry_noted_at", Int),
            ("contact_id", Text),
            ("task_id", Text),
            ("cover_chosen_by_her", Int),
        ],
    ),
];

/// Tables of the packages area (`packages.rs`), in foreign-key order.
pub const PACKAGES_TABLES: &[Table] = &[
    (
        "org_age_recipients",
        &[("org_id", Text), ("recipient", Text), ("updated_at", Int)],
    ),
    (
        "instance_age_identities",
        &[
            ("id", Text),
            ("recipient", Text),
            ("identity", Blob),
            ("created_at", Int),
        ],
    ),
    (
        "referral_packages",
        &[
            ("id", Text),
            ("direction", Text),
            ("case_id", Text),
            ("referral_id", Text),
            ("counterpart", Text),
            ("services", Text),
            ("reason", Text),
            ("sections", Text),
            ("digest", Text),
            ("created_by", Text),
            ("created_at", Int),
            ("signed_by", Text),
        ],
    ),
    (
        "org_signing_keys",
        &[
            ("org_id", Text),
            ("public_key", Text),
            ("secret", Blob),
            ("created_at", Int),
        ],
    ),
    (
        "trusted_package_keys",
        &[
            ("public_key", Text),
            ("sender_org_id", Text),
            ("name", Text),
            ("accepted_at", Int),
        ],
    ),
];

/// Tables of the record area (`record.rs`), in foreign-key order.
pub const RECORD_TABLES: &[Table] = &[
    (
        "trafficking_events",
        &[
            ("id", Text),
            ("case_id", Text),
            ("hte_type", Text),
            ("hte_country", Text),
            ("hte_city", Text),
            ("hte_state", Text),
            ("hte_date", Text),
            ("sealed", Blob),
            ("created_by", Text),
            ("created_at", Int),
        ],
    ),
    (
        "perpetrator_roles",
        &[
            ("id", Text),
            ("case_id", Text),
            ("per_role_in_process", Text),
            ("sealed", Blob),
            ("created_by", Text),
            ("created_at", Int),
        ],
    ),
    (
        "dependants",
        &[
            ("id", Text),
            ("case_id", Text),
            ("relation", Text),
            ("prs_gender", Text),
            ("birth_year", Int),
            ("with_victim", Int),
            ("needs_schooling", Int),
            ("needs_childcare", Int),
            ("sealed", Blob),
            ("created_by", Text),
            ("created_at", Int),
        ],
    ),
    (
        "case_status_history",
        &[
            ("id", Text),
            ("case_id", Text),
            ("seq", Int),
            ("kind", Text),
            ("from_status", Text),
            ("to_status", Text),
            ("reason", Blob),
            ("actor_user", Text),
            ("at", Int),
        ],
    ),
    (
        "case_episodes",
        &[
            ("case_id", Text),
            ("series_id", Text),
            ("episode", Int),
            ("previous_case_id", Text),
            ("created_at", Int),
        ],
    ),
];

/// Tables of the action-plan scorecard (`statistics/scorecard.rs`).
pub const SCORECARD_TABLES: &[Table] = &[(
    "indicator_values",
    &[
        ("id", Text),
        ("indicator", Text),
        ("year", Int),
        ("value", Text),
        ("source", Text),
        ("entered_by", Text),
        ("entered_at", Int),
    ],
)];
/// Tables of the research data releases (`releases/`, migration 0018).
pub const RELEASE_TABLES: &[Table] = &[
    (
        "release_recipients",
        &[("user_id", Text), ("recipient", Text), ("updated_at", Int)],
    ),
    (
        "release_requests",
        &[
            ("id", Text),
            ("requester", Text),
            ("purpose", Text),
            ("kind", Text),
            ("period_from", Text),
            ("period_to", Text),
            ("variables", Text),
            ("k", Int),
            ("epsilon", Text),
            ("terms_accepted", Int),
            ("state", Text),
            ("decider", Text),
            ("reason", Text),
            ("created_at", Int),
            ("decided_at", Int),
            ("generated_at", Int),
            ("downloaded_at", Int),
        ],
    ),
    (
        "release_files",
        &[
            ("request_id", Text),
            ("ciphertext", Blob),
            ("sha256", Text),
            ("size", Int),
            ("records", Int),
            ("suppressed", Int),
            ("created_at", Int),
        ],
    ),
    (
        "privacy_ledger",
        &[
            ("id", Text),
            ("dataset", Text),
            ("period_from", Text),
            ("period_to", Text),
            ("epsilon", Text),
            ("release_id", Text),
            ("created_at", Int),
        ],
    ),
];
/// Access-anomaly alerts (`alerts/`, migration 0024), in foreign-key order.
pub const ALERTS_TABLES: &[Table] = &[
    (
        "alerts",
        &[
            ("id", Text),
            ("dedup_key", Text),
            ("rule", Text),
            ("severity", Text),
            ("org_id", Text),
            ("subject_user", Text),
            ("subject_source", Text),
            ("raised_at", Int),
            ("state", Text),
            ("ack_by", Text),
            ("ack_at", Int),
            ("ack_note", Text),
        ],
    ),
    ("alert_rows", &[("alert_id", Text), ("seq", Int)]),
];
/// The alert evaluation cursors (migration 0024): derived, so neither backed up nor restored;
/// after a restore evaluation starts again from the first row and the alerts' keys keep every
/// restored alert single.
pub const ALERT_STATE_TABLES: &[Table] = &[(
    "alert_state",
    &[("id", Int), ("last_seq", Int), ("deferred_seq", Int)],
)];
/// Rules of practice as data (`rules/`, migration 0020): the reflection period, facility
/// admission rules, admission refusals by reason, her priorities on the plan (sealed).
pub const RULES_TABLES: &[Table] = &[
    (
        "reflection_setting",
        &[
            ("id", Int),
            ("days", Int),
            ("updated_by", Text),
            ("updated_at", Int),
        ],
    ),
    (
        "facility_admission_rules",
        &[
            ("facility_id", Text),
            ("requires_cooperation", Int),
            ("updated_by", Text),
            ("updated_at", Int),
        ],
    ),
    (
        "admission_refusals",
        &[
            ("id", Text),
            ("facility_id", Text),
            ("org_id", Text),
            ("reason", Text),
            ("refused_on", Text),
            ("created_at", Int),
        ],
    ),
    (
        "plan_priorities",
        &[
            ("plan_id", Text),
            ("case_id", Text),
            ("words", Blob),
            ("updated_by", Text),
            ("updated_at", Int),
        ],
    ),
];
/// The maintained national statistics (`aggregates.rs`, migration 0017): derived from the
/// records, so neither backed up nor restored (`all_tables` leaves them out); a restore and
/// `dayaq statistics rebuild` recompute them.
pub const STATISTICS_TABLES: &[Table] = &[
    (
        "stat_cell",
        &[
            ("span", Int),
            ("year", Int),
            ("tbl", Text),
            ("row_key", Text),
            ("col_key", Text),
            ("n", Int),
        ],
    ),
    ("stat_person", &[("person", Text), ("cells", Text)]),
    ("stat_case", &[("case_id", Text), ("person", Text)]),
    ("stat_dirty", &[("case_id", Text)]),
];

/// Anchors of archived audit segments (`audit_viewer/archive.rs`, migration 0023).
pub const AUDIT_ARCHIVE_TABLES: &[Table] = &[(
    "audit_archive",
    &[
        ("last_seq", Int),
        ("first_seq", Int),
        ("first_prev_hash", Text),
        ("last_hash", Text),
        ("row_count", Int),
        ("segment_sha256", Text),
        ("archived_at", Int),
    ],
)];

/// Tables of retention schedules and legal holds (`retention/`, migration 0022).
pub const RETENTION_TABLES: &[Table] = &[
    (
        "retention_rules",
        &[
            ("org_id", Text),
            ("kind", Text),
            ("months", Int),
            ("updated_by", Text),
            ("updated_at", Int),
        ],
    ),
    (
        "retention_holds",
        &[
            ("case_id", Text),
            ("org_id", Text),
            ("reason", Text),
            ("set_by", Text),
            ("set_at", Int),
        ],
    ),
];

/// Tables of the data-subject requests (`subject_requests.rs`, migration 0021).
pub const SUBJECT_REQUEST_TABLES: &[Table] = &[(
    "subject_requests",
    &[
        ("id", Text),
        ("case_id", Text),
        ("org_id", Text),
        ("kind", Text),
        ("channel", Text),
        ("language", Text),
        ("requested_on", Text),
        ("state", Text),
        ("recorded_by", Text),
        ("recorded_at", Int),
        ("decided_by", Text),
        ("decided_at", Int),
        ("refusal_reason", Text),
        ("sealed", Blob),
        ("changed_fields", Text),
        ("completed_at", Int),
        ("export_blob", Blob),
        ("export_made_at", Int),
        ("export_downloaded_at", Int),
        ("lifted_by", Text),
        ("lifted_at", Int),
    ],
)];

/// One-time form tokens of the screens (`form_tokens.rs`, migration 0025, issue #23): ephemeral
/// (an hour), so neither backed up nor restored.
pub const FORM_TOKEN_TABLES: &[Table] = &[(
    "form_tokens",
    &[
        ("key_hash", Text),
        ("user_id", Text),
        ("created_at", Int),
        ("expires_at", Int),
        ("outcome", Text),
    ],
)];

/// The caseload list's organisation setting (`caseload.rs`, migration 0028).
pub const CASELOAD_TABLES: &[Table] = &[(
    "org_caseload_settings",
    &[
        ("org_id", Text),
        ("display_name", Text),
        ("updated_by", Text),
        ("updated_at", Int),
    ],
)];

/// Encrypted attachments of a case section (issue #21 §1, migration 0029).
pub const ATTACHMENT_TABLES: &[Table] = &[(
    "case_attachments",
    &[
        ("id", Text),
        ("case_id", Text),
        ("section", Text),
        ("kind", Text),
        ("name", Blob),
        ("object_key", Text),
        ("state", Text),
        ("size_bytes", Int),
        ("sha256", Text),
        ("created_at", Int),
        ("created_by", Text),
    ],
)];

/// Webhooks (`webhooks/`, migration 0031): an organisation's endpoints and the outbox of
/// deliveries (ids and event types only), in foreign-key order.
pub const WEBHOOK_TABLES: &[Table] = &[
    (
        "webhook_endpoints",
        &[
            ("id", Text),
            ("org_id", Text),
            ("url", Text),
            ("events", Text),
            ("secret", Blob),
            ("created_by", Text),
            ("created_at", Int),
            ("disabled_at", Int),
        ],
    ),
    (
        "webhook_outbox",
        &[
            ("id", Text),
            ("endpoint_id", Text),
            ("org_id", Text),
            ("event_type", Text),
            ("payload", Text),
            ("created_at", Int),
            ("state", Text),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("lease_until", Int),
            ("delivered_at", Int),
            ("last_attempt_at", Int),
            ("last_status", Int),
            ("last_error", Text),
        ],
    ),
];

/// Single sign-on (`users/oidc.rs`, migration 0033): an organisation's OpenID Connect provider
/// and the (issuer, subject) → account links, in foreign-key order.
pub const OIDC_TABLES: &[Table] = &[
    (
        "org_oidc",
        &[
            ("org_id", Text),
            ("display_name", Text),
            ("issuer", Text),
            ("redirect_uri", Text),
            ("client_id", Text),
            ("secret_file", Text),
            ("allowed_domains", Text),
            ("role_claim", Text),
            ("role_map", Text),
            ("local_passwords_allowed", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "oidc_links",
        &[
            ("issuer", Text),
            ("subject", Text),
            ("user_id", Text),
            ("created_at", Int),
        ],
    ),
];

/// Started single sign-ons (migration 0033): short-lived, one-time, not backed up (like the
/// form tokens).
pub const OIDC_PENDING_TABLES: &[Table] = &[(
    "oidc_pending",
    &[
        ("state_hash", Text),
        ("binding_hash", Text),
        ("org_id", Text),
        ("nonce", Text),
        ("pkce_verifier", Text),
        ("next_path", Text),
        ("expires_at", Int),
    ],
)];

/// Passkeys, their ceremonies, recovery codes and the roles that must use a passkey
/// (`users/passkeys.rs`, migration 0034; issue 22 §2).
pub const PASSKEY_TABLES: &[Table] = &[
    (
        "user_passkeys",
        &[
            ("id", Text),
            ("user_id", Text),
            ("credential_id", Text),
            ("credential", Text),
            ("name", Text),
            ("created_at", Int),
            ("last_used_at", Int),
        ],
    ),
    (
        "webauthn_challenges",
        &[
            ("id", Text),
            ("user_id", Text),
            ("session_id", Text),
            ("purpose", Text),
            ("state", Text),
            ("created_at", Int),
            ("expires_at", Int),
        ],
    ),
    (
        "recovery_codes",
        &[
            ("id", Text),
            ("user_id", Text),
            ("lookup", Text),
            ("code_hash", Text),
            ("created_at", Int),
            ("used_at", Int),
        ],
    ),
    (
        "passkey_required_roles",
        &[("role", Text), ("set_by", Text), ("set_at", Int)],
    ),
];
