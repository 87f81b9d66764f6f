#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Enterprise policies, on both databases: a draft rule with a type error is refused with its
//! position, a simulation counts what the current rule gives (as the evaluator does), the
//! 免申即享 run tells the eligible enterprise's representative, who confirms the account; the
//! next run pays within the budget, a third pays nothing more, and a register change pays only
//! the difference. The representative sees every policy with its explanation; nobody else does.

use crate::common;

use std::sync::atomic::AtomicBool;

use common::TestApp;
use quanban::data::domain::Register;
use quanban::data::import::import;
use quanban::policies::service::{self, Progress};
use quanban::store::query;
use serde_json::json;

const POLICY: &str = "JN-ZC-2026-001";

struct Quiet;

impl Progress for Quiet {
    fn phase(&mut self, _: &str, _: u64) {}
    fn advance(&mut self, _: u64) {}
}

/// A generated register of 300 enterprises whose first row is `code` with the given
/// unemployment insurance paid (yuan) and 20 employees, no lay-offs, small, active, good credit.
fn register_with(dir: &std::path::Path, code: &str, insurance: &str) -> std::path::PathBuf {
    let path = dir.join(format!("register-{insurance}.csv"));
    let mut file = std::fs::File::create(&path).unwrap();
    quanban::data::generate::enterprises(300, 5, &mut file, &mut |_| {}).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
    for (name, value) in [
        ("uscc", code),
        ("status", "active"),
        ("credit_status", "good"),
        ("size", "small"),
        ("employees_last_year", "20"),
        ("layoffs_last_year", "0"),
        ("unemployment_insurance_paid_last_year", insurance),
    ] {
        cells[at(name)] = value.to_string();
    }
    lines[1] = cells.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

async fn load(app: &TestApp, file: &std::path::Path) {
    let today = app.state.clock().today();
    let report =
        import(&app.state.db, Register::Enterprises, file, "test", today, &mut |_, _| {}).await.unwrap();
    assert_eq!(report.problem_count, 0, "{:?}", report.problems);
}

async fn run(app: &TestApp) -> service::RunSummary {
    service::run(&app.state, POLICY, "job:test", &AtomicBool::new(false), &mut Quiet).await.unwrap()
}

async fn count(app: &TestApp, sql: &str, bind: &str) -> i64 {
    query(sql.to_string()).bind(bind).read_one(&app.state.db).await.unwrap().try_get("n").unwrap()
}

async fn a_policy_goes_from_simulation_to_payment_and_pays_only_the_difference(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    // 12,345.67 yuan of insurance, small enterprise: 60 % back = 7,407.402 → 7,407.40 yuan.
    load(app, &register_with(dir.path(), &code, "12345.67")).await;
    let officer = app.demo_token("rsj.policy").await;
    let simulate = format!("/api/v1/policies/{POLICY}/simulate");

    // A draft with a type error is refused, naming the field and the position.
    let (status, problem) = app
        .post_json(
            &simulate,
            Some(&officer),
            json!({"eligibility": "status == 'active' && employees_last_year > 1.5"}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    let error = &problem["errors"][0];
    assert_eq!(error["field"], "eligibility", "{problem}");
    assert!(error["code"].as_str().unwrap().starts_with("rule_"), "{problem}");
    // `1.5` (a double) is compared with an int field.
    assert!(error["message_zh"].as_str().unwrap().starts_with("第"), "{problem}");
    assert!(error["message_en"].as_str().unwrap().starts_with("At character"), "{problem}");
    // Nobody outside the issuing department's policy officers simulates.
    let clerk = app.demo_token("spj.clerk").await;
    assert_eq!(app.post_json(&simulate, Some(&clerk), json!({})).await.0, 404);
    let supervisor = app.demo_token("dsj.supervisor").await;
    assert_eq!(app.post_json(&simulate, Some(&supervisor), json!({})).await.0, 403);

    // The simulation of the current rule counts what the evaluator counts; a lower rate loses money.
    let policies = quanban::policies::library::shipped().unwrap();
    let p = policies.iter().find(|p| p.code == POLICY).unwrap();
    let columns = quanban::policies::evaluate::load(&app.state.db, std::slice::from_ref(p)).await.unwrap();
    let register = quanban::policies::columnar::Register::from_columns(&columns);
    let (totals, _) = quanban::policies::evaluate::evaluate(std::slice::from_ref(p), &register);
    let draft = "double(unemployment_insurance_paid_last_year) * (size == 'large' ? 0.3 : 0.5)";
    let (status, sim) = app.post_json(&simulate, Some(&officer), json!({"amount": draft})).await;
    assert_eq!(status, 200, "{sim}");
    assert_eq!(sim["evaluated"], 300);
    assert_eq!(sim["current"]["eligible"], totals[0].eligible);
    assert_eq!(sim["current"]["amount_fen"].as_i64().unwrap() as i128, totals[0].amount_fen);
    assert_eq!(sim["draft"]["eligible"], sim["current"]["eligible"], "the same eligibility rule");
    assert!(sim["less"]["enterprises"].as_u64().unwrap() > 0, "{sim}");
    assert_eq!(
        sim["current"]["amount_fen"].as_i64().unwrap() - sim["less"]["fen"].as_i64().unwrap(),
        sim["draft"]["amount_fen"].as_i64().unwrap() - sim["more"]["fen"].as_i64().unwrap()
    );
    let by_size: u64 =
        sim["by_size"].as_array().unwrap().iter().map(|b| b["draft"]["eligible"].as_u64().unwrap()).sum();
    assert_eq!(by_size, sim["draft"]["eligible"].as_u64().unwrap());
    assert_eq!(
        count(app, "SELECT COUNT(*) AS n FROM policy_benefits WHERE policy = $1", POLICY).await,
        0,
        "a simulation writes nothing"
    );

    // Before any run, the representative sees the benefit as coming, with every clause held.
    let benefits = format!("/api/v1/enterprises/{code}/benefits");
    let (status, mine) = app.get_json(&benefits, Some(&rep)).await;
    assert_eq!(status, 200, "{mine}");
    let all = mine.as_array().unwrap();
    assert_eq!(all.len(), policies.len());
    let first = all.iter().find(|b| b["policy"] == POLICY).unwrap();
    assert_eq!(
        (first["eligible"].as_bool(), first["amount_fen"].as_i64()),
        (Some(true), Some(740_740)),
        "{first}"
    );
    assert_eq!(first["status"], "eligible_next_run");
    assert!(first["explanation"].as_array().unwrap().iter().all(|c| c["held"] == true), "{first}");
    assert_eq!(first["explanation"][0]["values"]["status"], "active");
    let refused = all
        .iter()
        .find(|b| b["eligible"] == false && b["reason_zh"].is_string())
        .expect("a policy it does not get, and why");
    assert!(!refused["reason_zh"].as_str().unwrap().is_empty());
    // Nobody else sees it.
    let citizen = app.demo_token("13800138001").await;
    assert_eq!(app.get_json(&benefits, Some(&citizen)).await.0, 404);
    assert_eq!(app.get_json(&benefits, None).await.0, 401);
    assert_eq!(app.get_json(&benefits, Some(&officer)).await.0, 200, "the issuing department's officer");

    // The first run records and tells; nothing is paid before the account is confirmed.
    let first_run = run(app).await;
    assert_eq!(first_run.run.evaluated, 300);
    assert_eq!(first_run.run.eligible as u64, totals[0].eligible);
    assert_eq!(
        (first_run.run.notified, first_run.run.paid_count),
        (1, 0),
        "one representative on the platform"
    );
    assert!(first_run.reconciliation.adds_up(), "{:?}", first_run.reconciliation);
    assert_eq!(first_run.reconciliation.entitled_fen as i128, totals[0].amount_fen);
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&rep)).await;
    assert!(inbox.to_string().contains("免申"), "{inbox}");
    let sms =
        count(app, "SELECT COUNT(*) AS n FROM outbox WHERE channel = $1 AND body LIKE '%免申%'", "sms").await;
    assert_eq!(sms, 1);
    let (_, mine) = app.get_json(&benefits, Some(&rep)).await;
    let first = mine.as_array().unwrap().iter().find(|b| b["policy"] == POLICY).unwrap().clone();
    assert_eq!(
        (first["status"].as_str(), first["can_answer"].as_bool()),
        (Some("awaiting_confirmation"), Some(true))
    );

    // Confirming: a bad account names the field; a good one is kept masked.
    let confirm = format!("/api/v1/enterprises/{code}/benefits/{POLICY}/confirm");
    let (status, problem) = app.post_json(&confirm, Some(&rep), json!({"account": "12ab"})).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "account");
    assert_eq!(
        app.post_json(&confirm, Some(&citizen), json!({"account": "6222020200112345678"})).await.0,
        404
    );
    let (status, answered) = app
        .post_json(&confirm, Some(&rep), json!({"account": "6222 0202 0011 2345 678", "bank": "工商银行"}))
        .await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["status"], "confirmed");
    assert_eq!(
        (answered["eligible"].as_bool(), answered["amount_fen"].as_i64()),
        (Some(true), Some(740_740))
    );
    assert_eq!(answered["account"], "工商银行 **** 5678");
    assert_eq!(app.post_json(&confirm, Some(&rep), json!({"account": "6222020200112345678"})).await.0, 409);
    let stored: String = query("SELECT account FROM policy_benefits WHERE credit_code = $1")
        .bind(&code)
        .read_one(&app.state.db)
        .await
        .unwrap()
        .try_get("account")
        .unwrap();
    assert!(!stored.contains("6222"), "the account is sealed at rest");

    // The second run pays the confirmed benefit; the third pays nothing more.
    let second = run(app).await;
    assert_eq!(
        (second.run.paid_count, second.run.paid_fen, second.run.notified),
        (1, 740_740, 0),
        "{second:?}"
    );
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&rep)).await;
    assert!(inbox.to_string().contains("已拨付"), "{inbox}");
    assert!(second.reconciliation.adds_up());
    assert_eq!(second.reconciliation.paid_fen, 740_740);
    let third = run(app).await;
    assert_eq!((third.run.paid_count, third.run.paid_fen, third.run.notified), (0, 0, 0));
    let (_, mine) = app.get_json(&benefits, Some(&rep)).await;
    let first = mine.as_array().unwrap().iter().find(|b| b["policy"] == POLICY).unwrap().clone();
    assert_eq!((first["status"].as_str(), first["paid_fen"].as_i64()), (Some("paid"), Some(740_740)));

    // The register changes: more insurance paid. The next run pays only the difference.
    load(app, &register_with(dir.path(), &code, "20000.00")).await;
    let fourth = run(app).await;
    assert_eq!((fourth.run.paid_count, fourth.run.paid_fen), (1, 1_200_000 - 740_740), "{fourth:?}");
    assert!(fourth.reconciliation.adds_up());
    let paid = count(
        app,
        "SELECT CAST(SUM(amount_fen) AS BIGINT) AS n FROM policy_payments WHERE credit_code = $1",
        &code,
    )
    .await;
    assert_eq!(paid, 1_200_000, "paid in all exactly what is owed, never twice");
    let payments =
        count(app, "SELECT COUNT(*) AS n FROM policy_payments WHERE credit_code = $1", &code).await;
    assert_eq!(payments, 2);

    // The policy's books for its officers; every change is in the audit log.
    let (status, books) = app.get_json(&format!("/api/v1/policies/{POLICY}/runs"), Some(&officer)).await;
    assert_eq!(status, 200, "{books}");
    assert_eq!(books["runs"].as_array().unwrap().len(), 4);
    assert_eq!(books["adds_up"], true);
    assert_eq!(app.get_json(&format!("/api/v1/policies/{POLICY}/runs"), Some(&clerk)).await.0, 404);
    for (action, n) in [
        ("policies.run.start", 4),
        ("policies.run.finished", 4),
        ("policies.benefit.confirm", 1),
        ("policies.run.pay", 2),
    ] {
        assert_eq!(
            count(app, "SELECT COUNT(*) AS n FROM audit_log WHERE action = $1", action).await,
            n,
            "{action}"
        );
    }
    // The register reads were logged with the policy.
    let reads = count(app, "SELECT COUNT(*) AS n FROM data_access_log WHERE policy = $1", POLICY).await;
    assert!(reads >= 4, "{reads}");
}

