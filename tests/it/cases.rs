//! Case stories over HTTP, on SQLite and PostgreSQL: applying, the full lifecycle with its
//! timeline and deadline, refusals and races, access, uploads, commitments with post-checks and
//! credit marks, transfers, the general window, bundles, and the outbox.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use base64::Engine;
use common::TestApp;
use serde_json::{Value, json};

stories!(
    full_lifecycle_with_timeline_deadline_and_decision,
    review_supplement_and_resubmission,
    window_checklist_asks_for_every_wanted_material_before_acceptance,
    decisions_are_numbered_per_year_and_kind_with_the_approvers_opinion,
    wrong_state_and_concurrent_actions_answer_409,
    cases_are_private_to_applicant_and_department,
    bad_forms_and_files_are_refused_naming_the_field,
    commitment_post_check_false_commitment_and_credit_mark,
    transfer_and_return_keep_history,
    general_window_accepts_any_item_and_delivers,
    window_registers_a_walk_in_application,
    bundle_fans_out_into_parts,
    bundle_completes_with_one_combined_result,
    bundle_part_done_at_a_hall_waits_in_the_same_case,
    bundle_holder_is_chosen_first_and_one_consent_covers_every_part,
    supervision_trend_exports_as_a_spreadsheet,
    notifications_and_outbox,
    contact_details_are_sealed_at_rest,
    drafts_save_and_return,
);

const PDF: &[u8] = b"%PDF-1.4\n% test material\n";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn form() -> Value {
    json!({"contact_name": "张伟", "contact_phone": "13800138001", "address": "济南市历下区泉城路1号"})
}

async fn apply(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    app.post_json("/api/v1/cases", Some(token), body).await
}

async fn act(app: &TestApp, token: &str, number: &str, action: &str, body: Value) -> (u16, Value) {
    app.post_json(&format!("/api/v1/cases/{number}/actions/{action}"), Some(token), body).await
}

async fn must_act(app: &TestApp, token: &str, number: &str, action: &str, body: Value) -> Value {
    let (s, b) = act(app, token, number, action, body).await;
    assert_eq!(s, 200, "{action} on {number}: {b}");
    b
}

async fn case(app: &TestApp, token: &str, number: &str) -> Value {
    let (s, b) = app.get_json(&format!("/api/v1/cases/{number}"), Some(token)).await;
    assert_eq!(s, 200, "{b}");
    b
}

/// A citizen's application for 食品经营许可（新办） (JN-SPJ-0003: 5 promised days, single approver).
async fn food_licence(app: &TestApp, citizen: &str) -> String {
    let (s, b) = apply(
        app,
        citizen,
        json!({
            "item_code": "JN-SPJ-0003",
            "form": form(),
            "materials": [{"index": 0, "file_name": "申请书.pdf", "content_base64": b64(PDF)}],
        }),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["state"], "submitted");
    b["case_number"].as_str().unwrap().to_string()
}

async fn full_lifecycle_with_timeline_deadline_and_decision(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let approver = app.demo_token("spj.approver").await;
    let n = food_licence(app, &citizen).await;
    assert!(n.starts_with("JN") && n.len() == 16, "{n}");

    let before = case(app, &citizen, &n).await;
    assert_eq!(before["due_date"], Value::Null, "no deadline before acceptance");
    assert_eq!(before["light"], "green", "the window's days to accept run");
    assert_eq!(before["available_actions"], json!(["withdraw"]));
    assert_eq!(before["materials"][0]["provided_as"], "upload");
    assert_eq!(before["materials"][0]["hash"].as_str().unwrap().len(), 64, "SM3 content address");

    let accepted = must_act(app, &clerk, &n, "accept", json!({})).await;
    assert_eq!(accepted["state"], "accepted");
    let due = accepted["due_date"].as_str().unwrap().to_string();
    // The due date is five working days after today on the shipped calendar.
    let today = app.clock().today();
    let cal = app.state.calendar().await;
    assert_eq!(due, cal.add_working_days(today, 5).format("%Y-%m-%d").to_string());
    let seen = case(app, &citizen, &n).await;
    assert_eq!(seen["light"], "green", "{seen}");

    // Single approver: decided straight from acceptance.
    assert_eq!(must_act(app, &approver, &n, "approve", json!({})).await["state"], "approved");
    assert_eq!(must_act(app, &approver, &n, "close", json!({})).await["state"], "closed");
    assert_eq!(must_act(app, &clerk, &n, "deliver", json!({})).await["state"], "delivered");

    let done = case(app, &citizen, &n).await;
    let actions: Vec<&str> =
        done["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["submit", "accept", "approve", "close", "deliver"]);
    assert_eq!(done["timeline"][1]["actor_name"], "王晓雯");
    assert_eq!(done["timeline"][1]["role"], "window_clerk");
    assert_eq!(done["timeline"][2]["from_state"], "accepted");
    let doc = &done["decision_document"];
    assert_eq!(doc["decision"], "approved");
    assert_eq!(doc["title_zh"], "准予行政许可决定书");
    assert_eq!(doc["applicant_name"], "张伟");
    let year = app.clock().today().format("%Y").to_string();
    assert_eq!(doc["document_number"], format!("济政务许〔{year}〕1号"), "the year's first grant");
    assert_eq!(done["available_actions"], json!([]));

    // Every change is in the audit log and the chain verifies.
    let trail = quanban::audit::store::recent(&app.state.db, &format!("case:{n}"), 20).await.unwrap();
    assert_eq!(trail.len(), 5, "one audit entry per change");
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());

    // An application left waiting for acceptance turns red after the window's five working days.
    let waiting = food_licence(app, &citizen).await;
    let last_day = cal.add_working_days(today, 5);
    let late = last_day.succ_opt().unwrap().and_hms_opt(10, 0, 0).unwrap();
    app.clock().set(quanban::platform::clock::from_beijing(late)).unwrap();
    let clerk = app.demo_token("spj.clerk").await;
    assert_eq!(case(app, &clerk, &waiting).await["light"], "red");
}

