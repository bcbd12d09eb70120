//! Maintained national statistics (issue #15 §6): random workloads entered through the API
//! (new cases of a few recurring persons, screenings, decisions and reversals, identity
//! changes that move a case to another person, erasure, transfer, new episodes, services,
//! shelter stays, allowances, events, cooperation) — after every step the maintained sums
//! must equal a recomputation from the records, and the maintained report must equal the
//! report computed from the records, for every year. Both engines (the kit picks PostgreSQL
//! when `DAYAQ_TEST_DATABASE_URL` is set). Also: the triggers cover every table the counting
//! rules read, a write outside the product's transactions is counted by the next one, and
//! `dayaq statistics rebuild` gives the same sums.

use crate::kit::{
    TestApp, api_call, assert_cli_ok, ctx, dayaq_cli, now, org_and_user, spawn_app, user_token,
};
use dayaq_domain::statistics::Disclosure;
use dayaq_storage::users::User;
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Op {
    /// A new case of person `who` (0..3) with birth date variant `dob`.
    Create {
        who: u8,
        dob: u8,
        gender: u8,
        form: u8,
        cit: u8,
    },
    Screen {
        case: usize,
        possible: bool,
    },
    Decide {
        case: usize,
        actual: bool,
        back: u8,
        month: u8,
    },
    /// Name and birth date changed: the case may move to another person.
    Identity {
        case: usize,
        who: u8,
        dob: u8,
    },
    Erase {
        case: usize,
    },
    Transfer {
        case: usize,
    },
    Episode {
        case: usize,
    },
    Service {
        case: usize,
        kind: u8,
        back: u8,
        open: bool,
    },
    Shelter {
        case: usize,
        state: bool,
        back: u8,
    },
    Allowance {
        case: usize,
    },
    Event {
        case: usize,
        abroad: bool,
    },
    Legal {
        case: usize,
        coop: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let c = 0usize..8;
    prop_oneof![
        3 => (0u8..3, 0u8..2, 0u8..3, 0u8..3, 0u8..3).prop_map(|(who, dob, gender, form, cit)| Op::Create { who, dob, gender, form, cit }),
        2 => (c.clone(), any::<bool>()).prop_map(|(case, possible)| Op::Screen { case, possible }),
        3 => (c.clone(), any::<bool>(), 0u8..3, 1u8..13).prop_map(|(case, actual, back, month)| Op::Decide { case, actual, back, month }),
        1 => (c.clone(), 0u8..3, 0u8..2).prop_map(|(case, who, dob)| Op::Identity { case, who, dob }),
        1 => c.clone().prop_map(|case| Op::Erase { case }),
        1 => c.clone().prop_map(|case| Op::Transfer { case }),
        1 => c.clone().prop_map(|case| Op::Episode { case }),
        1 => (c.clone(), 0u8..4, 0u8..3, any::<bool>()).prop_map(|(case, kind, back, open)| Op::Service { case, kind, back, open }),
        1 => (c.clone(), any::<bool>(), 0u8..3).prop_map(|(case, state, back)| Op::Shelter { case, state, back }),
        1 => c.clone().prop_map(|case| Op::Allowance { case }),
        1 => (c.clone(), any::<bool>()).prop_map(|(case, abroad)| Op::Event { case, abroad }),
        1 => (c, 0u8..3).prop_map(|(case, coop)| Op::Legal { case, coop }),
    ]
}

const NAMES: [&str; 3] = ["Aysel", "Elvin", "Nigar"];
const DOBS: [&str; 2] = ["1990-01-01", "2012-06-01"];

/// One organisation's staff (tokens).
struct Org {
    slug: &'static str,
    cw: String,
    sup: String,
    pol: String,
    shelter: [String; 2],
}

struct World {
    app: TestApp,
    orgs: [Org; 2],
    coordinator: User,
    /// (case id, owning organisation index)
    cases: Vec<(String, usize)>,
}

async fn org(app: &TestApp, slug: &'static str) -> Org {
    let db = &app.db;
    let (_, cw) = org_and_user(db, slug, "caseworker").await;
    let (_, sup) = org_and_user(db, slug, "supervisor").await;
    let (_, pol) = org_and_user(db, slug, "police_officer").await;
    let cw = user_token(db, &cw).await;
    let sup = user_token(db, &sup).await;
    let pol = user_token(db, &pol).await;
    let mut shelter = [String::new(), String::new()];
    for (i, state) in [false, true].into_iter().enumerate() {
        let (s, v) = api_call(
            app,
            &sup,
            "POST",
            "/shelters",
            json!({"name": format!("{slug} shelter {i}"), "beds": 10, "state_shelter": state}),
        )
        .await;
        assert!(s.is_success(), "shelter: {s} {v}");
        shelter[i] = v["id"].as_str().unwrap().to_string();
    }
    Org {
        slug,
        cw,
        sup,
        pol,
        shelter,
    }
}

fn case_body(who: u8, dob: u8, gender: u8, form: u8, cit: u8) -> Value {
    let gender = ["Feminine", "Masculine", "NonSpecifiedUnknown"][usize::from(gender) % 3];
    let cit = ["AZ", "RU", "UZ"][usize::from(cit) % 3];
    let form = ["ForcedLabour", "SexualExploitation", "ForcedBegging"][usize::from(form) % 3];
    json!({
        "prs_FirstName": NAMES[usize::from(who) % 3],
        "prs_SecondName": "Speed",
        "prs_Birthdate": DOBS[usize::from(dob) % 2],
        "prs_Gender": gender,
        "prs_Citizenship": [cit],
        "vic_TypeOfExploitation": [form],
        "vic_AgeWhenTrafficked": 20,
    })
}

/// A date `back` years before today (in month `month`, never after today).
fn past(back: u8, month: u8) -> String {
    let today = now().date();
    let y = today.year() - i32::from(back);
    let d = time::Month::try_from(month.clamp(1, 12))
        .ok()
        .and_then(|m| time::Date::from_calendar_date(y, m, 1).ok())
        .unwrap_or(today);
    d.min(today).to_string()
}

impl World {
    async fn new() -> Self {
        let app = spawn_app().await;
        let a = org(&app, "sp-a").await;
        let b = org(&app, "sp-b").await;
        let (_, coordinator) = org_and_user(&app.db, "sp-nrm", "national_coordinator").await;
        World {
            app,
            orgs: [a, b],
            coordinator,
            cases: Vec::new(),
        }
    }

    /// The API's answer; failures (a refused step: erased case, no consent …) are allowed,
    /// server errors are not.
    async fn call(&self, token: &str, method: &str, path: &str, body: Value) -> Value {
        let (s, v) = api_call(&self.app, token, method, path, body).await;
        assert!(!s.is_server_error(), "{method} {path}: {s} {v}");
        if s.is_success() {
            v
        } else {
            eprintln!("refused: {method} {path}: {s} {v}");
            Value::Null
        }
    }

    async fn apply(&mut self, op: &Op) {
        let pick = |case: usize| -> Option<(String, usize)> {
            (!self.cases.is_empty()).then(|| self.cases[case % self.cases.len()].clone())
        };
        let target = match op {
            Op::Create { .. } => None,
            Op::Screen { case, .. }
            | Op::Decide { case, .. }
            | Op::Identity { case, .. }
            | Op::Erase { case }
            | Op::Transfer { case }
            | Op::Episode { case }
            | Op::Service { case, .. }
            | Op::Shelter { case, .. }
            | Op::Allowance { case }
            | Op::Event { case, .. }
            | Op::Legal { case, .. } => match pick(*case) {
                Some(t) => Some(t),
                None => return,
            },
        };
        let (id, o) = target.unwrap_or_default();
        let org = &self.orgs[o];
        let p = |tail: &str| format!("/cases/{id}/{tail}");
        match op {
            Op::Create {
                who,
                dob,
                gender,
                form,
                cit,
            } => {
                let v = self
                    .call(
                        &self.orgs[0].cw,
                        "POST",
                        "/cases",
                        case_body(*who, *dob, *gender, *form, *cit),
                    )
                    .await;
                if let Some(id) = v["id"].as_str() {
                    self.cases.push((id.to_string(), 0));
                }
            }
            Op::Screen { possible, .. } => {
                self.call(
                    &org.cw,
                    "POST",
                    &p("screenings"),
                    json!({"act": possible, "means": true, "purpose": true}),
                )
                .await;
            }
            Op::Decide {
                actual,
                back,
                month,
                ..
            } => {
                let status = if *actual {
                    "ActualVictimOfTrafficking"
                } else {
                    "NotAVictimOfTrafficking"
                };
                self.call(
                    &org.pol,
                    "POST",
                    &p("decisions"),
                    json!({"vic_TraffickingStatus": status, "vic_TraffickingStatusDecisionMakingOrg": "Police",
                           "decided_on": past(*back, *month), "reference": "R-1"}),
                )
                .await;
            }
            Op::Identity { who, dob, .. } => {
                let v = self
                    .call(&org.cw, "GET", &format!("/cases/{id}"), Value::Null)
                    .await;
                if let Some(version) = v["version"].as_i64() {
                    let r = crate::kit::web_client()
                        .put(format!("{}/api/v1/cases/{id}", self.app.base_url))
                        .bearer_auth(&org.cw)
                        .header("If-Match", format!("\"{version}\""))
                        .json(&case_body(*who, *dob, 0, 0, 0))
                        .send()
                        .await
                        .unwrap();
                    assert!(!r.status().is_server_error(), "PUT case: {}", r.status());
                }
            }
            Op::Erase { .. } => {
                self.call(&org.sup, "DELETE", &format!("/cases/{id}"), Value::Null)
                    .await;
            }
            Op::Transfer { case } => {
                let to = 1 - o;
                self.call(
                    &org.cw,
                    "POST",
                    &p("consents"),
                    json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": self.orgs[to].slug,
                           "given_by": "Survivor", "language": "az"}),
                )
                .await;
                let v = self
                    .call(
                        &org.cw,
                        "POST",
                        &p("transfer"),
                        json!({"to_org": self.orgs[to].slug}),
                    )
                    .await;
                if !v.is_null() {
                    let n = self.cases.len();
                    self.cases[case % n].1 = to;
                }
            }
            Op::Episode { .. } => {
                self.call(
                    &org.cw,
                    "POST",
                    &p("status"),
                    json!({"cas_Status": "Closed", "cas_ReasonForCaseClosure": "x"}),
                )
                .await;
                let v = self
                    .call(
                        &org.cw,
                        "POST",
                        &p("episodes"),
                        json!({"reason": "Re-trafficked"}),
                    )
                    .await;
                if let Some(new) = v["case_id"].as_str() {
                    self.cases.push((new.to_string(), o));
                }
            }
            Op::Service {
                kind, back, open, ..
            } => {
                let service = [
                    "Medical",
                    "PsychologicalCounselling",
                    "VocationalTraining",
                    "AirportMeeting",
                ][usize::from(*kind) % 4];
                let started = past(*back, 1);
                let mut body = json!({"service": service, "provider_org": org.slug, "started_on": started,
                                      "outcome": "Ongoing", "cost_minor": 0});
                if !open {
                    body["ended_on"] = json!(started);
                    body["outcome"] = json!("Completed");
                }
                self.call(&org.cw, "POST", &p("services"), body).await;
            }
            Op::Shelter { state, back, .. } => {
                self.call(
                    &org.cw,
                    "POST",
                    &p("shelter-stays"),
                    json!({"facility_id": org.shelter[usize::from(*state)], "admitted_on": past(*back, 2)}),
                )
                .await;
            }
            Op::Allowance { .. } => {
                let v = self
                    .call(
                        &org.cw,
                        "POST",
                        &p("allowance"),
                        json!({"amount_minor": 40000}),
                    )
                    .await;
                if let Some(pay) = v["id"].as_str() {
                    self.call(
                        &org.sup,
                        "POST",
                        &p(&format!("allowance/{pay}/status")),
                        json!({"status": "Paid"}),
                    )
                    .await;
                }
            }
            Op::Event { abroad, .. } => {
                self.call(
                    &org.cw,
                    "POST",
                    &p("trafficking-events"),
                    json!({"hte_Type": "Exploitation", "hte_Country": if *abroad { "TR" } else { "AZ" }}),
                )
                .await;
            }
            Op::Legal { coop, .. } => {
                let coop = ["Yes", "No", "Declined"][usize::from(*coop) % 3];
                self.call(&org.cw, "PUT", &p("legal"), json!({ "cooperation": coop }))
                    .await;
            }
        }
    }

    /// Maintained == recomputed: the sums, and the report of every year the trend covers
    /// (and the years around it).
    async fn check(&self, step: &str) {
        let s = &self.app.db.store;
        let (stored, recomputed) = s.statistics_maintained_and_recomputed().await.unwrap();
        assert_eq!(stored, recomputed, "sums differ after {step}");
        let me = self.coordinator.actor();
        let cx = ctx(&me);
        let access = s.authorize_national_report(&cx).await.unwrap();
        let y = now().date().year();
        for year in y - 4..=y + 1 {
            let m = s
                .national_report(&access, year, Disclosure::Internal, "test")
                .await
                .unwrap();
            let r = s
                .national_report_recomputed(&access, year, Disclosure::Internal)
                .await
                .unwrap();
            assert_eq!(m, r, "report of {year} differs after {step}");
        }
    }
}

