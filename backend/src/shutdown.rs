//! Stopping without losing anything: on SIGTERM or SIGINT the server keeps its port open but
//! answers every new request `503 SHUTTING_DOWN` (so a proxy retries it on another instance),
//! gives the answers being written `CHATKEEP_SHUTDOWN_TIMEOUT` seconds to finish, stops the ones
//! still going (stored as `stopped`, with what they had), waits for them to be saved, and only
//! then stops serving and closes the pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use shared::ErrorBody;
use tokio::time::Instant;

use crate::messages::running::Running;

/// How long stopped answers get to save their final state before the server stops anyway.
const SAVE_AFTER_STOP: Duration = Duration::from_secs(10);

/// Set once a stop signal has come: from then on new requests are turned away.
#[derive(Default)]
pub struct Draining(AtomicBool);

impl Draining {
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// While draining, every request but the liveness probe gets `503 SHUTTING_DOWN`, with
/// `Connection: close` so keep-alive clients reconnect (through the proxy, elsewhere).
pub async fn refuse_while_draining(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let draining = req
        .app_data::<web::Data<Draining>>()
        .is_some_and(|draining| draining.is_on());
    if !draining || req.path() == "/healthz" {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let response = HttpResponse::ServiceUnavailable()
        .insert_header(("retry-after", "1"))
        .insert_header(("connection", "close"))
        .json(ErrorBody {
            code: "SHUTTING_DOWN".to_owned(),
            message: "This server is restarting; please retry.".to_owned(),
        });
    Ok(req.into_response(response).map_into_right_body())
}

/// What a stop needs: the flag the middleware reads, the answers being written, and how long
/// they get to finish (`CHATKEEP_SHUTDOWN_TIMEOUT`).
pub struct Drain {
    pub draining: web::Data<Draining>,
    pub running: Arc<Running>,
    pub grace: Duration,
}

/// Waits for SIGINT or SIGTERM, then drains (see the module) and stops `server`.
pub async fn on_signal(drain: Drain, server: ServerHandle) {
    let signal = wait_for_signal().await;
    tracing::info!(
        signal,
        "stopping: new requests get 503, answers being written may finish"
    );
    drain.draining.start();
    let running = &drain.running;
    let finished = running.wait_until_none(Instant::now() + drain.grace).await;
    if !finished {
        let stopped = running.stop_all();
        tracing::info!(
            stopped,
            "grace period over: stopping the answers still being written"
        );
        if !running
            .wait_until_none(Instant::now() + SAVE_AFTER_STOP)
            .await
        {
            tracing::warn!("some stopped answers were not saved in time");
        }
    }
    server.stop(true).await;
}

async fn wait_for_signal() -> &'static str {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => "SIGINT",
        () = terminate => "SIGTERM",
    }
}
