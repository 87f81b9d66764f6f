//! The data catalog as a DCAT-AP 3 document in JSON-LD (`/api/v1/data/catalog.jsonld`).
//!
//! Every node the profile's range shapes look at is typed in the document itself (agents,
//! frequencies, rights statements, media types, legal resources), so that a SHACL validator
//! without network access can check it; `scripts/test` runs pySHACL with the DCAT-AP 3.0.1
//! shapes (`tests/fixtures/dcat-ap-3.0.1`). The EU vocabularies (frequency, access rights) are
//! referenced by their published IRIs. Each dataset's fields are given as a CSVW table schema,
//! with the sharing class of each field and the legal basis.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::domain::{DATASETS, Dataset, Field, FieldType, Sharing};

const EU_FREQUENCY: &str = "http://publications.europa.eu/resource/authority/frequency";
const EU_ACCESS_RIGHT: &str = "http://publications.europa.eu/resource/authority/access-right";

fn text(zh: &str, en: &str) -> Json {
    json!([{"@value": zh, "@language": "zh-CN"}, {"@value": en, "@language": "en"}])
}

fn agent(base: &str, code: &str, names: &BTreeMap<String, String>) -> Json {
    let name = names.get(code).cloned().unwrap_or_else(|| code.to_string());
    json!({
        "@id": format!("{base}/departments/{code}"),
        "@type": "foaf:Agent",
        "foaf:name": [{"@value": name, "@language": "zh-CN"}],
        "dct:identifier": code,
    })
}

/// The EU access-right concept a dataset's most open field class maps to.
fn access_right(d: &Dataset) -> (&'static str, &'static str, &'static str) {
    let all_open = d.fields.iter().all(|f| f.sharing == Sharing::Unconditional);
    if all_open {
        ("PUBLIC", "无条件共享（政务部门间）", "Shared between departments without conditions")
    } else {
        (
            "RESTRICTED",
            "部分字段有条件共享，须经数据所有部门授权",
            "Some fields are shared only under the owner's grant",
        )
    }
}

/// The EU frequency vocabulary's labels for the frequencies the datasets use.
fn frequency_label(code: &str) -> Json {
    let (zh, en) = match code {
        "DAILY" => ("每日", "daily"),
        "WEEKLY" => ("每周", "weekly"),
        "MONTHLY" => ("每月", "monthly"),
        "QUARTERLY" => ("每季度", "quarterly"),
        "ANNUAL" => ("每年", "annual"),
        _ => ("不定期", "irregular"),
    };
    text(zh, en)
}

fn datatype(f: &Field) -> &'static str {
    match f.kind {
        FieldType::Bool => "xsd:boolean",
        FieldType::Int => "xsd:nonNegativeInteger",
        FieldType::Yuan => "xsd:decimal",
        FieldType::Date => "xsd:date",
        _ => "xsd:string",
    }
}

fn sharing_node(s: Sharing) -> &'static str {
    match s {
        Sharing::Unconditional => "quanban:Unconditional",
        Sharing::Conditional => "quanban:Conditional",
        Sharing::NotShared => "quanban:NotShared",
    }
}

