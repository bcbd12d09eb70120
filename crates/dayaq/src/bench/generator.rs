//! Writes a synthetic population (see `population`) into a store.
//!
//! Cases go through the product's bulk path, `Store::import_cases` (validation, per-case keys,
//! encryption, blind index, attribute rows, one audited transaction per batch). Their events
//! (contacts, screenings, identification decisions, consents) are written in bulk by
//! [`EventBatch`] with the same SQL as `dayaq_storage::identification` and the same crypto
//! (contact summaries sealed under a per-contact key wrapped by the master key), one
//! transaction and one audit entry per batch. Storage has no public bulk path for events; the
//! row-by-row API (`add_screening` …) commits once per event, which is what the load test
//! measures. Event rows get time-ordered UUIDv7 ids (the product uses random v4 ids for them):
//! a bulk load then appends to the primary-key indexes instead of writing all over them, which
//! keeps a 1M-case generation within reach on 2 cores; ids carry no meaning either way.
//!
//! Why this file is over 800 lines: most of it is `EventWriter::add_case`, one row builder per
//! table of every area (identification, referrals, assistance, follow-up), written side by side
//! so that a change of a storage table is mirrored in one place and a reviewer can compare the
//! bulk rows with the area's SQL. Next step when it grows: one `add_<area>` method per area.

use super::population::{
    self, BENCH_ORG, COORDINATION, COORDINATOR, CaseSpec, END_MS, Event, ORGS, POLICE_OFFICER,
    POLICE_ORG, SHELTERS,
};
use anyhow::{Context, bail};
use dayaq_domain::Actor;
use dayaq_domain::assistance::GoalTerm;
use dayaq_domain::case::ValidCase;
use dayaq_domain::referral::ReferralState;
use dayaq_storage::audit::{AuditEntry, append};
use dayaq_storage::cases::Ctx;
use dayaq_storage::crypto::{SecretKey, field_aad, load_master_key};
use dayaq_storage::users::generate_password;
use dayaq_storage::{Engine, OpenOptions, Store, StoreError, from_millis};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// What `bench generate` wrote; saved as `DATA_DIR/bench-population.json` so that `bench run`
/// can re-derive search probes and report the import rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PopulationInfo {
    pub seed: u64,
    pub cases: u64,
    pub engine: String,
    pub generated_at: String,
    pub seconds_total: f64,
    /// Time spent inside `Store::import_cases` (encryption, blind index, inserts, commit).
    pub seconds_import: f64,
    /// Time spent writing events (bulk inserts, contact encryption, commit).
    pub seconds_events: f64,
    /// Cases per second over the whole generation (cases + events).
    pub cases_per_second: f64,
    /// Cases per second inside `import_cases` only.
    pub import_cases_per_second: f64,
    pub import_batches: u64,
    /// Cases that register again a person registered before (another organisation).
    pub re_registrations: u64,
    pub rows: EventCounts,
    pub orgs: Vec<OrgCount>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EventCounts {
    pub contacts: u64,
    pub screenings: u64,
    pub decisions: u64,
    pub consents: u64,
    pub case_events: u64,
    #[serde(default)]
    pub referrals: u64,
    #[serde(default)]
    pub needs_assessments: u64,
    #[serde(default)]
    pub plans: u64,
    #[serde(default)]
    pub plan_goals_and_actions: u64,
    #[serde(default)]
    pub services: u64,
    #[serde(default)]
    pub shelter_stays: u64,
    #[serde(default)]
    pub allowance_payments: u64,
    #[serde(default)]
    pub followup_tasks: u64,
    #[serde(default)]
    pub followup_contacts: u64,
    #[serde(default)]
    pub followup_assessments: u64,
    /// Event rows of every kind (case rows, attributes and blind index not counted).
    #[serde(default)]
    pub all_rows: u64,
    /// `all_rows` per case.
    #[serde(default)]
    pub rows_per_case: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgCount {
    pub slug: String,
    pub cases: u64,
}

pub const INFO_FILE: &str = "bench-population.json";

pub fn info_path(opts: &OpenOptions) -> PathBuf {
    opts.data_dir.join(INFO_FILE)
}

pub fn load_info(opts: &OpenOptions) -> anyhow::Result<PopulationInfo> {
    let path = info_path(opts);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}: run `dayaq bench generate` with the same --data-dir first",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
}

/// Most cases per import transaction (a month of one organisation is usually far fewer).
const MAX_BATCH: usize = 20_000;

fn month_of(ms: i64) -> (i32, u8) {
    let d = from_millis(ms).date();
    (d.year(), u8::from(d.month()))
}