async fn run(ops: Vec<Op>) -> World {
    let mut w = World::new().await;
    for (i, op) in ops.iter().enumerate() {
        w.apply(op).await;
        w.check(&format!("step {i}: {op:?}")).await;
    }
    w.app.db.store.rebuild_statistics().await.unwrap();
    w.check("rebuild").await;
    w
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 16,
        max_shrink_iters: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]
    #[test]
    fn statistics_speed_maintained_equals_recomputed(ops in proptest::collection::vec(op(), 1..16)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            run(ops).await;
        });
    }
}

/// A fixed workload that exercises every step kind at least once (the property test may
/// not draw all of them in a short run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_speed_every_step_kind() {
    use Op::*;
    let w = run(vec![
        Create {
            who: 0,
            dob: 0,
            gender: 0,
            form: 0,
            cit: 0,
        },
        Create {
            who: 0,
            dob: 0,
            gender: 1,
            form: 1,
            cit: 1,
        },
        Create {
            who: 1,
            dob: 1,
            gender: 1,
            form: 2,
            cit: 2,
        },
        Screen {
            case: 0,
            possible: true,
        },
        Screen {
            case: 2,
            possible: true,
        },
        Decide {
            case: 0,
            actual: true,
            back: 1,
            month: 3,
        },
        Decide {
            case: 1,
            actual: true,
            back: 0,
            month: 1,
        },
        Decide {
            case: 2,
            actual: true,
            back: 0,
            month: 1,
        },
        Event {
            case: 0,
            abroad: true,
        },
        Legal { case: 0, coop: 0 },
        Service {
            case: 1,
            kind: 0,
            back: 2,
            open: true,
        },
        Legal { case: 2, coop: 0 },
        Shelter {
            case: 2,
            state: true,
            back: 1,
        },
        Allowance { case: 2 },
        Decide {
            case: 2,
            actual: false,
            back: 0,
            month: 12,
        },
        Identity {
            case: 2,
            who: 0,
            dob: 0,
        },
        Transfer { case: 1 },
        Screen {
            case: 1,
            possible: true,
        },
        Episode { case: 0 },
        Screen {
            case: 3,
            possible: true,
        },
        Erase { case: 1 },
        Create {
            who: 2,
            dob: 1,
            gender: 2,
            form: 0,
            cit: 0,
        },
        Decide {
            case: 4,
            actual: true,
            back: 0,
            month: 1,
        },
    ])
    .await;
    // The steps took effect (the workload is not a row of refusals): identified persons,
    // a reversal, assistance and a transfer are in the sums.
    let (cells, _) = w
        .app
        .db
        .store
        .statistics_maintained_and_recomputed()
        .await
        .unwrap();
    let has = |table: &str, row: &str| cells.keys().any(|k| k.table == table && k.row == row);
    assert!(has("headline", "identified"), "{cells:?}");
    assert!(has("headline", "identification_reversed"), "{cells:?}");
    assert!(has("assistance", "state_shelter"), "{cells:?}");
    assert!(has("allowance", "allowance_paid"), "{cells:?}");
    assert!(
        w.cases.iter().any(|(_, o)| *o == 1),
        "the transfer did not happen"
    );
    assert!(w.cases.len() >= 4, "the new episode did not open");
}

