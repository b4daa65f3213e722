//! `GET /docs`: the OpenAPI document (`GET /openapi.json`) rendered by Swagger UI for people.
//!
//! Every file the page loads is embedded in the binary and served here, each at a fixed path of
//! its own (API Gateway routes each one; no catch-all), public and left out of the OpenAPI
//! document, as `/openapi.json` is. Nothing is fetched from a CDN: the page's
//! Content-Security-Policy allows scripts, styles and requests to this server only. The renderer
//! is `swagger-ui-dist`, pinned in `core/assets/docs/package-lock.json` and copied into
//! `core/assets/docs/vendor/` by `core/assets/docs/vendor.sh` (ADR 0021).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::routes::{Access, RouteTable, Verb};

/// What the docs responses allow the page to load: its own scripts, styles and requests
/// (`openapi.json`, "Try it out") from this server only, no inline script or style, no plugin,
/// no frame. `data:` images are Swagger UI's icons, inlined as SVG in its stylesheet.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// How long a docs response may be cached. The router's outermost layer gives every other
/// response `no-store`; a docs handler says otherwise by putting this in the response's
/// extensions, so no API response can opt out of `no-store` by accident.
#[derive(Debug, Clone)]
pub struct CacheControl(pub HeaderValue);

/// Files named after the renderer's version never change: a new version is a new path (a
/// unit test holds the paths to `package.json`), so browsers and proxies may keep them.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The page and its start-up script change with the binary at the same path: revalidate.
const REVALIDATE: &str = "no-cache";

/// One file of the page.
#[derive(Debug)]
pub struct Asset {
    /// Relative to the stage; the page refers to it relatively (`docs/…`).
    pub path: &'static str,
    pub content_type: &'static str,
    cache_control: &'static str,
    pub body: &'static [u8],
}

/// Every file of the page: all text types, so lambda_http answers API Gateway with a text body
/// (it base64-encodes other types, which a REST API without binary media types would pass on
/// as base64).
pub static ASSETS: [Asset; 4] = [
    Asset {
        path: "/docs",
        content_type: "text/html; charset=utf-8",
        cache_control: REVALIDATE,
        body: include_bytes!("../../assets/docs/index.html"),
    },
    Asset {
        path: "/docs/init.js",
        content_type: "text/javascript; charset=utf-8",
        cache_control: REVALIDATE,
        body: include_bytes!("../../assets/docs/init.js"),
    },
    Asset {
        path: "/docs/swagger-ui-bundle-5.35.0.js",
        content_type: "text/javascript; charset=utf-8",
        cache_control: IMMUTABLE,
        body: include_bytes!("../../assets/docs/vendor/swagger-ui-bundle.js"),
    },
    Asset {
        path: "/docs/swagger-ui-5.35.0.css",
        content_type: "text/css; charset=utf-8",
        cache_control: IMMUTABLE,
        body: include_bytes!("../../assets/docs/vendor/swagger-ui.css"),
    },
];

impl Asset {
    fn response(&'static self) -> Response {
        let mut response = (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(self.content_type),
                ),
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CONTENT_SECURITY_POLICY),
                ),
            ],
            self.body,
        )
            .into_response();
        response
            .extensions_mut()
            .insert(CacheControl(HeaderValue::from_static(self.cache_control)));
        response
    }
}

/// `GET` (and so `HEAD`) of each file, public, undocumented.
pub fn routes() -> RouteTable {
    ASSETS.iter().fold(RouteTable::new(), |table, asset| {
        table.undocumented(Verb::Get, asset.path, Access::Public, move || async move {
            asset.response()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::{ASSETS, IMMUTABLE};

    fn pinned_version() -> String {
        let package: serde_json::Value =
            serde_json::from_str(include_str!("../../assets/docs/package.json")).unwrap();
        package["dependencies"]["swagger-ui-dist"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn immutable_files_are_named_after_the_pinned_renderer_version() {
        let version = pinned_version();
        let immutable: Vec<_> = ASSETS
            .iter()
            .filter(|a| a.cache_control == IMMUTABLE)
            .collect();
        assert_eq!(immutable.len(), 2);
        for asset in immutable {
            assert!(
                asset.path.contains(&format!("-{version}.")),
                "{} is cached forever but does not name swagger-ui-dist {version}",
                asset.path
            );
        }
    }

    #[test]
    fn the_page_loads_exactly_the_other_files_by_relative_url() {
        let page = std::str::from_utf8(ASSETS[0].body).unwrap();
        for asset in &ASSETS[1..] {
            let relative = asset.path.trim_start_matches('/');
            assert!(
                page.contains(&format!("\"{relative}\"")),
                "the page does not load {relative}"
            );
        }
        assert!(
            !page.contains("\"/"),
            "an absolute path misses the stage prefix"
        );
        assert!(!page.contains("//"), "the page names another origin");
        assert!(
            !page.contains("<script>"),
            "an inline script breaks the CSP"
        );
    }
}
