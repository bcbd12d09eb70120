//! CI smoke test of the measurement harness (issue 8): `dayaq bench generate` and
//! `dayaq bench run` on a small synthetic population, on the configured engine. Checks exit
//! codes and that the JSON report holds every measure; never timings.

use crate::kit;
use crate::kit::dayaq_cli_default_key;
use serde_json::Value;
use std::process::Output;

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh store (closed again) into which `dayaq bench generate` wrote `cases` cases with
/// `seed`; and what the command printed.
async fn generated(cases: &str, seed: &str) -> (kit::TestDb, String) {
    let db = kit::test_db().await;
    db.store.close().await;
    let out = dayaq_cli_default_key(
        &db,
        &["bench", "generate", "--cases", cases, "--seed", seed],
    );
    ok(&out, "bench generate");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (db, stdout)
}

#[tokio::test]
async fn bench_generate_and_run_report_every_measure() {
    let (db, stdout) = generated("1000", "5").await;
    assert!(stdout.contains("generated 1000 cases"), "{stdout}");

    // A second generation into the same store is refused.
    let again = dayaq_cli_default_key(&db, &["bench", "generate", "--cases", "10"]);
    assert!(!again.status.success());

    let results = db.dir.path().join("results.json");
    let results_arg = results.to_string_lossy().into_owned();
    let out = dayaq_cli_default_key(
        &db,
        &[
            "bench",
            "run",
            "--cases",
            "1000",
            "--samples",
            "50",
            "--out",
            &results_arg,
        ],
    );
    ok(&out, "bench run");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("| case_page_read |"), "{table}");

    let v: Value = serde_json::from_slice(&std::fs::read(&results).expect("results file"))
        .expect("results are JSON");
    assert_eq!(v["population"]["cases"], 1000);
    assert_eq!(v["cases_in_store"], 1000);
    assert_eq!(v["engine"], kit::engine_name());
    let metrics = v["metrics"].as_array().expect("metrics");
    let find = |name: &str| {
        metrics
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("measure {name} missing"))
    };
    for name in [
        "case_page_read",
        "case_summary_read",
        "caseload_list_50",
        "blind_index_search",
        "national_annual_statistics",
    ] {
        let m = find(name);
        for side in ["dayaq", "raw"] {
            assert!(
                m[side]["samples"].as_u64().unwrap_or(0) > 0,
                "{name} {side}"
            );
            assert!(m[side]["p99_ms"].as_f64().is_some(), "{name} {side}");
        }
        assert!(m["ratio_p50"].as_f64().is_some(), "{name}");
    }
    for name in ["national_overview", "durable_commit_floor"] {
        assert!(find(name)["dayaq"]["p50_ms"].as_f64().is_some(), "{name}");
    }
    assert_eq!(v["export"]["cases"], 1000);
    assert_eq!(v["export"]["raw_rows"], 1000);
    assert!(v["export"]["bytes"].as_u64().unwrap_or(0) > 0);
    let rows = &v["population"]["rows"];
    for kind in [
        "contacts",
        "screenings",
        "decisions",
        "consents",
        "case_events",
    ] {
        assert!(rows[kind].as_u64().unwrap_or(0) > 0, "no {kind} generated");
    }
}

/// The generated assistance and follow-up rows are read back through the product's own
/// storage API (access policy, decryption of sealed goals): a generator that wrote rows the
/// product cannot read, or with the wrong key, fails here.
#[tokio::test]
async fn generated_assistance_and_follow_up_read_back_through_the_product() {
    let (db, stdout) = generated("600", "11").await;
    assert!(stdout.contains("per case"), "{stdout}");

    let info: Value = serde_json::from_slice(
        &std::fs::read(db.opts.data_dir.join("bench-population.json")).expect("population file"),
    )
    .expect("population JSON");
    let rows = &info["rows"];
    for kind in [
        "referrals",
        "needs_assessments",
        "plans",
        "plan_goals_and_actions",
        "services",
        "shelter_stays",
        "allowance_payments",
        "followup_tasks",
        "followup_contacts",
        "followup_assessments",
    ] {
        assert!(rows[kind].as_u64().unwrap_or(0) > 0, "no {kind} generated");
    }
    let per_case = rows["rows_per_case"].as_f64().unwrap_or(0.0);
    assert!(per_case >= 40.0, "only {per_case} event rows per case");

    let store = dayaq_storage::Store::open(&db.opts)
        .await
        .expect("open store");
    let user = store
        .user_by_name("bench.assistance-center")
        .await
        .expect("bench caseworker");
    let actor = user.actor();
    let ctx = dayaq_storage::cases::Ctx {
        actor: &actor,
        source: "test",
        now: time::OffsetDateTime::now_utc(),
    };
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM cases WHERE owner_org_id = $1 ORDER BY id LIMIT 60")
            .bind(actor.org_id.to_string())
            .fetch_all(store.pool())
            .await
            .expect("case ids");
    assert!(!ids.is_empty());
    let (mut goals, mut services, mut assessments, mut contacts, mut answered) = (0, 0, 0, 0, 0);
    for id in &ids {
        let case: uuid::Uuid = id.parse().expect("uuid");
        for p in store.plans(&ctx, case).await.expect("plans") {
            for g in &p.goals {
                assert!(!g.description.is_empty());
                goals += 1;
            }
        }
        services += store.services(&ctx, case).await.expect("services").len();
        assessments += store
            .assessments(&ctx, case)
            .await
            .expect("assessments")
            .len();
        store.stays(&ctx, case).await.expect("stays");
        store.payments(&ctx, case).await.expect("payments");
        store.case_referrals(&ctx, case).await.expect("referrals");
        store.plan(&ctx, case).await.expect("follow-up plan");
        store
            .followup_tasks(&ctx, case)
            .await
            .expect("follow-up tasks");
        contacts += store
            .followup_contacts(&ctx, case)
            .await
            .expect("follow-up contacts")
            .len();
        answered += store
            .reintegration_assessments(&ctx, case)
            .await
            .expect("questionnaires")
            .len();
    }
    assert!(
        goals > 0 && services > 0 && assessments > 0,
        "{goals} {services} {assessments}"
    );
    assert!(contacts > 0 && answered > 0, "{contacts} {answered}");
    store.close().await;
}