async fn a_payment_beyond_the_budget_is_refused_whole(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    load(app, &register_with(dir.path(), &code, "12345.67")).await;
    run(app).await;
    let confirm = format!("/api/v1/enterprises/{code}/benefits/{POLICY}/confirm");
    assert_eq!(app.post_json(&confirm, Some(&rep), json!({"account": "6222020200112345678"})).await.0, 200);
    let b = quanban::policies::store::benefit_of(&app.state.db, POLICY, &code).await.unwrap().unwrap();
    let names = quanban::policies::store::PolicyNames { code: POLICY.into(), name_zh: "测试".into() };
    let payment = quanban::policies::benefits::Payment {
        credit_code: code.clone(),
        amount_fen: b.outstanding(),
        version: b.version,
    };
    let refused = quanban::policies::store::pay(
        &app.state.db,
        "r".into(),
        names.clone(),
        Some(100),
        "job:test".into(),
        vec![payment.clone()],
    )
    .await;
    assert!(matches!(refused, Err(quanban::store::StoreError::Conflict)), "{refused:?}");
    assert_eq!(
        count(app, "SELECT COUNT(*) AS n FROM policy_payments WHERE credit_code = $1", &code).await,
        0
    );
    let after = quanban::policies::store::benefit_of(&app.state.db, POLICY, &code).await.unwrap().unwrap();
    assert_eq!(
        (after.paid_fen, after.status),
        (0, quanban::policies::benefits::Status::Confirmed),
        "nothing half-paid"
    );
    // A stale version (the benefit changed since it was planned) pays nothing either.
    let stale = quanban::policies::benefits::Payment { version: b.version - 1, ..payment };
    let refused =
        quanban::policies::store::pay(&app.state.db, "r".into(), names, None, "job:test".into(), vec![stale])
            .await;
    assert!(matches!(refused, Err(quanban::store::StoreError::Conflict)));
    assert_eq!(
        count(app, "SELECT COUNT(*) AS n FROM policy_payments WHERE credit_code = $1", &code).await,
        0
    );
}

