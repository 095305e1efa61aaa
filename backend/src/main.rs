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
    chatkeep healthcheck
                        ask the server running here (CHATKEEP_BIND) whether it is ready:
                        exit 0 when its /readyz answers 200, 1 (and one line why) when not
    chatkeep seed [--users N] [--conversations-per-user N] [--messages-per-conversation N]
                  [--heavy-messages N]
                        write a realistic history into DATABASE_URL's database (defaults:
                        100 users x 10 conversations x 10 messages, and one heavy user with
                        100,000 messages); seeded users sign in as seed-user-N@example.com
                        with the password seeded-password-1234
    chatkeep admin grant EMAIL
    chatkeep admin revoke EMAIL
                        make the user with this address an administrator, or no longer
                        one (they sign up first; ADMIN_EMAILS is the other way in)
    chatkeep --help     this text
";

#[actix_web::main]
async fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => serve().await,
        Some("seed") => seed(std::env::args().skip(2).collect()).await,
        Some("admin") => admin(std::env::args().skip(2).collect()).await,
        Some("healthcheck") => healthcheck(),
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

/// The settings, with logging started; exit code 2 (and one line why) when they are invalid.
fn configured() -> Result<Settings, ExitCode> {
    let settings = Settings::from_env().map_err(|e| {
        eprintln!("chatkeep: configuration error: {e}");
        ExitCode::from(2)
    })?;
    telemetry::init(settings.log_format);
    Ok(settings)
}

async fn serve() -> ExitCode {
    let settings = match configured() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
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

/// `chatkeep healthcheck`: for a container's HEALTHCHECK (the runtime image has no curl).
fn healthcheck() -> ExitCode {
    let bind = match chatkeep::config::bind_address_from_env() {
        Ok(bind) => bind,
        Err(e) => {
            eprintln!("chatkeep healthcheck: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    match chatkeep::healthcheck::probe(bind) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("chatkeep healthcheck: not ready: {why}");
            ExitCode::FAILURE
        }
    }
}

/// `chatkeep seed ...`: migrates as the owner, then seeds over the owner's connection.
async fn seed(args: Vec<String>) -> ExitCode {
    let plan = match parse_seed_args(&args) {
        Ok(plan) => plan,
        Err(e) => {
            eprint!("chatkeep seed: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let settings = match configured() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let result = async {
        let mut database = chatkeep::db::connect_and_migrate(&settings.database, true).await?;
        chatkeep::seed::run(&mut database.owner, plan).await
    }
    .await;
    match result {
        Ok(report) => {
            println!(
                "seeded: {} users, {} conversations, {} messages (password {:?})",
                report.users,
                report.conversations,
                report.messages,
                chatkeep::seed::PASSWORD
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("chatkeep seed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `chatkeep admin grant|revoke EMAIL`: migrates as the owner, then sets the user's role.
async fn admin(args: Vec<String>) -> ExitCode {
    let (grant, email) = match args.as_slice() {
        [verb, email] if verb == "grant" => (true, email.clone()),
        [verb, email] if verb == "revoke" => (false, email.clone()),
        _ => {
            eprint!("chatkeep admin: give grant or revoke, and one email address\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let settings = match configured() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let result = async {
        let mut database = chatkeep::db::connect_and_migrate(&settings.database, true).await?;
        anyhow::Ok(chatkeep::auth::admin::grant(&mut database.owner, &email, grant).await?)
    }
    .await;
    match result {
        Ok(Some(user)) => {
            let roles = user.role.unwrap_or_default();
            let now = if grant {
                "is an administrator"
            } else {
                "is no longer an administrator"
            };
            println!("{} {now} (roles: {roles})", user.email);
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!(
                "chatkeep admin: nobody has the address {email:?}; they sign up first (or list \
                 it in ADMIN_EMAILS, which counts once the address is verified)"
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("chatkeep admin: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn parse_seed_args(args: &[String]) -> Result<chatkeep::seed::Plan, String> {
    let mut plan = chatkeep::seed::Plan {
        users: 100,
        conversations_per_user: 10,
        messages_per_conversation: 10,
        heavy_messages: 100_000,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let field = match flag.as_str() {
            "--users" => &mut plan.users,
            "--conversations-per-user" => &mut plan.conversations_per_user,
            "--messages-per-conversation" => &mut plan.messages_per_conversation,
            "--heavy-messages" => &mut plan.heavy_messages,
            other => return Err(format!("unknown option {other:?}")),
        };
        *field = args
            .next()
            .ok_or_else(|| format!("{flag} needs a number"))?
            .parse::<u32>()
            .map_err(|_| format!("{flag} needs a whole number"))?;
    }
    Ok(plan)
}
