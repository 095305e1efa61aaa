//! The composition root: builds the state, stacks the middleware, mounts the routes and binds
//! the socket. Wiring only; every piece it wires lives in its own module.

use std::net::TcpListener;
use std::time::Instant;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use sqlx::PgPool;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::account::slots::Slots;
use crate::auth::AuthState;
use crate::config::Settings;
use crate::messages::runtime::ChatRuntime;
use crate::rate_limit::RateLimiter;
use crate::state::AppState;

use crate::{cors, db, error, openapi, routes, security_headers, spa, telemetry};

pub struct Application {
    server: Server,
    local_addr: std::net::SocketAddr,
    pool: PgPool,
    drain: crate::shutdown::Drain,
}

impl Application {
    /// Connects to PostgreSQL (creating and migrating the database as needed) and binds.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let allow_owner_login = settings.environment != crate::config::Environment::Production;
        let db::Database { pool, mut owner } =
            db::connect_and_migrate(&settings.database, allow_owner_login).await?;
        crate::search::language::ensure(&mut owner, &settings.history.search_language).await?;
        if settings.agent.url.is_none() {
            crate::agent::retrieval::index_at_startup(&mut owner, &settings.agent.docs_dir).await;
        }
        let _ = sqlx::Connection::close(owner).await;
        Self::build_with_pool(settings, pool)
    }

    /// Binds with an existing, migrated pool (tests hand in a fresh database).
    pub fn build_with_pool(mut settings: Settings, pool: PgPool) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {} (CHATKEEP_BIND)", settings.bind))?;
        let local_addr = listener.local_addr()?;
        if settings.base_url.port() == Some(0) {
            // Port 0 (tests): the public URL is wherever the OS put us.
            let _ = settings.base_url.set_port(Some(local_addr.port()));
        }
        let shutdown_timeout = settings.shutdown_timeout_secs;
        let json_limit = settings.json_limit;
        let spa_dir = settings.spa_dir.clone();

        // reqwest (external JWKS, the agent) and sqlx share rustls with the ring provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let auth = AuthState::new(&settings, pool.clone())?;
        let auth_rate_limiter = match (&settings.redis_url, settings.auth.rate_limit) {
            (_, false) => None,
            (Some(url), true) => Some(RateLimiter::redis(url.expose())?),
            (None, true) => Some(RateLimiter::memory()),
        };
        if settings.auth.guests.enabled {
            crate::account::guests::sweep_expired(
                pool.clone(),
                settings.auth.guests.retention_days,
            );
        }
        let chat = ChatRuntime::new(&settings, pool.clone())?;
        chat.stops.listen(&chat.running);
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            settings,
            started_at: Instant::now(),
            auth,
            auth_rate_limiter,
            chat,
            exports: Slots::new("export", crate::state::EXPORTS_AT_ONCE),
            imports: Slots::new("import", crate::state::IMPORTS_AT_ONCE),
        });
        if !spa_dir.join("index.html").is_file() {
            tracing::warn!(
                spa_dir = %spa_dir.display(),
                "the web app is not built: / explains how (scripts/build-spa.sh); the API works"
            );
        }
        let spa_dir_data = web::Data::new(spa::SpaDir(spa_dir.clone()));
        let doc = openapi::document();

        let drain = crate::shutdown::Drain {
            draining: web::Data::new(crate::shutdown::Draining::default()),
            running: state.chat.running.clone(),
            grace: std::time::Duration::from_secs(shutdown_timeout),
        };
        let draining = drain.draining.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(crate::shutdown::refuse_while_draining))
                .wrap(from_fn(error::refuse_nul_in_query))
                .wrap(from_fn(error::refuse_oversized_head))
                .wrap(from_fn(error::ensure_json_errors))
                .wrap(from_fn(cors::cors))
                .wrap(from_fn(telemetry::request_telemetry))
                .wrap(from_fn(security_headers::add))
                .app_data(state.clone())
                .app_data(draining.clone())
                .app_data(spa_dir_data.clone())
                .configure(|cfg| error::configure_extractors(cfg, json_limit))
                // The docs must be registered before the `/api` scope, which would swallow them.
                .service(web::redirect("/api/docs", "/api/docs/"))
                .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", doc.clone()))
                .into_utoipa_app()
                .configure(routes::routes)
                .into_app()
                .configure(|cfg| spa::configure(cfg, &spa_dir))
                .default_service(web::to(spa::index))
        })
        .disable_signals()
        .shutdown_timeout(shutdown_timeout)
        .listen(listener)?
        .run();

        Ok(Self {
            server,
            local_addr,
            pool,
            drain,
        })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.local_addr
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// Serves until SIGINT or SIGTERM, then drains ([`crate::shutdown`]): new requests get 503,
    /// answers being written get `CHATKEEP_SHUTDOWN_TIMEOUT` to finish and are then stopped and
    /// saved; then it stops serving and closes the pool.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        tokio::spawn(crate::shutdown::on_signal(self.drain, handle));
        let result = self.server.await;
        self.pool.close().await;
        tracing::info!("stopped");
        result
    }

    /// Serves until the returned handle is stopped (tests).
    pub fn spawn(self) -> ServerHandle {
        let handle = self.server.handle();
        tokio::spawn(self.server);
        handle
    }
}
