//! Assisted service (帮办代办) over HTTP, on SQLite and PostgreSQL: ask, assign, the power of
//! attorney, the officer submitting for the applicant, progress, completion and the rating.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;
use serde_json::json;

stories!(assisted_service_from_request_to_rating);

async fn assisted_service_from_request_to_rating(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let head = app.demo_token("spj.head").await;
    let officer = app.demo_token("spj.general").await;
    let rep = app.demo_token("13800138002").await;

    let (s, b) = app
        .post_json("/api/v1/assistance", Some(&citizen), json!({"description": "", "contact_phone": "123"}))
        .await;
    let fields: Vec<&str> =
        b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!((s, fields), (422, vec!["description", "contact_phone"]));
    let (s, r) = app
        .post_json(
            "/api/v1/assistance",
            Some(&citizen),
            json!({"item_code": "JN-SPJ-0003", "description": "开小饭馆，不会准备材料，请帮忙代办", "contact_phone": "13800138001"}),
        )
        .await;
    assert_eq!((s, r["status"].clone(), r["fee"].clone()), (201, json!("requested"), json!(0)), "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    let step = |token: &str, action: &str, body: serde_json::Value| {
        let (token, path) = (token.to_string(), format!("/api/v1/assistance/{id}/{action}"));
        async move { app.post_json(&path, Some(&token), body).await }
    };

    // Only a coordinator assigns; the officer cannot act for the applicant before the power of attorney.
    let (s, _) = step(&citizen, "assign", json!({"officer": "spj.general"})).await;
    assert_eq!(s, 403);
    let (s, b) = step(&head, "assign", json!({"officer": "nobody"})).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("officer")));
    let (s, b) = step(&head, "assign", json!({"officer": "spj.general"})).await;
    assert_eq!(
        (s, b["status"].clone(), b["officer_name"].clone()),
        (200, json!("assigned"), json!("李建国")),
        "{b}"
    );
    let application = json!({
        "item_code": "JN-SPJ-0003", "assistance_id": id,
        "form": {"contact_name": "张伟", "contact_phone": "13800138001"},
    });
    let (s, b) = app.post_json("/api/v1/cases", Some(&officer), application.clone()).await;
    assert_eq!((s, b["errors"][0]["code"].clone()), (422, json!("not_authorized")), "{b}");
    let (s, _) = step(&citizen, "authorize", json!({})).await;
    assert_eq!(s, 422, "the applicant must confirm");
    let (s, b) = step(&citizen, "authorize", json!({"accepted": true})).await;
    assert_eq!((s, b["status"].clone()), (200, json!("authorized")));
    let poa = b["poa_text"].as_str().unwrap();
    assert!(poa.contains("李建国") && poa.contains("免费"), "{poa}");

    // The power of attorney names one item: it does not cover another.
    let mut other = application.clone();
    other["item_code"] = json!("JN-SPJ-0001");
    let (s, b) = app.post_json("/api/v1/cases", Some(&officer), other).await;
    assert_eq!((s, b["errors"][0]["code"].clone()), (422, json!("not_covered")), "{b}");

    // The officer submits for the applicant: the case is the applicant's and says who submitted it.
    let (s, c) = app.post_json("/api/v1/cases", Some(&officer), application).await;
    assert_eq!(s, 201, "{c}");
    let n = c["case_number"].as_str().unwrap();
    let (_, case) = app.get_json(&format!("/api/v1/cases/{n}"), Some(&citizen)).await;
    assert_eq!(case["applicant_name"], "张伟");
    let who = case["timeline"][0]["actor_name"].as_str().unwrap();
    assert!(who.contains("李建国") && who.contains("帮办代办"), "{who}");
    // Under the power of attorney the officer also acts as the applicant (here: withdraws); staff
    // elsewhere see nothing.
    let (s, _) = app.get_json(&format!("/api/v1/cases/{n}"), Some(&officer)).await;
    assert_eq!(s, 200);
    let (s, w) =
        app.post_json(&format!("/api/v1/cases/{n}/actions/withdraw"), Some(&officer), json!({})).await;
    assert_eq!((s, w["state"].clone()), (200, json!("withdrawn")), "{w}");
    let scj = app.demo_token("scj.clerk").await;
    let (s, _) = app.get_json(&format!("/api/v1/cases/{n}"), Some(&scj)).await;
    assert_eq!(s, 404);

    // Progress, completion, rating (once).
    let (s, b) = step(&officer, "note", json!({"note": "已代为提交申请，等待受理"})).await;
    assert_eq!((s, b["notes"][0]["author_name"].clone()), (200, json!("李建国")));
    let (s, _) = step(&citizen, "rate", json!({"score": 5})).await;
    assert_eq!(s, 409, "not done yet");
    let (s, b) = step(&officer, "complete", json!({})).await;
    assert_eq!((s, b["status"].clone()), (200, json!("done")));
    let (s, b) = step(&citizen, "rate", json!({"score": 9})).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("score")));
    let (s, b) = step(&citizen, "rate", json!({"score": 5, "comment": "很专业，跑一次都不用"})).await;
    assert_eq!((s, b["rating"].clone()), (200, json!(5)));
    let (s, _) = step(&citizen, "rate", json!({"score": 1})).await;
    assert_eq!(s, 409, "rated once");
    // Others do not see it; the officer's list has it; the audit chain holds.
    let (s, _) = app.get_json(&format!("/api/v1/assistance/{id}"), Some(&rep)).await;
    assert_eq!(s, 404);
    let (_, mine) = app.get_json("/api/v1/assistance", Some(&officer)).await;
    assert!(mine.as_array().unwrap().iter().any(|r| r["id"] == id.as_str()));
    let trail = quanban::audit::store::recent(&app.state.db, &format!("assistance:{id}"), 20).await.unwrap();
    assert_eq!(
        trail.len(),
        6,
        "request, assign, authorize, note, complete, rate; refusals wrote nothing: {trail:?}"
    );
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}