fn dataset_node(base: &str, d: &Dataset, names: &BTreeMap<String, String>) -> Json {
    let id = format!("{base}/data#{}", d.id);
    let (right, right_zh, right_en) = access_right(d);
    let columns: Vec<Json> = d
        .fields
        .iter()
        .map(|f| {
            json!({
                "@type": "csvw:Column",
                "csvw:name": f.name,
                "csvw:title": text(f.label_zh, f.label_en),
                "csvw:datatype": {"@id": datatype(f)},
                "csvw:required": f.required,
                "quanban:sharing": {"@id": sharing_node(f.sharing)},
                "quanban:personal": f.personal,
            })
        })
        .collect();
    json!({
        "@id": id,
        "@type": "dcat:Dataset",
        "dct:identifier": d.id,
        "dct:title": text(d.name_zh, d.name_en),
        "dct:description": text(
            &format!("{}，由{}维护，按“{}”键共享。", d.name_zh, names.get(d.owner).map(String::as_str).unwrap_or(d.owner), d.key),
            &format!("{}, kept by {}, shared by key {}.", d.name_en, d.owner, d.key),
        ),
        "dct:publisher": agent(base, d.owner, names),
        "dcat:contactPoint": {
            "@id": format!("{base}/departments/{}#contact", d.owner),
            "@type": ["vcard:Kind", "vcard:Organization"],
            "vcard:fn": names.get(d.owner).cloned().unwrap_or_else(|| d.owner.to_string()),
        },
        "dcat:keyword": [{"@value": d.name_zh, "@language": "zh-CN"}],
        "dct:accrualPeriodicity": {
            "@id": format!("{EU_FREQUENCY}/{}", d.frequency),
            "@type": ["dct:Frequency", "skos:Concept"],
            "skos:inScheme": {"@id": EU_FREQUENCY},
            "skos:prefLabel": frequency_label(d.frequency),
        },
        "dct:accessRights": {
            "@id": format!("{EU_ACCESS_RIGHT}/{right}"),
            "@type": ["dct:RightsStatement", "skos:Concept"],
            "skos:inScheme": {"@id": EU_ACCESS_RIGHT},
            "skos:prefLabel": text(right_zh, right_en),
        },
        "dcatap:applicableLegislation": {
            "@id": format!("{base}/data/legal-basis#{}", d.id),
            "@type": "eli:LegalResource",
            "dct:title": [{"@value": d.legal_basis, "@language": "zh-CN"}],
        },
        "dct:conformsTo": {
            "@id": format!("{base}/data#{}-schema", d.id),
            "@type": ["dct:Standard", "csvw:Schema"],
            "dct:title": text(&format!("{}字段说明", d.name_zh), &format!("{} fields", d.name_en)),
            "csvw:column": {"@list": columns},
        },
        "dcat:distribution": {
            "@id": format!("{base}/data#{}-exchange", d.id),
            "@type": "dcat:Distribution",
            "dct:title": text("数据共享交换接口（按键读取）", "Data exchange (read by key)"),
            "dcat:accessURL": {"@id": format!("{base}/api/v1/data/exchange/{}", d.id)},
            "dcat:mediaType": {
                "@id": "http://www.iana.org/assignments/media-types/application/json",
                "@type": "dct:MediaType",
            },
            "dcat:accessService": {
                "@id": format!("{base}/data#exchange"),
                "@type": "dcat:DataService",
                "dct:title": text("政务数据共享交换平台", "Government data exchange"),
                "dcat:endpointURL": {"@id": format!("{base}/api/v1/data/exchange")},
                "dcat:endpointDescription": {"@id": format!("{base}/api/v1/openapi.json")},
            },
        },
    })
}

/// The whole catalog: `base` is the platform's public URL, `names` the departments' names.
pub fn catalog(base: &str, names: &BTreeMap<String, String>) -> Json {
    let base = base.trim_end_matches('/');
    json!({
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "dcatap": "http://data.europa.eu/r5r/",
            "eli": "http://data.europa.eu/eli/ontology#",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "vcard": "http://www.w3.org/2006/vcard/ns#",
            "csvw": "http://www.w3.org/ns/csvw#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "quanban": format!("{base}/ns/data#"),
            "quanban:personal": {"@type": "xsd:boolean"},
            "csvw:required": {"@type": "xsd:boolean"},
        },
        "@id": format!("{base}/data#catalog"),
        "@type": "dcat:Catalog",
        "dct:title": text("济南市政务数据资源目录", "Jinan government data catalog"),
        "dct:description": text(
            "各部门政务数据资源的目录：数据集、字段、共享类型（无条件共享、有条件共享、不予共享）及共享依据。",
            "The departments' datasets, their fields, sharing class (unconditional, conditional, not shared) and legal basis.",
        ),
        "dct:publisher": agent(base, "JN-DSJ", names),
        "foaf:homepage": {"@id": format!("{base}/data"), "@type": "foaf:Document"},
        "dcat:dataset": DATASETS.iter().map(|d| dataset_node(base, d, names)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_dataset_and_field_is_in_the_catalog() {
        let names: BTreeMap<String, String> = [("JN-SWJ".to_string(), "市税务局".to_string())].into();
        let doc = catalog("https://gov.example.cn/", &names);
        let datasets = doc["dcat:dataset"].as_array().unwrap();
        assert_eq!(datasets.len(), DATASETS.len());
        let tax = datasets.iter().find(|d| d["dct:identifier"] == "tax").unwrap();
        assert_eq!(tax["dct:publisher"]["foaf:name"][0]["@value"], "市税务局");
        assert_eq!(tax["dct:accessRights"]["@id"], format!("{EU_ACCESS_RIGHT}/RESTRICTED"));
        assert_eq!(
            tax["dcat:distribution"]["dcat:accessURL"]["@id"],
            "https://gov.example.cn/api/v1/data/exchange/tax"
        );
        let columns = tax["dct:conformsTo"]["csvw:column"]["@list"].as_array().unwrap();
        assert_eq!(columns.len(), DATASETS.iter().find(|d| d.id == "tax").unwrap().fields.len());
        assert_eq!(columns[1]["quanban:sharing"]["@id"], "quanban:Conditional");
    }
}