/// A batch of payments is claimed whole: one stale benefit in it leaves the others unpaid, and
/// two payers of the same batch at once (two connections, as two processes would) pay it once.
async fn a_batch_of_payments_is_claimed_whole_and_paid_once(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    load(app, &register_with(dir.path(), &code, "12345.67")).await;
    run(app).await;
    // The representatives confirm their accounts (as the platform records it).
    app.state
        .db
        .write(|tx| {
            query(
                "UPDATE policy_benefits SET status = 'confirmed', account = 'sealed', version = version + 1",
            )
            .execute(tx)?;
            Ok(())
        })
        .await
        .unwrap();
    let payable = quanban::policies::store::payable(&app.state.db, POLICY).await.unwrap();
    assert!(payable.len() >= 3, "{}", payable.len());
    let batch: Vec<quanban::policies::benefits::Payment> = payable[..3]
        .iter()
        .map(|b| quanban::policies::benefits::Payment {
            credit_code: b.credit_code.clone(),
            amount_fen: b.outstanding(),
            version: b.version,
        })
        .collect();
    let names = quanban::policies::store::PolicyNames { code: POLICY.into(), name_zh: "测试".into() };
    let pay = |payments: Vec<quanban::policies::benefits::Payment>| {
        quanban::policies::store::pay(
            &app.state.db,
            "r".into(),
            names.clone(),
            None,
            "job:test".into(),
            payments,
        )
    };
    let paid =
        async || count(app, "SELECT COUNT(*) AS n FROM policy_payments WHERE policy = $1", POLICY).await;

    let mut stale = batch.clone();
    stale[2].version -= 1;
    assert!(matches!(pay(stale).await, Err(quanban::store::StoreError::Conflict)));
    assert_eq!(paid().await, 0, "the two benefits claimed before the stale one are not paid either");
    for p in &batch {
        let b = quanban::policies::store::benefit_of(&app.state.db, POLICY, &p.credit_code)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (b.paid_fen, b.status, b.version),
            (0, quanban::policies::benefits::Status::Confirmed, p.version)
        );
    }

    let (first, second) = tokio::join!(pay(batch.clone()), pay(batch.clone()));
    let won = [&first, &second].iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{first:?} {second:?}");
    assert!([&first, &second].iter().any(|r| matches!(r, Err(quanban::store::StoreError::Conflict))));
    assert_eq!(paid().await, 3);
    let total: i64 = batch.iter().map(|p| p.amount_fen).sum();
    assert_eq!(first.as_ref().ok().or(second.as_ref().ok()), Some(&total));
    for p in &batch {
        let b = quanban::policies::store::benefit_of(&app.state.db, POLICY, &p.credit_code)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((b.paid_fen, b.status), (p.amount_fen, quanban::policies::benefits::Status::Paid));
    }
}

