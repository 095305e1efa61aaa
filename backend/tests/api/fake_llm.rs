//! A fake OpenAI-compatible upstream: the one thing in these tests we do not own. A real HTTP
//! server on a free port; the `model` a request names picks its behaviour, so one fake serves
//! every scenario. It records each request so tests can check what Chatkeep sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

pub struct FakeLlm {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    handle: ServerHandle,
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub authorization: Option<String>,
    pub body: serde_json::Value,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn chunk(content: &str) -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({ "choices": [{ "index": 0, "delta": { "content": content } }] })
    )
}

const ROLE_CHUNK: &str =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n";
const STOP_CHUNK: &str =
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
const USAGE_CHUNK: &str = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13}}\n\n";
const DONE: &str = "data: [DONE]\n\n";

/// What to write, and how long to wait before each piece.
fn script(model: &str) -> Vec<(Duration, String)> {
    let now = Duration::ZERO;
    let tick = Duration::from_millis(50);
    match model {
        "instant" => vec![
            (now, ROLE_CHUNK.into()),
            (now, chunk("Hello")),
            (now, chunk(" world")),
            (now, STOP_CHUNK.into()),
            (now, USAGE_CHUNK.into()),
            (now, DONE.into()),
        ],
        // A byte or three at a time: every line is cut somewhere.
        "split" => {
            let whole = [
                ROLE_CHUNK.to_owned(),
                chunk("Split "),
                chunk("reads"),
                STOP_CHUNK.into(),
                DONE.into(),
            ]
            .concat();
            whole
                .as_bytes()
                .chunks(3)
                .map(|c| {
                    (
                        Duration::from_millis(2),
                        String::from_utf8_lossy(c).into_owned(),
                    )
                })
                .collect()
        }
        "citations" => vec![
            (
                now,
                format!(
                    "data: {}\n\n",
                    serde_json::json!({
                        "citations": ["https://example.com/a", "https://example.com/b"],
                        "choices": [{ "index": 0, "delta": { "content": "Cited [1][2]." } }]
                    })
                ),
            ),
            (now, STOP_CHUNK.into()),
            (now, DONE.into()),
        ],
        // Ten seconds of ticks: long enough to stop, disconnect, or fill the slots.
        "slow" => std::iter::once((now, ROLE_CHUNK.to_owned()))
            .chain((0..200).map(|_| (tick, chunk("tick "))))
            .chain([(now, STOP_CHUNK.to_owned()), (now, DONE.to_owned())])
            .collect(),
        // Half a second of ticks: long enough to leave mid-answer, short enough for many.
        "brief" => std::iter::once((now, ROLE_CHUNK.to_owned()))
            .chain((0..20).map(|_| (Duration::from_millis(25), chunk("tick "))))
            .chain([(now, STOP_CHUNK.to_owned()), (now, DONE.to_owned())])
            .collect(),
        "hang" => vec![
            (now, chunk("Partial ")),
            (now, chunk("answer")),
            (Duration::from_secs(3600), DONE.into()),
        ],
        "no-done" => vec![(now, chunk("Cut ")), (now, chunk("off"))],
        "malformed" => vec![
            (now, chunk("Before ")),
            (now, "data: {this is not json\n\n".into()),
        ],
        "midstream-error" => vec![
            (now, chunk("Half ")),
            (
                now,
                "data: {\"error\":{\"message\":\"model overloaded\"}}\n\n".into(),
            ),
        ],
        other => panic!("the fake upstream has no script for model {other:?}"),
    }
}

async fn completions(
    req: HttpRequest,
    body: web::Json<serde_json::Value>,
    requests: web::Data<Arc<Mutex<Vec<Recorded>>>>,
) -> HttpResponse {
    requests.lock().unwrap().push(Recorded {
        authorization: req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: body.0.clone(),
    });
    let model = body["model"].as_str().unwrap_or_default().to_owned();
    if model == "error-500" {
        return HttpResponse::InternalServerError()
            .json(serde_json::json!({ "error": { "message": "the fake upstream broke", "type": "server_error" } }));
    }
    let steps = script(&model);
    let stream = futures_util::stream::unfold(steps.into_iter(), |mut steps| async move {
        let (wait, piece) = steps.next()?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Some((Ok::<_, actix_web::Error>(web::Bytes::from(piece)), steps))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(stream)
}

pub async fn start() -> FakeLlm {
    let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let shared = web::Data::new(requests.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .route("/v1/chat/completions", web::post().to(completions))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    FakeLlm {
        url: format!("http://127.0.0.1:{port}"),
        requests,
        handle,
    }
}
