//! Guidance stories: colloquial questions, follow-up questions, the human hand-off, and the index
//! following catalog changes (in this process and in another one on the same database).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::TestApp;
use serde_json::{Value, json};

stories!(
    colloquial_questions_find_the_right_services,
    ambiguous_question_gets_a_follow_up,
    empty_long_and_nonsense_queries_are_answered,
    handoff_goes_to_staff_and_back,
    officers_answers_teach_the_guide,
    complaints_go_to_12345_and_people_needing_help_to_assisted_service,
    index_follows_a_catalog_change,
);

fn codes(answer: &Value, n: usize) -> Vec<String> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .take(n)
        .map(|h| h["code"].as_str().unwrap().to_string())
        .collect()
}

async fn ask(app: &TestApp, q: &str) -> Value {
    let url = reqwest::Url::parse_with_params(&app.url("/api/v1/guide"), &[("q", q)]).unwrap();
    let resp = app.client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn colloquial_questions_find_the_right_services(app: &TestApp) {
    let a = ask(app, "开个小饭馆要办什么").await;
    assert_eq!(codes(&a, 1), ["JN-YJS-002"], "the restaurant bundle first: {a}");
    assert_eq!(a["results"][0]["kind"], "bundle");
    assert!(!a["results"][0]["reason_zh"].as_str().unwrap().is_empty());
    let a = ask(app, "孩子刚出生要办哪些证").await;
    assert_eq!(codes(&a, 1), ["JN-YJS-010"], "{a}");
    let a = ask(app, "公积金怎么取出来").await;
    let top3 = codes(&a, 3);
    assert!(top3.iter().any(|c| c.starts_with("JN-GJJ-")), "{top3:?}");
    let scores: Vec<f64> =
        a["results"].as_array().unwrap().iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "ranked: {scores:?}");
    // The page shows the same with reasons.
    let url = reqwest::Url::parse_with_params(&app.url("/guide"), &[("q", "开个小饭馆要办什么")]).unwrap();
    let page = app.client.get(url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("开餐馆一件事"));
}

async fn ambiguous_question_gets_a_follow_up(app: &TestApp) {
    let a = ask(app, "换证").await;
    let f = &a["follow_up"];
    assert!(f.is_object(), "a follow-up question: {a}");
    assert!(f["options"].as_array().unwrap().len() >= 2);
    let refined = f["options"][0]["refined_query"].as_str().unwrap();
    let b = ask(app, refined).await;
    assert!(!b["results"].as_array().unwrap().is_empty());
}

async fn empty_long_and_nonsense_queries_are_answered(app: &TestApp) {
    let a = ask(app, "").await;
    assert!(!a["results"].as_array().unwrap().is_empty(), "popular items for an empty query");
    let long = "我".repeat(5000);
    let a = ask(app, &long).await;
    assert_eq!(a["hand_off_suggested"], true);
    let a = ask(app, "qwzx ｀～！@#￥%").await;
    assert_eq!(a["hand_off_suggested"], true);
    let a = ask(app, "转人工").await;
    assert_eq!(a["hand_off_suggested"], true);
}

