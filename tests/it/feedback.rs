//! 好差评 and 接诉即办 over HTTP, on SQLite and PostgreSQL: a case rating (by account and by
//! the one-tap link) with every refusal, the bad-review loop with revisit and appeal, the
//! figures; a complaint from intake through return, re-dispatch, answer and callback to the
//! three rates; duplicates and 未诉先办 clusters; Open311 in JSON and XML.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use base64::Engine;
use common::TestApp;
use serde_json::{Value, json};

stories!(rating_a_case_and_the_bad_review_loop, complaint_from_intake_to_callback, open311_round_trip);

async fn act(app: &TestApp, token: &str, number: &str, action: &str) -> Value {
    let (s, b) =
        app.post_json(&format!("/api/v1/cases/{number}/actions/{action}"), Some(token), json!({})).await;
    assert_eq!(s, 200, "{action}: {b}");
    b
}

/// A food-licence case taken to `closed`.
async fn finished_case(app: &TestApp, citizen: &str) -> String {
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n% test\n");
    let (s, b) = app
        .post_json(
            "/api/v1/cases",
            Some(citizen),
            json!({"item_code": "JN-SPJ-0003",
                   "form": {"contact_name": "张伟", "contact_phone": "13800138001", "address": "济南市历下区泉城路1号"},
                   "materials": [{"index": 0, "file_name": "申请书.pdf", "content_base64": pdf}]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let n = b["case_number"].as_str().unwrap().to_string();
    let clerk = app.demo_token("spj.clerk").await;
    let approver = app.demo_token("spj.approver").await;
    act(app, &clerk, &n, "accept").await;
    act(app, &approver, &n, "approve").await;
    act(app, &approver, &n, "close").await;
    n
}

async fn rating_a_case_and_the_bad_review_loop(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let rep = app.demo_token("13800138002").await;
    let head = app.demo_token("spj.head").await;
    let supervisor = app.demo_token("dsj.supervisor").await;
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n");

    // Not finished yet → 409 with the state; nothing stored.
    let (_, b) = app
        .post_json(
            "/api/v1/cases",
            Some(&citizen),
            json!({"item_code": "JN-SPJ-0003", "form": {"contact_name": "张伟", "contact_phone": "13800138001"},
                   "materials": [{"index": 0, "file_name": "a.pdf", "content_base64": pdf}]}),
        )
        .await;
    let open_case = b["case_number"].as_str().unwrap().to_string();
    let (s, b) =
        app.post_json("/api/v1/ratings", Some(&citizen), json!({"case_number": open_case, "score": 5})).await;
    assert_eq!((s, b["code"].clone()), (409, json!("case_not_finished")), "{b}");

    let n = finished_case(app, &citizen).await;
    // The closing notification carries the one-tap link.
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&citizen)).await;
    let text = inbox.to_string();
    let link_start = text.find("/rate/").expect("a rating link in the inbox");
    let token: String = text[link_start + 6..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    let token = token.trim_end_matches('.').to_string();
    assert!(token.starts_with(&n), "{token}");

    // Bad input, each naming its field; none stores anything.
    let (s, b) = app
        .post_json(
            "/api/v1/ratings",
            Some(&citizen),
            json!({"case_number": n, "score": 7, "channel": "fax", "indicators": {"颜值": 5}}),
        )
        .await;
    let fields: Vec<&str> =
        b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!((s, fields), (422, vec!["score", "channel", "indicators"]), "{b}");
    let (s, b) =
        app.post_json("/api/v1/ratings", Some(&citizen), json!({"case_number": n, "score": 1})).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("comment")), "a bad review needs a reason");
    // Someone else's case and a case that does not exist get the same answer.
    let (s, b) = app.post_json("/api/v1/ratings", Some(&rep), json!({"case_number": n, "score": 5})).await;
    assert_eq!((s, b["errors"][0]["code"].clone()), (422, json!("nothing_to_rate")), "{b}");
    let (s2, b2) = app
        .post_json("/api/v1/ratings", Some(&rep), json!({"case_number": "JN-0000-NOPE", "score": 5}))
        .await;
    assert_eq!((s2, b2["errors"].clone()), (s, b["errors"].clone()), "{b2}");
    let (s, _) =
        app.post_json("/api/v1/ratings", None, json!({"case_number": "JN-0000-NOPE", "score": 5})).await;
    assert_eq!(s, 401, "anonymous without a link must sign in, whether the case exists or not");
    let (s, _) = app.post_json("/api/v1/ratings", None, json!({"case_number": n, "score": 5})).await;
    assert_eq!(s, 401);
    let (s, b) = app
        .post_json(
            "/api/v1/ratings",
            None,
            json!({"case_number": n, "score": 5, "token": format!("{token}x")}),
        )
        .await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("token")));

    // The one-tap link rates without logging in: a real-name bad review.
    let (s, r) = app
        .post_json(
            "/api/v1/ratings",
            None,
            json!({"case_number": n, "score": 2, "token": token, "comment": "材料要求前后不一致，跑了两趟",
                   "indicators": {"办事效率": 2, "办事指南精确度": 1, "办事便捷度": 3, "平台操作性": 4}}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (r["channel"].clone(), r["real_name"].clone(), r["level_zh"].clone()),
        (json!("sms"), json!(true), json!("不满意"))
    );
    assert_eq!(r["indicators"]["guide_accuracy"], 1);
    assert_eq!(r["department"], "JN-SPJ");
    assert_eq!(r["rectification"]["status"], "assigned");
    let id = r["id"].as_str().unwrap().to_string();
    // Once per case.
    let (s, b) = app
        .post_json("/api/v1/ratings", Some(&citizen), json!({"case_number": n, "score": 5, "comment": "ok"}))
        .await;
    assert_eq!((s, b["code"].clone()), (409, json!("already_rated")));

    // The loop: the department verifies, rectifies, the rater is revisited (not satisfied →
    // reopened once), rectified again, satisfied → closed.
    let step = |token: &str, action: &str, body: Value| {
        let (token, path) = (token.to_string(), format!("/api/v1/bad-reviews/{id}/{action}"));
        async move { app.post_json(&path, Some(&token), body).await }
    };
    // One working day to verify: green when it arrives (never yellow at its start, whenever the
    // review came in), yellow in the last quarter of the due day, red after it.
    // Sessions last 8 hours, so each look at a later hour signs in again.
    let id_ref = id.as_str();
    let light = |token: String| async move {
        let (s, list) = app.get_json("/api/v1/bad-reviews", Some(&token)).await;
        assert_eq!(s, 200, "{list}");
        let mine =
            list.as_array().unwrap().iter().find(|l| l["rating"]["id"] == id_ref).expect("listed").clone();
        (
            mine["light"].as_str().unwrap().to_string(),
            mine["status_zh"].clone(),
            mine["due"].as_str().unwrap().to_string(),
        )
    };
    let (first, status, due) = light(head.clone()).await;
    assert_eq!((first.as_str(), status), ("green", json!("待核实")));
    let arrived = app.clock().now();
    let at =
        |time: &str| chrono::DateTime::parse_from_rfc3339(&format!("{due}T{time}+08:00")).unwrap().to_utc();
    app.clock().set(at("20:00:00")).unwrap();
    assert_eq!(light(app.demo_token("spj.head").await).await.0, "yellow");
    app.clock().set(at("23:59:59") + chrono::Duration::seconds(1)).unwrap();
    assert_eq!(light(app.demo_token("spj.head").await).await.0, "red");
    app.clock().set(arrived).unwrap();
    let (s, _) = step(&head, "rectify", json!({"answer": "x"})).await;
    assert_eq!(s, 409, "verification comes first");
    let (s, _) = step(&rep, "verify", json!({"note": "x"})).await;
    assert_eq!(s, 404, "others do not see it");
    let (s, b) = step(&head, "verify", json!({})).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("note")));
    let (s, b) = step(&head, "verify", json!({"note": "经核实，办事指南材料清单与窗口要求不一致"})).await;
    assert_eq!((s, b["rectification"]["status"].clone()), (200, json!("verified")), "{b}");
    let (_, b) = step(&head, "rectify", json!({"answer": "已统一材料清单并公开，向您致歉"})).await;
    assert_eq!(
        (b["rectification"]["status"].clone(), b["rectification"]["on_time"].clone()),
        (json!("rectified"), json!(true))
    );
    let (_, b) = step(&citizen, "revisit", json!({"satisfied": false})).await;
    assert_eq!(
        (b["rectification"]["status"].clone(), b["rectification"]["reopened"].clone()),
        (json!("assigned"), json!(true)),
        "{b}"
    );
    step(&head, "verify", json!({"note": "再次核实"})).await;
    step(&head, "rectify", json!({"answer": "已安排专人帮办"})).await;
    let (_, b) = step(&head, "revisit", json!({"satisfied": true})).await;
    assert_eq!(b["rectification"]["status"], "closed");
    assert_eq!(b["rectification"]["events"].as_array().unwrap().len(), 7, "{b}");

    // Statistics: one bad review, rectified, revisited, on time.
    let (s, st) = app.get_json("/api/v1/ratings/stats?by=department", None).await;
    assert_eq!(s, 200);
    let spj = st["rows"].as_array().unwrap().iter().find(|r| r["key"] == "JN-SPJ").expect("JN-SPJ row");
    assert_eq!((spj["ratings"].clone(), spj["bad"].clone()), (json!(1), json!(1)), "{spj}");
    assert_eq!(
        (spj["rectification_rate"].clone(), spj["revisit_rate"].clone(), spj["on_time_rate"].clone()),
        (json!(1.0), json!(1.0), json!(1.0))
    );
    let (s, _) = app.get_json("/api/v1/ratings/stats?by=officer", None).await;
    assert_eq!(s, 401, "officers' figures are internal");
    let (s, b) = app.get_json("/api/v1/ratings/stats?by=planet", None).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("by")));
    let csv = app
        .client
        .get(app.url("/api/v1/ratings/stats?format=csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("好评率") && csv.contains("JN-SPJ"), "{csv}");

    // An appeal: a second case rated 1 by account, appealed, upheld → out of the statistics.
    let n2 = finished_case(app, &citizen).await;
    let (s, r) = app
        .post_json("/api/v1/ratings", Some(&citizen), json!({"case_number": n2, "score": 1, "comment": "就是不满意", "channel": "app", "anonymous": true}))
        .await;
    assert_eq!((s, r["real_name"].clone()), (201, json!(false)), "{r}");
    let id2 = r["id"].as_str().unwrap().to_string();
    let (_, b) = app
        .post_json(
            &format!("/api/v1/bad-reviews/{id2}/appeal"),
            Some(&head),
            json!({"reason": "评价内容与办件无关，属恶意差评"}),
        )
        .await;
    assert_eq!(b["rectification"]["status"], "appealed", "{b}");
    let (s, _) = app
        .post_json(&format!("/api/v1/bad-reviews/{id2}/decide_appeal"), Some(&head), json!({"uphold": true}))
        .await;
    assert_eq!(s, 403, "only a supervisor decides");
    let (_, b) = app
        .post_json(
            &format!("/api/v1/bad-reviews/{id2}/decide_appeal"),
            Some(&supervisor),
            json!({"uphold": true}),
        )
        .await;
    assert_eq!(
        (b["rectification"]["status"].clone(), b["rating"]["excluded"].clone()),
        (json!("excluded"), json!(true)),
        "{b}"
    );
    let (_, st) = app.get_json("/api/v1/ratings/stats", None).await;
    let spj = st["rows"].as_array().unwrap().iter().find(|r| r["key"] == "JN-SPJ").unwrap();
    assert_eq!(spj["ratings"], 1, "the upheld appeal is left out: {spj}");

    // 一次一评: a hall visit rated by its queue ticket, once it was served, on the window pad.
    // Numbers are given while the hall is open; sign in again after the clock moves there.
    app.open_hall("JN-H-0001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let citizen = app.demo_token("13800138001").await;
    let (s, ticket) = app.post_json("/api/v1/halls/JN-H-0001/queue", Some(&citizen), json!({})).await;
    assert_eq!(s, 201, "{ticket}");
    let ticket_id = ticket["id"].as_str().unwrap().to_string();
    let visit = json!({"ticket_id": ticket_id, "score": 5, "channel": "pad", "indicators": {"服务态度": 5, "服务效率": 4}});
    let (s, b) = app.post_json("/api/v1/ratings", Some(&citizen), visit.clone()).await;
    assert_eq!((s, b["code"].clone()), (409, json!("not_served_yet")), "{b}");
    let (s, called) =
        app.post_json("/api/v1/halls/JN-H-0001/queue/call", Some(&clerk), json!({"window": "3号窗口"})).await;
    assert_eq!(s, 200, "{called}");
    let (s, b) = app.post_json("/api/v1/ratings", Some(&rep), visit.clone()).await;
    assert_eq!(
        (s, b["errors"][0]["code"].clone()),
        (422, json!("nothing_to_rate")),
        "another person's ticket: {b}"
    );
    // Knowing the ticket id (it is on the public display) is not enough without the slip's code.
    let mut with_code = visit.clone();
    with_code["ticket_secret"] = json!("0".repeat(64));
    let (s, _) = app.post_json("/api/v1/ratings", None, with_code.clone()).await;
    assert_eq!(s, 422, "a wrong code rates nothing");
    // An anonymous walk-in rates with the code printed on the slip.
    let (s, walk_in) = app.post_json("/api/v1/halls/JN-H-0001/queue", None, json!({})).await;
    assert_eq!(s, 201, "{walk_in}");
    let code = walk_in["holder_secret"].as_str().expect("the slip carries a rating code").to_string();
    let (s, _) =
        app.post_json("/api/v1/halls/JN-H-0001/queue/call", Some(&clerk), json!({"window": "3号窗口"})).await;
    assert_eq!(s, 200);
    let anonymous_visit = json!({"ticket_id": walk_in["id"], "score": 4, "channel": "kiosk"});
    let (s, _) = app.post_json("/api/v1/ratings", None, anonymous_visit.clone()).await;
    assert_eq!(s, 422, "no code, no rating");
    let mut coded = anonymous_visit.clone();
    coded["ticket_secret"] = json!(code);
    let (s, b) = app.post_json("/api/v1/ratings", None, coded).await;
    assert_eq!(s, 201, "{b}");
    let (_, shown) =
        app.get_json(&format!("/api/v1/queue/tickets/{}", walk_in["id"].as_str().unwrap()), None).await;
    assert!(shown.get("holder_secret").is_none(), "the code is given once, never shown again: {shown}");
    let (s, r) = app.post_json("/api/v1/ratings", Some(&citizen), visit.clone()).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (r["object_kind"].clone(), r["hall_code"].clone(), r["department"].clone()),
        (json!("visit"), json!("JN-H-0001"), json!("JN-SPJ"))
    );
    assert_eq!((r["indicators"]["service_attitude"].clone(), r["channel"].clone()), (json!(5), json!("pad")));
    assert!(r["officer_id"].is_string(), "the calling clerk is rated: {r}");
    let (s, _) = app.post_json("/api/v1/ratings", Some(&citizen), visit).await;
    assert_eq!(s, 409, "once per visit");
    let (_, st) = app.get_json("/api/v1/ratings/stats?by=hall", None).await;
    let hall = st["rows"].as_array().unwrap().iter().find(|r| r["key"] == "JN-H-0001").expect("hall row");
    assert_eq!((hall["ratings"].clone(), hall["good_rate"].clone()), (json!(2), json!(1.0)), "{hall}");

    let (_, ok) = app.get_json("/api/v1/audit/verify", Some(&app.demo_token("dsj.admin").await)).await;
    assert_eq!(ok["ok"], true, "{ok}");
}

async fn complaint_from_intake_to_callback(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let operator = app.demo_token("hotline.operator").await;
    let head = app.demo_token("spj.head").await;
    let scj = app.demo_token("scj.clerk").await;

    // Bad input: empty, outside the city, an unknown category — nothing stored.
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&citizen),
            json!({"description": "  ", "lat": 39.9, "lon": 116.4, "category": "x.y"}),
        )
        .await;
    let fields: Vec<&str> =
        b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!((s, fields), (422, vec!["description", "lat", "category"]), "{b}");
    let (_, mine) = app.get_json("/api/v1/complaints", Some(&citizen)).await;
    assert_eq!(mine.as_array().unwrap().len(), 0);

    // The classifier routes a plain complaint; the location gives the district.
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&citizen),
            json!({"description": "楼下饭店油烟太大，呛得没法开窗，晚上还有烧烤", "lat": 36.6610, "lon": 117.0480, "address": "历下区文化西路"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let c = &b["complaint"];
    assert_eq!(
        (c["category"].clone(), c["department"].clone(), c["routed_by"].clone()),
        (json!("city.cooking_fumes"), json!("JN-CGJ"), json!("classifier")),
        "{b}"
    );
    assert_eq!(
        (c["status"].clone(), c["source"].clone(), c["card"].clone()),
        (json!("dispatched"), json!("web"), json!("none"))
    );
    assert!(c["district"].is_string(), "{c}");

    // A window-service complaint in 历下区 goes to the district's bureau (location rule); the
    // operator's hotline intake.
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            json!({"description": "政务大厅窗口工作人员态度差，让我跑了三趟", "category": "gov.hall_service",
                   "address": "济南市历下区龙奥北路", "name": "王先生", "phone": "13900000000"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        (b["complaint"]["department"].clone(), b["complaint"]["source"].clone()),
        (json!("JN-LXSPJ"), json!("hotline")),
        "{b}"
    );

    // Misrouted on purpose by the operator: to 市场监管; they return it (reason required) and it
    // is re-dispatched with the history kept.
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            json!({"description": "审批局办食品经营许可证，网上说5天，结果过了10天还没批", "department": "JN-SCJ", "address": "历城区"}),
        )
        .await;
    assert_eq!((s, b["complaint"]["routed_by"].clone()), (201, json!("operator")), "{b}");
    let id = b["complaint"]["id"].as_str().unwrap().to_string();
    let act = |token: &str, action: &str, body: Value| {
        let (token, path) = (token.to_string(), format!("/api/v1/complaints/{id}/{action}"));
        async move { app.post_json(&path, Some(&token), body).await }
    };
    let (s, _) = act(&head, "respond", json!({})).await;
    assert_eq!(s, 404, "not with this department: it cannot even see it");
    let (s, b) = act(&scj, "return", json!({})).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("reason")));
    let (_, b) = act(&scj, "return", json!({"reason": "属行政审批服务局职责"})).await;
    assert_eq!(
        (b["status"].clone(), b["returned_by"].clone()),
        (json!("returned"), json!(["JN-SCJ"])),
        "{b}"
    );
    // The supervisor (督查) sees the returned complaint but changes nothing.
    let supervisor = app.demo_token("dsj.supervisor").await;
    let (s, seen) = app.get_json(&format!("/api/v1/complaints/{id}"), Some(&supervisor)).await;
    assert_eq!(s, 200, "{seen}");
    let (s, _) =
        act(&supervisor, "dispatch", json!({"department": "JN-SPJ", "category": "gov.hall_service"})).await;
    assert_eq!(s, 403, "a supervisor does not dispatch");
    let (_, b) =
        act(&operator, "dispatch", json!({"department": "JN-SPJ", "category": "gov.hall_service"})).await;
    assert_eq!((b["status"].clone(), b["department"].clone()), (json!("dispatched"), json!("JN-SPJ")), "{b}");
    let (_, b) = act(&head, "respond", json!({"note": "已联系申请人"})).await;
    assert_eq!((b["status"].clone(), b["responded_on_time"].clone()), (json!("responded"), json!(true)));
    let (s, b) = act(&head, "extend", json!({"days": 11, "reason": "需现场核查"})).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("days")));
    let (_, b) = act(&head, "extend", json!({"days": 3, "reason": "需现场核查"})).await;
    let resolve_due = b["resolve_due"].as_str().unwrap().to_string();
    let (s, _) = act(&supervisor, "decide_extension", json!({"approve": true})).await;
    assert_eq!(s, 403, "a supervisor does not decide extensions");
    let (_, b) = act(&operator, "decide_extension", json!({"approve": true})).await;
    assert_eq!(b["extension_days"], 3);
    assert!(b["resolve_due"].as_str().unwrap() > resolve_due.as_str(), "{b}");
    let (s, b) = act(&head, "resolve", json!({})).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("answer")));
    let (_, b) = act(&head, "resolve", json!({"answer": "已督促窗口当日办结，许可证已发放"})).await;
    assert_eq!(b["status"], "resolved");
    let (_, b) = act(&operator, "callback", json!({"resolved": true, "satisfied": true})).await;
    assert_eq!(b["status"], "closed");
    let actions: Vec<&str> =
        b["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "received",
            "dispatched",
            "return",
            "dispatch",
            "respond",
            "extend",
            "decide_extension",
            "resolve",
            "callback"
        ]
    );

    // The citizen's own complaint: answered, called back as not resolved → reopened once (重办).
    let (s, b) = app
        .post_json("/api/v1/complaints", Some(&citizen), json!({"description": "网上预约了窗口办理，到了大厅却说预约无效", "category": "gov.hall_service"}))
        .await;
    assert_eq!((s, b["complaint"]["department"].clone()), (201, json!("JN-SPJ")), "{b}");
    let own = b["complaint"]["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .post_json(
            &format!("/api/v1/complaints/{own}/callback"),
            Some(&citizen),
            json!({"resolved": true, "satisfied": true}),
        )
        .await;
    assert_eq!(s, 409, "no callback before the answer");
    let (_, b) = app
        .post_json(
            &format!("/api/v1/complaints/{own}/resolve"),
            Some(&head),
            json!({"answer": "已核实，系统故障已修复"}),
        )
        .await;
    assert_eq!(b["status"], "resolved", "{b}");
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&citizen)).await;
    assert!(inbox.to_string().contains("系统故障已修复"), "the complainant receives the answer: {inbox}");
    let (_, b) = app
        .post_json(
            &format!("/api/v1/complaints/{own}/callback"),
            Some(&citizen),
            json!({"resolved": false, "satisfied": false}),
        )
        .await;
    assert_eq!((b["status"].clone(), b["reopened"].clone()), (json!("dispatched"), json!(true)), "{b}");

    // The three rates for JN-SPJ: of two complaints, one answered on time, resolved and satisfied;
    // the reopened one was not resolved (and its response clock restarted).
    let (_, r) = app.get_json("/api/v1/complaints/rates", Some(&operator)).await;
    let spj = r["departments"].as_array().unwrap().iter().find(|d| d["department"] == "JN-SPJ").expect("spj");
    assert_eq!(
        (spj["response_rate"].clone(), spj["resolution_rate"].clone(), spj["satisfaction_rate"].clone()),
        (json!(0.5), json!(0.5), json!(0.5)),
        "{spj}"
    );
    let (s, _) = app.get_json("/api/v1/complaints/rates", Some(&citizen)).await;
    assert_eq!(s, 403);

    // Duplicates and 未诉先办: three pot-hole complaints close together.
    let mut ids = Vec::new();
    for (i, text) in [
        "经十路东段有个大坑，晚上骑车差点摔倒",
        "经十路这个坑还没补，路面塌陷越来越大",
        "经十路路面坑洼，井盖也松了",
    ]
    .iter()
    .enumerate()
    {
        let (s, b) = app
            .post_json("/api/v1/complaints", Some(&citizen), json!({"description": text, "category": "city.road_damage", "lat": 36.6500 + i as f64 * 0.0005, "lon": 117.1000}))
            .await;
        assert_eq!(s, 201, "{b}");
        if i > 0 {
            assert!(
                !b["possible_duplicates"].as_array().unwrap().is_empty(),
                "a near, alike complaint is offered: {b}"
            );
        }
        ids.push(b["complaint"]["id"].as_str().unwrap().to_string());
    }
    let supervisor = app.demo_token("dsj.supervisor").await;
    let (s, _) = app.post_json("/api/v1/proactive-tasks/scan", Some(&supervisor), json!({})).await;
    assert_eq!(s, 403, "a supervisor does not scan");
    let (s, _) = app
        .post_json(
            &format!("/api/v1/complaints/{}/merge", ids[2]),
            Some(&supervisor),
            json!({"into": ids[0]}),
        )
        .await;
    assert_eq!(s, 403, "a supervisor does not merge");
    let (_, tasks) = app.post_json("/api/v1/proactive-tasks/scan", Some(&operator), json!({})).await;
    let task = tasks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["category"] == "city.road_damage")
        .expect("a proactive task");
    assert_eq!((task["size"].clone(), task["department"].clone()), (json!(3), json!("JN-CGJ")), "{task}");
    let (_, again) = app.post_json("/api/v1/proactive-tasks/scan", Some(&operator), json!({})).await;
    assert!(
        again.as_array().unwrap().iter().all(|t| t["category"] != "city.road_damage"),
        "raised once: {again}"
    );
    let (_, b) = app
        .post_json(&format!("/api/v1/complaints/{}/merge", ids[2]), Some(&operator), json!({"into": ids[0]}))
        .await;
    assert_eq!((b["status"].clone(), b["merged_into"].clone()), (json!("merged"), json!(ids[0])), "{b}");
    let (_, topics) = app.get_json("/api/v1/complaints/monthly-topics", Some(&operator)).await;
    assert!(topics.as_array().unwrap().iter().any(|t| t["category"] == "city.road_damage"), "{topics}");
}

