//! E-licence and e-seal stories over HTTP, on SQLite and PostgreSQL: a licence issued on approval
//! with the decision sealed and materials reused from the wallet; every verification failure named;
//! seal rotation and revocation; privacy of the wallet and the officers' checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use base64::Engine;
use common::TestApp;
use quanban::licences::domain;
use serde_json::{Value, json};

stories!(
    approval_issues_a_licence_and_seals_the_decision,
    every_verification_failure_is_named,
    status_changes_reach_the_status_list,
    seal_rotation_keeps_old_signatures_and_revocation_ends_them,
    wallet_is_private_and_bad_requests_name_the_field,
    status_positions_from_before_permutation_are_never_shared,
    credentials_declare_every_term,
    the_licence_prints_as_a_pdf_another_reader_can_read,
);

const PDF: &[u8] = b"%PDF-1.4\n% test material\n";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn wallet(app: &TestApp, token: &str) -> Vec<Value> {
    let (s, b) = app.get_json("/api/v1/wallet", Some(token)).await;
    assert_eq!(s, 200, "{b}");
    b.as_array().unwrap().clone()
}

fn of_type<'a>(cards: &'a [Value], code: &str) -> &'a Value {
    cards.iter().find(|c| c["licenceType"] == code).unwrap_or_else(|| panic!("no {code} in {cards:?}"))
}

async fn verify(app: &TestApp, doc: &Value) -> Value {
    let (s, b) = app.post_json("/api/v1/credentials/verify", None, doc.clone()).await;
    assert_eq!(s, 200, "{b}");
    b
}

async fn approval_issues_a_licence_and_seals_the_decision(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let clerk = app.demo_token("spj.clerk").await;
    let approver = app.demo_token("spj.approver").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let cards = wallet(app, &rep).await;
    let business = of_type(&cards, "business_licence")["id"].as_str().unwrap().to_string();
    let id_card = of_type(&cards, "id_card")["id"].as_str().unwrap().to_string();

    // 食品经营许可（新办） for the enterprise: the business licence and the representative's ID
    // card come from the wallet (免提交), with consent.
    let (s, b) = app
        .post_json(
            "/api/v1/cases",
            Some(&rep),
            json!({
                "item_code": "JN-SPJ-0003", "enterprise": code,
                "form": {"contact_name": "刘芳", "contact_phone": "13800138002", "address": "济南市历下区泉城路88号"},
                "materials": [
                    {"index": 0, "file_name": "申请书.pdf", "content_base64": b64(PDF)},
                    {"name": "营业执照", "credential": business},
                    {"index": 2, "credential": id_card},
                ],
            }),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let n = b["case_number"].as_str().unwrap().to_string();
    let (_, c) = app.get_json(&format!("/api/v1/cases/{n}"), Some(&rep)).await;
    assert_eq!(c["materials"][1]["provided_as"], "credential");
    assert_eq!(c["materials"][1]["credential_id"], business.as_str());
    assert_eq!(c["materials"][1]["credential_check"]["valid"], true);
    assert_eq!(c["materials"][2]["provided_as"], "credential");
    let trail = quanban::audit::store::recent(&app.state.db, &format!("case:{n}"), 20).await.unwrap();
    assert_eq!(trail.iter().filter(|e| e.action == "credential.consent").count(), 2, "{trail:?}");

    for (who, action) in [(&clerk, "accept"), (&approver, "approve")] {
        let (s, b) =
            app.post_json(&format!("/api/v1/cases/{n}/actions/{action}"), Some(who), json!({})).await;
        assert_eq!(s, 200, "{action}: {b}");
    }
    let (_, c) = app.get_json(&format!("/api/v1/cases/{n}"), Some(&rep)).await;
    let decision = c["decision_document"].clone();
    let identifier = decision["licence_identifier"].as_str().unwrap().to_string();
    assert!(domain::identifier_is_valid(&identifier), "{identifier}");
    assert_eq!(decision["seal"]["department"], "JN-SPJ");

    // The sealed decision verifies; any change is detected.
    let (s, v) = app.post_json("/api/v1/seals/verify", None, decision.clone()).await;
    assert_eq!((s, v["valid"].clone()), (200, json!(true)), "{v}");
    let mut forged = decision.clone();
    forged["decision"] = json!("rejected");
    let (_, v) = app.post_json("/api/v1/seals/verify", None, forged).await;
    assert_eq!(v["reason"], "altered");

    // The licence is in the representative's wallet, held by the enterprise, and verifies with
    // both proofs.
    let cards = wallet(app, &rep).await;
    let licence = of_type(&cards, "food_business_licence").clone();
    assert_eq!(licence["identifier"], identifier.as_str());
    assert_eq!(licence["credentialSubject"]["unified_social_credit_code"], code.as_str());
    assert_eq!(licence["credentialSubject"]["business_address"], "济南市历下区泉城路88号");
    assert_eq!(licence["credentialSubject"]["operator_name"], "济南泉城小馆餐饮有限公司");
    assert_eq!(licence["@context"][0], "https://www.w3.org/ns/credentials/v2");
    assert!(licence["validUntil"].is_string(), "food business licences run five years");
    let v = verify(app, &licence).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["suites"], json!(["eddsa-jcs-2022", "quanban-sm2-jcs-2026"]));
    assert!(v["checks"].as_array().unwrap().iter().all(|c| c["outcome"] == "passed"));
    // Its QR code opens the verification page, which says it is genuine.
    let id = licence["id"].as_str().unwrap();
    let (s, qr) = app.get_json(&format!("/api/v1/credentials/{id}/qr.svg"), Some(&rep)).await;
    assert_eq!(s, 200);
    assert!(qr.as_str().unwrap().starts_with("<svg"));
    let page =
        reqwest::get(app.url(&format!("/verify?credential={id}"))).await.unwrap().text().await.unwrap();
    assert!(page.contains("核验通过"), "the QR link's page shows the result");
    // Approving again is impossible, so the licence is issued exactly once.
    let issued = quanban::audit::store::recent(&app.state.db, "credential:JN-SPJ", 50).await.unwrap();
    assert_eq!(issued.iter().filter(|e| e.summary.contains(&n)).count(), 1);
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}