async fn handoff_goes_to_staff_and_back(app: &TestApp) {
    let (status, created) = app
        .post_json(
            "/api/v1/guide/handoffs",
            None,
            json!({"query": "我家狗狗要上户口去哪办", "note": "住在历下区"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let token = created["token"].as_str().unwrap().to_string();
    let (status, body) = app.post_json("/api/v1/guide/handoffs", None, json!({"query": "  "})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("query")));
    // Nobody else can read it.
    let resp = app.client.get(app.url(&format!("/api/v1/guide/handoffs/{id}"))).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let clerk = app.demo_token("spj.clerk").await;
    let (status, _) = app.get_json("/api/v1/guide/inbox", Some(&clerk)).await;
    assert_eq!(status, 404, "a window clerk does not work the guidance queue");
    // The guidance officer sees it and answers.
    let officer = app.demo_token("spj.guide").await;
    let (status, inbox) = app.get_json("/api/v1/guide/inbox", Some(&officer)).await;
    assert_eq!(status, 200);
    let item = inbox.as_array().unwrap().iter().find(|h| h["id"] == id.as_str()).unwrap().clone();
    assert_eq!(item["status"], "open");
    let (status, answered) = app
        .post_json(
            &format!("/api/v1/guide/handoffs/{id}/answer"),
            Some(&officer),
            json!({"answer": "犬只登记请到所在区公安分局犬类管理窗口办理。", "version": item["version"]}),
        )
        .await;
    assert_eq!(status, 200, "{answered}");
    let (status, _) = app
        .post_json(
            &format!("/api/v1/guide/handoffs/{id}/answer"),
            Some(&officer),
            json!({"answer": "重复", "version": item["version"]}),
        )
        .await;
    assert_eq!(status, 409, "a stale version does not overwrite the answer");
    // The asker reads the answer with the token.
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/guide/handoffs/{id}")))
        .header("x-handoff-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h: Value = resp.json().await.unwrap();
    assert_eq!(h["status"], "answered");
    assert!(h["answer"].as_str().unwrap().contains("犬"));
    let entries = quanban::audit::store::recent(&app.state.db, &format!("handoff:{id}"), 5).await.unwrap();
    assert_eq!(entries.len(), 2);
}

/// An officer answers a question the guide could not, naming the item that answers it; the same
/// question in other words then finds that item first, saying why. An unknown code is refused
/// naming `items[i]`, and nothing is answered.
async fn officers_answers_teach_the_guide(app: &TestApp) {
    const TAUGHT: &str = "JN-ZRJ-0002";
    let before = ask(app, "老房子漏雨了想翻修").await;
    assert_ne!(codes(&before, 1), [TAUGHT], "{before}");
    let (_, created) =
        app.post_json("/api/v1/guide/handoffs", None, json!({"query": "老房子漏雨想翻修一下"})).await;
    let id = created["id"].as_str().unwrap().to_string();
    let officer = app.demo_token("spj.guide").await;
    let path = format!("/api/v1/guide/handoffs/{id}/answer");
    let answer = |items: Value| {
        app.post_json(
            &path,
            Some(&officer),
            json!({"answer": "翻建、改建房屋须先办理建设工程规划许可。", "items": items, "version": 1}),
        )
    };
    let (status, b) = answer(json!([TAUGHT, "JN-XXX-9999"])).await;
    assert_eq!((status, b["errors"][0]["field"].as_str()), (422, Some("items[1]")), "{b}");
    let (_, inbox) = app.get_json("/api/v1/guide/inbox", Some(&officer)).await;
    let open = inbox.as_array().unwrap().iter().find(|h| h["id"] == id.as_str()).unwrap().clone();
    assert_eq!(
        (open["status"].as_str(), open["version"].as_i64()),
        (Some("open"), Some(1)),
        "nothing changed"
    );
    let (status, b) = answer(json!([TAUGHT])).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["answer_items"], json!([TAUGHT]));
    // The index is rebuilt in the background; the next questions find what the officer gave.
    let mut after = Value::Null;
    for _ in 0..100 {
        after = ask(app, "老房子漏雨了想翻修").await;
        if codes(&after, 1) == [TAUGHT] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(codes(&after, 1), [TAUGHT], "{after}");
    assert!(after["results"][0]["reason_zh"].as_str().unwrap().contains("导办员解答过"));
    assert_eq!(after["confident"], true);
    // A question on another matter is not taken over.
    let other = ask(app, "老房子想卖掉要交什么税").await;
    assert!(!other["results"][0]["reason_zh"].as_str().unwrap().contains("导办员"), "{other}");
    let entries = quanban::audit::store::recent(&app.state.db, &format!("handoff:{id}"), 5).await.unwrap();
    assert!(entries.iter().any(|e| e.summary.contains(TAUGHT)), "the audit names the items");
}

/// Questions that are complaints lead to 12345, and people who cannot manage alone to 帮办代办,
/// each with a note that says so; an ordinary question is left alone.
async fn complaints_go_to_12345_and_people_needing_help_to_assisted_service(app: &TestApp) {
    let a = ask(app, "楼下烧烤店油烟太大熏得不敢开窗").await;
    assert_eq!(codes(&a, 1), ["JN-12345-0001"], "{a}");
    assert_eq!(a["route"], "complaint");
    assert!(a["note_zh"].as_str().unwrap().contains("12345"));
    let a = ask(app, "我妈七十多了不会用智能手机，能不能有人帮着办").await;
    assert_eq!(codes(&a, 1), ["JN-HYZWZX-0001"], "{a}");
    assert_eq!(a["route"], "help");
    let a = ask(app, "公积金怎么取出来").await;
    assert_eq!(a["route"], Value::Null);
    assert!(codes(&a, 1)[0].starts_with("JN-GJJ-"), "{a}");
}

async fn index_follows_a_catalog_change(app: &TestApp) {
    let before = ask(app, "无人机飞行登记").await;
    assert!(!codes(&before, 3).contains(&"JN-GAJ-0999".to_string()));
    let officer = app.demo_token("spj.catalog").await;
    let approver = app.demo_token("spj.approver").await;
    let (_, template) = app.get_json("/api/v1/items/JN-SPJ-0001", None).await;
    let mut item = template["item"].clone();
    item["code"] = json!("JN-SPJ-0999");
    item["name"] = json!("民用无人机飞行活动登记");
    item["keywords"] = json!(["无人机", "航拍", "飞无人机"]);
    let today = app.clock().today().to_string();
    let (status, p) = app
        .post_json(
            "/api/v1/catalog/proposals",
            Some(&officer),
            json!({"op": "add", "code": "JN-SPJ-0999", "item": item, "reason": "新增事项", "effective_date": today}),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    let id = p["id"].as_str().unwrap();
    let (status, _) = app
        .post_json(&format!("/api/v1/catalog/proposals/{id}/approve"), Some(&approver), json!({"version": 1}))
        .await;
    assert_eq!(status, 200);
    let mut found = false;
    for _ in 0..50 {
        if codes(&ask(app, "我想飞无人机航拍要登记吗").await, 3).contains(&"JN-SPJ-0999".to_string())
        {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(found, "the index follows the catalog within seconds");
}
