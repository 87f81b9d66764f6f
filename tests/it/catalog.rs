//! Catalog stories: browse and filter, dynamic adjustment with approval and effective dates,
//! history and as-of views, import and export, bundles, the boundary report.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

stories!(
    items_are_listed_filtered_and_paged,
    item_guide_and_history,
    change_goes_through_proposal_and_approval,
    future_change_waits_for_its_date,
    bad_proposals_name_the_field,
    only_the_right_roles_propose_and_approve,
    export_then_import_round_trip,
    bad_import_is_rejected_whole,
    bundles_resolve_with_answers,
    boundary_report_lists_findings,
);

fn today(app: &TestApp) -> String {
    app.clock().today().to_string()
}

async fn items_are_listed_filtered_and_paged(app: &TestApp) {
    let (status, page) = app.get_json("/api/v1/items?per_page=10", None).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 196);
    assert_eq!(page["items"].as_array().unwrap().len(), 10);
    let (_, page) = app.get_json("/api/v1/items?department=JN-GJJ&per_page=200", None).await;
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["item"]["department"] == "JN-GJJ"));
    let (_, page) = app.get_json("/api/v1/items?audience=enterprise&online=true&per_page=200", None).await;
    for i in page["items"].as_array().unwrap() {
        assert!(i["item"]["audience"] == "enterprise" || i["item"]["audience"] == "both");
        assert_eq!(i["item"]["online"], true);
    }
    let (_, page) = app.get_json("/api/v1/items?q=%E5%85%AC%E7%A7%AF%E9%87%91", None).await; // 公积金
    assert!(page["total"].as_i64().unwrap() >= 3);
    let (status, body) = app.get_json("/api/v1/items?as_of=2026-13-01", None).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "as_of");
    let html =
        app.client.get(app.url("/items?audience=person&life_event=%E5%87%BA%E7%94%9F")).send().await.unwrap();
    assert_eq!(html.status(), 200);
    let text = html.text().await.unwrap();
    assert!(text.contains("出生"), "filtered page shows birth items");
}

async fn item_guide_and_history(app: &TestApp) {
    let (status, item) = app.get_json("/api/v1/items/JN-SPJ-0001", None).await;
    assert_eq!(status, 200);
    assert_eq!(item["item"]["name"], "企业设立登记（有限责任公司）");
    assert_eq!(item["version"], 1);
    let (_, history) = app.get_json("/api/v1/items/JN-SPJ-0001/history", None).await;
    assert_eq!(history.as_array().unwrap().len(), 1);
    let (status, _) = app.get_json("/api/v1/items/JN-NOPE-0001", None).await;
    assert_eq!(status, 404);
    let page = app.client.get(app.url("/items/JN-SPJ-0001")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("办事指南"));
    assert!(page.contains("免提交"), "materials filled from e-licences are marked");
    assert!(page.contains("中华人民共和国公司法"));
}

async fn propose(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    app.post_json("/api/v1/catalog/proposals", Some(token), body).await
}