/// New rules are proposed by one officer and approved by another; a rule with a type error is
/// refused naming its position; two decisions at once: one wins; once approved and in effect,
/// what the enterprise is owed follows the new rule.
async fn a_rule_change_is_proposed_by_one_officer_and_approved_by_another(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    load(app, &register_with(dir.path(), &code, "12345.67")).await;
    let proposer = app.demo_token("rsj.policy").await;
    let other = app.token_for_staff_with("rsj.policy2", "JN-RSJ", &["policy_officer"]).await;
    let head = app.demo_token("rsj.head").await;
    let versions = format!("/api/v1/policies/{POLICY}/versions");
    let today = app.state.clock().today().to_string();

    let (status, problem) = app
        .post_json(
            &versions,
            Some(&proposer),
            json!({"eligibility": "status == 'active' && employees_last_year > 1.5", "effective_on": today, "note": "门槛"}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "eligibility");
    assert!(problem["errors"][0]["message_en"].as_str().unwrap().contains("character"), "{problem}");
    let (status, problem) = app.post_json(&versions, Some(&proposer), json!({"amount": "100.0"})).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["effective_on", "note"], "{problem}");
    assert_eq!(
        count(app, "SELECT COUNT(*) AS n FROM policy_versions WHERE code = $1", POLICY).await,
        0,
        "nothing stored"
    );

    let draft = "double(unemployment_insurance_paid_last_year) * (size == 'large' ? 0.3 : 0.5)";
    let (status, proposed) = app
        .post_json(
            &versions,
            Some(&proposer),
            json!({"amount": draft, "effective_on": today, "note": "返还比例调整为50%"}),
        )
        .await;
    assert_eq!(status, 201, "{proposed}");
    assert_eq!((proposed["version"].as_i64(), proposed["status"].as_str()), (Some(1), Some("proposed")));
    let clerk = app.demo_token("spj.clerk").await;
    assert_eq!(app.get_json(&versions, Some(&clerk)).await.0, 404);
    assert_eq!(app.post_json(&format!("{versions}/1/approve"), Some(&clerk), json!({})).await.0, 404);
    let (status, refused) = app.post_json(&format!("{versions}/1/approve"), Some(&proposer), json!({})).await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("four_eyes")), "{refused}");
    // Not in force before it is approved.
    let (_, mine) = app.get_json(&format!("/api/v1/enterprises/{code}/benefits"), Some(&rep)).await;
    let first = mine.as_array().unwrap().iter().find(|b| b["policy"] == POLICY).unwrap().clone();
    assert_eq!(first["amount_fen"], 740_740);

    // Another officer approves while the head rejects: one decision wins.
    let (approve_path, reject_path) = (format!("{versions}/1/approve"), format!("{versions}/1/reject"));
    let approve = app.post_json(&approve_path, Some(&other), json!({"row_version": 1}));
    let reject = app.post_json(&reject_path, Some(&head), json!({"row_version": 1, "note": "预算不足"}));
    let ((a, approved), (r, _)) = tokio::join!(approve, reject);
    assert_eq!([a, r].iter().filter(|s| **s == 200).count(), 1, "one decision: {a} {r}");
    assert!([a, r].contains(&409));
    let expected = if a == 200 {
        assert_eq!(approved["status"], "approved");
        // 12,345.67 × 50 % = 6,172.835 → 6,172.84 yuan.
        617_284
    } else {
        740_740
    };
    let (_, mine) = app.get_json(&format!("/api/v1/enterprises/{code}/benefits"), Some(&rep)).await;
    let first = mine.as_array().unwrap().iter().find(|b| b["policy"] == POLICY).unwrap().clone();
    assert_eq!(first["amount_fen"], expected, "{first}");
    let (_, all) = app.get_json(&versions, Some(&other)).await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_ne!(all[0]["status"], "proposed");
    let decided =
        count(app, "SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE $1", "policies.version.%").await;
    assert_eq!(decided, 2, "proposed and decided, once each");
}