/// Every table the counting rules read is watched by a trigger (a new source table without
/// one would let its writes escape the maintained sums), and a write made outside the
/// product's write transactions is counted by the next one.
#[tokio::test]
async fn statistics_speed_triggers_cover_the_sources() {
    let w = World::new().await;
    let s = &w.app.db.store;
    let pool = s.pool();
    let sql = match s.engine() {
        dayaq_storage::Engine::Sqlite => {
            "SELECT DISTINCT tbl_name AS t FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'stat_dirty_%'"
        }
        dayaq_storage::Engine::Postgres => {
            "SELECT DISTINCT event_object_table::text AS t FROM information_schema.triggers \
             WHERE trigger_schema = current_schema() AND trigger_name LIKE 'stat_dirty_%'"
        }
    };
    let watched: std::collections::BTreeSet<String> = sqlx::query_scalar(sql)
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    for t in [
        "cases",
        "case_values",
        "trafficking_events",
        "identification_decisions",
        "screenings",
        "shelter_stays",
        "shelter_facilities",
        "services_delivered",
        "allowance_payments",
        "referrals",
        "case_legal",
        "blind_index",
        "organisations",
    ] {
        assert!(
            watched.contains(t),
            "no statistics trigger on {t}: {watched:?}"
        );
    }

    // A screening written with raw SQL (as a bulk loader might): counted by the next commit.
    let v = w
        .call(&w.orgs[0].cw, "POST", "/cases", case_body(0, 0, 0, 0, 0))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    w.check("create").await;
    let at = dayaq_storage::millis(now());
    sqlx::query(
        "INSERT INTO screenings (id, case_id, act, means, purpose, is_child, methods_of_control, \
         types_of_exploitation, ilo_indicators, possible_victim, screened_by, screened_by_org, created_at) \
         SELECT $1, $2, 1, 1, 1, 0, '[]', '[]', '[]', 1, created_by, owner_org_id, $3 FROM cases WHERE id = $4",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&id)
    .bind(at)
    .bind(&id)
    .execute(pool)
    .await
    .unwrap();
    w.check("raw screening").await;
    let me = w.coordinator.actor();
    let cx = ctx(&me);
    let access = s.authorize_national_report(&cx).await.unwrap();
    let r = s
        .national_report(&access, now().date().year(), Disclosure::Internal, "test")
        .await
        .unwrap();
    let presumed = r.report.tables[0].cell("presumed", "persons");
    assert_eq!(presumed, Some(dayaq_domain::statistics::Cell::Value(1)));

    // `dayaq statistics rebuild` recomputes the same sums.
    let (before, _) = s.statistics_maintained_and_recomputed().await.unwrap();
    let out = dayaq_cli(&w.app.db, &["statistics", "rebuild"]);
    assert_cli_ok(&out);
    let (after, recomputed) = s.statistics_maintained_and_recomputed().await.unwrap();
    assert_eq!(before, after);
    assert_eq!(after, recomputed);
}
