//! Service halls on four levels (四级政务服务网上地图), appointments (预约服务) and, later, queue
//! numbers, assisted service and kiosks.
//!
//! - `domain`: opening hours read from the published text, slots of a day by the calendar,
//!   great-circle distance and the spatial index, default item coverage, iCalendar. Pure.
//! - `store`: coverage changes, slots with their booked counts (never above capacity, enforced
//!   by the database), appointments.
//! - `service`: nearest halls, a day's slots, booking, cancelling, visits.
//! - `api`, `pages`: the JSON API (with GeoJSON) and the map and booking pages.

pub mod api;
pub use quanban_domain::halls::domain;
pub mod pages;
pub mod service;
pub mod store;