async fn window_checklist_asks_for_every_wanted_material_before_acceptance(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let reviewer = app.demo_token("spj.reviewer").await;
    let n = food_licence(app, &citizen).await;
    let before = case(app, &citizen, &n).await;
    let materials = before["materials"].as_array().unwrap().clone();
    assert!(materials.len() >= 2, "{before}");
    let first = materials[0]["name"].as_str().unwrap().to_string();
    let second = materials[1]["name"].as_str().unwrap().to_string();
    let audit_before = app.audit_count("case.request_supplement").await;

    // Bad checklists are refused naming the line, and change nothing.
    for (body, field) in [
        (json!({"checklist": [{"index": 0, "verdict": "maybe"}]}), "checklist[0].verdict"),
        (
            json!({"checklist": [{"index": 0, "verdict": "acceptable"}, {"index": 99, "verdict": "acceptable"}]}),
            "checklist[1].index",
        ),
        (
            json!({"checklist": [{"index": 0, "verdict": "supplement", "note": "长".repeat(201)}]}),
            "checklist[0].note",
        ),
        (
            json!({"checklist": [{"index": 0, "verdict": "acceptable"}, {"index": 0, "verdict": "acceptable"}]}),
            "checklist[1].index",
        ),
    ] {
        let (s, b) = act(app, &clerk, &n, "request_supplement", body).await;
        assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some(field)), "{b}");
    }
    // Acceptance is refused while a line needs supplying.
    let marked = json!({"checklist": [
        {"index": 0, "verdict": "supplement", "note": "申请书缺少法定代表人签字"},
        {"index": 1, "verdict": "acceptable"},
    ]});
    let (s, b) = act(app, &clerk, &n, "accept", marked.clone()).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("checklist[0].verdict")), "{b}");
    assert_eq!(case(app, &citizen, &n).await["state"], "submitted", "nothing changed");
    // Before acceptance only the window asks for materials; a reviewer's turn comes later.
    let (s, b) = act(app, &reviewer, &n, "request_supplement", marked.clone()).await;
    assert_eq!((s, b["state"].as_str()), (409, Some("submitted")), "{b}");

    // The window asks, once, for everything marked; the note stands in for a reason.
    let asked = must_act(app, &clerk, &n, "request_supplement", marked).await;
    assert_eq!(asked["state"], "supplement_requested");
    let paused = case(app, &citizen, &n).await;
    assert_eq!(paused["accepted_on"], Value::Null);
    assert_eq!(paused["paused_since"], Value::Null, "the clock has not started, so it is not paused");
    let event = paused["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(event["detail"]["wanted"], json!([first]), "{event}");
    assert_eq!(event["detail"]["checklist"][0]["note"], "申请书缺少法定代表人签字");
    assert_eq!(event["detail"]["checklist"][1]["material"], second);
    assert_eq!(event["detail"]["checklist"][1]["verdict"], "acceptable");
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&citizen)).await;
    let told = inbox["notifications"][0]["body_zh"].as_str().unwrap().to_string();
    assert!(told.contains(&format!("{first}（申请书缺少法定代表人签字）")), "{told}");
    assert!(told.contains("自受理之日起"), "{told}");
    assert_eq!(app.audit_count("case.request_supplement").await, audit_before + 1);

    // The resubmission goes back to the window, which accepts it; the clock starts then.
    let back = must_act(
        app,
        &citizen,
        &n,
        "resubmit",
        json!({"materials": [{"index": 0, "file_name": "申请书（已签字）.pdf", "content_base64": b64(PDF)}]}),
    )
    .await;
    assert_eq!(back["state"], "submitted");
    let all_good = json!({"checklist": materials.iter().enumerate()
        .map(|(i, _)| json!({"index": i, "verdict": "acceptable"})).collect::<Vec<_>>()});
    let accepted = must_act(app, &clerk, &n, "accept", all_good).await;
    assert_eq!(accepted["state"], "accepted");
    let cal = app.state.calendar().await;
    let today = app.clock().today();
    assert_eq!(accepted["due_date"], cal.add_working_days(today, 5).format("%Y-%m-%d").to_string());
    let done = case(app, &citizen, &n).await;
    let acceptance = done["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(acceptance["detail"]["checklist"].as_array().unwrap().len(), materials.len(), "{acceptance}");
    // A checklist goes with acceptance or a supplement request only.
    let approver = app.demo_token("spj.approver").await;
    let (s, b) =
        act(app, &approver, &n, "approve", json!({"checklist": [{"index": 0, "verdict": "acceptable"}]}))
            .await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("checklist")), "{b}");
}

async fn decisions_are_numbered_per_year_and_kind_with_the_approvers_opinion(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let approver = app.demo_token("spj.approver").await;
    let year = app.clock().today().format("%Y").to_string();
    let mut cases = Vec::new();
    for _ in 0..6 {
        let n = food_licence(app, &citizen).await;
        must_act(app, &clerk, &n, "accept", json!({})).await;
        cases.push(n);
    }
    // Five approvals at once: each takes its own number, none twice.
    let approvals = cases[..5].iter().map(|n| {
        act(app, &approver, n, "approve", json!({"opinion": "经审查，材料齐全，符合法定条件，同意许可。"}))
    });
    let mut numbers = Vec::new();
    for (s, b) in futures::future::join_all(approvals).await {
        assert_eq!(s, 200, "{b}");
        numbers.push(b["document_number"].as_str().unwrap().to_string());
    }
    let doc = &case(app, &citizen, &cases[0]).await["decision_document"];
    assert_eq!(doc["opinion"], "经审查，材料齐全，符合法定条件，同意许可。");
    assert!(numbers.contains(&doc["document_number"].as_str().unwrap().to_string()));
    numbers.sort();
    let expected: Vec<String> = (1..=5).map(|i| format!("济政务许〔{year}〕{i}号")).collect();
    assert_eq!(numbers, expected);
    // Refusals have their own sequence.
    let (s, b) = act(
        app,
        &approver,
        &cases[5],
        "reject",
        json!({"reason": "经营场所与申请不符", "opinion": "现场核查不符"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["document_number"], format!("济政务不许〔{year}〕1号"));
    // The opinion is on the timeline; an approval refused for its state takes no number.
    let seen = case(app, &citizen, &cases[5]).await;
    let last = seen["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["detail"]["opinion"], "现场核查不符", "{last}");
    let (s, _) = act(app, &approver, &cases[0], "approve", json!({})).await;
    assert_eq!(s, 409);
    let n = food_licence(app, &citizen).await;
    must_act(app, &clerk, &n, "accept", json!({})).await;
    let b = must_act(app, &approver, &n, "approve", json!({})).await;
    assert_eq!(b["document_number"], format!("济政务许〔{year}〕6号"));
    let (s, b) = act(app, &approver, &n, "close", json!({"opinion": "x".repeat(1001)})).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("opinion")), "{b}");
}

async fn review_supplement_and_resubmission(app: &TestApp) {
    // 食品生产许可（新办）: an enterprise item with a review step (no single approver).
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let (s, b) = apply(
        app,
        &rep,
        json!({"item_code": "JN-SPJ-0006", "enterprise": code, "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let n = b["case_number"].as_str().unwrap().to_string();
    let c = case(app, &rep, &n).await;
    assert_eq!(c["complete"], false, "accepted with deficiencies (容缺受理) when materials are missing");
    assert_eq!(c["applicant_name"], "济南泉城小馆餐饮有限公司");

    let clerk = app.demo_token("spj.clerk").await;
    let reviewer = app.demo_token("spj.reviewer").await;
    let approver = app.demo_token("spj.approver").await;
    must_act(app, &clerk, &n, "accept", json!({})).await;
    // Not single-approver: approving before review is refused with the current state.
    let (s, b) = act(app, &approver, &n, "approve", json!({})).await;
    assert_eq!((s, b["state"].as_str()), (409, Some("accepted")), "{b}");
    must_act(app, &reviewer, &n, "start_review", json!({})).await;
    // A supplement needs a reason.
    let (s, b) = act(app, &reviewer, &n, "request_supplement", json!({})).await;
    assert_eq!(s, 422);
    assert_eq!(b["errors"][0]["field"], "reason");
    // The materials wanted are named by index, all at once (一次性告知); an unknown one is refused.
    let (s, b) =
        act(app, &reviewer, &n, "request_supplement", json!({"reason": "缺少制度文件", "wanted": [0, 99]}))
            .await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("wanted[1]")), "{b}");
    let b = must_act(
        app,
        &reviewer,
        &n,
        "request_supplement",
        json!({"reason": "缺少食品安全管理制度", "wanted": [0, 0]}),
    )
    .await;
    assert_eq!(b["state"], "supplement_requested");
    let paused = case(app, &rep, &n).await;
    let asked = paused["timeline"].as_array().unwrap().last().unwrap().clone();
    let first_material = paused["materials"][0]["name"].as_str().unwrap().to_string();
    assert_eq!(asked["detail"]["wanted"], json!([first_material]), "named once: {asked}");
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&rep)).await;
    let told = inbox["notifications"][0]["body_zh"].as_str().unwrap().to_string();
    assert!(told.contains(&first_material) && told.contains("暂停"), "{told}");
    assert_eq!(paused["light"], "none", "the clock is stopped while waiting");
    assert!(paused["paused_since"].is_string());
    assert_eq!(paused["available_actions"], json!(["resubmit", "withdraw"]));

    let b = must_act(
        app,
        &rep,
        &n,
        "resubmit",
        json!({"materials": [{"index": 0, "file_name": "补正.pdf", "content_base64": b64(b"%PDF-1.7 supplement")}]}),
    )
    .await;
    assert_eq!(b["state"], "under_review");
    let back = case(app, &rep, &n).await;
    assert_eq!(back["paused_since"], Value::Null);
    assert_eq!(back["materials"][0]["provided_as"], "upload");
    assert_eq!(back["materials"][0]["file_name"], "补正.pdf");
    let (s, _) = act(app, &reviewer, &n, "approve", json!({})).await;
    assert_eq!(s, 403, "a reviewer cannot decide");
    let (s, b) = act(app, &approver, &n, "reject", json!({"reason": "生产场所不符合要求"})).await;
    assert_eq!(s, 200, "{b}");
    let rejected = case(app, &rep, &n).await;
    assert_eq!(rejected["decision_document"]["title_zh"], "不予行政许可决定书");
    assert!(rejected["decision_document"]["text_zh"].as_str().unwrap().contains("生产场所不符合要求"));
}

