//! Per-client-address request limits (`tower_governor`) on the endpoints that invite guessing or
//! flooding: logging in (password spraying goes across accounts, so the per-account lockout
//! alone does not stop it), registering, posting Open311 requests and the guide (a search that
//! costs CPU). Over the limit the answer is 429 problem+json with `Retry-After`.
//!
//! The client address is the TCP peer. Behind a reverse proxy every request comes from the
//! proxy, so the proxy must do this limiting itself (its own `limit_req`); trusting
//! `X-Forwarded-For` from anyone would let a client choose its own key.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::IntoResponse;
use governor::middleware::NoOpMiddleware;
use tower::util::Either;
use tower_governor::GovernorError;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;

use super::ApiError;

/// The TCP peer's address (all requests without one share a key).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress;

impl KeyExtractor for ClientAddress {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<IpAddr, GovernorError> {
        Ok(req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip()))
    }
}

/// What is limited, each with its own budget per client address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// `POST /api/v1/auth/token`, `POST /login`: a burst of 10, then one every 6 s (10 a minute).
    Login,
    /// `POST /api/v1/auth/register`, `POST /register`: 5, then one every 30 s.
    Register,
    /// `POST /open311/v2/requests.*`: 20, then one every 3 s.
    Open311,
    /// The guide (`/guide`, `/api/v1/guide`, hand-offs): 60, then two a second.
    Guide,
}

impl Limit {
    /// (one more request per this long, burst).
    pub fn quota(self) -> (Duration, u32) {
        match self {
            Limit::Login => (Duration::from_secs(6), 10),
            Limit::Register => (Duration::from_secs(30), 5),
            Limit::Open311 => (Duration::from_secs(3), 20),
            Limit::Guide => (Duration::from_millis(500), 60),
        }
    }
}

/// One limiter per [`Limit`], shared by every route it covers (the API and the page).
#[derive(Clone)]
pub struct Limiters {
    enabled: bool,
    login: Arc<GovernorConfig<ClientAddress, NoOpMiddleware>>,
    register: Arc<GovernorConfig<ClientAddress, NoOpMiddleware>>,
    open311: Arc<GovernorConfig<ClientAddress, NoOpMiddleware>>,
    guide: Arc<GovernorConfig<ClientAddress, NoOpMiddleware>>,
}

fn config(limit: Limit) -> Arc<GovernorConfig<ClientAddress, NoOpMiddleware>> {
    let (period, burst) = limit.quota();
    let built = GovernorConfigBuilder::default()
        .key_extractor(ClientAddress)
        .period(period)
        .burst_size(burst)
        .finish();
    // `finish` refuses only a zero period or burst, which the table above never has.
    Arc::new(built.unwrap_or_else(|| unreachable!("non-zero quota")))
}

/// The layer type put on a route.
pub type LimitLayer = Either<
    tower_governor::GovernorLayer<ClientAddress, NoOpMiddleware, axum::body::Body>,
    tower::layer::util::Identity,
>;

impl Limiters {
    pub fn new(enabled: bool) -> Limiters {
        Limiters {
            enabled,
            login: config(Limit::Login),
            register: config(Limit::Register),
            open311: config(Limit::Open311),
            guide: config(Limit::Guide),
        }
    }

    /// The layer for `limit` (a pass-through when limits are off).
    pub fn layer(&self, limit: Limit) -> LimitLayer {
        if !self.enabled {
            return Either::Right(tower::layer::util::Identity::new());
        }
        let config = match limit {
            Limit::Login => &self.login,
            Limit::Register => &self.register,
            Limit::Open311 => &self.open311,
            Limit::Guide => &self.guide,
        };
        Either::Left(tower_governor::GovernorLayer::new(config.clone()).error_handler(too_many))
    }

    /// Forgets addresses whose budget is full again (called by a periodic job), so that the
    /// tables do not grow with every address ever seen.
    pub fn forget_idle(&self) {
        for c in [&self.login, &self.register, &self.open311, &self.guide] {
            c.limiter().retain_recent();
        }
    }
}

fn too_many(e: GovernorError) -> axum::response::Response {
    match e {
        GovernorError::TooManyRequests { wait_time, .. } => {
            ApiError::TooManyAttempts { retry_after_secs: wait_time.max(1) }.into_response()
        }
        other => ApiError::Internal(anyhow::anyhow!("rate limiter: {other}")).into_response(),
    }
}
