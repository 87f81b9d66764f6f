//! Construction-project stories over HTTP, on SQLite and PostgreSQL: registering a project (and
//! being refused for each wrong field), applying for its stages in order with a clock per stage
//! and for the whole, and a joint review whose case is approved only after every member
//! department agreed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;
use serde_json::{Value, json};

stories!(
    a_project_is_registered_and_its_stages_open_in_order,
    a_joint_review_is_approved_only_when_every_member_agreed,
    a_project_runs_through_all_four_stages_to_completion,
);

fn contact() -> Value {
    json!({"contact_name": "刘芳", "contact_phone": "13800138002"})
}

/// The demo enterprise's representative and its credit code.
async fn builder(app: &TestApp) -> (String, String) {
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    (rep, code)
}

async fn register(app: &TestApp, rep: &str, enterprise: &str) -> String {
    let (s, b) = app
        .post_json(
            "/api/v1/projects",
            Some(rep),
            json!({"name": "泉城智能制造产业园一期", "district": "历城区", "location": "港源七路以东",
                   "floor_area_m2": 32000, "investment_wan": 18500, "enterprise": enterprise}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["code"].as_str().unwrap().to_string()
}

async fn project(app: &TestApp, token: &str, code: &str) -> Value {
    let (s, b) = app.get_json(&format!("/api/v1/projects/{code}"), Some(token)).await;
    assert_eq!(s, 200, "{b}");
    b
}

fn statuses(p: &Value) -> Vec<String> {
    p["stages"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_string()).collect()
}

async fn apply_stage(
    app: &TestApp,
    rep: &str,
    enterprise: &str,
    bundle: &str,
    project: Option<&str>,
) -> (u16, Value) {
    let mut body = json!({"bundle_code": bundle, "enterprise": enterprise, "form": contact()});
    if let Some(p) = project {
        body["project"] = json!(p);
    }
    app.post_json("/api/v1/cases", Some(rep), body).await
}

async fn case(app: &TestApp, token: &str, number: &str) -> Value {
    let (s, b) = app.get_json(&format!("/api/v1/cases/{number}"), Some(token)).await;
    assert_eq!(s, 200, "{number}: {b}");
    b
}

/// Officers with the three roles in each department of the first two stages that the demo lacks.
async fn stage_officers(app: &TestApp) -> std::collections::HashMap<&'static str, Vec<String>> {
    let mut by_dept = std::collections::HashMap::new();
    by_dept.insert(
        "JN-SPJ",
        vec![
            app.demo_token("spj.clerk").await,
            app.demo_token("spj.reviewer").await,
            app.demo_token("spj.approver").await,
        ],
    );
    for (username, dept) in [("zrj.officer", "JN-ZRJ"), ("zjj.officer", "JN-ZJJ"), ("stj.officer", "JN-STJ")]
    {
        let t = app.token_for_staff_with(username, dept, &["window_clerk", "reviewer", "approver"]).await;
        by_dept.insert(dept, vec![t]);
    }
    by_dept
}

/// Applies for stage 1 of a new project and drives every part to delivery; returns the project.
async fn project_past_stage_one(
    app: &TestApp,
    by_dept: &std::collections::HashMap<&'static str, Vec<String>>,
) -> (String, String, String) {
    let (rep, enterprise) = builder(app).await;
    let code = register(app, &rep, &enterprise).await;
    let (s, b) = apply_stage(app, &rep, &enterprise, "JN-GCXM-1", Some(&code)).await;
    assert_eq!(s, 201, "{b}");
    let stage1 = b["case_number"].as_str().unwrap().to_string();
    let parts = case(app, &rep, &stage1).await["parts"].as_array().unwrap().clone();
    for p in &parts {
        let dept = p["department"].as_str().unwrap();
        app.drive_to_delivery(&by_dept[dept], p["case_number"].as_str().unwrap()).await;
    }
    (rep, enterprise, code)
}

async fn a_project_is_registered_and_its_stages_open_in_order(app: &TestApp) {
    let (rep, enterprise) = builder(app).await;
    // Every wrong field is named, and nothing is registered.
    let (s, b) = app
        .post_json(
            "/api/v1/projects",
            Some(&rep),
            json!({"name": " ", "district": "朝阳区", "floor_area_m2": -5, "enterprise": enterprise}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let fields: Vec<&str> =
        b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "location", "district", "floor_area_m2", "investment_wan"], "{b}");
    assert!(b["errors"][2]["message_zh"].as_str().unwrap().contains("朝阳区"));
    // A citizen who does not represent the enterprise cannot register for it; staff cannot at all.
    let citizen = app.demo_token("13800138001").await;
    let body = json!({"name": "某项目", "district": "历下区", "location": "泉城路1号", "floor_area_m2": 100,
                      "investment_wan": 50, "enterprise": enterprise});
    let (s, b) = app.post_json("/api/v1/projects", Some(&citizen), body.clone()).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("enterprise")), "{b}");
    let (s, _) = app.post_json("/api/v1/projects", Some(&app.demo_token("spj.clerk").await), body).await;
    assert_eq!(s, 403);
    assert_eq!(app.audit_count("project.create").await, 0, "nothing registered");

    let code = register(app, &rep, &enterprise).await;
    let year = &code[..4];
    assert!(code.starts_with(year) && code[4..].starts_with("-370100-48-03-") && code.len() == 24, "{code}");
    assert_eq!(app.audit_count("project.create").await, 1);
    let p = project(app, &rep, &code).await;
    assert_eq!(statuses(&p), ["open", "locked", "locked", "locked"]);
    assert_eq!((p["current_stage"].as_u64(), p["total_limit_days"].as_u64()), (Some(1), Some(120)));
    assert!(p["light"].is_null(), "the clock has not started: {p}");
    // Someone else's project is not found, for a citizen and for an unrelated department.
    let (s, _) = app.get_json(&format!("/api/v1/projects/{code}"), Some(&citizen)).await;
    assert_eq!(s, 404);
    let (s, _) =
        app.get_json(&format!("/api/v1/projects/{code}"), Some(&app.demo_token("scj.clerk").await)).await;
    assert_eq!(s, 404);
    let (_, mine) = app.get_json("/api/v1/projects", Some(&citizen)).await;
    assert!(mine.as_array().unwrap().is_empty());

    // A stage is applied for from its project, in order.
    let (s, b) = apply_stage(app, &rep, &enterprise, "JN-GCXM-1", None).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (422, Some("project_required")), "{b}");
    let (s, b) = apply_stage(app, &rep, &enterprise, "JN-GCXM-2", Some(&code)).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (422, Some("stage_locked")), "{b}");
    assert!(b["errors"][0]["message_zh"].as_str().unwrap().contains("立项用地规划许可"), "{b}");
    let (s, b) = apply_stage(app, &rep, &enterprise, "JN-GCXM-1", Some("2026-370100-48-03-999999")).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (422, Some("unknown_project")), "{b}");
    let (s, b) = apply_stage(app, &rep, &enterprise, "JN-YJS-001", Some(&code)).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (422, Some("not_a_stage")), "{b}");
    assert_eq!(app.audit_count("project.stage_submit").await, 0, "no refused stage left a trace");

    let (s, b) = apply_stage(app, &rep, &enterprise, "JN-GCXM-1", Some(&code)).await;
    assert_eq!(s, 201, "{b}");
    let stage1 = b["case_number"].as_str().unwrap().to_string();
    let p = project(app, &rep, &code).await;
    assert_eq!(statuses(&p), ["in_progress", "locked", "locked", "locked"]);
    assert_eq!(p["stages"][0]["case_number"], stage1.as_str());
    assert_eq!(
        (p["stages"][0]["used_days"].as_i64(), p["stages"][0]["light"].as_str()),
        (Some(0), Some("green"))
    );
    assert!(p["stages"][0]["due_date"].is_string());
    assert_eq!(p["light"], "green");
    let c = case(app, &rep, &stage1).await;
    assert_eq!(c["kind"], "bundle");
    assert_eq!(c["promised_days"], 30, "the stage's limit is the bundle's");
    let (s, b) = apply_stage(app, &rep, &enterprise, "JN-GCXM-1", Some(&code)).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (422, Some("stage_in_progress")), "{b}");

    // The departments finish stage 1: it passes and stage 2 opens.
    let by_dept = stage_officers(app).await;
    for part in c["parts"].as_array().unwrap() {
        let dept = part["department"].as_str().unwrap();
        app.drive_to_delivery(&by_dept[dept], part["case_number"].as_str().unwrap()).await;
    }
    let p = project(app, &rep, &code).await;
    assert_eq!(statuses(&p), ["passed", "open", "locked", "locked"], "{p}");
    assert_eq!(p["current_stage"], 2);
    // A department with a part in it reads the project; the supervision office lists it.
    let zrj = &by_dept["JN-ZRJ"][0];
    assert_eq!(project(app, zrj, &code).await["code"], code.as_str());
    let (s, all) = app.get_json("/api/v1/projects", Some(&app.demo_token("dsj.supervisor").await)).await;
    assert_eq!(s, 200);
    assert!(all.as_array().unwrap().iter().any(|x| x["code"] == code.as_str()));
    let (s, _) = app.get_json("/api/v1/projects", Some(&app.demo_token("scj.clerk").await)).await;
    assert_eq!(s, 403, "only those who read every case list every project");

    // Stage 2 is applied for; its land-use permit from stage 1 is in the builder's wallet.
    let (s, b) = apply_stage(app, &rep, &enterprise, "JN-GCXM-2", Some(&code)).await;
    assert_eq!(s, 201, "{b}");
    let p = project(app, &rep, &code).await;
    assert_eq!(statuses(&p), ["passed", "in_progress", "locked", "locked"]);
    assert_eq!(app.audit_count("project.stage_submit").await, 2);
}