async fn wrong_state_and_concurrent_actions_answer_409(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let general = app.demo_token("spj.general").await;
    let approver = app.demo_token("spj.approver").await;
    let n = food_licence(app, &citizen).await;
    let (s, b) = act(app, &approver, &n, "approve", json!({})).await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["state"], "submitted");
    assert_eq!(b["code"], "action_not_allowed_in_state");
    let (s, _) = act(app, &approver, &n, "fly", json!({})).await;
    assert_eq!(s, 404, "unknown action");

    // Two officers accept at once: exactly one wins, the other is told the current state.
    let (a, b) =
        tokio::join!(act(app, &clerk, &n, "accept", json!({})), act(app, &general, &n, "accept", json!({})));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let loser = if a.0 == 409 { a.1 } else { b.1 };
    assert_eq!(loser["state"], "accepted");

    // A stale version is refused even when the action would be possible.
    let (s, b) = act(app, &approver, &n, "approve", json!({"version": 1})).await;
    assert_eq!((s, b["code"].as_str()), (409, Some("version_conflict")), "{b}");

    // Withdrawal after a decision is refused.
    must_act(app, &approver, &n, "approve", json!({})).await;
    let (s, b) = act(app, &citizen, &n, "withdraw", json!({})).await;
    assert_eq!((s, b["state"].as_str()), (409, Some("approved")));
}

async fn cases_are_private_to_applicant_and_department(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let n = food_licence(app, &citizen).await;
    let (phone, pw) = app.register_person("李四", 41).await;
    let other = app.token(&phone, &pw).await;
    let (s, _) = app.get_json(&format!("/api/v1/cases/{n}"), Some(&other)).await;
    assert_eq!(s, 404, "someone else's case does not exist for them");
    let (s, _) = act(app, &other, &n, "withdraw", json!({})).await;
    assert_eq!(s, 404);
    let (s, _) = app.get_json(&format!("/api/v1/cases/{n}"), None).await;
    assert_eq!(s, 401);
    let scj = app.demo_token("scj.clerk").await;
    let (s, _) = app.get_json(&format!("/api/v1/cases/{n}"), Some(&scj)).await;
    assert_eq!(s, 404, "another department's clerk");
    let reviewer = app.demo_token("spj.reviewer").await;
    let (s, _) = act(app, &reviewer, &n, "accept", json!({})).await;
    assert_eq!(s, 403, "a reviewer of the department sees it but cannot accept");
    let supervisor = app.demo_token("dsj.supervisor").await;
    let (s, _) = app.get_json(&format!("/api/v1/cases/{n}"), Some(&supervisor)).await;
    assert_eq!(s, 200);
    let (s, _) = act(app, &supervisor, &n, "accept", json!({})).await;
    assert_eq!(s, 403, "the supervisor reads and changes nothing");
    // The applicant's list has it; the other person's does not.
    let (_, mine) = app.get_json("/api/v1/cases", Some(&citizen)).await;
    assert!(mine.as_array().unwrap().iter().any(|c| c["case_number"] == n.as_str()));
    let (_, theirs) = app.get_json("/api/v1/cases", Some(&other)).await;
    assert!(theirs.as_array().unwrap().is_empty());
    // Material files: the applicant yes, the stranger no.
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/cases/{n}/materials/0")))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PDF);
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/cases/{n}/materials/0")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

async fn bad_forms_and_files_are_refused_naming_the_field(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let (s, b) = apply(
        app,
        &citizen,
        json!({"item_code": "JN-SPJ-0003", "form": {"contact_name": "", "contact_phone": "12345"},
               "materials": [{"index": 1, "file_name": "x.pdf", "content_base64": b64(b"MZ\x90\x00 not a pdf")}]}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let fields: Vec<&str> =
        b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["form.contact_name", "form.contact_phone", "materials[0]"]);
    let file_error = &b["errors"][2];
    assert_eq!(file_error["code"], "file_type_forbidden");
    let (_, item) = app.get_json("/api/v1/items/JN-SPJ-0003", None).await;
    let second = item["item"]["materials"][1]["name"].as_str().unwrap_or_else(|| panic!("{item}"));
    assert!(file_error["message_zh"].as_str().unwrap().contains(second), "names the material: {file_error}");
    let (s, b) = apply(app, &citizen, json!({"item_code": "JN-NOPE-0001", "form": form()})).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("item_code")));
    let (s, b) = apply(app, &citizen, json!({"item_code": "JN-SPJ-0006", "form": form()})).await;
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("enterprise")),
        "enterprise items need the enterprise"
    );
    let (s, b) =
        apply(app, &citizen, json!({"item_code": "JN-SPJ-0005", "form": form(), "commitment": true})).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("commitment")), "{b}");
    let (s, _) = app.post_json("/api/v1/cases", Some(&citizen), json!({"item_code": 5})).await;
    assert_eq!(s, 422);
    // Upload endpoint: too large and forbidden types are 422 naming the file.
    let big = vec![b'%'; quanban::platform::uploads::MAX_UPLOAD_BYTES + 10];
    let part = reqwest::multipart::Part::bytes(big).file_name("big.pdf");
    let resp = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&citizen)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "file_too_large");
    // A scan of several megabytes is fine (well above axum's 2 MB default for extractors).
    let mut scan = PDF.to_vec();
    scan.resize(3 * 1024 * 1024, b'0');
    let part = reqwest::multipart::Part::bytes(scan).file_name("scan.pdf");
    let resp = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&citizen)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let part = reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("ok.pdf");
    let resp = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&citizen)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let up: Value = resp.json().await.unwrap();
    assert_eq!(up["content_type"], "application/pdf");
    // The uploaded hash can be used as a material; an unknown hash is named.
    let (s, b) = apply(
        app,
        &citizen,
        json!({"item_code": "JN-SPJ-0003", "form": form(), "materials": [{"name": "食品经营许可申请书", "upload": up["hash"]}, {"index": 1, "upload": "00"}]}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let fields: Vec<&str> =
        b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"materials[1]"), "{b}");
    // Nothing was created by the refused applications.
    let (_, mine) = app.get_json("/api/v1/cases", Some(&citizen)).await;
    assert!(mine.as_array().unwrap().is_empty(), "{mine}");
}