/// A generated register whose first row is `code` with these fields set.
fn register_of(dir: &std::path::Path, name: &str, code: &str, fields: &[(&str, &str)]) -> std::path::PathBuf {
    let path = dir.join(format!("register-{name}.csv"));
    let mut file = std::fs::File::create(&path).unwrap();
    quanban::data::generate::enterprises(300, 5, &mut file, &mut |_| {}).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let at =
        |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
    cells[at("uscc")] = code.to_string();
    for (name, value) in fields {
        cells[at(name)] = value.to_string();
    }
    lines[1] = cells.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// Policies paid on application, from the one window to payment and the follow-up: 直办 (the
/// graduate-hiring subsidy, decided by the window at acceptance) and 转办 (the first-loan interest
/// subsidy, accepted at the window and decided by 财政局). What cannot be applied for is refused
/// naming the policy field; an approval the register no longer bears out is refused whole.
async fn applications_go_from_the_window_to_payment_and_follow_up(app: &TestApp) {
    // 2026-06-03 10:00 in Beijing: both policies take applications then.
    app.clock().set("2026-06-03T02:00:00Z".parse().unwrap()).unwrap();
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let qualifying = [
        ("status", "active"),
        ("credit_status", "good"),
        ("size", "small"),
        ("high_tech", "false"),
        ("new_graduate_hires_last_year", "7"),
        ("first_loan_last_year_yuan", "3000000.00"),
        ("tax_paid_last_year", "12345.00"),
    ];
    load(app, &register_of(dir.path(), "a", &code, &qualifying)).await;
    let apply = |policy: &str| {
        json!({"item_code": "JN-FGW-0003", "enterprise": code, "policy": policy,
               "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}})
    };
    let cases_before = count(app, "SELECT COUNT(*) AS n FROM cases WHERE enterprise = $1", &code).await;
    for (policy, why) in [
        ("JN-ZC-2026-001", "no_application_needed"),
        ("JN-ZC-2026-005", "not_eligible"),
        ("JN-ZC-2026-099", "unknown_policy"),
    ] {
        let (status, problem) = app.post_json("/api/v1/cases", Some(&rep), apply(policy)).await;
        assert_eq!(status, 422, "{policy}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "policy", "{problem}");
        assert_eq!(problem["errors"][0]["code"], why, "{problem}");
    }
    let (_, problem) = app.post_json("/api/v1/cases", Some(&rep), apply("JN-ZC-2026-005")).await;
    assert!(problem["errors"][0]["message_zh"].as_str().unwrap().contains("高新技术企业"), "{problem}");
    assert_eq!(
        count(app, "SELECT COUNT(*) AS n FROM cases WHERE enterprise = $1", &code).await,
        cases_before,
        "a refused application leaves nothing behind"
    );

    // 直办: the window accepts and decides at once; 7 graduates × 1,500 yuan.
    let (status, case) = app.post_json("/api/v1/cases", Some(&rep), apply("JN-ZC-2026-008")).await;
    assert_eq!(status, 201, "{case}");
    let direct = case["case_number"].as_str().unwrap().to_string();
    let (status, again) = app.post_json("/api/v1/cases", Some(&rep), apply("JN-ZC-2026-008")).await;
    assert_eq!((status, again["errors"][0]["code"].as_str()), (422, Some("already_applied")), "{again}");
    let benefits = format!("/api/v1/enterprises/{code}/benefits");
    let of = |all: &serde_json::Value, policy: &str| {
        all.as_array().unwrap().iter().find(|b| b["policy"] == policy).unwrap().clone()
    };
    let (_, mine) = app.get_json(&benefits, Some(&rep)).await;
    let applied = of(&mine, "JN-ZC-2026-008");
    assert_eq!(applied["status"], "applied", "{applied}");
    assert_eq!(applied["case_number"], direct.as_str());
    assert_eq!(applied["route"], "direct");
    let window = app.token_for_staff_with("fgw.window", "JN-FGW", &["window_clerk"]).await;
    let (status, decided) =
        app.post_json(&format!("/api/v1/cases/{direct}/actions/accept"), Some(&window), json!({})).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["state"], "approved", "{decided}");
    let (_, shown) = app.get_json(&format!("/api/v1/cases/{direct}"), Some(&rep)).await;
    assert_eq!(shown["title"], "惠企政策兑现申请：吸纳高校毕业生就业补贴", "{shown}");
    let (_, mine) = app.get_json(&benefits, Some(&rep)).await;
    let awarded = of(&mine, "JN-ZC-2026-008");
    assert_eq!(
        (awarded["status"].as_str(), awarded["amount_fen"].as_i64()),
        (Some("awaiting_confirmation"), Some(1_050_000))
    );
    assert_eq!(awarded["can_answer"], true);
    let told =
        count(app, "SELECT COUNT(*) AS n FROM notifications WHERE case_number = $1", "policy:JN-ZC-2026-008")
            .await;
    assert_eq!(told, 1, "the representative is told to confirm the account");

    // Confirming the account pays at once; the follow-up comes after payment, once.
    let step = |policy: &str, action: &str| format!("/api/v1/enterprises/{code}/benefits/{policy}/{action}");
    let (status, early) = app
        .post_json(&step("JN-ZC-2026-008", "follow_up"), Some(&rep), json!({"rating": 5, "effect": "好"}))
        .await;
    assert_eq!((status, early["code"].as_str()), (409, Some("not_paid")), "{early}");
    let (status, paid) = app
        .post_json(&step("JN-ZC-2026-008", "confirm"), Some(&rep), json!({"account": "6222020200112345678"}))
        .await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(
        (paid["status"].as_str(), paid["paid_fen"].as_i64()),
        (Some("paid"), Some(1_050_000)),
        "{paid}"
    );
    let payments = count(
        app,
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS n FROM policy_payments WHERE policy = $1",
        "JN-ZC-2026-008",
    )
    .await;
    assert_eq!(payments, 1_050_000);
    let (status, bad) = app
        .post_json(&step("JN-ZC-2026-008", "follow_up"), Some(&rep), json!({"rating": 9, "jobs": -2}))
        .await;
    assert_eq!(status, 422, "{bad}");
    let fields: Vec<&str> =
        bad["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["rating", "effect", "jobs"]);
    let follow = json!({"rating": 5, "effect": "补贴用于新员工岗前培训，7名毕业生全部留用", "jobs": 7});
    let (status, done) =
        app.post_json(&step("JN-ZC-2026-008", "follow_up"), Some(&rep), follow.clone()).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (done["follow_up"]["rating"].as_i64(), done["can_follow_up"].as_bool()),
        (Some(5), Some(false))
    );
    let (status, twice) = app.post_json(&step("JN-ZC-2026-008", "follow_up"), Some(&rep), follow).await;
    assert_eq!((status, twice["code"].as_str()), (409, Some("already_followed_up")), "{twice}");
    let (status, _) = app.post_json("/api/v1/cases", Some(&rep), apply("JN-ZC-2026-008")).await;
    assert_eq!(status, 422, "an awarded policy is not applied for again");

    // 转办: the window accepts and transfers to 财政局, which reviews and decides.
    let (status, case) = app.post_json("/api/v1/cases", Some(&rep), apply("JN-ZC-2026-009")).await;
    assert_eq!(status, 201, "{case}");
    let transferred = case["case_number"].as_str().unwrap().to_string();
    let act = |action: &str| format!("/api/v1/cases/{transferred}/actions/{action}");
    let (status, accepted) = app.post_json(&act("accept"), Some(&window), json!({})).await;
    assert_eq!((status, accepted["state"].as_str()), (200, Some("accepted")), "{accepted}");
    let (status, moved) = app
        .post_json(
            &act("transfer"),
            Some(&window),
            json!({"to_department": "JN-CZJ", "reason": "首贷贴息须财政部门审核借款合同和付息凭证"}),
        )
        .await;
    assert_eq!((status, moved["department"].as_str()), (200, Some("JN-CZJ")), "{moved}");
    let czj = app.token_for_staff_with("czj.approver", "JN-CZJ", &["reviewer", "approver"]).await;
    let (status, _) = app.post_json(&act("start_review"), Some(&czj), json!({})).await;
    assert_eq!(status, 200);
    // The register changes before the decision: the approval is refused and nothing is awarded.
    let lapsed: Vec<(&str, &str)> = qualifying
        .iter()
        .map(|(k, v)| if *k == "first_loan_last_year_yuan" { (*k, "0.00") } else { (*k, *v) })
        .collect();
    load(app, &register_of(dir.path(), "b", &code, &lapsed)).await;
    let (status, refused) = app.post_json(&act("approve"), Some(&czj), json!({})).await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("policy_not_borne_out")), "{refused}");
    let (_, still) = app.get_json(&format!("/api/v1/cases/{transferred}"), Some(&czj)).await;
    assert_eq!(still["state"], "under_review");
    assert!(
        quanban::policies::store::benefit_of(&app.state.db, "JN-ZC-2026-009", &code).await.unwrap().is_none()
    );
    load(app, &register_of(dir.path(), "c", &code, &qualifying)).await;
    let (status, approved) = app.post_json(&act("approve"), Some(&czj), json!({})).await;
    assert_eq!((status, approved["state"].as_str()), (200, Some("approved")), "{approved}");
    // 1 % of 3,000,000 yuan = 30,000 yuan, under the 50,000 cap.
    let b =
        quanban::policies::store::benefit_of(&app.state.db, "JN-ZC-2026-009", &code).await.unwrap().unwrap();
    assert_eq!((b.amount_fen, b.run_id.as_str()), (3_000_000, format!("case:{transferred}").as_str()));
    // Two confirmations at once (two tabs): one is taken and pays, once.
    let confirm = step("JN-ZC-2026-009", "confirm");
    let account = json!({"account": "6222020200112345678", "bank": "济南农商银行"});
    let ((a, first), (b, second)) = tokio::join!(
        app.post_json(&confirm, Some(&rep), account.clone()),
        app.post_json(&confirm, Some(&rep), account.clone())
    );
    assert_eq!([a, b].iter().filter(|s| **s == 200).count(), 1, "{first} {second}");
    assert!([a, b].contains(&409), "{first} {second}");
    let paid = count(
        app,
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS n FROM policy_payments WHERE policy = $1",
        "JN-ZC-2026-009",
    )
    .await;
    assert_eq!(paid, 3_000_000, "paid exactly once");
    // Two follow-ups at once: one is recorded.
    let follow = json!({"rating": 4, "effect": "贴息降低了首贷成本"});
    let follow_up = step("JN-ZC-2026-009", "follow_up");
    let ((a, _), (b, _)) = tokio::join!(
        app.post_json(&follow_up, Some(&rep), follow.clone()),
        app.post_json(&follow_up, Some(&rep), follow.clone())
    );
    let mut statuses = [a, b];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let (_, timeline) = app.get_json(&format!("/api/v1/cases/{transferred}"), Some(&rep)).await;
    let actions: Vec<&str> =
        timeline["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["submit", "accept", "transfer", "start_review", "approve"], "{timeline}");
    let awards =
        count(app, "SELECT COUNT(*) AS n FROM audit_log WHERE action = $1", "policies.benefit.award").await;
    assert_eq!(awards, 2);
}

stories!(
    applications_go_from_the_window_to_payment_and_follow_up,
    a_policy_goes_from_simulation_to_payment_and_pays_only_the_difference,
    a_payment_beyond_the_budget_is_refused_whole,
    a_batch_of_payments_is_claimed_whole_and_paid_once,
    a_rule_change_is_proposed_by_one_officer_and_approved_by_another
);