async fn change_goes_through_proposal_and_approval(app: &TestApp) {
    // The catalog was loaded today; the changes below happen three days later, so that "as of
    // the day it was loaded" shows the original whatever the date.
    let loaded = today(app);
    app.clock().advance(chrono::Duration::days(3)).unwrap();
    let officer = app.demo_token("spj.catalog").await;
    let approver = app.demo_token("spj.approver").await;
    let (_, current) = app.get_json("/api/v1/items/JN-SPJ-0001", None).await;
    let mut item = current["item"].clone();
    item["promised_limit_days"] = json!(1);
    item["fee"] = json!("不收费（含刻章）");
    let (status, p) = propose(
        app,
        &officer,
        json!({"op": "change", "code": "JN-SPJ-0001", "item": item, "reason": "材料精简", "effective_date": today(app)}),
    )
    .await;
    assert_eq!(status, 201, "{p}");
    assert_eq!(p["status"], "pending");
    // Not in force until approved.
    let (_, still) = app.get_json("/api/v1/items/JN-SPJ-0001", None).await;
    assert_eq!(still["version"], 1);
    // The proposer cannot approve it, even if they could approve.
    let id = p["id"].as_str().unwrap();
    let (status, decided) = app
        .post_json(
            &format!("/api/v1/catalog/proposals/{id}/approve"),
            Some(&approver),
            json!({"note": "同意", "version": p["version"]}),
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "applied");
    let (_, now) = app.get_json("/api/v1/items/JN-SPJ-0001", None).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["item"]["fee"], "不收费（含刻章）");
    let (_, history) = app.get_json("/api/v1/items/JN-SPJ-0001/history", None).await;
    let latest = &history[0];
    let fields: Vec<&str> =
        latest["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["fee"]);
    assert_eq!(latest["changes"][0]["before"], "不收费");
    // Deciding twice is refused.
    let (status, _) = app
        .post_json(
            &format!("/api/v1/catalog/proposals/{id}/approve"),
            Some(&approver),
            json!({"version": decided["version"]}),
        )
        .await;
    assert_eq!(status, 409);
    // Suspend, then the item leaves the public list but its history stays.
    let (_, p) = propose(
        app,
        &officer,
        json!({"op": "suspend", "code": "JN-SPJ-0001", "reason": "系统升级", "effective_date": today(app)}),
    )
    .await;
    let id = p["id"].as_str().unwrap();
    app.post_json(
        &format!("/api/v1/catalog/proposals/{id}/approve"),
        Some(&approver),
        json!({"version": p["version"]}),
    )
    .await;
    let (_, page) = app.get_json("/api/v1/items?per_page=200&department=JN-SPJ", None).await;
    assert!(!page["items"].as_array().unwrap().iter().any(|i| i["item"]["code"] == "JN-SPJ-0001"));
    // As of the first version's date, the original item is shown.
    let (_, then) =
        app.get_json(&format!("/api/v1/items?as_of={loaded}&department=JN-SPJ&per_page=200"), None).await;
    let old = then["items"].as_array().unwrap().iter().find(|i| i["item"]["code"] == "JN-SPJ-0001").unwrap();
    assert_eq!(old["item"]["fee"], "不收费");
    // The browse page shows the same history.
    let now_page =
        app.client.get(app.url("/items?department=JN-SPJ&q=%E6%9C%89%E9%99%90")).send().await.unwrap();
    assert!(!now_page.text().await.unwrap().contains("JN-SPJ-0001"));
    let then_page = app
        .client
        .get(app.url(&format!("/items?department=JN-SPJ&q=%E6%9C%89%E9%99%90&as_of={loaded}")))
        .send()
        .await
        .unwrap();
    assert!(then_page.text().await.unwrap().contains("JN-SPJ-0001"));
    // Every step is audited.
    let entries = quanban::audit::store::recent(&app.state.db, "item:JN-SPJ-0001", 10).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["catalog.suspend", "catalog.change"]);
}

async fn future_change_waits_for_its_date(app: &TestApp) {
    let officer = app.demo_token("spj.catalog").await;
    let approver = app.demo_token("spj.approver").await;
    let (_, current) = app.get_json("/api/v1/items/JN-SPJ-0002", None).await;
    let mut item = current["item"].clone();
    item["fee"] = json!("按新标准收费");
    let future = (app.clock().today() + chrono::Duration::days(30)).to_string();
    let (_, p) = propose(app, &officer, json!({"op": "change", "code": "JN-SPJ-0002", "item": item, "reason": "新规", "effective_date": future})).await;
    let id = p["id"].as_str().unwrap();
    let (_, decided) = app
        .post_json(
            &format!("/api/v1/catalog/proposals/{id}/approve"),
            Some(&approver),
            json!({"version": p["version"]}),
        )
        .await;
    assert_eq!(decided["status"], "approved");
    let (_, still) = app.get_json("/api/v1/items/JN-SPJ-0002", None).await;
    assert_eq!(still["version"], 1, "not before its date");
    let applied = quanban::catalog::store::apply_due(&app.state.db, app.clock().today()).await.unwrap();
    assert_eq!(applied, 0);
    let day = chrono::NaiveDate::parse_from_str(&future, "%Y-%m-%d").unwrap();
    let applied = quanban::catalog::store::apply_due(&app.state.db, day).await.unwrap();
    assert_eq!(applied, 1);
    let (_, now) = app.get_json("/api/v1/items/JN-SPJ-0002", None).await;
    assert_eq!(now["item"]["fee"], "按新标准收费");
    assert_eq!(now["effective_date"], future);
    // Running the job again changes nothing (idempotent).
    assert_eq!(quanban::catalog::store::apply_due(&app.state.db, day).await.unwrap(), 0);
}

