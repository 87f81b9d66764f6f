//! The HTTP edge shared by every area: the error type, extractors, middleware, operational
//! endpoints (health, readiness, metrics, OpenAPI).

pub mod error;
pub mod extract;
pub mod limits;
pub mod middleware;
pub mod ops;
pub mod text;

pub use error::{ApiError, ApiResult, FieldError};
pub use extract::{ApiJson, Caller, SignedIn};
