//! The dashboards (数据驾驶舱): for the supervision office the city's figures, for a department's
//! head their department's — trends over a chosen period, lights by department and item, what
//! electronic monitoring raised, where complaints come from beside the halls, the most overdue
//! items and cases, and every assessment figure, each number a link to its records. And the
//! public page of published figures (政务服务数据公开), which anyone may read.
//!
//! - `store`: complaints by day and place, alerts, open orders, for a scope and period.
//! - `service`: who may read which scope; the figures (pure helpers tested).
//! - `pages`: the dashboard and the public page (charts drawn by uPlot, served by the binary).

pub mod pages;
pub mod service;
pub mod store;