async fn bad_proposals_name_the_field(app: &TestApp) {
    let officer = app.demo_token("spj.catalog").await;
    let (_, current) = app.get_json("/api/v1/items/JN-SPJ-0001", None).await;
    let mut item = current["item"].clone();
    item["department"] = json!("");
    item["legal_limit_days"] = json!(99999);
    let (status, body) =
        propose(app, &officer, json!({"op": "change", "code": "JN-SPJ-0001", "item": item, "reason": "测试", "effective_date": today(app)})).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"department") && fields.contains(&"legal_limit_days"), "{fields:?}");
    let mut item = current["item"].clone();
    item["materials"][0]["source"] = json!("elicence:dragon_licence");
    let (status, body) =
        propose(app, &officer, json!({"op": "change", "code": "JN-SPJ-0001", "item": item, "reason": "测试", "effective_date": today(app)})).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "materials[0].source");
    assert_eq!(body["errors"][0]["code"], "unknown_elicence_type");
    let (status, body) = propose(
        app,
        &officer,
        json!({"op": "explode", "code": "JN-SPJ-0001", "reason": "", "effective_date": "2020-01-01"}),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["op", "reason", "effective_date"]);
    let mut item = current["item"].clone();
    item["legal_limit_days"] = json!(-5);
    let (status, body) = propose(
        app,
        &officer,
        json!({"op": "change", "code": "JN-SPJ-0001", "item": item, "reason": "测试", "effective_date": today(app)}),
    )
    .await;
    assert_eq!(status, 422, "a negative limit: {body}");
    assert_eq!(body["errors"][0]["field"], "item.legal_limit_days");
    let (status, _) = propose(app, &officer, json!({"op": "add", "code": "JN-SPJ-0001", "item": current["item"], "reason": "重复", "effective_date": today(app)})).await;
    assert_eq!(status, 422, "adding an existing code");
    let (_, after) = app.get_json("/api/v1/items/JN-SPJ-0001", None).await;
    assert_eq!(after["version"], 1, "nothing changed");
}

