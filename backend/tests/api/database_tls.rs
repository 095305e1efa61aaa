//! PostgreSQL over TLS, as managed databases (Neon) require: a server of the test's own with
//! `ssl = on`, a certificate made by a CA the test makes, and plain connections refused.
//! `sslmode=require` and `verify-full` connect; a CA that did not sign the server's certificate
//! stops startup with one clear line.

use std::path::Path;
use std::process::Command;

use chatkeep::startup::Application;

use crate::helpers::{TempPostgres, sign_up_at, test_settings};

fn openssl(args: &[&str], dir: &Path) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA named `name`, as `name.crt` and `name.key` in `dir`.
fn make_ca(dir: &Path, name: &str) {
    let (crt, key) = (format!("{name}.crt"), format!("{name}.key"));
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
        dir,
    );
}

/// A PostgreSQL that speaks only TLS, its certificate for `localhost` and 127.0.0.1 signed by
/// `ca.crt`; `wrong-ca.crt` is another CA. Returns the server and the certificates' folder.
fn tls_postgres() -> (TempPostgres, std::path::PathBuf) {
    let certs =
        std::env::temp_dir().join(format!("chatkeep-certs-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&certs).unwrap();
    make_ca(&certs, "ca");
    make_ca(&certs, "wrong-ca");
    openssl(
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
        &certs,
    );
    std::fs::write(
        certs.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
        &certs,
    );
    let postgres = TempPostgres::start_with(
        "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
        // Only TLS: a plain connection is refused, so one that works went over TLS.
        Some(
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        ),
        |data| {
            for file in ["server.crt", "server.key"] {
                std::fs::copy(certs.join(file), data.join(file)).unwrap();
            }
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                data.join("server.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
        },
    );
    (postgres, certs)
}

async fn serves_a_user(settings: chatkeep::config::Settings) {
    let app = Application::build(settings).await.expect("starts over TLS");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.spawn();
    sign_up_at(&reqwest::Client::new(), &address, "tls").await;
    handle.stop(false).await;
}

#[tokio::test]
async fn the_server_connects_over_tls_with_require_and_verify_full_and_a_wrong_ca_stops_startup() {
    let (postgres, certs) = tls_postgres();
    let ca = certs.join("ca.crt");
    let wrong = certs.join("wrong-ca.crt");

    // Plain TCP is refused by this server.
    let plain = test_settings(&[("DATABASE_URL", &postgres.url("chatkeep", "sslmode=disable"))]);
    assert!(
        Application::build(plain).await.is_err(),
        "a plain connection is refused"
    );

    // sslmode=require: encrypted, the certificate not checked.
    serves_a_user(test_settings(&[(
        "DATABASE_URL",
        &postgres.url("chatkeep", "sslmode=require"),
    )]))
    .await;

    // verify-full: the certificate chains to our CA and names the host.
    let verified = format!("sslmode=verify-full&sslrootcert={}", ca.display());
    serves_a_user(test_settings(&[(
        "DATABASE_URL",
        &postgres.url("chatkeep", &verified),
    )]))
    .await;
    let localhost = postgres
        .url("chatkeep", &verified)
        .replace("127.0.0.1", "localhost");
    serves_a_user(test_settings(&[("DATABASE_URL", &localhost)])).await;

    // A CA that did not sign it: startup stops, and says why in one line.
    let wrong_ca = format!("sslmode=verify-full&sslrootcert={}", wrong.display());
    let settings = test_settings(&[("DATABASE_URL", &postgres.url("chatkeep", &wrong_ca))]);
    let err = Application::build(settings)
        .await
        .err()
        .expect("startup stops with the wrong CA");
    let message = format!("{err:#}");
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(
        message.contains(&format!("127.0.0.1:{}/chatkeep", postgres.port)),
        "{message}"
    );
    assert!(message.contains("certificate"), "{message}");
    assert!(
        message.contains("sslrootcert"),
        "says what to check: {message}"
    );

    let _ = std::fs::remove_dir_all(&certs);
}
