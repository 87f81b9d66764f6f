//! E-licence signing and verification on one core: credentials issued and verified per second
//! for Ed25519 (`eddsa-jcs-2022`) and SM2 (`quanban-sm2-jcs-2026`), next to the bare signature
//! rates of the crates (ed25519-dalek, sm2). The ratio shows what JCS, hashing and the checks cost.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use quanban::licences::domain::{self, CredentialDraft, Evidence, KnownKey, Urls};
use quanban::licences::proof::{SigningKey, Suite};

#[derive(Args, Debug)]
pub struct CredentialArgs {
    /// Seconds per measurement
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
}

impl Default for CredentialArgs {
    fn default() -> Self {
        CredentialArgs { seconds: 2.0 }
    }
}

/// Runs `f` repeatedly for about `budget` and answers operations per second.
fn rate(budget: Duration, mut f: impl FnMut()) -> f64 {
    // Warm up caches and lazy tables.
    for _ in 0..20 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..16 {
            f();
        }
        n += 16;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn draft(index: u64) -> CredentialDraft {
    CredentialDraft {
        id: format!("urn:uuid:00000000-0000-4000-8000-{index:012}"),
        identifier: domain::identifier("food_business_licence", "JN-SPJ", index, 1).unwrap_or_default(),
        type_code: "food_business_licence".into(),
        issuer_department: "JN-SPJ".into(),
        issuer_name: "济南市行政审批服务局".into(),
        valid_from: quanban::platform::clock::test_instant(),
        valid_until: Some(quanban::platform::clock::test_instant() + chrono::Duration::days(5 * 365)),
        subject: json!({
            "licence_number": "JY23701020012345",
            "operator_name": "济南泉城小馆餐饮有限公司",
            "unified_social_credit_code": "91370100MA3C000010",
            "legal_representative": "刘芳",
            "business_address": "山东省济南市历下区泉城路88号",
            "main_format": "餐饮服务经营者（小型餐馆）",
            "business_items": "热食类食品制售；冷食类食品制售",
            "issuing_authority": "济南市行政审批服务局",
            "holderName": "济南泉城小馆餐饮有限公司",
            "holderType": "enterprise",
        }),
        holder_id: "urn:quanban:enterprise:91370100MA3C000010".into(),
        status_index: index,
    }
}

pub async fn run(args: CredentialArgs) -> anyhow::Result<()> {
    let budget = Duration::from_secs_f64(args.seconds.max(0.2));
    let urls = Urls { base: "https://zwfw.jinan.example".into() };
    let message = [7u8; 64];
    println!(
        "E-licence credentials on one core ({:.1} s per figure; a food business licence, ~1.5 KB)",
        args.seconds
    );
    println!(
        "{:<8} {:>14} {:>16} {:>8} {:>14} {:>16} {:>8}",
        "suite", "bare sign/s", "issued/s", "ratio", "bare verify/s", "verified/s", "ratio"
    );
    for suite in Suite::ALL {
        let key = SigningKey::generate(suite);
        let public = key.public_key();
        let vm = urls.verification_method("JN-SPJ", "S1", suite);
        let sig = key.sign(&message);
        let bare_sign = rate(budget, || {
            std::hint::black_box(key.sign(&message));
        });
        let bare_verify = rate(budget, || {
            std::hint::black_box(public.verify(&message, &sig).is_ok());
        });
        let mut i = 0u64;
        let issued = rate(budget, || {
            i += 1;
            let unsigned = domain::unsigned_credential(&draft(i), &urls);
            std::hint::black_box(domain::secure(
                &unsigned,
                &[(vm.clone(), &key)],
                quanban::platform::clock::test_instant(),
            ));
        });
        let doc = domain::secure(
            &domain::unsigned_credential(&draft(1), &urls),
            &[(vm.clone(), &key)],
            quanban::platform::clock::test_instant(),
        );
        let ev = Evidence {
            keys: HashMap::from([(
                vm.clone(),
                KnownKey { key: public.clone(), issuer_department: "JN-SPJ".into(), revoked: false },
            )]),
            issuers: vec!["JN-SPJ".into()],
            statuses: HashMap::new(),
            original: None,
            now: quanban::platform::clock::test_instant(),
        };
        anyhow::ensure!(domain::verify(&doc, &ev).valid, "the benchmark credential does not verify");
        let verified = rate(budget, || {
            std::hint::black_box(domain::verify(&doc, &ev).valid);
        });
        println!(
            "{:<8} {:>14.0} {:>16.0} {:>7.0}% {:>14.0} {:>16.0} {:>7.0}%",
            suite.algorithm(),
            bare_sign,
            issued,
            100.0 * issued / bare_sign,
            bare_verify,
            verified,
            100.0 * verified / bare_verify
        );
    }
    println!(
        "(issued = build the VC, JCS twice, hash, sign; verified = every check of `verify` without the database)"
    );
    Ok(())
}
