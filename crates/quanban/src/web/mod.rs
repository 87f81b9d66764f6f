//! The web shell shared by every area's pages: language, layout context, CSRF, static assets,
//! and the pages that belong to no area (home, errors).

pub mod assets;
pub mod i18n;
pub mod map;
pub mod page;
pub mod pages;

pub use page::{PageCtx, PageError};