async fn commitment_post_check_false_commitment_and_credit_mark(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let approver = app.demo_token("spj.approver").await;
    let (s, b) = apply(
        app,
        &citizen,
        json!({"item_code": "JN-SPJ-0003", "form": form(), "commitment": {"accepted": true}}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let n = b["case_number"].as_str().unwrap().to_string();
    let c = case(app, &citizen, &n).await;
    assert_eq!(c["with_commitment"], true);
    assert!(c["commitment_text"].as_str().unwrap().contains("虚假承诺"));
    assert!(c["materials"].as_array().unwrap().iter().any(|m| m["provided_as"] == "commitment"), "{c}");
    must_act(app, &clerk, &n, "accept", json!({})).await;
    must_act(app, &approver, &n, "approve", json!({})).await;
    let c = case(app, &citizen, &n).await;
    // The approval issued the food business licence to the applicant.
    let identifier = c["decision_document"]["licence_identifier"].as_str().unwrap().to_string();
    let (_, cards) = app.get_json("/api/v1/wallet", Some(&citizen)).await;
    let licence =
        cards.as_array().unwrap().iter().find(|v| v["identifier"] == identifier.as_str()).unwrap().clone();
    let (_, v) = app.post_json("/api/v1/credentials/verify", None, licence.clone()).await;
    assert_eq!(v["valid"], true, "{v}");
    let check = &c["post_checks"][0];
    assert_eq!(check["status"], "open");
    let dept = check["department"].as_str().unwrap().to_string();
    assert_eq!(dept, "JN-SCJ", "market regulation supervises food business licences");
    let id = check["id"].as_str().unwrap().to_string();

    // Only the supervising department concludes it.
    let (s, _) = app
        .post_json(
            &format!("/api/v1/post-checks/{id}/outcome"),
            Some(&approver),
            json!({"outcome": "confirmed", "note": "x"}),
        )
        .await;
    assert_eq!(s, 404);
    let scj = app.demo_token("scj.approver").await;
    let (_, list) = app.get_json("/api/v1/post-checks", Some(&scj)).await;
    assert!(list.as_array().unwrap().iter().any(|p| p["id"] == id.as_str()));
    let (s, b) = app
        .post_json(
            &format!("/api/v1/post-checks/{id}/outcome"),
            Some(&scj),
            json!({"outcome": "maybe", "note": "x"}),
        )
        .await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("outcome")));
    let (s, b) = app
        .post_json(
            &format!("/api/v1/post-checks/{id}/outcome"),
            Some(&scj),
            json!({"outcome": "false_commitment", "note": "现场核查无经营场所"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let c = case(app, &citizen, &n).await;
    assert_eq!(c["state"], "revoked");
    assert_eq!(c["timeline"].as_array().unwrap().last().unwrap()["action"], "revoke");
    // The licence goes with the approval.
    let (_, v) = app.post_json("/api/v1/credentials/verify", None, licence).await;
    assert_eq!(v["reason"], "revoked", "{v}");
    let (s, _) = app
        .post_json(
            &format!("/api/v1/post-checks/{id}/outcome"),
            Some(&scj),
            json!({"outcome": "confirmed", "note": "again"}),
        )
        .await;
    assert_eq!(s, 409);
    // The credit mark bars the commitment route from now on, but not applying with materials.
    let (s, b) =
        apply(app, &citizen, json!({"item_code": "JN-SPJ-0003", "form": form(), "commitment": true})).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (422, Some("credit_mark")), "{b}");
    food_licence(app, &citizen).await;
}

async fn transfer_and_return_keep_history(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let scj_clerk = app.demo_token("scj.clerk").await;
    let n = food_licence(app, &citizen).await;
    must_act(app, &clerk, &n, "accept", json!({})).await;
    let (s, b) = act(app, &clerk, &n, "transfer", json!({"to_department": "JN-NOPE", "reason": "x"})).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("to_department")));
    let b =
        must_act(app, &clerk, &n, "transfer", json!({"to_department": "JN-SCJ", "reason": "属市场监管职责"}))
            .await;
    assert_eq!(b["department"], "JN-SCJ");
    assert_eq!(b["state"], "accepted", "the state and the clock follow the case");
    let (s, _) = app.get_json(&format!("/api/v1/cases/{n}"), Some(&clerk)).await;
    assert_eq!(s, 404, "the sending department no longer handles it");
    // The receiving department returns it: it goes back where it came from.
    let b = must_act(app, &scj_clerk, &n, "transfer", json!({"reason": "非本部门事项，退回"})).await;
    assert_eq!(b["department"], "JN-SPJ");
    let c = case(app, &citizen, &n).await;
    let transfers: Vec<&Value> =
        c["timeline"].as_array().unwrap().iter().filter(|e| e["action"] == "transfer").collect();
    assert_eq!(transfers.len(), 2);
    assert_eq!(transfers[0]["detail"]["to"], "JN-SCJ");
    assert_eq!(transfers[1]["detail"]["returned"], true);
    assert_eq!(c["due_date"], case(app, &citizen, &n).await["due_date"]);
    let (s, b) = act(app, &clerk, &n, "transfer", json!({"to_department": "JN-SPJ", "reason": "x"})).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (422, Some("same_department")));

    // A waiting case transferred reaches the other window now: its days to accept start again.
    let waiting = food_licence(app, &citizen).await;
    let before = case(app, &citizen, &waiting).await;
    assert_eq!(before["window_since"], before["submitted_at"]);
    app.clock().advance(chrono::Duration::days(2)).unwrap();
    let clerk = app.demo_token("spj.clerk").await;
    let moved = must_act(
        app,
        &clerk,
        &waiting,
        "transfer",
        json!({"to_department": "JN-SCJ", "reason": "属市场监管职责"}),
    )
    .await;
    assert_eq!(moved["window_since"], moved["updated_at"]);
    assert_ne!(moved["window_since"], before["window_since"]);
}