async fn open311_round_trip(app: &TestApp) {
    let key = app.open311_key().await;
    let (s, services) = app.get_json("/open311/v2/services.json", None).await;
    assert_eq!(s, 200);
    let water =
        services.as_array().unwrap().iter().find(|x| x["service_code"] == "water.supply").expect("water");
    assert_eq!((water["metadata"].clone(), water["type"].clone()), (json!(false), json!("realtime")));
    let (s, def) = app.get_json("/open311/v2/services/water.supply.json", None).await;
    assert_eq!((s, def["service_code"].clone()), (200, json!("water.supply")));
    let (s, err) = app.get_json("/open311/v2/services/no.such.json", None).await;
    assert_eq!((s, err[0]["code"].clone()), (404, json!(404)), "{err}");

    let post = |form: Vec<(&'static str, String)>| async move {
        let r = app.client.post(app.url("/open311/v2/requests.json")).form(&form).send().await.unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    let (s, b) = post(vec![
        ("service_code", "water.supply".into()),
        ("lat", "36.66".into()),
        ("long", "117.05".into()),
        ("description", "停水".into()),
    ])
    .await;
    assert_eq!((s, b[0]["code"].clone()), (403, json!(403)), "no key: {b}");
    let (s, b) = post(vec![
        ("api_key", key.clone()),
        ("service_code", "nope".into()),
        ("lat", "36.66".into()),
        ("long", "117.05".into()),
        ("description", "x".into()),
    ])
    .await;
    assert_eq!((s, b[0]["code"].clone()), (404, json!(404)), "an unknown service_code is not found: {b}");
    let (s, b) = post(vec![
        ("api_key", key.clone()),
        ("service_code", "water.supply".into()),
        ("description", "x".into()),
    ])
    .await;
    assert_eq!(s, 400, "a location is required: {b}");
    let (s, b) = post(vec![
        ("api_key", key.clone()),
        ("service_code", "water.supply".into()),
        ("lat", "31.2".into()),
        ("long", "121.5".into()),
        ("description", "停水".into()),
    ])
    .await;
    assert_eq!(s, 400, "Shanghai is not in Jinan: {b}");
    assert!(b[0]["description"].as_str().unwrap().starts_with("lat"), "{b}");
    let (s, b) = post(vec![
        ("api_key", key.clone()),
        ("service_code", "water.supply".into()),
        ("lat", "36.6612".into()),
        ("long", "117.0203".into()),
        ("address_string", "槐荫区经十路幸福小区".into()),
        ("description", "幸福小区3号楼从早上停水到现在，我是张伟，电话13812345678".into()),
        ("first_name", "伟".into()),
        ("last_name", "张".into()),
        ("media_url", "https://example.org/p.jpg".into()),
    ])
    .await;
    assert_eq!(s, 201, "{b}");
    let id = b[0]["service_request_id"].as_str().unwrap().to_string();
    let (s, one) = app.get_json(&format!("/open311/v2/requests/{id}.json"), None).await;
    assert_eq!(s, 200);
    let r = &one[0];
    assert_eq!(
        (r["status"].clone(), r["service_code"].clone(), r["agency_responsible"].clone()),
        (json!("open"), json!("water.supply"), json!("济南市水务局")),
        "{r}"
    );
    assert_eq!(
        (r["lat"].clone(), r["long"].clone(), r["media_url"].clone()),
        (json!(36.6612), json!(117.0203), json!("https://example.org/p.jpg"))
    );
    assert!(r["requested_datetime"].as_str().unwrap().ends_with("+08:00"), "{r}");
    assert!(r.get("phone").is_none() && !one.to_string().contains("张伟"), "no personal data");
    assert!(!one.to_string().contains("13812345678"), "the phone number in the description is removed: {r}");
    assert!(r["description"].as_str().unwrap().starts_with("幸福小区3号楼从早上停水到现在"), "{r}");
    assert!(!id.starts_with("12345-") && id.len() >= 16, "not the sequential number: {id}");
    let (_, list) =
        app.get_json("/open311/v2/requests.json?service_code=water.supply&status=open", None).await;
    assert!(list.as_array().unwrap().iter().any(|x| x["service_request_id"] == id.as_str()));
    let (_, closed) = app.get_json("/open311/v2/requests.json?status=closed", None).await;
    assert!(closed.as_array().unwrap().iter().all(|x| x["service_request_id"] != id.as_str()));
    let (s, b) = app.get_json("/open311/v2/requests.json?status=sideways", None).await;
    assert_eq!((s, b[0]["code"].clone()), (400, json!(400)));
    let xml = app.client.get(app.url(&format!("/open311/v2/requests/{id}.xml"))).send().await.unwrap();
    assert!(xml.headers()["content-type"].to_str().unwrap().starts_with("text/xml"));
    let xml = xml.text().await.unwrap();
    assert!(
        xml.starts_with("<?xml") && xml.contains(&format!("<service_request_id>{id}</service_request_id>")),
        "{xml}"
    );
    let xml = app.client.get(app.url("/open311/v2/services.xml")).send().await.unwrap().text().await.unwrap();
    assert!(xml.contains("<services><service><service_code>"), "{xml}");
    let xml =
        app.client.get(app.url("/open311/v2/requests/nope.xml")).send().await.unwrap().text().await.unwrap();
    assert!(xml.contains("<errors><error><code>404</code>"), "{xml}");
    // JSON says its charset.
    let r = app.client.get(app.url("/open311/v2/services.json")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/json; charset=utf-8");
    // Several service codes, comma-separated (the spec); a parameter given twice is refused in
    // the spec's error format; another jurisdiction is not found, ours is served.
    let (s, both) =
        app.get_json("/open311/v2/requests.json?service_code=water.supply,city.cooking_fumes", None).await;
    assert_eq!(s, 200, "{both}");
    assert!(both.as_array().unwrap().iter().any(|x| x["service_request_id"] == id.as_str()));
    let (s, b) = app.get_json("/open311/v2/requests.json?status=open&status=closed", None).await;
    assert_eq!((s, b[0]["code"].clone()), (400, json!(400)), "{b}");
    assert!(b[0]["description"].as_str().unwrap().contains("status"), "{b}");
    let (s, b) = app.get_json("/open311/v2/requests.json?jurisdiction_id=qingdao.gov.cn", None).await;
    assert_eq!((s, b[0]["code"].clone()), (404, json!(404)), "{b}");
    let (s, _) = app.get_json("/open311/v2/services.json?jurisdiction_id=127.0.0.1", None).await;
    assert_eq!(s, 200);
    // The Service Discovery document names the endpoint.
    let (s, d) = app.get_json("/open311/discovery.json", None).await;
    assert_eq!(s, 200);
    assert_eq!(d["endpoints"][0]["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert!(d["endpoints"][0]["url"].as_str().unwrap().ends_with("/open311/v2"), "{d}");

    // What was not agreed to be public stays off the feed: a citizen's web complaint and a hotline
    // call, by list and by number. A citizen who agrees is published without their name or phone.
    let citizen = app.demo_token("13800138001").await;
    let operator = app.demo_token("hotline.operator").await;
    let (s, private) = app
        .post_json(
            "/api/v1/complaints",
            Some(&citizen),
            json!({"description": "小区门口井盖丢了，联系我13900001111", "lat": 36.6610, "lon": 117.0480}),
        )
        .await;
    assert_eq!(s, 201, "{private}");
    let (s, call) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            json!({"description": "家里停水两天了", "name": "李娜", "phone": "13700001234", "address": "市中区某小区"}),
        )
        .await;
    assert_eq!(s, 201, "{call}");
    // The caller's number is sealed at rest and shown to the hotline.
    assert_eq!(call["complaint"]["complainant_phone"], "13700001234");
    let stored: String = sqlx::query_scalar("SELECT complainant_phone FROM complaints WHERE id = $1")
        .bind(call["complaint"]["id"].as_str().unwrap())
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert!(stored.starts_with("sm4gcm:") && !stored.contains("13700001234"), "{stored}");
    let (s, published) = app
        .post_json(
            "/api/v1/complaints",
            Some(&citizen),
            json!({"description": "路口红绿灯坏了，我的电话13900002222", "lat": 36.6610, "lon": 117.0480, "public": true}),
        )
        .await;
    assert_eq!(s, 201, "{published}");
    let (_, all) = app.get_json("/open311/v2/requests.json", None).await;
    let feed = all.to_string();
    for hidden in [&private["complaint"], &call["complaint"]] {
        let number = hidden["id"].as_str().unwrap();
        let public_id = hidden["public_id"].as_str().unwrap();
        assert!(!feed.contains(number) && !feed.contains(public_id), "{number} is not public: {feed}");
        for path in
            [format!("/open311/v2/requests/{number}.json"), format!("/open311/v2/requests/{public_id}.json")]
        {
            let (s, _) = app.get_json(&path, None).await;
            assert_eq!(s, 404, "{path}");
        }
    }
    assert!(!feed.contains("井盖") && !feed.contains("李娜") && !feed.contains("13700001234"), "{feed}");
    let shown = all
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service_request_id"] == published["complaint"]["public_id"])
        .expect("the agreed complaint is published");
    assert!(shown["description"].as_str().unwrap().contains("红绿灯坏了"), "{shown}");
    assert!(!feed.contains("13900002222"), "{feed}");
}
