//! Electronic licences (电子证照), electronic seals (电子印章) and the wallet (一部手机走泉城).
//!
//! - `proof`: Data Integrity proofs over JCS — W3C `eddsa-jcs-2022` and our SM2/SM3 suite
//!   `quanban-sm2-jcs-2026` — and Multikey public keys. Pure and tested against the published
//!   vectors.
//! - `domain`: licence types and the items that produce them, the national-style identifier,
//!   Bitstring Status Lists, the credential's shape and the verification procedure. Pure.
//! - `sealing`: sealing and checking documents (decision letters). Pure.
//! - `seal_image`: the red round seal drawn as SVG.
//! - `keys`: private keys at rest (SM4-GCM under the configured seal key).
//! - `store`: seals and credentials in the database.
//! - `service`: unlocking seals, issuing, verifying, published keys and status lists.
//! - `api`, `pages`: the JSON API and the web pages (wallet, verify, issuing desk, seals).
//! - `pdf`: the printable licence.

pub mod api;
pub use quanban_domain::licences::domain;
pub use quanban_domain::licences::keys;
pub mod pages;
pub mod pdf;
pub use quanban_domain::licences::proof;
pub use quanban_domain::licences::seal_image;
pub use quanban_domain::licences::sealing;
pub mod service;
pub mod store;
