//! A real PgBouncer in transaction mode in front of the machine's PostgreSQL, on a port of its
//! own, for one test: what a pooled Neon URL is. `scripts/lib.sh` (`ensure_pgbouncer`) installs
//! it; `CHATKEEP_PGBOUNCER` may name another `pgbouncer`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct PgBouncer {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CHATKEEP_PGBOUNCER") {
        return path.into();
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    let path = Path::new(&home).join(".cache/chatkeep-tools/pgbouncer-trixie/pgbouncer");
    assert!(
        path.exists(),
        "PgBouncer is not installed at {}: run scripts/test.sh, which installs it, or set \
         CHATKEEP_PGBOUNCER to a pgbouncer 1.21 or later",
        path.display()
    );
    path
}

impl PgBouncer {
    /// Starts PgBouncer for every database on 127.0.0.1:5432, in transaction mode, with at most
    /// `pool_size` server connections per database and user: fewer than the app's pool, so the
    /// app's connections take turns on the same server connections.
    pub fn start(pool_size: u32) -> Self {
        let dir = std::env::temp_dir().join(format!("chatkeep-pgbouncer-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let port = super::free_port();
        let ini = dir.join("pgbouncer.ini");
        std::fs::write(
            dir.join("users.txt"),
            "\"postgres\" \"\"\n\"chatkeep_app\" \"\"\n",
        )
        .expect("users file");
        std::fs::write(
            &ini,
            format!(
                "[databases]\n\
                 * = host=127.0.0.1 port=5432\n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {port}\n\
                 unix_socket_dir =\n\
                 auth_type = trust\n\
                 auth_file = {users}\n\
                 pool_mode = transaction\n\
                 default_pool_size = {pool_size}\n\
                 max_client_conn = 500\n\
                 max_prepared_statements = 500\n\
                 ignore_startup_parameters = extra_float_digits,options\n\
                 logfile = {log}\n",
                users = dir.join("users.txt").display(),
                log = dir.join("pgbouncer.log").display(),
            ),
        )
        .expect("pgbouncer.ini");
        let mut command = Command::new(binary());
        // PgBouncer will not run as root; it drops to `nobody`, who must read the folder.
        let root = super::is_root();
        if root {
            command.args(["-u", "nobody"]);
            set_world_readable(&dir);
        }
        let child = command
            .arg(&ini)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pgbouncer starts");
        let mut pgbouncer = Self { port, child, dir };
        pgbouncer.wait_until_listening();
        pgbouncer
    }

    pub fn url(&self, user: &str, database: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{database}", self.port)
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("pgbouncer exited with {status}: {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "pgbouncer did not listen: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }
}

fn set_world_readable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777));
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let _ = std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o644));
    }
}
