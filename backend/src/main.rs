//! The `chatkeep` binary: reads the settings, starts the server, and exits non-zero with one
//! line saying why when it cannot.

use std::process::ExitCode;

use chatkeep::config::Settings;
use chatkeep::startup::Application;
use chatkeep::{openapi, telemetry};

const USAGE: &str = "\
chatkeep: accounts and private chat history for a RAG chatbot

USAGE:
    chatkeep            run the server (settings from the environment and .env)
    chatkeep openapi    print the OpenAPI document (as checked into openapi/openapi.json)
    chatkeep --help     this text
";

#[actix_web::main]
async fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => serve().await,
        Some("openapi") => {
            print!("{}", openapi::document_json());
            ExitCode::SUCCESS
        }
        Some("--help") | Some("-h") | Some("help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprint!("chatkeep: unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

async fn serve() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("chatkeep: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    let base_url = settings.base_url.clone();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("chatkeep: cannot start: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "Chatkeep listening on http://{} (public URL {base_url}, docs at {base_url}api/docs/)",
        app.local_addr()
    );
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chatkeep: server error: {e}");
            ExitCode::FAILURE
        }
    }
}