async fn general_window_accepts_any_item_and_delivers(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    // 特种设备使用登记 belongs to market regulation (JN-SCJ).
    let (s, b) = apply(app, &rep, json!({"item_code": "JN-SCJ-0003", "enterprise": code, "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}})).await;
    assert_eq!(s, 201, "{b}");
    let n = b["case_number"].as_str().unwrap().to_string();
    let general = app.demo_token("spj.general").await;
    let (_, intake) = app.get_json("/api/v1/cases?queue=intake", Some(&general)).await;
    assert!(intake.as_array().unwrap().iter().any(|c| c["case_number"] == n.as_str()), "{intake}");
    let b = must_act(app, &general, &n, "accept", json!({})).await;
    assert_eq!(b["department"], "JN-SCJ", "dispatched to the owning department's back office");
    let scj = app.demo_token("scj.approver").await;
    let (_, queue) = app.get_json("/api/v1/cases?state=accepted", Some(&scj)).await;
    assert!(queue.as_array().unwrap().iter().any(|c| c["case_number"] == n.as_str()));
    must_act(app, &scj, &n, "start_review", json!({})).await;
    must_act(app, &scj, &n, "approve", json!({})).await;
    must_act(app, &scj, &n, "close", json!({})).await;
    let (_, delivery) = app.get_json("/api/v1/cases?queue=delivery", Some(&general)).await;
    assert!(delivery.as_array().unwrap().iter().any(|c| c["case_number"] == n.as_str()), "统一窗口出件");
    assert_eq!(must_act(app, &general, &n, "deliver", json!({})).await["state"], "delivered");
    // Workbench counts.
    let (s, wb) = app.get_json("/api/v1/workbench", Some(&scj)).await;
    assert_eq!(s, 200);
    assert_eq!(wb["counts"]["delivered"], 1);
}

async fn bundle_fans_out_into_parts(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let (s, b) = apply(
        app,
        &rep,
        json!({"bundle_code": "JN-YJS-001", "answers": {"q2": true}, "enterprise": code,
               "form": {"contact_name": "刘芳", "contact_phone": "13800138002"},
               "materials": [{"index": 0, "file_name": "申请书.pdf", "content_base64": b64(PDF)}]}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let parent = b["case_number"].as_str().unwrap().to_string();
    let view = case(app, &rep, &parent).await;
    assert_eq!(view["kind"], "bundle");
    let parts = view["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 9, "7 base items + 2 added by the answer");
    let departments: std::collections::BTreeSet<&str> =
        parts.iter().map(|p| p["department"].as_str().unwrap()).collect();
    assert!(departments.len() >= 5, "{departments:?}");
    // Staff act on the parts, not on the parent.
    let clerk = app.demo_token("spj.clerk").await;
    let (s, b) = act(app, &clerk, &parent, "accept", json!({})).await;
    assert_eq!((s, b["code"].as_str()), (409, Some("bundle_parent")), "{b}");
    let spj_part = parts.iter().find(|p| p["department"] == "JN-SPJ").unwrap()["case_number"]
        .as_str()
        .unwrap()
        .to_string();
    must_act(app, &clerk, &spj_part, "accept", json!({})).await;
    assert_eq!(case(app, &rep, &parent).await["state"], "under_review");
    // The SPJ part got the shared file for the material it needs.
    let part = case(app, &rep, &spj_part).await;
    assert_eq!(part["parent_number"], parent.as_str());
    // Withdrawing the bundle withdraws every part still open.
    must_act(app, &rep, &parent, "withdraw", json!({"reason": "改为线下办理"})).await;
    let after = case(app, &rep, &parent).await;
    assert_eq!(after["state"], "withdrawn");
    assert!(after["parts"].as_array().unwrap().iter().all(|p| p["state"] == "withdrawn"));
    // The applicant's list shows the bundle once.
    let (_, mine) = app.get_json("/api/v1/cases", Some(&rep)).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
}

/// 开餐馆一件事 includes the staff health check (JN-WJW-0001), which cannot be applied for online.
/// The bundle is still submitted: the online parts go to their departments, the health check
/// waits in the same case for a hall visit, where the health commission's window accepts it.
async fn bundle_part_done_at_a_hall_waits_in_the_same_case(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    // On its own the health check is still not an online application.
    let (s, b) = apply(
        app,
        &rep,
        json!({"item_code": "JN-WJW-0001", "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
    )
    .await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (422, Some("not_online")), "{b}");
    let (s, b) = apply(
        app,
        &rep,
        json!({"bundle_code": "JN-YJS-002", "enterprise": code,
               "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
    )
    .await;
    assert_eq!(s, 201, "the bundle is not refused for its hall part: {b}");
    let parent = b["case_number"].as_str().unwrap().to_string();
    let view = case(app, &rep, &parent).await;
    let parts = view["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 5, "{view}");
    let at_hall: Vec<&Value> = parts.iter().filter(|p| p["in_person"] == true).collect();
    assert_eq!(at_hall.len(), 1, "{parts:?}");
    assert_eq!(at_hall[0]["department"], "JN-WJW");
    assert_eq!(at_hall[0]["state"], "submitted");
    assert!(parts.iter().filter(|p| p["department"] != "JN-WJW").all(|p| p["in_person"] == false));
    let hall_part = at_hall[0]["case_number"].as_str().unwrap().to_string();
    let part = case(app, &rep, &hall_part).await;
    assert_eq!(part["in_person"], true);
    assert_eq!(part["with_commitment"], false);
    // The health certificate is the representative's own, not the enterprise's: the personal
    // part is in her name, the others in the enterprise's.
    assert_eq!(
        (part["enterprise"].clone(), part["applicant_name"].clone()),
        (Value::Null, json!("刘芳")),
        "{part}"
    );
    let spj_part =
        parts.iter().find(|p| p["department"] == "JN-SPJ").unwrap()["case_number"].as_str().unwrap();
    let spj_view = case(app, &rep, spj_part).await;
    assert_eq!(spj_view["enterprise"], code.as_str());
    // A personal item or bundle on its own is not applied for in an enterprise's name.
    for body in [
        json!({"item_code": "JN-WJW-0007", "enterprise": code, "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
        json!({"bundle_code": "JN-YJS-013", "enterprise": code, "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
    ] {
        let (s, b) = apply(app, &rep, body).await;
        let refusal =
            b["errors"].as_array().unwrap().iter().find(|e| e["code"] == "enterprise_not_allowed").cloned();
        assert_eq!((s, refusal.map(|e| e["field"].clone())), (422, Some(json!("enterprise"))), "{b}");
    }
    // The applicant is told, in the submission message, what to do at the hall.
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&rep)).await;
    let body = inbox["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["case_number"] == parent.as_str())
        .map(|n| n["body_zh"].as_str().unwrap().to_string())
        .unwrap();
    assert!(body.contains("从业人员健康体检") && body.contains("政务服务大厅"), "{body}");
    // The online parts go ahead meanwhile.
    let clerk = app.demo_token("spj.clerk").await;
    let spj = parts.iter().find(|p| p["department"] == "JN-SPJ").unwrap()["case_number"].as_str().unwrap();
    must_act(app, &clerk, spj, "accept", json!({})).await;
    assert_eq!(case(app, &rep, &parent).await["state"], "under_review");
    // At the hall, the health commission's window accepts the part like any other.
    let wjw = app.token_for_new_staff("wjw.clerk", "JN-WJW").await;
    let accepted = must_act(app, &wjw, &hall_part, "accept", json!({})).await;
    assert_eq!(accepted["state"], "accepted");
    let part = case(app, &rep, &hall_part).await;
    assert!(part["due_date"].is_string(), "its clock runs from the visit: {part}");
    // Another department's clerk cannot touch it.
    let (s, _) = act(app, &clerk, &hall_part, "accept", json!({})).await;
    assert!(s == 404 || s == 403, "{s}");
}

async fn notifications_and_outbox(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let n = food_licence(app, &citizen).await;
    must_act(app, &clerk, &n, "accept", json!({})).await;
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&citizen)).await;
    assert_eq!(inbox["unread"], 2, "{inbox}");
    assert!(inbox["notifications"][0]["title_zh"].as_str().unwrap().contains(&n));
    let (s, _) = app.post_json("/api/v1/notifications/read", Some(&citizen), json!({})).await;
    assert_eq!(s, 204);
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&citizen)).await;
    assert_eq!(inbox["unread"], 0);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.jsonl");
    let sender = quanban::cases::notify::FileSender::new(path.clone(), app.clock().clone());
    let (sent, failed) = quanban::cases::notify::dispatch_once(&app.state.db, &sender).await.unwrap();
    assert_eq!((sent, failed), (2, 0), "submission and acceptance SMS");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.contains("13800138001") && text.contains(&n));
    assert_eq!(
        quanban::cases::notify::dispatch_once(&app.state.db, &sender).await.unwrap(),
        (0, 0),
        "sent once"
    );

    struct Down;
    impl quanban::cases::notify::Sender for Down {
        fn send(&self, _: &quanban::cases::store::OutboxMessage) -> Result<(), String> {
            Err("gateway down".into())
        }
    }
    let reviewer = app.demo_token("spj.reviewer").await;
    must_act(app, &reviewer, &n, "request_supplement", json!({"reason": "缺少照片"})).await;
    for _ in 0..quanban::cases::notify::MAX_ATTEMPTS {
        assert_eq!(quanban::cases::notify::dispatch_once(&app.state.db, &Down).await.unwrap(), (0, 1));
    }
    assert_eq!(
        quanban::cases::notify::dispatch_once(&app.state.db, &Down).await.unwrap(),
        (0, 0),
        "given up: failed"
    );
}

/// The contact phone and e-mail of a case form, an assistance request's phone and the outbox's
/// recipients are kept sealed; the case, the request and the sent message still carry them in
/// clear. Rows stored in clear before sealing existed are sealed by the start-up pass, once.
async fn contact_details_are_sealed_at_rest(app: &TestApp) {
    use sqlx::Row;
    let db = &app.state.db;
    let citizen = app.demo_token("13800138001").await;
    let mut with_email = form();
    with_email["email"] = json!("zhangwei@example.cn");
    let (s, b) = apply(
        app,
        &citizen,
        json!({"item_code": "JN-SPJ-0003", "form": with_email,
               "materials": [{"index": 0, "file_name": "申请书.pdf", "content_base64": b64(PDF)}]}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let n = b["case_number"].as_str().unwrap().to_string();
    let (s, help) = app
        .post_json(
            "/api/v1/assistance",
            Some(&citizen),
            json!({"item_code": "JN-SPJ-0003", "description": "请帮忙准备材料", "contact_phone": "13800138001"}),
        )
        .await;
    assert_eq!(s, 201, "{help}");
    let help_id = help["id"].as_str().unwrap().to_string();

    let stored_form: String = sqlx::query_scalar("SELECT form FROM cases WHERE number = $1")
        .bind(&n)
        .fetch_one(db.reader())
        .await
        .unwrap();
    let recipients: Vec<String> =
        sqlx::query_scalar("SELECT recipient FROM outbox").fetch_all(db.reader()).await.unwrap();
    let help_phone: String =
        sqlx::query_scalar("SELECT contact_phone FROM assistance_requests WHERE id = $1")
            .bind(&help_id)
            .fetch_one(db.reader())
            .await
            .unwrap();
    assert!(!stored_form.contains("13800138001") && !stored_form.contains("zhangwei"), "{stored_form}");
    assert!(stored_form.contains("sm4gcm:"), "{stored_form}");
    assert!(recipients.len() >= 2, "an SMS and an e-mail: {recipients:?}");
    assert!(recipients.iter().all(|r| r.starts_with("sm4gcm:")), "{recipients:?}");
    assert!(help_phone.starts_with("sm4gcm:"), "{help_phone}");
    // Opened where they are used.
    let c = case(app, &citizen, &n).await;
    assert_eq!(
        (c["form"]["contact_phone"].clone(), c["form"]["email"].clone()),
        (json!("13800138001"), json!("zhangwei@example.cn"))
    );
    let (_, h) = app.get_json(&format!("/api/v1/assistance/{help_id}"), Some(&citizen)).await;
    assert_eq!(h["contact_phone"], "13800138001", "{h}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.jsonl");
    let sender = quanban::cases::notify::FileSender::new(path.clone(), app.clock().clone());
    quanban::cases::notify::dispatch_once(db, &sender).await.unwrap();
    let sent = std::fs::read_to_string(&path).unwrap();
    assert!(
        sent.contains(r#""to":"13800138001""#) && sent.contains(r#""to":"zhangwei@example.cn""#),
        "{sent}"
    );

    // Rows from before sealing: a form, a request, a queued message and a complaint in clear.
    let clear_form = json!({"contact_name": "张伟", "contact_phone": "13800138001", "address": "", "description": "", "email": ""}).to_string();
    let (nn, hid) = (n.clone(), help_id.clone());
    db.write(move |c| {

            quanban::store::query("UPDATE cases SET form = $1 WHERE number = $2").bind(&clear_form).bind(&nn).execute(&mut *c)?;
            quanban::store::query("UPDATE assistance_requests SET contact_phone = '13800138001' WHERE id = $1")
                .bind(&hid)
                .execute(&mut *c)?;
            quanban::store::query("UPDATE outbox SET recipient = '13800138001', status = 'pending', claimed_by = NULL, claimed_at = NULL WHERE channel = 'sms'")
                .execute(&mut *c)?;
            Ok(())

    })
    .await
    .unwrap();
    assert_eq!(quanban::cases::store::seal_clear_forms(db).await.unwrap(), 1);
    let values = quanban::platform::pii::seal_clear_columns(db).await.unwrap();
    let sms: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE channel = 'sms'")
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(values, 1 + sms as u64, "the request's phone and every SMS recipient");
    assert_eq!(
        (
            quanban::cases::store::seal_clear_forms(db).await.unwrap(),
            quanban::platform::pii::seal_clear_columns(db).await.unwrap()
        ),
        (0, 0),
        "once"
    );
    for sql in [
        "SELECT form AS v FROM cases",
        "SELECT contact_phone AS v FROM assistance_requests",
        "SELECT recipient AS v FROM outbox",
    ] {
        for r in sqlx::query(sql).fetch_all(db.reader()).await.unwrap() {
            let v: String = r.get("v");
            assert!(!v.contains("13800138001"), "{sql}: {v}");
        }
    }
    assert_eq!(case(app, &citizen, &n).await["form"]["contact_phone"], "13800138001");
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE action LIKE '%personal_data_sealed'")
            .fetch_all(db.reader())
            .await
            .unwrap();
    assert_eq!(actions.len(), 2, "{actions:?}");
    std::fs::remove_file(&path).unwrap();
    quanban::cases::notify::dispatch_once(db, &sender).await.unwrap();
    assert!(
        std::fs::read_to_string(&path).unwrap().contains(r#""to":"13800138001""#),
        "re-sent to the opened number"
    );
}

async fn drafts_save_and_return(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let (s, d) = app
        .post_json(
            "/api/v1/drafts",
            Some(&citizen),
            json!({"item_code": "JN-SPJ-0003", "data": {"form": {"contact_name": "张"}}}),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let id = d["id"].as_str().unwrap().to_string();
    // data is an object: null, a list or a string is refused naming the field, on create and update.
    for bad in [json!(null), json!([1, 2]), json!("text")] {
        let (s, b) = app
            .post_json("/api/v1/drafts", Some(&citizen), json!({"item_code": "JN-SPJ-0003", "data": bad}))
            .await;
        assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("data")), "{bad}: {b}");
        let (s, b) = app
            .send_json(
                reqwest::Method::PUT,
                &format!("/api/v1/drafts/{id}"),
                Some(&citizen),
                json!({"data": bad, "version": 1}),
            )
            .await;
        assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("data")), "{bad}: {b}");
    }
    let (s, d2) = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/drafts/{id}"),
            Some(&citizen),
            json!({"data": {"form": {"contact_name": "张伟"}}, "version": 1}),
        )
        .await;
    assert_eq!(s, 200, "{d2}");
    assert_eq!(d2["version"], 2);
    let (s, _) = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/drafts/{id}"),
            Some(&citizen),
            json!({"data": {}, "version": 1}),
        )
        .await;
    assert_eq!(s, 409, "a stale tab does not overwrite");
    let (phone, pw) = app.register_person("王五", 42).await;
    let other = app.token(&phone, &pw).await;
    let (s, _) = app.get_json(&format!("/api/v1/drafts/{id}"), Some(&other)).await;
    assert_eq!(s, 404);
    let (_, list) = app.get_json("/api/v1/drafts", Some(&citizen)).await;
    assert_eq!(list[0]["data"]["form"]["contact_name"], "张伟");
    let (s, _) =
        app.request(reqwest::Method::DELETE, &format!("/api/v1/drafts/{id}"), Some(&citizen), None).await;
    assert_eq!(s, 204);
}

/// On the bundle page the person chooses who applies before anything else, among themself and
/// the enterprises they represent (someone else's enterprise is refused naming the field, and no
/// draft is made); on the materials step one consent to a wallet card stands in for every
/// material of its type, in all the parts, while a card the applicant does not hold is ignored.
async fn bundle_holder_is_chosen_first_and_one_consent_covers_every_part(app: &TestApp) {
    let rep = app.demo("13800138002").await;
    let token = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&token)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let client = common::page_client();
    common::web_login(&client, &app.base, &rep.username, &rep.password).await;
    let get = |path: String| {
        let client = client.clone();
        let url = app.url(&path);
        async move {
            let r = client.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.text().await.unwrap()
        }
    };

    let page = get(format!("/bundles/JN-YJS-002?answered=1&as={code}")).await;
    let choice = &page[page.find(r#"id="holder-choice""#).expect("the holder is asked")..];
    assert!(choice.contains("本人（刘芳）") && choice.contains("济南泉城小馆餐饮有限公司"), "{choice}");
    assert!(
        page.find(r#"id="holder-choice""#) < page.find(r#"id="q-q1""#),
        "who applies is asked before the questionnaire"
    );
    assert!(
        page.contains(&format!(r#"name="enterprise" value="{code}""#)),
        "the holder chosen goes with the application"
    );
    let csrf = common::csrf_of(&page);
    let before = draft_count(app, &token).await;

    let start = |enterprise: String| {
        client
            .post(app.url("/apply/bundle/JN-YJS-002"))
            .form(&[("csrf", csrf.clone()), ("q1", "no".into()), ("enterprise", enterprise)])
            .send()
    };
    // Someone else's (well-formed) enterprise: refused, nothing made.
    let stranger = quanban::demo::credit_code("91370100MA3C09999").unwrap();
    let r = start(stranger).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("所选企业不在您可代表的企业之列"));
    assert_eq!(draft_count(app, &token).await, before, "no draft for a refused start");

    let r = start(code.clone()).await.unwrap();
    assert_eq!(r.status(), 303);
    let contact = r.headers()["location"].to_str().unwrap().to_string();
    let id = contact.trim_start_matches("/drafts/").trim_end_matches("/contact").to_string();
    let (_, draft) = app.get_json(&format!("/api/v1/drafts/{id}"), Some(&token)).await;
    assert_eq!(draft["data"]["enterprise"], code.as_str(), "{draft}");
    let contact_page = get(contact.clone()).await;
    assert!(
        contact_page.contains(&format!(r#"value="{code}" selected"#)),
        "the contact step keeps the choice"
    );

    // One consent per card: the ID card stands in for several materials of several parts.
    let page = get(format!("/drafts/{id}/materials")).await;
    let consents: Vec<(String, String)> = page
        .split(r#"name="use_credential" value=""#)
        .skip(1)
        .map(|chunk| {
            let id = chunk[..chunk.find('"').unwrap()].to_string();
            (id, chunk[..chunk.find("</p>").unwrap()].to_string())
        })
        .collect();
    let label_of =
        |block: &str| block[block.find("<label").unwrap()..block.find("</label>").unwrap()].to_string();
    let (card, label) = consents
        .iter()
        .find(|(_, block)| label_of(block).contains("居民身份证"))
        .expect("the ID card is offered");
    assert_eq!(consents.iter().filter(|(c, _)| c == card).count(), 1, "asked once: {consents:?}");
    let used_for = label.split("用于（").nth(1).unwrap();
    let lines: usize = used_for[..used_for.find('）').unwrap()].parse().unwrap();
    assert!(lines >= 2, "one consent for several materials: {label}");
    let save = |consent: String, version: i64| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("version", version.to_string())
            .text("use_credential", consent);
        client.post(app.url(&format!("/drafts/{id}/materials"))).multipart(form).send()
    };
    let r = save(card.clone(), draft["version"].as_i64().unwrap()).await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, draft) = app.get_json(&format!("/api/v1/drafts/{id}"), Some(&token)).await;
    let chosen = draft["data"]["credentials"].as_object().unwrap();
    assert_eq!(chosen.len(), lines, "every material the card stands in for: {chosen:?}");
    assert!(chosen.values().all(|v| v == card.as_str()), "{chosen:?}");
    let check = get(format!("/drafts/{id}/check")).await;
    assert_eq!(check.matches("从卡包调取电子证照（已同意）").count(), lines);
    assert!(check.contains("济南泉城小馆餐饮有限公司"), "the check page names the applicant");

    // A card from someone else's wallet is not taken, whatever the form says.
    let citizen = app.demo_token("13800138001").await;
    let (_, wallet) = app.get_json("/api/v1/wallet", Some(&citizen)).await;
    let theirs = wallet[0]["id"].as_str().unwrap().to_string();
    let r = save(theirs, draft["version"].as_i64().unwrap()).await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, draft) = app.get_json(&format!("/api/v1/drafts/{id}"), Some(&token)).await;
    assert_eq!(draft["data"]["credentials"], json!({}), "{draft}");
}

/// The supervisor exports the period's trend as CSV (a BOM for Excel, one row per day, the
/// decision made today counted); a window clerk gets 404; a bad period 422 naming the field.
async fn supervision_trend_exports_as_a_spreadsheet(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let approver = app.demo_token("spj.approver").await;
    let (s, b) = app
        .post_json(
            "/api/v1/cases",
            Some(&citizen),
            json!({"item_code": "JN-SPJ-0003", "form": form(), "materials": [{"index": 0, "file_name": "a.pdf", "content_base64": b64(PDF)}]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let n = b["case_number"].as_str().unwrap().to_string();
    for (token, action) in [(&clerk, "accept"), (&approver, "approve")] {
        let (s, b) =
            app.post_json(&format!("/api/v1/cases/{n}/actions/{action}"), Some(token), json!({})).await;
        assert_eq!(s, 200, "{action}: {b}");
    }
    let today = app.clock().today();
    let from = today - chrono::Duration::days(6);
    let page_as = |who: &'static str, path: String| async move {
        let account = app.demo(who).await;
        let client = common::page_client();
        common::web_login(&client, &app.base, &account.username, &account.password).await;
        let r = client.get(app.url(&path)).send().await.unwrap();
        let kind = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), kind, r.text().await.unwrap())
    };
    let csv_of = |who: &'static str, query: String| page_as(who, format!("/supervision/trend.csv?{query}"));
    let (s, kind, body) = csv_of("dsj.supervisor", format!("from={from}&to={today}")).await;
    assert_eq!((s, kind.as_deref()), (200, Some("text/csv; charset=utf-8")), "{body}");
    assert!(body.starts_with("\u{feff}日期 Date,"));
    let rows: Vec<&str> = body.trim_end().split("\r\n").collect();
    assert_eq!(rows.len(), 8, "a header and seven days: {rows:?}");
    let last: Vec<i64> = rows[7].split(',').skip(1).map(|n| n.parse().unwrap()).collect();
    assert!(rows[7].starts_with(&today.to_string()) && last[0] >= 1 && last[1] >= 1, "{rows:?}");
    let (s, _, _) = csv_of("spj.clerk", format!("from={from}&to={today}")).await;
    assert_eq!(s, 404, "supervision is not a window clerk's");
    let (s, _, body) = csv_of("dsj.supervisor", format!("from={today}&to={from}")).await;
    assert_eq!(s, 422);
    assert!(body.contains("开始日期不能晚于结束日期"), "{body}");
    // Every number opens the cases behind it.
    let day = |kind: &str| page_as("dsj.supervisor", format!("/supervision/day?day={today}&kind={kind}"));
    let (s, _, body) = day("decided").await;
    assert_eq!(s, 200);
    assert!(body.contains(&format!("/cases/{n}")), "the decided case is listed");
    let (_, _, body) = day("late").await;
    assert!(!body.contains(&format!("/cases/{n}")), "decided on time: not late");
    assert_eq!(day("everything").await.0, 422);
    let (s, _, _) = page_as("spj.clerk", format!("/supervision/day?day={today}&kind=decided")).await;
    assert_eq!(s, 404);
}

async fn draft_count(app: &TestApp, token: &str) -> usize {
    app.get_json("/api/v1/drafts", Some(token)).await.1.as_array().unwrap().len()
}

async fn bundle_completes_with_one_combined_result(app: &TestApp) {
    // 开药店一件事: market regulation, urban management and the approval bureau.
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let (s, b) = apply(
        app,
        &rep,
        json!({"bundle_code": "JN-YJS-004", "enterprise": code, "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let parent = b["case_number"].as_str().unwrap().to_string();
    // Urban management has no demo staff: give it one officer with the three roles.
    let by_dept = app.pharmacy_bundle_staff().await;
    let view = case(app, &rep, &parent).await;
    let parts: Vec<(String, String)> = view["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (p["case_number"].as_str().unwrap().to_string(), p["department"].as_str().unwrap().to_string())
        })
        .collect();
    assert!(parts.len() >= 3);
    for (i, (number, dept)) in parts.iter().enumerate() {
        assert_ne!(case(app, &rep, &parent).await["state"], "delivered", "not before the last part");
        app.drive_to_delivery(&by_dept[dept.as_str()], number).await;
        let expected = if i + 1 == parts.len() { "delivered" } else { "under_review" };
        assert_eq!(case(app, &rep, &parent).await["state"], expected);
    }
    let done = case(app, &rep, &parent).await;
    let doc = &done["decision_document"];
    assert_eq!(doc["kind"], "bundle_result");
    assert_eq!(doc["parts"].as_array().unwrap().len(), parts.len());
    assert!(doc["parts"].as_array().unwrap().iter().all(|p| p["state"] == "delivered"));
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&rep)).await;
    let told = inbox["notifications"].as_array().unwrap().iter().any(|n| {
        n["case_number"] == parent.as_str() && n["body_zh"].as_str().unwrap().contains("全部事项均已办结")
    });
    assert!(told, "the applicant is told the bundle is finished");
    assert_eq!(
        inbox["notifications"][0]["case_number"],
        parent.as_str(),
        "the bundle's message, written after its last part's in the same transaction, lists first"
    );
}

async fn window_registers_a_walk_in_application(app: &TestApp) {
    let general = app.demo_token("spj.general").await;
    let citizen = app.demo_token("13800138001").await;
    // Without a registered applicant the clerk is told which field is wrong.
    let (s, b) = apply(
        app,
        &general,
        json!({"item_code": "JN-SPJ-0003", "form": form(), "applicant_phone": "13900000000"}),
    )
    .await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("applicant_phone")), "{b}");
    let (s, b) = apply(
        app,
        &general,
        json!({"item_code": "JN-SPJ-0003", "form": form(), "applicant_phone": "13800138001"}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let n = b["case_number"].as_str().unwrap().to_string();
    // It is the citizen's case: in their list, with the clerk named as the one who submitted it.
    let c = case(app, &citizen, &n).await;
    assert_eq!(c["applicant_name"], "张伟");
    assert_eq!(c["timeline"][0]["detail"]["submitted_by"], "李建国");
    let (_, mine) = app.get_json("/api/v1/cases", Some(&citizen)).await;
    assert!(mine.as_array().unwrap().iter().any(|x| x["case_number"] == n.as_str()));
    // Another department's window does not take this item; a general window takes any.
    let scj = app.demo_token("scj.clerk").await;
    let (s, b) = apply(
        app,
        &scj,
        json!({"item_code": "JN-SPJ-0003", "form": form(), "applicant_phone": "13800138001"}),
    )
    .await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (422, Some("not_this_window")), "{b}");
    // A reviewer has no window role and cannot register applications.
    let reviewer = app.demo_token("spj.reviewer").await;
    let (s, _) = apply(
        app,
        &reviewer,
        json!({"item_code": "JN-SPJ-0003", "form": form(), "applicant_phone": "13800138001"}),
    )
    .await;
    assert_eq!(s, 403);
    // An item that cannot be applied for online is exactly what a window takes in: the papers
    // are in the clerk's hands.
    let (s, b) = apply(
        app,
        &general,
        json!({"item_code": "JN-WJW-0001", "form": form(), "applicant_phone": "13800138001"}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let c = case(app, &citizen, b["case_number"].as_str().unwrap()).await;
    assert_eq!(c["in_person"], false, "registered at the window, not waiting for a visit");
}
