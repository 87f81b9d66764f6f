//! The 12345 desk over HTTP, on SQLite and PostgreSQL: the routing proposed before anything is
//! filed, the call type and district, enquiries answered on the call, a caller found by their
//! number, and the idempotency key that files a call once however often it is sent (also when
//! the sendings race).

use crate::common;

use common::TestApp;
use serde_json::{Value, json};

stories!(
    the_desk_proposes_a_routing_and_files_nothing,
    an_enquiry_answered_on_the_call_is_closed_without_a_department,
    an_idempotency_key_files_once_even_when_sent_at_once,
    a_caller_is_found_by_their_number,
);

async fn complaints_count(app: &TestApp, operator: &str) -> usize {
    let (s, b) = app.get_json("/api/v1/complaints", Some(operator)).await;
    assert_eq!(s, 200, "{b}");
    b.as_array().unwrap().len()
}

fn fields(b: &Value) -> Vec<String> {
    b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

async fn the_desk_proposes_a_routing_and_files_nothing(app: &TestApp) {
    let operator = app.demo_token("hotline.operator").await;
    let before = complaints_count(app, &operator).await;
    let (s, p) = app
        .post_json(
            "/api/v1/complaints/proposals",
            Some(&operator),
            json!({"description": "我们小区从昨天早上开始停水，到现在还没来水", "call_type": "help",
                   "district": "历下区", "phone": "13912345678"}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["district"], "历下区");
    let routes = p["routes"].as_array().unwrap();
    assert!(!routes.is_empty() && routes.len() <= 3, "{p}");
    assert!(routes[0]["category"].as_str().unwrap().starts_with("water."), "停水 is a water matter: {p}");
    assert!(routes[0]["department"].is_string(), "{p}");
    let confidences: Vec<f64> = routes.iter().map(|r| r["confidence"].as_f64().unwrap()).collect();
    assert!(confidences.windows(2).all(|w| w[0] >= w[1]), "best first: {confidences:?}");
    assert_eq!(complaints_count(app, &operator).await, before, "a proposal files nothing");

    // The operator confirms another department than proposed; it is filed as chosen.
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            json!({"description": "我们小区从昨天早上开始停水，到现在还没来水", "call_type": "help",
                   "district": "历下区", "category": routes[0]["category"], "department": "JN-ZJJ",
                   "name": "王女士", "phone": "13912345678"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let c = &b["complaint"];
    assert_eq!((c["call_type"].as_str(), c["district"].as_str()), (Some("help"), Some("历下区")), "{b}");
    assert_eq!((c["department"].as_str(), c["routed_by"].as_str()), (Some("JN-ZJJ"), Some("operator")));

    // Bad input names its field and changes nothing.
    let (s, b) = app
        .post_json(
            "/api/v1/complaints/proposals",
            Some(&operator),
            json!({"description": "", "call_type": "gossip", "district": "朝阳区"}),
        )
        .await;
    assert_eq!(
        (s, fields(&b)),
        (422, vec!["description".into(), "call_type".into(), "district".into()]),
        "{b}"
    );
    // Only operators are proposed routings or record call types.
    let citizen = app.demo_token("13800138001").await;
    let (s, _) = app
        .post_json("/api/v1/complaints/proposals", Some(&citizen), json!({"description": "路灯坏了"}))
        .await;
    assert_eq!(s, 403);
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&citizen),
            json!({"description": "路灯坏了", "call_type": "complaint"}),
        )
        .await;
    assert_eq!((s, fields(&b)), (422, vec!["call_type".into()]), "{b}");
    let (s, _) =
        app.post_json("/api/v1/complaints/proposals", None, json!({"description": "路灯坏了"})).await;
    assert_eq!(s, 401);
    assert_eq!(complaints_count(app, &operator).await, before + 1);
}

async fn an_enquiry_answered_on_the_call_is_closed_without_a_department(app: &TestApp) {
    let operator = app.demo_token("hotline.operator").await;
    let question = "请问办理居住证需要带什么材料？";
    // Only an enquiry can be answered on the call, and only with the answer given.
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            json!({"description": question, "call_type": "complaint", "answered_directly": true, "answer": "带身份证"}),
        )
        .await;
    assert_eq!((s, fields(&b)), (422, vec!["answered_directly".into()]), "{b}");
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            json!({"description": question, "call_type": "enquiry", "answered_directly": true}),
        )
        .await;
    assert_eq!((s, fields(&b)), (422, vec!["answer".into()]), "{b}");
    let citizen = app.demo_token("13800138001").await;
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&citizen),
            json!({"description": question, "answered_directly": true, "answer": "自问自答"}),
        )
        .await;
    assert_eq!((s, fields(&b)), (422, vec!["answered_directly".into()]), "{b}");
    let (_, mine) = app.get_json("/api/v1/complaints", Some(&citizen)).await;
    assert_eq!(mine.as_array().unwrap().len(), 0, "refusals store nothing");

    let answer = "带本人身份证和居住登记证明，到所在派出所或政务服务大厅办理。";
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            json!({"description": question, "call_type": "enquiry", "answered_directly": true, "answer": answer,
                   "phone": "13912340000"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let c = &b["complaint"];
    assert_eq!(c["status"], "closed", "{b}");
    assert!(c["department"].is_null(), "{b}");
    assert_eq!(c["answer"], answer);
    assert_eq!(c["call_type"], "enquiry");
    let id = c["id"].as_str().unwrap();
    let (_, full) = app.get_json(&format!("/api/v1/complaints/{id}"), Some(&operator)).await;
    let actions: Vec<&str> =
        full["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["received", "answered_directly"], "{full}");
    // No department sees it on its desk.
    let scj = app.demo_token("scj.clerk").await;
    let (s, _) = app.get_json(&format!("/api/v1/complaints/{id}"), Some(&scj)).await;
    assert_eq!(s, 404);
}

async fn an_idempotency_key_files_once_even_when_sent_at_once(app: &TestApp) {
    let operator = app.demo_token("hotline.operator").await;
    let before = complaints_count(app, &operator).await;
    let audited_before = app.audit_count("complaint.received").await;
    let body = json!({"description": "文化西路的路灯一到晚上就不亮", "call_type": "complaint",
                      "district": "历下区", "idempotency_key": "desk-key-1"});
    let (s, first) = app.post_json("/api/v1/complaints", Some(&operator), body.clone()).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["replayed"], false);
    let id = first["complaint"]["id"].as_str().unwrap().to_string();
    // A refresh or a second click: the same complaint, nothing new.
    let (s, again) = app.post_json("/api/v1/complaints", Some(&operator), body.clone()).await;
    assert_eq!((s, again["replayed"].clone()), (200, json!(true)), "{again}");
    assert_eq!(again["complaint"]["id"], id.as_str());
    assert_eq!(complaints_count(app, &operator).await, before + 1);

    // The key in the Idempotency-Key header, sent eight times at once: one complaint.
    let sendings = (0..8).map(|_| {
        app.client
            .post(app.url("/api/v1/complaints"))
            .bearer_auth(&operator)
            .header("Idempotency-Key", "desk-key-2")
            .json(&json!({"description": "市中区经四路井盖丢了，很危险", "call_type": "complaint"}))
            .send()
    });
    let answers = futures::future::join_all(sendings).await;
    let mut ids = std::collections::BTreeSet::new();
    let mut created = 0;
    for a in answers {
        let a = a.unwrap();
        let status = a.status().as_u16();
        let b: Value = a.json().await.unwrap();
        assert!(status == 201 || status == 200, "{status}: {b}");
        created += usize::from(status == 201);
        ids.insert(b["complaint"]["id"].as_str().unwrap().to_string());
    }
    assert_eq!((created, ids.len()), (1, 1), "{ids:?}");
    assert_eq!(complaints_count(app, &operator).await, before + 2);

    // A key is its filer's own: another filer's same key files their own complaint.
    let citizen = app.demo_token("13800138001").await;
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&citizen),
            json!({"description": "楼下的路灯坏了", "idempotency_key": "desk-key-1"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_ne!(b["complaint"]["id"], id.as_str());
    // A key that is not letters, digits, '-' or '_' is refused by name.
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            json!({"description": "噪音", "idempotency_key": "a b"}),
        )
        .await;
    assert_eq!((s, fields(&b)), (422, vec!["idempotency_key".into()]), "{b}");
    // Every filing is in the audit log once.
    let audited = app.audit_count("complaint.received").await;
    assert_eq!(audited, audited_before + 3, "one audit entry per complaint filed");
}

async fn a_caller_is_found_by_their_number(app: &TestApp) {
    let operator = app.demo_token("hotline.operator").await;
    for (text, phone) in [
        ("小区门口的垃圾三天没人清运", "139-1111-2222"),
        ("垃圾又没人清运了，上次反映过", "13911112222"),
        ("楼上装修噪音太大", "13933334444"),
    ] {
        let (s, b) = app
            .post_json(
                "/api/v1/complaints",
                Some(&operator),
                json!({"description": text, "call_type": "complaint", "phone": phone}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, found) =
        app.post_json("/api/v1/complaints/by-caller", Some(&operator), json!({"phone": "13911112222"})).await;
    assert_eq!(s, 200, "{found}");
    let texts: Vec<&str> =
        found.as_array().unwrap().iter().map(|c| c["description"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 2, "the same number however it was typed: {texts:?}");
    assert!(texts.iter().all(|t| t.contains("垃圾")), "{texts:?}");
    // Bad input and the wrong people.
    let (s, b) =
        app.post_json("/api/v1/complaints/by-caller", Some(&operator), json!({"phone": "123"})).await;
    assert_eq!((s, fields(&b)), (422, vec!["phone".into()]), "{b}");
    let scj = app.demo_token("scj.clerk").await;
    let (s, _) =
        app.post_json("/api/v1/complaints/by-caller", Some(&scj), json!({"phone": "13911112222"})).await;
    assert_eq!(s, 403);
    let citizen = app.demo_token("13800138001").await;
    let (s, _) =
        app.post_json("/api/v1/complaints/by-caller", Some(&citizen), json!({"phone": "13911112222"})).await;
    assert_eq!(s, 403);

    // Complaints stored before numbers had digests are found once start-up has digested them.
    app.state
        .db
        .write(|c| {
            quanban::store::query("UPDATE complaints SET phone_digest = NULL").execute(&mut *c)?;
            Ok(())
        })
        .await
        .unwrap();
    let (_, none) =
        app.post_json("/api/v1/complaints/by-caller", Some(&operator), json!({"phone": "13911112222"})).await;
    assert_eq!(none.as_array().unwrap().len(), 0);
    let digested = quanban::complaints::service::digest_old_phones(&app.state.db).await.unwrap();
    assert_eq!(digested, 3);
    assert_eq!(
        quanban::complaints::service::digest_old_phones(&app.state.db).await.unwrap(),
        0,
        "idempotent"
    );
    let (_, again) =
        app.post_json("/api/v1/complaints/by-caller", Some(&operator), json!({"phone": "13911112222"})).await;
    assert_eq!(again.as_array().unwrap().len(), 2);
}
