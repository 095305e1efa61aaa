//! The route table: every documented route, in one place, so the server and the OpenAPI
//! document can never disagree.

use actix_web::web;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{auth, error, health};

/// Every documented route. Used by the server and by [`crate::openapi::document`], so the spec can
/// never list a route the server lacks, or miss one it has.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        // Before `/api`, which would otherwise swallow `/api/auth/*`.
        .configure(auth::configure)
        .service(
            scope("/api")
                .service(auth::get_me)
                .service(auth::features::features)
                .configure(crate::account::configure)
                .configure(crate::admin::configure)
                .configure(crate::conversations::configure)
                .configure(crate::messages::configure)
                .configure(crate::feedback::configure)
                .configure(crate::search::configure)
                .default_service(web::to(error::api_route_not_found)),
        );
}