/// Generates `n` cases under `seed` into the store of `opts`, which must not hold a generated
/// population yet. Progress goes to standard error (counts only).
pub async fn generate(opts: &OpenOptions, n: u64, seed: u64) -> anyhow::Result<PopulationInfo> {
    if n == 0 {
        bail!("--cases must be at least 1");
    }
    let store = Store::open(opts)
        .await
        .context("cannot open the Dayaq database")?;
    // The harness measures search throughput as one user: the per-user search budget (a
    // brake on people probing the blind index) does not apply to it.
    let store = {
        let mut settings = store.settings();
        settings.search_limit = usize::MAX;
        store.with_settings(settings)
    };
    match store.org_by_slug(ORGS[0].slug).await {
        Ok(_) => bail!(
            "this database already holds a generated population (organisation {}); \
             generate into an empty --data-dir or a fresh PostgreSQL database",
            ORGS[0].slug
        ),
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let started = Instant::now();
    let now = time::OffsetDateTime::now_utc();
    // Organisations and accounts. Passwords are random and never shown: the benchmark acts
    // through the storage API and the load test through `dayaq token create`.
    let mut actors: Vec<Actor> = Vec::new();
    let mut org_ids: Vec<String> = Vec::new();
    for o in ORGS {
        let org = store
            .add_org(o.slug, o.name, o.org_type, o.region, now)
            .await?;
        let u = store
            .add_user(
                o.slug,
                "caseworker",
                &population::caseworker(o),
                &generate_password()?,
                now,
            )
            .await?;
        actors.push(u.actor());
        org_ids.push(org.id.to_string());
    }
    let (slug, name, t, region) = COORDINATION;
    store.add_org(slug, name, t, region, now).await?;
    store
        .add_user(
            slug,
            "national_coordinator",
            COORDINATOR,
            &generate_password()?,
            now,
        )
        .await?;
    let police = store
        .add_user(
            ORGS[POLICE_ORG].slug,
            "police_officer",
            POLICE_OFFICER,
            &generate_password()?,
            now,
        )
        .await?;
    // One funding source per organisation and the shelters' facilities (written directly:
    // the product's API asks for an administrator, which the synthetic world does not need).
    let now_ms = dayaq_storage::millis(now);
    let mut funding = Vec::new();
    for (k, o) in ORGS.iter().enumerate() {
        let id = Uuid::now_v7().to_string();
        let kind = if o.org_type == "NGO" {
            "Donor"
        } else {
            "StateBudget"
        };
        sqlx::query(
            "INSERT INTO funding_sources (id, org_id, name, kind, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(&org_ids[k])
        .bind(format!("{} (synthetic)", kind))
        .bind(kind)
        .bind(now_ms)
        .execute(store.pool())
        .await?;
        funding.push(id);
    }
    let mut facilities = HashMap::new();
    for (k, beds, max_days, state) in SHELTERS {
        let id = Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO shelter_facilities (id, org_id, name, beds, max_stay_days, state_shelter, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(&org_ids[*k])
        .bind("Shelter (synthetic)")
        .bind(*beds)
        .bind(*max_days)
        .bind(i64::from(*state))
        .bind(now_ms)
        .execute(store.pool())
        .await?;
        facilities.insert(*k, id);
    }
    let master = load_master_key(&opts.master_key_path())?;
    let mut writer = EventWriter {
        master,
        org_ids: org_ids.clone(),
        caseworkers: actors.iter().map(|a| a.user_id.to_string()).collect(),
        police_user: police.id.to_string(),
        police_org: org_ids[POLICE_ORG].clone(),
        funding,
        facilities,
        paid_persons: HashSet::new(),
    };

    let mut import_time = Duration::ZERO;
    let mut events_time = Duration::ZERO;
    let mut counts = EventCounts::default();
    let mut per_org = vec![0u64; ORGS.len()];
    let mut used: HashSet<(usize, i64)> = HashSet::new();
    let mut batches = 0u64;
    let mut re_registrations = 0u64;
    let mut next_report = 0.1;
    let mut i = 0u64;
    while i < n {
        // One calendar month of registrations (at most MAX_BATCH cases).
        let month = month_of(population::case_time(i, n));
        let mut j = i;
        while j < n
            && ((j - i) as usize) < MAX_BATCH
            && month_of(population::case_time(j, n)) == month
        {
            j += 1;
        }
        let specs: Vec<CaseSpec> = tokio::task::spawn_blocking(move || {
            (i..j).map(|k| population::case(seed, n, k)).collect()
        })
        .await
        .context("generator worker")?;
        let mut batch = EventBatch::default();
        for (org, org_id) in org_ids.iter().enumerate() {
            let group: Vec<&CaseSpec> = specs.iter().filter(|c| c.org == org).collect();
            let Some(first) = group.first() else {
                continue;
            };
            let valid: Vec<ValidCase> = group
                .iter()
                .map(|c| c.input.clone().validate(population::today()))
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow::anyhow!("generated case failed validation: {e:?}"))?;
            // Each (organisation, batch) gets its own registration instant, which is how the
            // new rows are found again (import_cases returns a count, not ids).
            let mut at = first.at_ms;
            while !used.insert((org, at)) {
                at += 1;
            }
            let ctx = Ctx {
                actor: &actors[org],
                source: "bench",
                now: from_millis(at),
            };
            let t0 = Instant::now();
            store.import_cases(&ctx, valid).await?;
            import_time += t0.elapsed();
            batches += 1;
            // UUIDv7 ids carry the position in the batch, so id order is input order. New
            // cases have updated_at = created_at, which lets the (owner, updated_at) index
            // find them.
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM cases WHERE owner_org_id = $1 AND updated_at = $2 \
                 AND created_at = $2 ORDER BY id",
            )
            .bind(org_id)
            .bind(at)
            .fetch_all(store.pool())
            .await?;
            if ids.len() != group.len() {
                bail!(
                    "imported {} cases but found {} for the batch",
                    group.len(),
                    ids.len()
                );
            }
            // The case keys (to seal plan goals and extension reasons) and the person keys
            // (the allowance's once-per-person rule) of the new cases.
            let mut keys: HashMap<String, SecretKey> = HashMap::with_capacity(ids.len());
            let mut persons: HashMap<String, String> = HashMap::new();
            // By primary key, in chunks (a join through the cases' index made the planner walk
            // every name_dob digest of the table per batch: quadratic in the population).
            for chunk in ids.chunks(MAX_PARAMS) {
                let list = format!(
                    "({})",
                    (1..=chunk.len())
                        .map(|i| format!("${i}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let q = format!("SELECT case_id, wrapped FROM case_keys WHERE case_id IN {list}");
                let mut query = sqlx::query(sqlx::AssertSqlSafe(q));
                for id in chunk {
                    query = query.bind(id);
                }
                for row in query.fetch_all(store.pool()).await? {
                    let id: String = row.try_get(0)?;
                    let wrapped: Vec<u8> = row.try_get(1)?;
                    keys.insert(id, writer.master.unwrap_key("case", &wrapped)?);
                }
                let q = format!(
                    "SELECT case_id, kind, digest FROM blind_index WHERE case_id IN {list}"
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(q));
                for id in chunk {
                    query = query.bind(id);
                }
                for row in query.fetch_all(store.pool()).await? {
                    let kind: String = row.try_get(1)?;
                    if kind != "name_dob" {
                        continue;
                    }
                    let id: String = row.try_get(0)?;
                    let digest: String = row.try_get(2)?;
                    let e = persons.entry(id).or_insert_with(|| digest.clone());
                    // The product takes the smallest digest (ORDER BY digest LIMIT 1).
                    if digest < *e {
                        *e = digest;
                    }
                }
            }
            for (c, id) in group.iter().zip(ids) {
                let key = keys
                    .get(&id)
                    .with_context(|| "a generated case has no key".to_string())?;
                let person_key = match persons.get(&id) {
                    Some(d) => format!("name_dob:{d}"),
                    None => format!("case:{id}"),
                };
                writer.add_case(&mut batch, c, at, &id, key, &person_key)?;
                if c.person != c.index {
                    re_registrations += 1;
                }
            }
            per_org[org] += group.len() as u64;
        }
        let t0 = Instant::now();
        writer.flush(&store, &mut batch, &mut counts).await?;
        events_time += t0.elapsed();
        i = j;
        let done = i as f64 / n as f64;
        if done >= next_report || i == n {
            eprintln!(
                "bench generate: {i}/{n} cases ({:.0} %), {:.0} cases/s",
                done * 100.0,
                i as f64 / started.elapsed().as_secs_f64()
            );
            while next_report <= done {
                next_report += 0.1;
            }
        }
    }
    counts.rows_per_case = counts.all_rows as f64 / n as f64;
    // The last event batches were written with raw SQL: count them into the maintained
    // national statistics (every earlier batch was counted by the next import's commit).
    let t0 = Instant::now();
    store.refresh_statistics().await?;
    eprintln!(
        "bench generate: maintained statistics refreshed in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    // As after any bulk load: planner statistics for the new rows.
    store.refresh_planner_statistics().await?;
    verify_sample(&store, &actors, seed, n).await?;
    let total = started.elapsed().as_secs_f64();
    let info = PopulationInfo {
        seed,
        cases: n,
        engine: store.engine().name().to_string(),
        generated_at: now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        seconds_total: total,
        seconds_import: import_time.as_secs_f64(),
        seconds_events: events_time.as_secs_f64(),
        cases_per_second: n as f64 / total,
        import_cases_per_second: n as f64 / import_time.as_secs_f64().max(1e-9),
        import_batches: batches,
        re_registrations,
        rows: counts,
        orgs: ORGS
            .iter()
            .zip(per_org)
            .map(|(o, c)| OrgCount {
                slug: o.slug.to_string(),
                cases: c,
            })
            .collect(),
    };
    store.close().await;
    std::fs::create_dir_all(&opts.data_dir)?;
    write_json(&info_path(opts), &info)?;
    Ok(info)
}

pub fn write_json(path: &Path, v: &impl Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(v)?;
    std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a few generated cases back through `get_case` (decrypting their identity) and
/// compares them with the generator's output: proves that ids were matched to the right
/// cases and that the encryption round-trips.
async fn verify_sample(store: &Store, actors: &[Actor], seed: u64, n: u64) -> anyhow::Result<()> {
    let mut checked = 0;
    for i in [0, n / 2, n - 1] {
        let spec = population::case(seed, n, i);
        let ids = find_case(store, seed, n, i).await?;
        let ctx = Ctx {
            actor: &actors[spec.org],
            source: "bench",
            now: time::OffsetDateTime::now_utc(),
        };
        let mut found = false;
        for id in ids {
            let v = store.get_case(&ctx, id, true).await?;
            if v.identity.as_ref() == Some(&spec.input.identity) {
                found = true;
            }
        }
        if !found {
            bail!("generated case {i} was not found with its identity: the store is inconsistent");
        }
        checked += 1;
    }
    tracing::debug!(checked, "generated cases verified");
    Ok(())
}

/// The ids of the cases carrying the identity of generated case `i` in its organisation
/// (through the blind index, as a search does).
pub async fn find_case(store: &Store, seed: u64, n: u64, i: u64) -> anyhow::Result<Vec<Uuid>> {
    let spec = population::case(seed, n, i);
    let user = store
        .user_by_name(&population::caseworker(&ORGS[spec.org]))
        .await?;
    let actor = user.actor();
    let ctx = Ctx {
        actor: &actor,
        source: "bench",
        now: time::OffsetDateTime::now_utc(),
    };
    let id = &spec.input.identity;
    let q = dayaq_storage::cases::SearchQuery {
        first_name: id.first_name.clone(),
        second_name: id.second_name.clone(),
        birthdate: id.birthdate.clone(),
        phone: id.mobile_phone.clone(),
        identity_number: id.identity_number.clone(),
        ..Default::default()
    };
    Ok(store
        .search_cases(&ctx, &q)
        .await?
        .cases
        .iter()
        .map(|c| c.id)
        .collect())
}

/// One SQL value of a bulk row.
#[derive(Debug, Clone)]
enum Val {
    S(String),
    OS(Option<String>),
    I(i64),
    OI(Option<i64>),
    OB(Option<Vec<u8>>),
}

/// Rows of one table waiting to be written.
#[derive(Debug, Default)]
struct Rows(Vec<Vec<Val>>);

#[derive(Debug, Default)]
pub struct EventBatch {
    contacts: Rows,
    screenings: Rows,
    decisions: Rows,
    consents: Rows,
    case_events: Rows,
    referrals: Rows,
    needs_assessments: Rows,
    assessment_needs: Rows,
    plans: Rows,
    plan_goals: Rows,
    plan_actions: Rows,
    services: Rows,
    stays: Rows,
    extensions: Rows,
    payments: Rows,
    followup_plans: Rows,
    followup_tasks: Rows,
    followup_contacts: Rows,
    followup_assessments: Rows,
    /// Ids of the plan actions of the case being added (services link to them by index).
    plan_actions_of_case: Vec<String>,
    /// case id → (latest status, decision time, number of decisions)
    status: HashMap<String, (&'static str, i64, i64)>,
}

struct EventWriter {
    master: SecretKey,
    org_ids: Vec<String>,
    caseworkers: Vec<String>,
    police_user: String,
    police_org: String,
    /// Funding source per organisation (services and stays are charged to it).
    funding: Vec<String>,
    /// Shelter facility per organisation index (see `population::SHELTERS`).
    facilities: HashMap<usize, String>,
    /// Person keys already paid the allowance.
    paid_persons: HashSet<String>,
}

const DAY: i64 = 86_400_000;

fn iso_day(ms: i64) -> String {
    let d = from_millis(ms).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn bool_i(b: bool) -> Val {
    Val::I(i64::from(b))
}

impl EventWriter {
    /// Turns the events of one case into rows (encrypting contact summaries).
    fn add_case(
        &mut self,
        b: &mut EventBatch,
        c: &CaseSpec,
        registered: i64,
        case_id: &str,
        key: &SecretKey,
        person_key: &str,
    ) -> anyhow::Result<()> {
        let org = &self.org_ids[c.org];
        let user = &self.caseworkers[c.org];
        let event = |b: &mut EventBatch, at: i64, actor: &str, kind: &str, detail: String| {
            b.case_events.0.push(vec![
                Val::S(Uuid::now_v7().to_string()),
                Val::S(case_id.to_string()),
                Val::I(at),
                Val::S(actor.to_string()),
                Val::S(kind.to_string()),
                Val::S(detail),
            ]);
        };
        b.plan_actions_of_case.clear();
        for e in &c.events {
            let at = registered + e.after_ms();
            match e {
                Event::Contact {
                    channel,
                    anonymous,
                    linked,
                    summary,
                    ..
                } => {
                    let id = Uuid::now_v7().to_string();
                    let key = SecretKey::generate()?;
                    let wrapped = self.master.wrap("case", &key)?;
                    let sealed = match summary {
                        Some(s) => Some(key.seal(
                            &field_aad("contacts", "summary", &id, "contact"),
                            s.as_bytes(),
                        )?),
                        None => None,
                    };
                    if *linked {
                        event(b, at, user, "contact.linked", format!("contact={id}"));
                    }
                    b.contacts.0.push(vec![
                        Val::S(id),
                        Val::S(org.clone()),
                        Val::S(channel.as_str().to_string()),
                        bool_i(*anonymous),
                        Val::OS(linked.then(|| case_id.to_string())),
                        Val::OS(Some(self.master.key_id())),
                        Val::OB(Some(wrapped)),
                        Val::OB(sealed),
                        Val::S(user.clone()),
                        Val::I(at),
                    ]);
                }
                Event::Screening {
                    act,
                    means,
                    purpose,
                    is_child,
                    methods_of_control,
                    types_of_exploitation,
                    ilo_indicators,
                    ..
                } => {
                    let possible = dayaq_domain::identification::is_possible_victim(
                        *act, *means, *purpose, *is_child,
                    );
                    b.screenings.0.push(vec![
                        Val::S(Uuid::now_v7().to_string()),
                        Val::S(case_id.to_string()),
                        bool_i(*act),
                        bool_i(*means),
                        bool_i(*purpose),
                        bool_i(*is_child),
                        Val::S(methods_of_control.join(",")),
                        Val::S(types_of_exploitation.join(",")),
                        Val::S(ilo_indicators.join(",")),
                        bool_i(possible),
                        Val::S(user.clone()),
                        Val::S(org.clone()),
                        Val::I(at),
                    ]);
                    let result = if possible {
                        "possible_victim"
                    } else {
                        "not_indicated"
                    };
                    event(b, at, user, "screening.recorded", result.to_string());
                }
                Event::Decision {
                    status,
                    by,
                    reference,
                    ..
                } => {
                    let decided_on = from_millis(at).date();
                    b.decisions.0.push(vec![
                        Val::S(Uuid::now_v7().to_string()),
                        Val::S(case_id.to_string()),
                        Val::S(status.as_str().to_string()),
                        Val::S(by.as_str().to_string()),
                        Val::S(self.police_user.clone()),
                        Val::S(self.police_org.clone()),
                        Val::S(format!(
                            "{:04}-{:02}-{:02}",
                            decided_on.year(),
                            u8::from(decided_on.month()),
                            decided_on.day()
                        )),
                        Val::S(reference.clone()),
                        Val::I(at),
                    ]);
                    event(
                        b,
                        at,
                        &self.police_user,
                        "identification.decided",
                        status.as_str().to_string(),
                    );
                    let entry =
                        b.status
                            .entry(case_id.to_string())
                            .or_insert((status.as_str(), at, 0));
                    if at >= entry.1 {
                        entry.0 = status.as_str();
                        entry.1 = at;
                    }
                    entry.2 += 1;
                }
                Event::Consent {
                    purpose,
                    given,
                    recipient_org,
                    recipient_org_type,
                    given_by,
                    language,
                    withdrawn_after_ms,
                    ..
                } => {
                    let withdrawn = withdrawn_after_ms.map(|w| at + w).filter(|w| *w < END_MS);
                    b.consents.0.push(vec![
                        Val::S(Uuid::now_v7().to_string()),
                        Val::S(case_id.to_string()),
                        Val::S(purpose.as_str().to_string()),
                        bool_i(*given),
                        Val::OS(recipient_org.map(|o| self.org_ids[o].clone())),
                        Val::OS(recipient_org_type.map(|t| t.as_str().to_string())),
                        Val::S(given_by.to_string()),
                        Val::S(language.clone()),
                        Val::S(user.clone()),
                        Val::I(at),
                        Val::OI(withdrawn),
                        Val::OS(withdrawn.map(|_| user.clone())),
                    ]);
                    let what = format!(
                        "{} {}",
                        purpose.as_str(),
                        if *given { "given" } else { "declined" }
                    );
                    event(b, at, user, "consent.recorded", what);
                    if let Some(w) = withdrawn {
                        event(b, w, user, "consent.withdrawn", String::new());
                    }
                }
                Event::Referral {
                    to_org,
                    services,
                    reason,
                    state,
                    answered_after_ms,
                    ended_after_ms,
                    ..
                } => {
                    let id = Uuid::now_v7().to_string();
                    let answered = answered_after_ms.map(|a| at + a).filter(|a| *a < END_MS);
                    let ended = ended_after_ms
                        .map(|e| at + e)
                        .filter(|e| *e < END_MS && answered.is_none_or(|a| a < *e));
                    // A referral whose answer or end lies in the future is still open.
                    let state = match (state, answered, ended) {
                        (ReferralState::Completed | ReferralState::Withdrawn, _, Some(_)) => *state,
                        (ReferralState::Completed, Some(_), None) => ReferralState::Accepted,
                        (ReferralState::Accepted | ReferralState::Declined, Some(_), _) => *state,
                        _ => ReferralState::Pending,
                    };
                    let answered = answered.filter(|_| {
                        !matches!(state, ReferralState::Pending | ReferralState::Withdrawn)
                    });
                    let ended = ended.filter(|_| {
                        matches!(state, ReferralState::Completed | ReferralState::Withdrawn)
                    });
                    let to = &self.caseworkers[*to_org];
                    let svc: Vec<&str> = services.iter().map(|s| s.as_str()).collect();
                    b.referrals.0.push(vec![
                        Val::S(id.clone()),
                        Val::S(case_id.to_string()),
                        Val::S(org.clone()),
                        Val::S(self.org_ids[*to_org].clone()),
                        Val::S(svc.join(",")),
                        Val::S(reason.to_string()),
                        Val::OB(None),
                        Val::S(state.as_str().to_string()),
                        Val::OB(None),
                        Val::OS(None),
                        Val::S(user.clone()),
                        Val::I(at),
                        Val::OS(answered.map(|_| to.clone())),
                        Val::OI(answered),
                        Val::OS(
                            (state == ReferralState::Declined)
                                .then(|| "no capacity in the requested period".to_string()),
                        ),
                        Val::OI(ended),
                        Val::OB(None),
                    ]);
                    event(b, at, user, "referral.created", format!("referral={id}"));
                    if let Some(a) = answered {
                        let kind = if state == ReferralState::Declined {
                            "referral.declined"
                        } else {
                            "referral.accepted"
                        };
                        event(b, a, to, kind, format!("referral={id}"));
                    }
                    if let Some(e) = ended {
                        let kind = if state == ReferralState::Withdrawn {
                            "referral.withdrawn"
                        } else {
                            "referral.completed"
                        };
                        event(b, e, user, kind, format!("referral={id}"));
                    }
                }
                Event::Assessment { org: by, needs, .. } => {
                    let id = Uuid::now_v7().to_string();
                    let who = &self.caseworkers[*by];
                    b.needs_assessments.0.push(vec![
                        Val::S(id.clone()),
                        Val::S(case_id.to_string()),
                        Val::S(self.org_ids[*by].clone()),
                        Val::S(who.clone()),
                        Val::I(at),
                        Val::OB(None),
                    ]);
                    for (d, sev) in needs {
                        b.assessment_needs.0.push(vec![
                            Val::S(Uuid::now_v7().to_string()),
                            Val::S(id.clone()),
                            Val::S(d.as_str().to_string()),
                            Val::S(sev.as_str().to_string()),
                            Val::OB(None),
                        ]);
                    }
                    event(
                        b,
                        at,
                        who,
                        "assessment.recorded",
                        format!("needs={}", needs.len()),
                    );
                }
                Event::Plan {
                    org: by,
                    plan_type,
                    approved_after_ms,
                    goals,
                    actions,
                    ..
                } => {
                    let id = Uuid::now_v7().to_string();
                    let who = &self.caseworkers[*by];
                    let approved = approved_after_ms.map(|a| at + a).filter(|a| *a < END_MS);
                    let last_due = actions.iter().map(|a| a.due_after_ms).max().unwrap_or(0);
                    b.plans.0.push(vec![
                        Val::S(id.clone()),
                        Val::S(case_id.to_string()),
                        Val::S(self.org_ids[*by].clone()),
                        Val::S(plan_type.as_str().to_string()),
                        Val::OB(None),
                        Val::OS(Some(iso_day(at + last_due))),
                        Val::OS(None),
                        Val::OS(Some(iso_day(at + 90 * DAY))),
                        bool_i(approved.is_some()),
                        Val::OI(approved),
                        Val::OS(approved.map(|_| who.clone())),
                        Val::OI(approved),
                        Val::S(who.clone()),
                        Val::I(at),
                        Val::I(approved.unwrap_or(at)),
                    ]);
                    event(b, at, who, "plan.created", plan_type.as_str().to_string());
                    let mut goal_ids = Vec::new();
                    for (term, d) in goals {
                        let gid = Uuid::now_v7().to_string();
                        let text = match term {
                            GoalTerm::ShortTerm => "Stabilise within the first weeks",
                            GoalTerm::LongTerm => "Sustainable situation within a year",
                        };
                        let sealed = key.seal(
                            &field_aad("plan_goals", "description", &gid, "case"),
                            text.as_bytes(),
                        )?;
                        b.plan_goals.0.push(vec![
                            Val::S(gid.clone()),
                            Val::S(id.clone()),
                            Val::S(term.as_str().to_string()),
                            Val::OS(Some(d.as_str().to_string())),
                            Val::OB(Some(sealed)),
                            Val::I(at),
                        ]);
                        goal_ids.push(gid);
                    }
                    let mut action_ids = Vec::new();
                    for a in actions {
                        let aid = Uuid::now_v7().to_string();
                        b.plan_actions.0.push(vec![
                            Val::S(aid.clone()),
                            Val::S(id.clone()),
                            Val::OS(goal_ids.get(a.goal).cloned()),
                            Val::OS(Some(a.domain.as_str().to_string())),
                            Val::S(a.service.as_str().to_string()),
                            Val::S(self.org_ids[*by].clone()),
                            Val::OS(Some(iso_day(at + a.due_after_ms))),
                            Val::S(a.status.as_str().to_string()),
                            Val::I(at),
                            Val::I(at),
                        ]);
                        action_ids.push(aid);
                    }
                    if let Some(a) = approved {
                        event(b, a, who, "plan.approved", String::new());
                    }
                    b.plan_actions_of_case = action_ids;
                }
                Event::Service {
                    provider,
                    service,
                    action,
                    days,
                    outcome,
                    cost_minor,
                    ..
                } => {
                    let id = Uuid::now_v7().to_string();
                    let who = &self.caseworkers[*provider];
                    b.services.0.push(vec![
                        Val::S(id),
                        Val::S(case_id.to_string()),
                        Val::OS(action.and_then(|k| b.plan_actions_of_case.get(k).cloned())),
                        Val::S(service.as_str().to_string()),
                        Val::S(self.org_ids[*provider].clone()),
                        Val::S(iso_day(at)),
                        Val::OS(days.map(|d| iso_day(at + d * DAY)).filter(|_| at < END_MS)),
                        Val::S(outcome.to_string()),
                        Val::OB(None),
                        Val::I(*cost_minor),
                        Val::OS(Some(self.funding[*provider].clone())),
                        Val::S(who.clone()),
                        Val::I(at),
                    ]);
                    event(
                        b,
                        at,
                        who,
                        "service.delivered",
                        service.as_str().to_string(),
                    );
                }
                Event::Stay {
                    facility_org,
                    days,
                    dependants,
                    exit,
                    extension_days,
                    ..
                } => {
                    let Some(facility) = self.facilities.get(facility_org) else {
                        continue;
                    };
                    let id = Uuid::now_v7().to_string();
                    let who = &self.caseworkers[*facility_org];
                    let exited = Some(at + days * DAY).filter(|e| *e < END_MS);
                    b.stays.0.push(vec![
                        Val::S(id.clone()),
                        Val::S(case_id.to_string()),
                        Val::S(facility.clone()),
                        Val::S(iso_day(at)),
                        Val::I(*dependants),
                        Val::OS(exited.map(iso_day)),
                        Val::OS(exited.map(|_| exit.as_str().to_string())),
                        Val::I(2_500),
                        Val::OS(Some(self.funding[*facility_org].clone())),
                        Val::S(who.clone()),
                        Val::I(at),
                    ]);
                    event(
                        b,
                        at,
                        who,
                        "shelter.admitted",
                        format!("facility={facility}"),
                    );
                    if let Some(x) = extension_days {
                        let eid = Uuid::now_v7().to_string();
                        let asked = at + 25 * DAY;
                        let reason = key.seal(
                            &field_aad("shelter_extensions", "reason", &eid, "case"),
                            b"Criminal proceedings still open; no safe place yet",
                        )?;
                        if asked < END_MS {
                            b.extensions.0.push(vec![
                                Val::S(eid),
                                Val::S(id.clone()),
                                Val::I(*x),
                                Val::OB(Some(reason)),
                                Val::S(who.clone()),
                                Val::I(asked),
                                Val::OS(Some(who.clone())),
                                Val::OI(Some(asked + DAY)),
                            ]);
                            event(b, asked, who, "shelter.extended", String::new());
                        }
                    }
                    if let Some(e) = exited {
                        event(b, e, who, "shelter.exited", exit.as_str().to_string());
                    }
                }
                Event::Allowance { org: by, paid, .. } => {
                    // Two generated people can share name and birth date: pay once.
                    if !self.paid_persons.insert(person_key.to_string()) {
                        continue;
                    }
                    let who = &self.caseworkers[*by];
                    let status = if *paid { "Paid" } else { "Requested" };
                    b.payments.0.push(vec![
                        Val::S(Uuid::now_v7().to_string()),
                        Val::S(person_key.to_string()),
                        Val::S(case_id.to_string()),
                        Val::S(self.org_ids[*by].clone()),
                        Val::I(40_000),
                        Val::S("AZN".to_string()),
                        Val::S(status.to_string()),
                        Val::S(who.clone()),
                        Val::I(at),
                        Val::I(at + if *paid { 7 * DAY } else { 0 }),
                    ]);
                    event(
                        b,
                        at,
                        who,
                        "allowance.requested",
                        "amount_minor=40000".to_string(),
                    );
                    if *paid && at + 7 * DAY < END_MS {
                        event(b, at + 7 * DAY, who, "allowance.status", "Paid".to_string());
                    }
                }
                Event::FollowUp { months, rounds, .. } => {
                    let end = from_millis(at).date();
                    let dates = dayaq_domain::followup::plan_dates(end, months);
                    let mut history: Vec<bool> = Vec::new();
                    let mut lost: Option<i64> = None;
                    for (round, due) in rounds.iter().zip(dates) {
                        let due_ms = (due.midnight().assume_utc().unix_timestamp()) * 1000;
                        let tid = Uuid::now_v7().to_string();
                        let task = |tid: String, state: &str, done_at: Option<i64>| {
                            vec![
                                Val::S(tid),
                                Val::S(case_id.to_string()),
                                Val::S("scheduled".to_string()),
                                Val::OS(None),
                                Val::S(iso_day(due_ms)),
                                Val::S(user.clone()),
                                Val::OS(None),
                                Val::OI(None),
                                Val::S(state.to_string()),
                                Val::OI(done_at),
                                Val::S(user.clone()),
                                Val::I(at),
                            ]
                        };
                        if due_ms >= END_MS || lost.is_some() {
                            // Not due yet (open), or given up after contact was lost.
                            let state = if lost.is_some() { "cancelled" } else { "open" };
                            b.followup_tasks.0.push(task(tid, state, None));
                            continue;
                        }
                        let reached = round.attempts.iter().any(|(_, ok)| *ok);
                        let mut contact_at = due_ms + 10 * 3_600_000;
                        let mut done_at = None;
                        for (ch, ok) in &round.attempts {
                            if contact_at >= END_MS {
                                break;
                            }
                            b.followup_contacts.0.push(vec![
                                Val::S(Uuid::now_v7().to_string()),
                                Val::S(case_id.to_string()),
                                Val::OS(Some(tid.clone())),
                                Val::S(ch.as_str().to_string()),
                                Val::I(contact_at),
                                Val::S(user.clone()),
                                bool_i(*ok),
                                Val::I(0),
                                Val::S(String::new()),
                                Val::OB(None),
                                Val::I(contact_at),
                            ]);
                            event(
                                b,
                                contact_at,
                                user,
                                "followup.contact",
                                ch.as_str().to_string(),
                            );
                            history.push(*ok);
                            if *ok {
                                done_at = Some(contact_at);
                            }
                            contact_at += 2 * DAY;
                        }
                        let state = if done_at.is_some() { "done" } else { "open" };
                        b.followup_tasks.0.push(task(tid, state, done_at));
                        if let (true, Some(d), Some(answers)) = (reached, done_at, &round.answers) {
                            let text = serde_json::to_string(answers)?;
                            b.followup_assessments.0.push(vec![
                                Val::S(Uuid::now_v7().to_string()),
                                Val::S(case_id.to_string()),
                                Val::S(format!("month-{}", round.month)),
                                Val::S(iso_day(d)),
                                Val::S(text),
                                Val::OB(None),
                                Val::S("form".to_string()),
                                Val::S(user.clone()),
                                Val::I(d),
                            ]);
                            event(
                                b,
                                d,
                                user,
                                "followup.assessment",
                                format!("round=month-{}", round.month),
                            );
                        }
                        if dayaq_domain::followup::lost_contact(
                            &history,
                            dayaq_domain::followup::DEFAULT_MAX_FAILED,
                        ) {
                            lost = Some(contact_at);
                            event(b, contact_at, user, "followup.unreachable", String::new());
                        }
                    }
                    let months_text: Vec<String> = months.iter().map(u32::to_string).collect();
                    b.followup_plans.0.push(vec![
                        Val::S(case_id.to_string()),
                        Val::S(iso_day(at)),
                        Val::S(months_text.join(",")),
                        Val::I(i64::from(dayaq_domain::followup::DEFAULT_MAX_FAILED)),
                        Val::OI(lost),
                        Val::S(user.clone()),
                        Val::I(at),
                    ]);
                    event(
                        b,
                        at,
                        user,
                        "followup.plan",
                        format!("months={}", months_text.join(",")),
                    );
                }
            }
        }
        Ok(())
    }

    /// Writes the batch in one transaction with one audit entry, and empties it.
    async fn flush(
        &self,
        store: &Store,
        b: &mut EventBatch,
        counts: &mut EventCounts,
    ) -> anyhow::Result<()> {
        let pool = store.pool();
        let mut tx = match store.engine() {
            Engine::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => pool.begin().await?,
        };
        let mut e = AuditEntry::new("bench.generate", "success");
        e.source = "bench".into();
        e.detail = format!(
            "contacts={} screenings={} decisions={} consents={} referrals={} plans={} services={} stays={} followup_contacts={}",
            b.contacts.0.len(),
            b.screenings.0.len(),
            b.decisions.0.len(),
            b.consents.0.len(),
            b.referrals.0.len(),
            b.plans.0.len(),
            b.services.0.len(),
            b.stays.0.len(),
            b.followup_contacts.0.len()
        );
        // The audit head is the first write of the transaction (see audit::append).
        append(
            &mut tx,
            &e,
            dayaq_storage::millis(time::OffsetDateTime::now_utc()),
        )
        .await?;
        insert_rows(
            &mut tx,
            "contacts (id, org_id, channel, anonymous, case_id, master_key_id, wrapped_key, summary, created_by, created_at)",
            10,
            &b.contacts,
        )
        .await?;
        insert_rows(
            &mut tx,
            "screenings (id, case_id, act, means, purpose, is_child, methods_of_control, types_of_exploitation, \
             ilo_indicators, possible_victim, screened_by, screened_by_org, created_at)",
            13,
            &b.screenings,
        )
        .await?;
        insert_rows(
            &mut tx,
            "identification_decisions (id, case_id, status, decision_making_org, decided_by, decided_by_org, \
             decided_on, reference, created_at)",
            9,
            &b.decisions,
        )
        .await?;
        insert_rows(
            &mut tx,
            "consents (id, case_id, purpose, given, recipient_org, recipient_org_type, given_by, language, \
             recorded_by, recorded_at, withdrawn_at, withdrawn_by)",
            12,
            &b.consents,
        )
        .await?;
        let tables: [(&str, usize, &Rows); 14] = [
            (
                "referrals (id, case_id, from_org, to_org, services, reason, details, state, consent_override, \
                 override_by, created_by, created_at, responded_by, responded_at, decline_reason, ended_at, travel)",
                17,
                &b.referrals,
            ),
            (
                "needs_assessments (id, case_id, org_id, assessed_by, assessed_at, priorities)",
                6,
                &b.needs_assessments,
            ),
            (
                "assessment_needs (id, assessment_id, domain, severity, notes)",
                5,
                &b.assessment_needs,
            ),
            (
                "plans (id, case_id, org_id, spl_type, spl_objectives, spl_planned_end_date, spl_actual_end_date, \
                 review_on, survivor_agreed, agreed_at, approved_by, approved_at, created_by, created_at, updated_at)",
                15,
                &b.plans,
            ),
            (
                "plan_goals (id, plan_id, term, domain, description, created_at)",
                6,
                &b.plan_goals,
            ),
            (
                "plan_actions (id, plan_id, goal_id, domain, service, responsible_org, due_on, status, created_at, updated_at)",
                10,
                &b.plan_actions,
            ),
            (
                "services_delivered (id, case_id, plan_action_id, service, provider_org, started_on, ended_on, outcome, \
                 details, cost_minor, funding_source_id, created_by, created_at)",
                13,
                &b.services,
            ),
            (
                "shelter_stays (id, case_id, facility_id, admitted_on, dependants, exited_on, exit_destination, \
                 daily_cost_minor, funding_source_id, created_by, created_at)",
                11,
                &b.stays,
            ),
            (
                "shelter_extensions (id, stay_id, days, reason, requested_by, requested_at, approved_by, approved_at)",
                8,
                &b.extensions,
            ),
            (
                "allowance_payments (id, person_key, case_id, org_id, amount_minor, currency, status, created_by, \
                 created_at, updated_at)",
                10,
                &b.payments,
            ),
            (
                "followup_plans (case_id, assistance_end, months, max_failed, lost_contact_at, updated_by, updated_at)",
                7,
                &b.followup_plans,
            ),
            (
                "followup_tasks (id, case_id, kind, request, due_on, assignee, channel, planned_at, state, done_at, \
                 created_by, created_at)",
                12,
                &b.followup_tasks,
            ),
            (
                "followup_contacts (id, case_id, task_id, channel, at, by_user, reached, outside_protocol, breaches, \
                 justification, created_at)",
                11,
                &b.followup_contacts,
            ),
            (
                "followup_assessments (id, case_id, round, assessed_on, answers, words, source, created_by, created_at)",
                9,
                &b.followup_assessments,
            ),
        ];
        for (table, cols, rows) in tables {
            insert_rows(&mut tx, table, cols, rows).await?;
        }
        insert_rows(
            &mut tx,
            "case_events (id, case_id, at, actor_user, kind, detail)",
            6,
            &b.case_events,
        )
        .await?;
        // The case carries its latest identification status (as decide_identification does).
        let updates: Vec<Vec<Val>> = b
            .status
            .drain()
            .map(|(id, (s, at, k))| vec![Val::S(id), Val::S(s.to_string()), Val::I(at), Val::I(k)])
            .collect();
        for chunk in updates.chunks(rows_per_statement(4)) {
            let sql = format!(
                "UPDATE cases SET vic_trafficking_status = v.column2, updated_at = v.column3, \
                 version = cases.version + v.column4 FROM (VALUES {}) AS v WHERE cases.id = v.column1",
                placeholders(chunk.len(), 4)
            );
            bind_rows(sqlx::query(sqlx::AssertSqlSafe(sql)), chunk)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        // This transaction moved the audit head outside `Store`: seal it (audit::seal_head).
        store.audit_reseal().await?;
        counts.contacts += b.contacts.0.len() as u64;
        counts.screenings += b.screenings.0.len() as u64;
        counts.decisions += b.decisions.0.len() as u64;
        counts.consents += b.consents.0.len() as u64;
        counts.case_events += b.case_events.0.len() as u64;
        counts.referrals += b.referrals.0.len() as u64;
        counts.needs_assessments += b.needs_assessments.0.len() as u64;
        counts.plans += b.plans.0.len() as u64;
        counts.plan_goals_and_actions += (b.plan_goals.0.len() + b.plan_actions.0.len()) as u64;
        counts.services += b.services.0.len() as u64;
        counts.shelter_stays += b.stays.0.len() as u64;
        counts.allowance_payments += b.payments.0.len() as u64;
        counts.followup_tasks += b.followup_tasks.0.len() as u64;
        counts.followup_contacts += b.followup_contacts.0.len() as u64;
        counts.followup_assessments += b.followup_assessments.0.len() as u64;
        counts.all_rows += [
            &b.contacts,
            &b.screenings,
            &b.decisions,
            &b.consents,
            &b.case_events,
            &b.referrals,
            &b.needs_assessments,
            &b.assessment_needs,
            &b.plans,
            &b.plan_goals,
            &b.plan_actions,
            &b.services,
            &b.stays,
            &b.extensions,
            &b.payments,
            &b.followup_plans,
            &b.followup_tasks,
            &b.followup_contacts,
            &b.followup_assessments,
        ]
        .iter()
        .map(|r| r.0.len() as u64)
        .sum::<u64>();
        *b = EventBatch::default();
        Ok(())
    }
}

/// Parameters per multi-row statement. sqlx-sqlite looks each parameter up by name
/// (`sqlite3_bind_parameter_name` walks a list), so binding costs O(parameters²) per
/// statement: a few hundred parameters is the sweet spot (measured; 3,000 was 5× slower).
const MAX_PARAMS: usize = 240;

fn rows_per_statement(cols: usize) -> usize {
    (MAX_PARAMS / cols).max(1)
}

fn placeholders(rows: usize, cols: usize) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            let _ = write!(s, "${}", r * cols + c + 1);
        }
        s.push(')');
    }
    s
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

fn bind_rows<'q>(mut q: AnyQuery<'q>, rows: &'q [Vec<Val>]) -> AnyQuery<'q> {
    for row in rows {
        for v in row {
            q = match v {
                Val::S(s) => q.bind(s.as_str()),
                Val::OS(s) => q.bind(s.as_deref()),
                Val::I(i) => q.bind(*i),
                Val::OI(i) => q.bind(*i),
                Val::OB(b) => q.bind(b.as_deref()),
            };
        }
    }
    q
}

async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    table_and_columns: &str,
    cols: usize,
    rows: &Rows,
) -> anyhow::Result<()> {
    for chunk in rows.0.chunks(rows_per_statement(cols)) {
        let sql = format!(
            "INSERT INTO {table_and_columns} VALUES {}",
            placeholders(chunk.len(), cols)
        );
        bind_rows(sqlx::query(sqlx::AssertSqlSafe(sql)), chunk)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The benchmark organisation's caseworker (reads, lists and searches run as this user).
pub async fn bench_actor(store: &Store) -> anyhow::Result<Actor> {
    let u = store
        .user_by_name(&population::caseworker(&ORGS[BENCH_ORG]))
        .await
        .context("the generated population's benchmark user is missing")?;
    Ok(u.actor())
}