async fn every_verification_failure_is_named(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let cards = wallet(app, &citizen).await;
    let card = of_type(&cards, "id_card").clone();
    assert_eq!(verify(app, &card).await["valid"], true);
    let reason = |v: Value| v["reason"].as_str().unwrap_or("none").to_string();

    let mut altered = card.clone();
    altered["credentialSubject"]["name"] = json!("李四");
    assert_eq!(reason(verify(app, &altered).await), "altered");

    // Re-signed with a key that is not the issuer's, under the issuer's key ids.
    let mut unsigned = card.clone();
    let proofs = unsigned.as_object_mut().unwrap().remove("proof").unwrap();
    let key = quanban::licences::proof::SigningKey::generate(quanban::licences::proof::Suite::EddsaJcs2022);
    let vm = proofs[0]["verificationMethod"].as_str().unwrap().to_string();
    let mut wrong = unsigned.clone();
    wrong["id"] = json!("urn:uuid:00000000-0000-4000-8000-000000000000");
    let wrong = domain::secure(&wrong, &[(vm, &key)], quanban::platform::clock::test_instant());
    assert_eq!(reason(verify(app, &wrong).await), "signature");

    let mut ctx = card.clone();
    ctx["@context"] = json!(["https://www.w3.org/ns/credentials/v2", "https://example.org/unknown/v1"]);
    assert_eq!(reason(verify(app, &ctx).await), "unknown_context");
    let mut suite = card.clone();
    suite["proof"][0]["cryptosuite"] = json!("ecdsa-rdfc-2019");
    assert_eq!(reason(verify(app, &suite).await), "unknown_cryptosuite");
    let mut issuer = card.clone();
    issuer["issuer"]["id"] = json!("https://elsewhere.example/credentials/issuers/NO-SUCH");
    assert_eq!(reason(verify(app, &issuer).await), "unknown_issuer");
    for junk in [
        json!({}),
        json!([1, 2]),
        json!("text"),
        json!({"@context": ["https://www.w3.org/ns/credentials/v2"]}),
    ] {
        assert_eq!(reason(verify(app, &junk).await), "malformed", "{junk}");
    }
    // Not JSON at all: 422 that still reads as a failed verification.
    let resp = reqwest::Client::new()
        .post(app.url("/api/v1/credentials/verify"))
        .header("content-type", "application/json")
        .body("{\"@context\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let b: Value = resp.json().await.unwrap();
    assert_eq!((b["valid"].clone(), b["reason"].clone()), (json!(false), json!("malformed")));
    // Wrapped as the VC API does.
    assert_eq!(verify(app, &json!({"verifiableCredential": card})).await["valid"], true);

    // Expired: issued by an officer for a period that is over.
    let officer = app.demo_token("spj.licence").await;
    let (s, old) = app
        .post_json(
            "/api/v1/credentials",
            Some(&officer),
            json!({"type": "public_place_hygiene_permit", "holder_phone": "13800138001",
                   "valid_from": "2020-01-01", "valid_until": "2020-12-31"}),
        )
        .await;
    assert_eq!(s, 201, "{old}");
    assert_eq!(old["status"], "expired");
    assert_eq!(reason(verify(app, &old["credential"]).await), "expired");
}

async fn status_changes_reach_the_status_list(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let officer = app.demo_token("spj.licence").await;
    let cards = wallet(app, &rep).await;
    let licence = of_type(&cards, "business_licence").clone();
    let id = licence["id"].as_str().unwrap().to_string();
    let index: usize = licence["credentialStatus"][1]["statusListIndex"].as_str().unwrap().parse().unwrap();
    let list_url = licence["credentialStatus"][1]["statusListCredential"].as_str().unwrap().to_string();
    let path = &list_url[list_url.find("/credentials/status/").unwrap()..];
    let bit = |list: &Value| {
        let bits =
            domain::decode_status_list(list["credentialSubject"]["encodedList"].as_str().unwrap()).unwrap();
        assert_eq!(bits.len() * 8, domain::STATUS_LIST_BITS);
        domain::status_bit(&bits, index).unwrap()
    };
    let (_, list) = app.get_json(path, None).await;
    assert!(!bit(&list));
    // Served with the VC 2.0 media type; positions are not the issue order (the demo wallets'
    // cards of one issuer do not sit at 0, 1, 2…).
    let r = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/vc");
    let positions: Vec<u64> = cards
        .iter()
        .filter_map(|c| c["credentialStatus"][1]["statusListIndex"].as_str().and_then(|i| i.parse().ok()))
        .collect();
    assert!(
        !positions.is_empty() && positions.iter().any(|p| *p > 1_000),
        "spread over the list: {positions:?}"
    );

    let post = |action: &'static str, body: Value| {
        let officer = officer.clone();
        let id = id.clone();
        async move { app.post_json(&format!("/api/v1/credentials/{id}/{action}"), Some(&officer), body).await }
    };
    let (s, b) = post("suspend", json!({})).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("reason")), "a reason is required");
    let (s, b) = post("suspend", json!({"reason": "经营场所检查中"})).await;
    assert_eq!((s, b["status"].clone()), (200, json!("suspended")), "{b}");
    let (_, list) = app.get_json(path, None).await;
    assert!(bit(&list), "the suspension list has the bit set");
    // The list itself is a signed credential that verifies.
    assert_eq!(verify(app, &list).await["valid"], true);
    assert_eq!(verify(app, &licence).await["reason"], "suspended");

    let (s, _) = post("reinstate", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(verify(app, &licence).await["valid"], true);
    let (s, b) = post("revoke", json!({"reason": "企业注销"})).await;
    assert_eq!((s, b["status"].clone()), (200, json!("revoked")));
    assert_eq!(verify(app, &licence).await["reason"], "revoked");
    let (s, b) = post("reinstate", json!({})).await;
    assert_eq!((s, b["state"].clone()), (409, json!("revoked")), "revocation is final: {b}");
    // The holder cannot change the status.
    let (s, _) = app.post_json(&format!("/api/v1/credentials/{id}/reinstate"), Some(&rep), json!({})).await;
    assert_eq!(s, 403);
}