async fn a_joint_review_is_approved_only_when_every_member_agreed(app: &TestApp) {
    let by_dept = stage_officers(app).await;
    let (rep, enterprise, code) = project_past_stage_one(app, &by_dept).await;
    let (s, b) = apply_stage(app, &rep, &enterprise, "JN-GCXM-2", Some(&code)).await;
    assert_eq!(s, 201, "{b}");
    let stage2 = b["case_number"].as_str().unwrap().to_string();
    let parts = case(app, &rep, &stage2).await["parts"].as_array().unwrap().clone();
    let joint = parts.iter().find(|p| p["department"] == "JN-ZJJ").expect("联合审图 is a part");
    let number = joint["case_number"].as_str().unwrap().to_string();
    let zjj = &by_dept["JN-ZJJ"][0];
    let zrj_member = app.demo_token("zrj.reviewer").await;
    let fire = app.token_for_staff_with("xfzd.reviewer", "JN-XFZD", &["reviewer"]).await;
    let path = format!("/api/v1/cases/{number}/joint-review");

    // Before acceptance no member can give an opinion.
    let (s, b) = app.post_json(&path, Some(&zrj_member), json!({"opinion": "pass"})).await;
    assert_eq!((s, b["code"].as_str()), (409, Some("not_under_review")), "{b}");
    for a in ["accept", "start_review"] {
        let (s, b) =
            app.post_json(&format!("/api/v1/cases/{number}/actions/{a}"), Some(zjj), json!({})).await;
        assert_eq!(s, 200, "{a}: {b}");
    }
    let (s, view) = app.get_json(&path, Some(zjj)).await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["members"].as_array().unwrap().len(), 2);
    assert_eq!(view["all_agreed"], false);
    // The lead department cannot approve yet: the answer names who is still to agree.
    let (s, b) =
        app.post_json(&format!("/api/v1/cases/{number}/actions/approve"), Some(zjj), json!({})).await;
    assert_eq!((s, b["code"].as_str()), (409, Some("joint_review_pending")), "{b}");
    let waiting = b["detail_zh"].as_str().unwrap();
    assert!(waiting.contains("济南市自然资源和规划局") && waiting.contains("济南市消防救援支队"), "{b}");

    // A member reads the case it reviews; a department outside the review does not.
    assert_eq!(case(app, &zrj_member, &number).await["item_code"], "JN-ZJJ-0008");
    let scj = app.demo_token("scj.approver").await;
    let (s, _) = app.get_json(&format!("/api/v1/cases/{number}"), Some(&scj)).await;
    assert_eq!(s, 404);
    let (s, _) = app.post_json(&path, Some(&scj), json!({"opinion": "pass"})).await;
    assert_eq!(s, 404, "someone else's case is not found");
    // The applicant and the lead department read it but have no member's voice.
    let (s, _) = app.post_json(&path, Some(&rep), json!({"opinion": "pass"})).await;
    assert_eq!(s, 403);
    let (s, _) = app.post_json(&path, Some(zjj), json!({"opinion": "pass"})).await;
    assert_eq!(s, 403);

    // Bad opinions are named and change nothing.
    let (s, b) = app.post_json(&path, Some(&zrj_member), json!({"opinion": "maybe"})).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("opinion")), "{b}");
    let (s, b) = app.post_json(&path, Some(&zrj_member), json!({"opinion": "fail", "comment": " "})).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (422, Some("comment_required")), "{b}");
    assert_eq!(app.audit_count("case.joint_opinion").await, 0);

    // 不同意 with what to put right; then, put right, 同意.
    let (s, v) = app
        .post_json(&path, Some(&zrj_member), json!({"opinion": "fail", "comment": "建筑退线不满足规划条件"}))
        .await;
    assert_eq!(s, 200, "{v}");
    let zrj_line =
        v["members"].as_array().unwrap().iter().find(|m| m["department"] == "JN-ZRJ").unwrap().clone();
    assert_eq!(
        (zrj_line["opinion"].as_str(), zrj_line["comment"].as_str()),
        (Some("fail"), Some("建筑退线不满足规划条件"))
    );
    let (s, v) = app.post_json(&path, Some(&zrj_member), json!({"opinion": "pass"})).await;
    assert_eq!(s, 200, "{v}");
    let (s, b) =
        app.post_json(&path, Some(&zrj_member), json!({"opinion": "fail", "comment": "改主意"})).await;
    assert_eq!((s, b["code"].as_str()), (409, Some("already_agreed")), "an agreement stands: {b}");
    // A stale version is refused.
    let (s, b) = app.post_json(&path, Some(&fire), json!({"opinion": "pass", "version": 1})).await;
    assert_eq!((s, b["code"].as_str()), (409, Some("version_conflict")), "{b}");
    let (s, b) =
        app.post_json(&format!("/api/v1/cases/{number}/actions/approve"), Some(zjj), json!({})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (409, Some("joint_review_pending")),
        "one member still to agree: {b}"
    );

    let (s, v) = app.post_json(&path, Some(&fire), json!({"opinion": "pass"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["all_agreed"], true);
    let (s, b) =
        app.post_json(&format!("/api/v1/cases/{number}/actions/approve"), Some(zjj), json!({})).await;
    assert_eq!(s, 200, "every member agreed: {b}");
    // The timeline names each opinion with its department; the audit chain holds each.
    let c = case(app, &rep, &number).await;
    let opinions: Vec<(&str, &str)> = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "joint_opinion")
        .map(|e| (e["department"].as_str().unwrap(), e["detail"]["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(opinions, [("JN-ZRJ", "fail"), ("JN-ZRJ", "pass"), ("JN-XFZD", "pass")]);
    assert_eq!(app.audit_count("case.joint_opinion").await, 3);
    let (_, verify) = app.get_json("/api/v1/audit/verify", Some(&app.demo_token("dsj.admin").await)).await;
    assert_eq!(verify["ok"], true, "{verify}");
}

/// Every stage of a project, from the first application to the last approval: each stage opens
/// when the one before passed, both joint reviews (联合审图 in stage 2, 联合验收 in stage 4) go
/// through their members, and the project ends complete within its 120 working days.
async fn a_project_runs_through_all_four_stages_to_completion(app: &TestApp) {
    let mut by_dept = stage_officers(app).await;
    for (username, dept) in [("swu.officer", "JN-SWU"), ("gxj.officer", "JN-GXJ")] {
        let t = app.token_for_staff_with(username, dept, &["window_clerk", "reviewer", "approver"]).await;
        by_dept.insert(dept, vec![t]);
    }
    let mut members = std::collections::HashMap::new();
    members.insert("JN-ZRJ", app.demo_token("zrj.reviewer").await);
    members.insert("JN-ZJJ", app.demo_token("zjj.reviewer").await);
    members.insert("JN-XFZD", app.token_for_staff_with("xfzd.member", "JN-XFZD", &["reviewer"]).await);
    let (rep, enterprise) = builder(app).await;
    let code = register(app, &rep, &enterprise).await;
    for (order, bundle) in ["JN-GCXM-1", "JN-GCXM-2", "JN-GCXM-3", "JN-GCXM-4"].into_iter().enumerate() {
        let before = project(app, &rep, &code).await;
        assert_eq!(before["current_stage"], order + 1);
        assert_eq!(before["stages"][order]["status"], "open", "{before}");
        let (s, b) = apply_stage(app, &rep, &enterprise, bundle, Some(&code)).await;
        assert_eq!(s, 201, "{bundle}: {b}");
        let number = b["case_number"].as_str().unwrap().to_string();
        let parts = case(app, &rep, &number).await["parts"].as_array().unwrap().clone();
        for part in &parts {
            let dept = part["department"].as_str().unwrap();
            let n = part["case_number"].as_str().unwrap();
            let path = format!("/api/v1/cases/{n}/joint-review");
            let (s, review) = app.get_json(&path, Some(&by_dept[dept][0])).await;
            if s == 200 {
                // A joint review: accepted and under review, then each member agrees.
                for a in ["accept", "start_review"] {
                    for t in &by_dept[dept] {
                        let (s, _) = app
                            .post_json(&format!("/api/v1/cases/{n}/actions/{a}"), Some(t), json!({}))
                            .await;
                        if s == 200 {
                            break;
                        }
                    }
                }
                for m in review["members"].as_array().unwrap() {
                    let member = &members[m["department"].as_str().unwrap()];
                    let (s, v) = app.post_json(&path, Some(member), json!({"opinion": "pass"})).await;
                    assert_eq!(s, 200, "{bundle} {n}: {v}");
                }
            }
            app.drive_to_delivery(&by_dept[dept], n).await;
        }
        let after = project(app, &rep, &code).await;
        assert_eq!(after["stages"][order]["status"], "passed", "{bundle}: {after}");
        assert_eq!(after["stages"][order]["light"], "green");
    }
    let done = project(app, &rep, &code).await;
    assert_eq!(statuses(&done), ["passed", "passed", "passed", "passed"]);
    assert_eq!((done["complete"].as_bool(), done["current_stage"].as_u64()), (Some(true), None));
    assert!(done["used_days"].as_i64().unwrap() <= 120);
    assert_eq!(done["light"], "green");
    assert_eq!(app.audit_count("project.stage_submit").await, 4);
    // Nothing is left to apply for.
    let (s, b) = apply_stage(app, &rep, &enterprise, "JN-GCXM-4", Some(&code)).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (422, Some("stage_passed")), "{b}");
}
