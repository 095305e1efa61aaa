//! Real processes a test starts, and stops when it ends: the `chatkeep` binary, a Redis of its
//! own, and Debian's nginx as a load balancer (`scripts/lib.sh` installs Redis and nginx).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{TEST_SECRET, fixture_dir};

/// The `chatkeep` binary serving one database, on a port the OS chose.
pub struct Instance {
    /// `http://127.0.0.1:<port>`, where it listens.
    pub address: String,
    child: Option<Child>,
    log: Option<JoinHandle<Vec<String>>>,
}

impl Instance {
    /// Starts it on `database_url` with the tests' secret, SPA and docs, and `env` on top; returns
    /// once it says where it listens.
    pub fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chatkeep"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("CHATKEEP_BIND", "127.0.0.1:0")
            .env("BETTER_AUTH_SECRET", TEST_SECRET)
            .env("CHATKEEP_SPA_DIR", fixture_dir("spa"))
            .env("DOCS_DIR", fixture_dir("docs"))
            .env("AGENT_API_KEY", "test-key")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info");
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chatkeep starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("chatkeep said where it listens")
                .expect("chatkeep's log is text");
            if let Some(at) = line.find("listening on http://") {
                let rest = &line[at + "listening on ".len()..];
                break rest
                    .split(|c: char| c.is_whitespace() || c == '"' || c == '(')
                    .next()
                    .expect("an address after 'listening on'")
                    .to_owned();
            }
        };
        // Keep reading the log so the process never blocks on a full pipe.
        let log = std::thread::spawn(move || lines.map_while(Result::ok).collect());
        Self {
            address,
            child: Some(child),
            log: Some(log),
        }
    }

    /// `host:port`, for a proxy's configuration.
    pub fn host_port(&self) -> &str {
        self.address.trim_start_matches("http://")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("still running").id()
    }

    /// Waits for the process to end by itself; its exit status and its whole log.
    pub async fn exit(mut self) -> (ExitStatus, String) {
        let mut child = self.child.take().expect("still running");
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .expect("the waiting thread ran")
            .expect("the exit status");
        let log = self.log.take().expect("the log reader").join();
        (status, log.expect("the log reader ended").join("\n"))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until something listens on `port` (at most 5 s).
fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Redis of the test's own, on a free port, that the test can stop and start again.
pub struct OwnRedis {
    pub port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    pub fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts (scripts/test.sh installs it)");
        wait_for_port(port, "redis-server");
        Self {
            port,
            child: Some(child),
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Debian's nginx running the shipped `deploy/nginx.conf` (the compose profile's round-robin
/// load balancer), pointed at `upstreams` instead of the compose services, on its own port. It
/// also logs which upstream served each request, so a test can see that both did.
pub struct Nginx {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

/// Replaces `from` with `to` in `text`, which must contain it: the shipped file and this
/// harness must not drift apart silently.
fn swap(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "deploy/nginx.conf no longer has {from:?}"
    );
    text.replacen(from, to, 1)
}

impl Nginx {
    pub fn start(port: u16, upstreams: [&str; 2]) -> Self {
        let dir = std::env::temp_dir().join(format!("chatkeep-nginx-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/nginx.conf");
        let mut conf = std::fs::read_to_string(shipped).expect("deploy/nginx.conf");
        conf = swap(
            &conf,
            "server chatkeep-a:8080",
            &format!("server {}", upstreams[0]),
        );
        conf = swap(
            &conf,
            "server chatkeep-b:8080",
            &format!("server {}", upstreams[1]),
        );
        conf = swap(&conf, "listen 8080;", &format!("listen 127.0.0.1:{port};"));
        let d = dir.display();
        conf = swap(
            &conf,
            "http {",
            &format!(
                "http {{\n\
                 log_format upstream '$upstream_addr $status $request';\n\
                 access_log {d}/access.log upstream;\n\
                 client_body_temp_path {d}/body;\n\
                 proxy_temp_path {d}/proxy;\n\
                 fastcgi_temp_path {d}/fastcgi;\n\
                 uwsgi_temp_path {d}/uwsgi;\n\
                 scgi_temp_path {d}/scgi;\n"
            ),
        );
        // As root, nginx's workers would run as nobody; here they stay this test's user.
        let user = if super::is_root() {
            "user root root;\n"
        } else {
            ""
        };
        conf =
            format!("{user}daemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n{conf}");
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("nginx.conf");
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts (scripts/test.sh installs it)");
        wait_for_port(port, "nginx");
        Self { port, child, dir }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One line per request: the upstream (`host:port`) that served it, the status, the
    /// request line.
    pub fn access_log(&self) -> PathBuf {
        self.dir.join("access.log")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn nginx_binary() -> PathBuf {
    std::env::var_os("CHATKEEP_NGINX").map_or_else(|| "/usr/sbin/nginx".into(), PathBuf::from)
}

/// A real SMTP server (npm `smtp-server`, `e2e/lib/smtp-sink.mjs`) in a process of its own, that
/// keeps every message it receives, parsed; `scripts/test.sh` installs its npm packages.
pub struct SmtpSink {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

/// One message the sink received.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMail {
    pub envelope_to: Vec<String>,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl SentMail {
    /// The first link in the text that contains `part`.
    pub fn link(&self, part: &str) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(part))
            .unwrap_or_else(|| panic!("no link with {part} in: {}", self.text))
            .to_owned()
    }
}

impl SmtpSink {
    pub fn start() -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../e2e/lib/smtp-sink.mjs");
        let dir = std::env::temp_dir().join(format!("chatkeep-smtp-{}", rand_suffix()));
        let mut child = Command::new("node")
            .arg(&script)
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts the SMTP sink (scripts/test.sh installs its packages)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout is piped"))
            .read_line(&mut line)
            .expect("the sink says where it listens");
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"));
        Self { port, dir, child }
    }

    /// `SMTP_URL` for a Chatkeep that sends here.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message so far, in the order they arrived.
    pub fn messages(&self) -> Vec<SentMail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    /// How many messages so far have a subject that starts with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.messages()
            .iter()
            .filter(|m| m.subject.starts_with(prefix))
            .count()
    }

    /// The `nth` (from 0) message to `to` whose subject contains `subject`; waits for it (15 s
    /// at most).
    pub async fn wait_for(&self, to: &str, subject: &str, nth: usize) -> SentMail {
        let to = to.to_lowercase();
        for _ in 0..300 {
            if let Some(found) = self
                .messages()
                .into_iter()
                .filter(|m| m.envelope_to.contains(&to) && m.subject.contains(subject))
                .nth(nth)
            {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no mail to {to} about {subject:?}; the sink has {:?}",
            self.messages()
                .iter()
                .map(|m| (m.envelope_to.clone(), m.subject.clone()))
                .collect::<Vec<_>>()
        );
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    )
}