async fn seal_rotation_keeps_old_signatures_and_revocation_ends_them(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let officer = app.demo_token("spj.licence").await;
    let licence = of_type(&wallet(app, &rep).await, "business_licence").clone();
    let old_vm = licence["proof"][0]["verificationMethod"].as_str().unwrap().to_string();

    // Private keys are stored wrapped, never in the clear.
    let seals = quanban::licences::store::seals(&app.state.db, Some("JN-SPJ")).await.unwrap();
    assert_eq!(seals.len(), 1);
    assert!(seals[0].ed25519_secret.starts_with("sm4gcm:") && seals[0].sm2_secret.starts_with("sm4gcm:"));
    let old_seal = seals[0].id.clone();

    let (s, b) = app.post_json("/api/v1/seals/rotate/JN-SPJ", Some(&officer), json!({})).await;
    assert_eq!(s, 200, "{b}");
    let new_seal = b["seal_id"].as_str().unwrap().to_string();
    assert_ne!(new_seal, old_seal);
    assert_eq!(verify(app, &licence).await["valid"], true, "signed by the retired seal: still valid");

    // New licences carry the new seal's keys; the issuer document publishes both.
    let (s, fresh) = app
        .post_json(
            "/api/v1/credentials",
            Some(&officer),
            json!({"type": "food_business_licence", "holder_credit_code": licence["credentialSubject"]["unified_social_credit_code"]}),
        )
        .await;
    assert_eq!(s, 201, "{fresh}");
    assert!(fresh["credential"]["proof"][0]["verificationMethod"].as_str().unwrap().contains(&new_seal));
    assert_eq!(verify(app, &fresh["credential"]).await["valid"], true);
    let (_, issuer) = app.get_json("/credentials/issuers/JN-SPJ", None).await;
    let methods = issuer["verificationMethod"].as_array().unwrap();
    assert_eq!(methods.len(), 4, "two seals × (Ed25519, SM2)");
    assert!(methods.iter().any(|m| m["id"] == old_vm.as_str()));

    // Revoking the old seal (a compromised key) ends what it signed.
    let (s, _) = app.post_json(&format!("/api/v1/seals/{old_seal}/revoke"), Some(&officer), json!({})).await;
    assert_eq!(s, 422, "a reason is required");
    let (s, _) = app
        .post_json(&format!("/api/v1/seals/{old_seal}/revoke"), Some(&officer), json!({"reason": "密钥泄露"}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(verify(app, &licence).await["reason"], "signature");
    assert_eq!(verify(app, &fresh["credential"]).await["valid"], true);
    let (_, issuer) = app.get_json("/credentials/issuers/JN-SPJ", None).await;
    assert_eq!(issuer["assertionMethod"].as_array().unwrap().len(), 2);
    // Another department's officer may not touch this one's seals.
    let scj = app.demo_token("scj.approver").await;
    let (s, _) = app.post_json("/api/v1/seals/rotate/JN-SPJ", Some(&scj), json!({})).await;
    assert_eq!(s, 403);
}

async fn wallet_is_private_and_bad_requests_name_the_field(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let rep = app.demo_token("13800138002").await;
    let officer = app.demo_token("spj.licence").await;
    let mine = wallet(app, &citizen).await;
    let types: Vec<&str> = mine.iter().map(|c| c["licenceType"].as_str().unwrap()).collect();
    for t in
        ["id_card", "social_security_card", "medical_insurance_code", "driving_licence", "residence_permit"]
    {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    // The demo cards are valid on whatever day the demo is set up (the one-year residence permit too).
    for card in &mine {
        assert_eq!(verify(app, card).await["valid"], true, "{}", card["licenceType"]);
    }
    // No full ID number anywhere in a card.
    let text = serde_json::to_string(&mine).unwrap();
    assert!(
        of_type(&mine, "id_card")["credentialSubject"]["id_number"].as_str().unwrap().contains("**********")
    );
    let full = quanban::demo::id_number("37010219900307123").unwrap();
    assert!(!text.contains(&full), "the demo citizen's full ID number leaks");
    // Someone else's card is not found, and without a login there is no wallet.
    let other = mine[0]["id"].as_str().unwrap();
    let (s, _) = app.get_json(&format!("/api/v1/credentials/{other}"), Some(&rep)).await;
    assert_eq!(s, 404);
    let (s, _) = app.get_json("/api/v1/wallet", None).await;
    assert_eq!(s, 401);
    // A citizen cannot issue; an officer's bad request names each field.
    let (s, _) = app.post_json("/api/v1/credentials", Some(&citizen), json!({"type": "id_card"})).await;
    assert_eq!(s, 403);
    let (s, b) = app
        .post_json(
            "/api/v1/credentials",
            Some(&officer),
            json!({"type": "no_such", "holder_credit_code": "91370100MA3C00001X", "valid_until": "soon"}),
        )
        .await;
    assert_eq!(s, 422);
    let fields: Vec<&str> =
        b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["type", "holder_credit_code", "valid_until"], "{b}");
    // A wallet card offered for the wrong material is refused, naming the material.
    let id_card = of_type(&mine, "id_card")["id"].as_str().unwrap().to_string();
    let (s, b) = app
        .post_json(
            "/api/v1/cases",
            Some(&citizen),
            json!({"item_code": "JN-SPJ-0003",
                   "form": {"contact_name": "张伟", "contact_phone": "13800138001"},
                   "materials": [{"name": "营业执照", "credential": id_card}]}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["code"], "wrong_credential_type");
    assert_eq!(b["errors"][0]["field"], "materials[0]");
}

/// `quanban verify` works offline: only the credential, the issuer's published keys and (for
/// revocation) its status list, fetched beforehand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_verify_command() {
    let app = TestApp::start(common::Backend::Sqlite).await.expect("app");
    let rep = app.demo_token("13800138002").await;
    let officer = app.demo_token("spj.licence").await;
    let licence = of_type(&wallet(&app, &rep).await, "business_licence").clone();
    let (_, keys) = app.get_json("/credentials/issuers/JN-SPJ", None).await;
    let list_url = licence["credentialStatus"][0]["statusListCredential"].as_str().unwrap().to_string();
    let list_path = list_url[list_url.find("/credentials/status/").unwrap()..].to_string();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, v: &Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
        p
    };
    let cred = write("licence.json", &licence);
    let keys_file = write("issuer.json", &keys);
    let run = |args: &[&std::path::Path]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_quanban"))
            .env("QUANBAN_CLOCK", common::test_clock_instant())
            .env("QUANBAN_RATE_LIMITS", "false")
            .arg("verify")
            .args(args.iter().map(|p| p.as_os_str()))
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    let keys_flag = std::path::Path::new("--keys");
    let status_flag = std::path::Path::new("--status");

    let (code, out) = run(&[&cred, keys_flag, &keys_file]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("VALID") && out.contains("revocation not checked"), "{out}");

    // Revoked on the platform: the fresh status list tells the offline verifier.
    let id = licence["id"].as_str().unwrap();
    let (s, _) = app
        .post_json(&format!("/api/v1/credentials/{id}/revoke"), Some(&officer), json!({"reason": "注销"}))
        .await;
    assert_eq!(s, 200);
    let (_, list) = app.get_json(&list_path, None).await;
    let list_file = write("revocation.json", &list);
    let (code, out) = run(&[&cred, keys_flag, &keys_file, status_flag, &list_file]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.starts_with("INVALID") && out.contains("revoked"), "{out}");

    // A forged status list (not signed by the issuer) is ignored, not trusted.
    let mut forged = list.clone();
    forged["credentialSubject"]["encodedList"] =
        json!(domain::encode_status_list([], domain::STATUS_LIST_BITS));
    let forged_file = write("forged.json", &forged);
    let (code, out) = run(&[&cred, keys_flag, &keys_file, status_flag, &forged_file]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("revocation not checked"), "{out}");

    // Without the issuer's keys nothing can be trusted.
    let empty =
        write("empty.json", &json!({"id": "https://x/credentials/issuers/JN-GAJ", "verificationMethod": []}));
    let (code, out) = run(&[&cred, keys_flag, &empty]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("Unknown issuer"), "{out}");
    app.stop().await;
}

/// A database from before status list positions were permuted holds credentials at their
/// sequence numbers. A process starting on it learns those positions and never gives one to a new
/// credential (which would then share its revocation bit): the sequence number whose permuted
/// position is taken is skipped.
async fn status_positions_from_before_permutation_are_never_shared(app: &TestApp) {
    use quanban::licences::service::{self, Holder, Licensing};
    let db = &app.state.db;
    let rep = app.demo_token("13800138002").await;
    let cards = wallet(app, &rep).await;
    let licence = of_type(&cards, "business_licence");
    let old_id = licence["id"].as_str().unwrap().to_string();
    let credit_code =
        licence["credentialSubject"]["unified_social_credit_code"].as_str().unwrap().to_string();
    // Another process on this database will reserve the issuer's next block of sequence numbers.
    let secret = service::seal_secret(db, &app.state.config).await.unwrap();
    let mut lic = Licensing::new(&secret, &app.base);
    let last: i64 = sqlx::query_scalar("SELECT last FROM credential_counters WHERE issuer = 'JN-SPJ'")
        .fetch_one(db.reader())
        .await
        .unwrap();
    let taken = lic.status_position("JN-SPJ", last + 1);
    // The licence as the old platform stored it: at a plain position, the one `last + 1` maps to.
    let id = old_id.clone();
    db.write(move |c| {
        quanban::store::query("UPDATE credentials SET status_index = $1 WHERE id = $2")
            .bind(taken)
            .bind(&id)
            .execute(&mut *c)?;
        // A database from before has not been scanned yet.
        quanban::store::query("DELETE FROM settings WHERE key = 'status_positions_permuted'")
            .execute(&mut *c)?;
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(lic.load_legacy_positions(db).await.unwrap(), 1);
    let seal = lic.active(db, "JN-SPJ").await.unwrap().unwrap();
    let holder = Holder::Enterprise {
        credit_code,
        name: "济南泉城小馆餐饮有限公司".into(),
        legal_representative: "刘芳".into(),
    };
    let new = service::prepare_issue(
        db,
        &lic,
        &seal,
        "food_business_licence",
        &holder,
        &serde_json::Map::new(),
        app.clock().today(),
        None,
        None,
        None,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(new.status_index, lic.status_position("JN-SPJ", last + 2), "sequence {} skipped", last + 1);
    let stored = service::issue(db, new).await.unwrap().expect("stored beside the old licence");
    assert_ne!(stored.status_index, taken);
}

/// Our credentials and issuer documents declare every term they use: our context (served at the
/// URL they list) defines each licence type and subject field of the reference data, and `name`
/// exactly as VC 2.0 does. (Digital Bazaar's verifier checks the same, as served, in
/// `scripts/test`.)
async fn credentials_declare_every_term(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let cards = wallet(app, &rep).await;
    let licence = of_type(&cards, "business_licence");
    let contexts = licence["@context"].as_array().unwrap();
    assert_eq!(contexts[0], domain::VC_V2_CONTEXT);
    let ours = contexts[1].as_str().unwrap();
    let issuer = licence["issuer"]["id"].as_str().unwrap();
    let base = &issuer[..issuer.find("/credentials/issuers/").unwrap()];
    assert_eq!(ours, format!("{base}{}", domain::CONTEXT_PATH), "published by the issuer's platform");
    let r = app.client.get(app.url(domain::CONTEXT_PATH)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/ld+json");
    let context: Value = r.json().await.unwrap();
    let terms = context["@context"].as_object().unwrap();
    assert_eq!(terms["name"], "https://schema.org/name");
    for t in domain::types() {
        assert!(terms.contains_key(&domain::vc_type(&t.code)), "{}", t.code);
        for f in &t.fields {
            assert!(terms.contains_key(&f.name), "{}.{}", t.code, f.name);
        }
    }
    for card in &cards {
        for key in
            card.as_object().unwrap().keys().chain(card["credentialSubject"].as_object().unwrap().keys())
        {
            let w3c = [
                "@context",
                "id",
                "type",
                "name",
                "description",
                "issuer",
                "validFrom",
                "validUntil",
                "credentialSubject",
                "credentialStatus",
                "proof",
            ];
            assert!(w3c.contains(&key.as_str()) || terms.contains_key(key), "{key} is not declared");
        }
    }
    let (s, doc) = app.get_json(&issuer[issuer.find("/credentials/").unwrap()..], None).await;
    assert_eq!(s, 200);
    assert_eq!(doc["@context"], json!([domain::CID_V1_CONTEXT, ours]));
    // Our own verifier accepts a Quanban platform's context, and no other.
    assert_eq!(verify(app, licence).await["valid"], true);
    for other in [
        "https://elsewhere.example/credentials/context/v2",
        "https://elsewhere.example/ctx/credentials/context/v1",
    ] {
        let mut foreign = licence.clone();
        foreign["@context"][1] = json!(other);
        assert_eq!(verify(app, &foreign).await["reason"], "unknown_context", "{other}");
    }
}

/// Whether a program is on the PATH; CI (`QUANBAN_REQUIRE_BROWSER=1`) installs the tools the
/// independent checks use, so there a missing one fails instead of skipping.
fn tool(name: &str) -> bool {
    let found = std::process::Command::new(name).arg("-v").output().is_ok();
    let required = std::env::var("QUANBAN_REQUIRE_BROWSER").is_ok_and(|v| v == "1" || v == "true");
    assert!(found || !required, "{name} is required (poppler-utils) but not installed");
    if !found {
        eprintln!("skipped: {name} is not installed (apt-get install poppler-utils)");
    }
    found
}

async fn the_licence_prints_as_a_pdf_another_reader_can_read(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let approver = app.demo_token("spj.approver").await;
    let (s, b) = app
        .post_json(
            "/api/v1/cases",
            Some(&citizen),
            json!({"item_code": "JN-SPJ-0003",
                   "form": {"contact_name": "张伟", "contact_phone": "13800138001", "address": "济南市历下区泉城路1号"},
                   "materials": [{"index": 0, "file_name": "申请书.pdf", "content_base64": b64(PDF)}]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let n = b["case_number"].as_str().unwrap().to_string();
    for (who, action) in [(&clerk, "accept"), (&approver, "approve")] {
        let (s, b) =
            app.post_json(&format!("/api/v1/cases/{n}/actions/{action}"), Some(who), json!({})).await;
        assert_eq!(s, 200, "{action}: {b}");
    }
    let cards = wallet(app, &citizen).await;
    let licence = of_type(&cards, "food_business_licence").clone();
    let id = licence["id"].as_str().unwrap().to_string();
    let number = licence["credentialSubject"]["licence_number"].as_str().unwrap().to_string();
    let client = reqwest::Client::new();
    let resp =
        client.get(app.url(&format!("/wallet/{id}/print.pdf"))).bearer_auth(&citizen).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    let bytes = resp.bytes().await.unwrap();
    assert!(bytes.len() < 64 * 1024, "no embedded font: {} bytes", bytes.len());
    // Someone else's licence is not found.
    let other = app.demo_token("13800138002").await;
    let resp =
        client.get(app.url(&format!("/wallet/{id}/print.pdf"))).bearer_auth(&other).send().await.unwrap();
    assert_eq!(resp.status(), 404);

    // Poppler reads it back: the title, the number, the holder, the issuer and the validity.
    if !tool("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("licence.pdf");
    std::fs::write(&file, &bytes).unwrap();
    if let Ok(keep) = std::env::var("QUANBAN_SCREENSHOTS") {
        std::fs::write(std::path::Path::new(&keep).join("licence.pdf"), &bytes).unwrap();
        let form = client.get(app.url("/items/JN-SPJ-0001/application-form.pdf")).send().await.unwrap();
        std::fs::write(std::path::Path::new(&keep).join("form.pdf"), form.bytes().await.unwrap()).unwrap();
    }
    let out = std::process::Command::new("pdftotext").arg(&file).arg("-").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "食品经营许可证",
        "许可证编号",
        number.as_str(),
        "张伟",
        "有效期",
        "济南市行政审批服务局",
        "济南市历下区泉城路1号",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    // The blank application form of an item (表格下载) reads back the same way.
    let resp = client.get(app.url("/items/JN-SPJ-0001/application-form.pdf")).send().await.unwrap();
    assert_eq!(
        (resp.status().as_u16(), resp.headers()["content-type"].to_str().unwrap()),
        (200, "application/pdf")
    );
    let form = dir.path().join("form.pdf");
    std::fs::write(&form, resp.bytes().await.unwrap()).unwrap();
    let out = std::process::Command::new("pdftotext").arg(&form).arg("-").output().unwrap();
    let form_text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "企业设立登记（有限责任公司）申请表",
        "统一社会信用代码",
        "公司章程（原件 1 份）",
        "免提交（调取电子证照）",
        "申请人（签字或盖章）",
    ] {
        assert!(form_text.contains(expected), "{expected} missing from:\n{form_text}");
    }
    assert_eq!(
        client.get(app.url("/items/JN-NOPE-0001/application-form.pdf")).send().await.unwrap().status(),
        404
    );
    let info = std::process::Command::new("pdfinfo").arg(&file).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    assert!(info.contains("Pages:           1") && info.contains("595 x 842"), "{info}");
}