async fn only_the_right_roles_propose_and_approve(app: &TestApp) {
    let scj = app.demo_token("scj.clerk").await;
    let (status, _) = propose(
        app,
        &scj,
        json!({"op": "suspend", "code": "JN-SPJ-0001", "reason": "越权", "effective_date": today(app)}),
    )
    .await;
    assert_eq!(status, 404, "another department's item");
    let clerk = app.demo_token("spj.clerk").await;
    let (status, _) = propose(
        app,
        &clerk,
        json!({"op": "suspend", "code": "JN-SPJ-0001", "reason": "无权", "effective_date": today(app)}),
    )
    .await;
    assert_eq!(status, 403);
    let officer = app.demo_token("spj.catalog").await;
    let (_, p) = propose(
        app,
        &officer,
        json!({"op": "suspend", "code": "JN-SPJ-0001", "reason": "维护", "effective_date": today(app)}),
    )
    .await;
    let id = p["id"].as_str().unwrap();
    let (status, _) = app
        .post_json(&format!("/api/v1/catalog/proposals/{id}/approve"), Some(&officer), json!({"version": 1}))
        .await;
    assert_eq!(status, 403, "a catalog officer cannot approve");
    let other = app.demo_token("scj.approver").await;
    let (status, _) = app
        .post_json(&format!("/api/v1/catalog/proposals/{id}/approve"), Some(&other), json!({"version": 1}))
        .await;
    assert_eq!(status, 404, "an approver of another department");
    let sup = app.demo_token("dsj.supervisor").await;
    let (status, list) = app.get_json("/api/v1/catalog/proposals", Some(&sup)).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, _) = app
        .post_json(&format!("/api/v1/catalog/proposals/{id}/approve"), Some(&sup), json!({"version": 1}))
        .await;
    assert_eq!(status, 403, "the supervisor changes nothing");
    let approver = app.demo_token("spj.approver").await;
    let (status, body) = app
        .post_json(&format!("/api/v1/catalog/proposals/{id}/reject"), Some(&approver), json!({"version": 1}))
        .await;
    assert_eq!(status, 422, "a rejection needs a reason: {body}");
    let (status, body) = app
        .post_json(
            &format!("/api/v1/catalog/proposals/{id}/reject"),
            Some(&approver),
            json!({"version": 1, "note": "理由不充分"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "rejected");
}

async fn export_then_import_round_trip(app: &TestApp) {
    for format in ["json", "csv", "xlsx"] {
        let resp =
            app.client.get(app.url(&format!("/api/v1/catalog/export?format={format}"))).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let bytes = resp.bytes().await.unwrap();
        assert!(bytes.len() > 1000, "{format} export is not empty");
        let items = quanban::catalog::transfer::parse(
            quanban::catalog::transfer::Format::from_filename(&format!("a.{format}")).unwrap(),
            &bytes,
        )
        .unwrap();
        assert_eq!(items.len(), 196, "{format}");
    }
    // An officer edits one department's rows in Excel and imports them.
    let all: Vec<quanban::reference::data::CatalogItem> = quanban::catalog::store::all_current(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.item)
        .collect();
    let mut mine: Vec<_> = all.into_iter().filter(|i| i.department == "JN-GJJ").collect();
    mine[0].fee = "不收费（导入调整）".into();
    let mut added = mine[0].clone();
    added.code = "JN-GJJ-0999".into();
    added.name = "住房公积金异地转移接续（导入新增）".into();
    mine.push(added);
    let xlsx = quanban::catalog::transfer::export(quanban::catalog::transfer::Format::Xlsx, &mine).unwrap();
    let officer = app.demo_token("dsj.admin").await;
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/catalog/import?reason=%E5%B9%B4%E5%BA%A6%E6%A2%B3%E7%90%86&effective_date={}&filename=gjj.xlsx", today(app))))
        .bearer_auth(&officer)
        .body(xlsx.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "a system admin of another department cannot import JN-GJJ items");
    // Give JN-GJJ a catalog officer and an approver.
    let admin_head = app.demo_token("dsj.admin").await;
    let _ = admin_head;
    let gjj_officer = create_staff(app, "gjj.catalog", "JN-GJJ", "catalog_officer").await;
    let gjj_approver = create_staff(app, "gjj.approver", "JN-GJJ", "approver").await;
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/catalog/import?reason=%E5%B9%B4%E5%BA%A6%E6%A2%B3%E7%90%86&effective_date={}&filename=gjj.xlsx", today(app))))
        .bearer_auth(&gjj_officer)
        .body(xlsx)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let p: Value = resp.json().await.unwrap();
    assert_eq!(p["change_count"], 2, "one change and one addition: {p}");
    assert_eq!(p["source"], "import:gjj.xlsx");
    let id = p["id"].as_str().unwrap();
    let (status, _) = app
        .post_json(
            &format!("/api/v1/catalog/proposals/{id}/approve"),
            Some(&gjj_approver),
            json!({"version": 1}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, added) = app.get_json("/api/v1/items/JN-GJJ-0999", None).await;
    assert_eq!(status, 200);
    assert_eq!(added["item"]["name"], "住房公积金异地转移接续（导入新增）");
}

/// Creates a staff account through the CLI-equivalent store call; returns a token.
async fn create_staff(app: &TestApp, username: &str, department: &str, role: &str) -> String {
    let hash = quanban::identity::password::hash("Spring-City-2026".into()).await.unwrap();
    quanban::identity::store::create_staff(
        &app.state.db,
        "test".into(),
        quanban::identity::store::NewStaff {
            username: username.into(),
            name: "测试员".into(),
            department: department.into(),
            roles: vec![quanban::identity::authz::Role::parse(role).unwrap()],
            halls: vec![],
            password_hash: hash,
        },
    )
    .await
    .unwrap();
    app.token(username, "Spring-City-2026").await
}

async fn bad_import_is_rejected_whole(app: &TestApp) {
    let officer = app.demo_token("spj.catalog").await;
    let before = quanban::catalog::store::list_proposals(&app.state.db, None, None).await.unwrap().len();
    let csv = "\u{feff}事项编码,事项名称,实施部门,层级,事项类型,服务对象,生活事件,办件类型,法定时限（工作日）,承诺时限（工作日）,到现场次数,全程网办,跨域通办,告知承诺,独任审批,收费,受理条件,设定依据,申请材料,关键词\n\
JN-SPJ-0901,测试事项一,JN-SPJ,市级,行政许可,法人,开办,承诺件,abc,1,0,是,,否,否,不收费,条件,依据,,\n\
JN-SPJ-0902,测试事项二,JN-SPJ,宇宙级,行政许可,法人,开办,承诺件,5,1,0,是,,否,否,不收费,条件,依据,,\n\
JN-SPJ-0903,测试事项三,JN-SPJ,市级,行政许可,法人,开办,承诺件,5,1,0,也许,,否,否,不收费,条件,依据,,\n";
    let resp = app
        .client
        .post(app.url(&format!(
            "/api/v1/catalog/import?reason=%E6%B5%8B%E8%AF%95&effective_date={}&format=csv",
            today(app)
        )))
        .bearer_auth(&officer)
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    let rows: Vec<u64> =
        body["problems"].as_array().unwrap().iter().map(|p| p["row"].as_u64().unwrap()).collect();
    assert!(rows.contains(&2) && rows.contains(&3) && rows.contains(&4), "{body}");
    let after = quanban::catalog::store::list_proposals(&app.state.db, None, None).await.unwrap().len();
    assert_eq!(before, after, "nothing imported");
    let (status, _) = app.get_json("/api/v1/items/JN-SPJ-0901", None).await;
    assert_eq!(status, 404);
}

async fn bundles_resolve_with_answers(app: &TestApp) {
    let (status, list) = app.get_json("/api/v1/bundles", None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 20);
    let (_, base) = app.post_json("/api/v1/bundles/JN-YJS-001/resolve", None, json!({"answers": {}})).await;
    let (_, hiring) =
        app.post_json("/api/v1/bundles/JN-YJS-001/resolve", None, json!({"answers": {"q2": true}})).await;
    assert_eq!(hiring["items"].as_array().unwrap().len(), base["items"].as_array().unwrap().len() + 2);
    let materials = base["materials"].as_array().unwrap();
    let names: std::collections::HashSet<&str> =
        materials.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), materials.len(), "each material asked once");
    assert!(
        materials.iter().any(|m| m["needed_by"].as_array().unwrap().len() > 1),
        "a shared material lists its items"
    );
    let (status, body) =
        app.post_json("/api/v1/bundles/JN-YJS-001/resolve", None, json!({"answers": {"q42": true}})).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "answers.q42");
    let (status, _) = app.post_json("/api/v1/bundles/NOPE/resolve", None, json!({"answers": {}})).await;
    assert_eq!(status, 404);
    // The page works without JavaScript: a GET form.
    let page = app
        .client
        .get(app.url("/bundles/JN-YJS-001?answered=1&q=q2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("所需材料"));
}

async fn boundary_report_lists_findings(app: &TestApp) {
    let (status, report) = app.get_json("/api/v1/boundaries/report", None).await;
    assert_eq!(status, 200);
    assert_eq!(report["items_checked"], 196);
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| {
        ["no_approving_department", "two_claimants", "no_supervising_department"]
            .contains(&f["kind"].as_str().unwrap())
    }));
    // Changing a supervising department goes through a proposal and shows in the report.
    let missing: Vec<&Value> = findings.iter().filter(|f| f["kind"] == "no_supervising_department").collect();
    if let Some(f) = missing.first() {
        let code = f["items"][0].as_str().unwrap();
        let (_, current) = app.get_json(&format!("/api/v1/items/{code}"), None).await;
        let dept = current["item"]["department"].as_str().unwrap().to_string();
        let officer = create_staff(app, "b.officer", &dept, "catalog_officer").await;
        let approver = create_staff(app, "b.approver", &dept, "approver").await;
        let (status, p) = propose(app, &officer, json!({"op": "change", "code": code, "item": current["item"], "supervising_department": "JN-SCJ", "reason": "明确监管", "effective_date": today(app)})).await;
        assert_eq!(status, 201, "{p}");
        let id = p["id"].as_str().unwrap();
        app.post_json(
            &format!("/api/v1/catalog/proposals/{id}/approve"),
            Some(&approver),
            json!({"version": 1}),
        )
        .await;
        let (_, report) = app.get_json("/api/v1/boundaries/report", None).await;
        assert!(
            !report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["kind"] == "no_supervising_department" && f["items"][0] == code)
        );
    }
    let _ = Method::GET;
}
