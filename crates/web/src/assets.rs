//! Static assets (vendored Bootstrap Italia and Leaflet, our CSS and images), embedded in the
//! binary so the platform runs offline.

use crate::estrattori::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub async fn statico(Path(percorso): Path<String>) -> Response {
    match Assets::get(&percorso) {
        Some(f) => {
            let mime = mime_guess::from_path(&percorso).first_or_octet_stream();
            let mut r = f.data.into_owned().into_response();
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
                h.insert(header::CONTENT_TYPE, v);
            }
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            );
            r
        }
        None => (StatusCode::NOT_FOUND, "risorsa non trovata").into_response(),
    }
}
