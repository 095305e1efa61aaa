//! Serves the single-page app: content-hashed files under `/assets/` are cached for a year,
//! `index.html` is revalidated on every load, and any other GET outside `/api` gets
//! `index.html` so client-side routes (`/c/123`) survive a reload.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Compress, Next, from_fn};
use actix_web::{Error, HttpRequest, HttpResponse, ResponseError, web};

use crate::error::ApiError;

/// Registers `/assets/*`: every file there carries a content hash in its name or in its folder's
/// name (the SPA build guarantees it), so a successful response never changes.
/// A missing asset is a JSON 404, never `index.html` (a stale page asking for an old bundle
/// must fail loudly, not parse HTML as JavaScript).
pub fn configure(cfg: &mut web::ServiceConfig, spa_dir: &Path) {
    let assets = spa_dir.join("assets");
    let scope = web::scope("/assets")
        .wrap(from_fn(immutable_cache))
        .wrap(Compress::default())
        .default_service(web::to(asset_not_found));
    if assets.is_dir() {
        cfg.service(
            scope.service(
                Files::new("", assets)
                    .use_last_modified(false)
                    .disable_content_disposition()
                    .default_handler(web::to(asset_not_found)),
            ),
        );
    } else {
        cfg.service(scope);
    }
}

async fn asset_not_found(req: HttpRequest) -> HttpResponse {
    ApiError::NotFound(format!("No asset at {}", req.path())).error_response()
}

/// Caches what was found; anything the file service refuses (an encoded slash, `..`) is the
/// same JSON 404 as a missing file, never actix-files' plain-text 400.
async fn immutable_cache(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let path = req.path().to_owned();
    let res = next
        .call(req)
        .await
        .map_err(|_| ApiError::NotFound(format!("No asset at {path}")))?;
    if res.status().is_client_error() {
        let (request, _) = res.into_parts();
        let response = asset_not_found(request.clone()).await;
        return Ok(ServiceResponse::new(request, response).map_into_right_body());
    }
    let mut res = res;
    if res.status().is_success() {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    Ok(res.map_into_left_body())
}

/// Where `index.html` lives; shared with the default service.
#[derive(Clone)]
pub struct SpaDir(pub PathBuf);

/// The app's default service: `index.html` for GET/HEAD, JSON 404 for anything else. The
/// Admin page's address answers `404` (with the app, which then says "not found") to anyone
/// but an administrator.
pub async fn index(req: HttpRequest, dir: web::Data<SpaDir>) -> HttpResponse {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return ApiError::NotFound(format!("No route matches {} {}", req.method(), req.path()))
            .error_response();
    }
    let path = dir.0.join("index.html");
    if (req.path() == "/admin" || req.path().starts_with("/admin/"))
        && let Some(state) = req.app_data::<web::Data<crate::state::AppState>>()
        && !crate::admin::is_admin_request(&req, state).await
    {
        // The whole page, never a 304: a conditional answer would lose the status.
        if let Ok(html) = tokio::fs::read(&path).await {
            return HttpResponse::NotFound()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .content_type("text/html; charset=utf-8")
                .body(html);
        }
    }
    match NamedFile::open_async(&path).await {
        Ok(file) => {
            let mut res = file
                .use_last_modified(false)
                .disable_content_disposition()
                .into_response(&req);
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            res
        }
        Err(_) => HttpResponse::ServiceUnavailable()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!doctype html><title>Chatkeep</title><h1>The web app is not built</h1>\
                 <p>No <code>{}</code>. Build it with <code>scripts/build-spa.sh</code> \
                 (the README's run command does this), or set <code>CHATKEEP_SPA_DIR</code>. \
                 The API is up: see <a href=\"/api/docs/\">/api/docs/</a>.</p>",
                path.display()
            )),
    }
}
