//! A PostgreSQL of the test's own (initdb in a temporary folder, its own port), for tests that
//! stop it or change how it listens. Never the machine's shared server.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct TempPostgres {
    pub port: u16,
    pub dir: PathBuf,
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["stop", "-m", "immediate"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs a PostgreSQL tool as `postgres` when we are root (initdb and postgres refuse root).
fn run(program: &str, args: &[&str]) -> Output {
    if super::is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--", program])
            .args(args)
            .output()
    } else {
        Command::new(program).args(args).output()
    }
    .unwrap_or_else(|e| panic!("{program} runs: {e}"))
}

fn check(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl TempPostgres {
    /// A fresh cluster on a free port, trusting local TCP connections, with `conf` added to
    /// `postgresql.conf` and `hba` (when given) in place of `pg_hba.conf`. `prepare` runs on the
    /// data folder (as the test's user) before the server starts: certificates go there.
    pub fn start_with(conf: &str, hba: Option<&str>, prepare: impl FnOnce(&Path)) -> Self {
        let dir =
            std::env::temp_dir().join(format!("chatkeep-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        if super::is_root() {
            check(
                "chown",
                &Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(&dir)
                    .output()
                    .unwrap(),
            );
        }
        let data = dir.join("data");
        let data_str = data.to_str().unwrap();
        check(
            "initdb",
            &run(
                &format!("{BIN}/initdb"),
                &[
                    "-D",
                    data_str,
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
            ),
        );
        let port = super::free_port();
        let mut settings = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             fsync = off\nmax_connections = 50\n{conf}\n",
            dir.display()
        );
        settings.insert_str(
            0,
            &std::fs::read_to_string(data.join("postgresql.conf")).unwrap(),
        );
        std::fs::write(data.join("postgresql.conf"), settings).unwrap();
        if let Some(hba) = hba {
            std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
        }
        prepare(&data);
        if super::is_root() {
            check(
                "chown",
                &Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&dir)
                    .output()
                    .unwrap(),
            );
        }
        let postgres = Self { port, dir };
        postgres.start_again();
        postgres
    }

    pub fn start() -> Self {
        Self::start_with("", None, |_| {})
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn pg_ctl(&self, args: &[&str]) -> Output {
        let data = self.data();
        let mut all = vec!["-D", data.to_str().unwrap(), "-w", "-t", "30"];
        all.extend_from_slice(args);
        run(&format!("{BIN}/pg_ctl"), &all)
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start_again(&self) {
        let log = self.dir.join("postgres.log");
        check(
            "pg_ctl start",
            &self.pg_ctl(&["-l", log.to_str().unwrap(), "start"]),
        );
    }

    /// Stops the server the quick way an operator or a crash would: `-m immediate` ends every
    /// backend at once, with no goodbye to the clients.
    pub fn stop(&self) {
        check("pg_ctl stop", &self.pg_ctl(&["stop", "-m", "immediate"]));
    }

    /// The URL of `database` as `postgres`, with `params` (`sslmode=...`) when not empty.
    pub fn url(&self, database: &str, params: &str) -> String {
        let query = if params.is_empty() {
            String::new()
        } else {
            format!("?{params}")
        };
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}{query}",
            self.port
        )
    }
}
