//! Static assets, compiled into the binary: the machine may be offline, so nothing comes from a
//! CDN.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const ASSETS: &[(&str, &str, &str)] = &[
    ("quanban.css", "text/css; charset=utf-8", include_str!("../../static/quanban.css")),
    ("map.js", "text/javascript; charset=utf-8", include_str!("../../static/map.js")),
    ("supervision.js", "text/javascript; charset=utf-8", include_str!("../../static/supervision.js")),
    ("dashboard.js", "text/javascript; charset=utf-8", include_str!("../../static/dashboard.js")),
    // Vendored (static/vendor/README.md): uPlot, for the supervision charts.
    (
        "vendor/uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/vendor/uPlot.iife.min.js"),
    ),
    ("vendor/uPlot.min.css", "text/css; charset=utf-8", include_str!("../../static/vendor/uPlot.min.css")),
    ("kiosk.js", "text/javascript; charset=utf-8", include_str!("../../static/kiosk.js")),
    ("menu.js", "text/javascript; charset=utf-8", include_str!("../../static/menu.js")),
    ("print.js", "text/javascript; charset=utf-8", include_str!("../../static/print.js")),
    ("qr-login.js", "text/javascript; charset=utf-8", include_str!("../../static/qr-login.js")),
];

pub async fn serve(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == path) {
        Some((_, mime, body)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "public, max-age=3600")], *body)
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
