//! Better Auth's `symmetricEncrypt` and `symmetricDecrypt`, so either server reads what the other
//! encrypted (the JWT signing key in `jwks.privateKey`).
//!
//! `hex(nonce[24] ‖ XChaCha20-Poly1305(key = SHA-256(UTF-8 secret), nonce, plaintext) ‖ tag[16])`,
//! no associated data. With `BETTER_AUTH_SECRETS` the hex is wrapped as `$ba$<version>$<hex>` and
//! decrypts with exactly that version's secret; bare hex decrypts with the secret from before
//! rotation ([`Secrets::unversioned`]).

use anyhow::{Context, bail};
use chacha20poly1305::aead::Aead;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use super::secret::Secrets;

const ENVELOPE: &str = "$ba$";

type Key = [u8; 32];

fn key_of(secret: &str) -> Key {
    Sha256::digest(secret.as_bytes()).into()
}

/// HKDF-SHA256 (RFC 5869) of `secret` with Better Auth's salt, one 32-byte block, as hex.
fn purpose_key(secret: &str, purpose: &str) -> String {
    use hmac::{Hmac, Mac};
    let mac = |key: &[u8], parts: &[&[u8]]| {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes()
    };
    let prk = mac(b"better-auth:oauth-encryption:v1", &[secret.as_bytes()]);
    let info = format!("better-auth:{purpose}:v1");
    hex::encode(mac(&prk, &[info.as_bytes(), &[1]]))
}

pub struct Sealer {
    /// Encrypts: the current secret's key, and its version when rotation is on.
    current: (Option<u32>, Key),
    versions: Vec<(u32, Key)>,
    unversioned: Vec<Key>,
}

impl Sealer {
    pub fn new(secrets: &Secrets) -> Self {
        Self::keyed(secrets, key_of)
    }

    /// Better Auth's `derivePurposeKey(secret, purpose)` before encrypting: each secret becomes
    /// `hex(HKDF-SHA256(secret, salt, "better-auth:<purpose>:v1"))`, so a value sealed for one
    /// purpose (the session token of an account link, say) opens for no other.
    pub fn for_purpose(secrets: &Secrets, purpose: &str) -> Self {
        Self::keyed(secrets, |secret| key_of(&purpose_key(secret, purpose)))
    }

    fn keyed(secrets: &Secrets, key: impl Fn(&str) -> Key) -> Self {
        Self {
            current: (secrets.current_version(), key(secrets.current())),
            versions: secrets
                .versions()
                .map(|(version, secret)| (version, key(secret)))
                .collect(),
            unversioned: secrets.unversioned().into_iter().map(key).collect(),
        }
    }

    pub fn seal(&self, plaintext: &str) -> anyhow::Result<String> {
        let (version, key) = &self.current;
        let nonce: [u8; 24] = rand::random();
        let sealed = XChaCha20Poly1305::new(key.into())
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        let hex = hex::encode(bytes);
        Ok(match version {
            Some(version) => format!("{ENVELOPE}{version}${hex}"),
            None => hex,
        })
    }

    pub fn open(&self, sealed: &str) -> anyhow::Result<String> {
        let (keys, hex_text): (Vec<&Key>, &str) = match sealed.strip_prefix(ENVELOPE) {
            Some(rest) => {
                let (version, hex_text) = rest
                    .split_once('$')
                    .context("a versioned value without its version")?;
                let version: u32 = version.parse().context("a version that is not a number")?;
                let Some((_, key)) = self.versions.iter().find(|(v, _)| *v == version) else {
                    bail!(
                        "encrypted with secret version {version}, which BETTER_AUTH_SECRETS no \
                         longer lists"
                    );
                };
                (vec![key], hex_text)
            }
            None => (self.unversioned.iter().collect(), sealed),
        };
        let bytes = hex::decode(hex_text).context("not hex")?;
        if bytes.len() < 24 + 16 {
            bail!("too short to be encrypted");
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let plain = keys
            .into_iter()
            .find_map(|key| {
                XChaCha20Poly1305::new(key.into())
                    .decrypt(XNonce::from_slice(nonce), ciphertext)
                    .ok()
            })
            .context(
                "cannot decrypt: it was encrypted with another secret than BETTER_AUTH_SECRET \
                 (or the versions of BETTER_AUTH_SECRETS)",
            )?;
        String::from_utf8(plain).context("decrypted value is not UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    const OLD: &str = "old-secret-0123456789-0123456789-xx";
    const NEW: &str = "new-secret-0123456789-0123456789-xx";
    const PLAIN: &str = "chatkeep reads what better auth sealed";
    /// `symmetricEncrypt({key: OLD, data: PLAIN})` from better-auth 1.7.29's `better-auth/crypto`.
    const BETTER_AUTH_BARE: &str = "b36899367d04f47381f0289491a4034b4d7873050509913bf2ff2262e1fc685aedf9e290cd707f693e1806309891edc933a57f7ab152249b5b8e71bda3d1b7f02d6b6c9bcf14b673eacd09906280";
    /// The same with `{keys: {2: NEW, 1: OLD}, currentVersion: 2}`.
    const BETTER_AUTH_V2: &str = "$ba$2$60c0f8358f18317582b5dac5ddaca00428585a413d195883f24ffb7e96b236b0f1ba2c7e796e4bff68bc36804f8e9d7bad477b3a8fa93608517aee0da74cc420b662b4cd2f72744e7aeec230b47d";

    fn rotated(entries: &[(u32, &str)], legacy: Option<&str>) -> Secrets {
        Secrets::rotated(
            entries
                .iter()
                .map(|(v, s)| (*v, Secret::new((*s).to_owned())))
                .collect(),
            legacy.map(|s| Secret::new(s.to_owned())),
        )
    }

    #[test]
    fn purpose_keys_are_better_auths() {
        // `derivePurposeKey(OLD, "oauth-link-session-token")` from better-auth 1.7.29.
        assert_eq!(
            purpose_key(OLD, "oauth-link-session-token"),
            "63dbd037393fe65682c01f967aad33b894218371caf1637d3656a9df8dab9ec1"
        );
    }

    #[test]
    fn reads_what_better_auth_encrypted_with_and_without_rotation() {
        let single = Sealer::new(&Secrets::single(Secret::new(OLD.to_owned())));
        assert_eq!(single.open(BETTER_AUTH_BARE).unwrap(), PLAIN);

        let sealer = Sealer::new(&rotated(&[(2, NEW), (1, OLD)], Some(OLD)));
        assert_eq!(sealer.open(BETTER_AUTH_V2).unwrap(), PLAIN);
        assert_eq!(
            sealer.open(BETTER_AUTH_BARE).unwrap(),
            PLAIN,
            "bare hex: the legacy secret"
        );
    }

    #[test]
    fn encrypts_with_the_current_version_and_decrypts_with_the_one_named() {
        let sealer = Sealer::new(&rotated(&[(2, NEW), (1, OLD)], None));
        let sealed = sealer.seal(PLAIN).unwrap();
        assert!(sealed.starts_with("$ba$2$"), "{sealed}");
        assert_eq!(sealer.open(&sealed).unwrap(), PLAIN);

        // Version 3 added, 1 retired: version 2's value still opens; nothing opens as version 1.
        let later = Sealer::new(&rotated(
            &[(3, "newest-secret-0123456789-0123456789"), (2, NEW)],
            None,
        ));
        assert_eq!(later.open(&sealed).unwrap(), PLAIN);
        let retired = Sealer::new(&rotated(
            &[(3, "newest-secret-0123456789-0123456789")],
            None,
        ));
        let err = format!("{:#}", retired.open(&sealed).unwrap_err());
        assert!(err.contains("version 2"), "{err}");

        // The envelope names the key: a value relabelled with another version does not open.
        let relabelled = sealed.replacen("$ba$2$", "$ba$1$", 1);
        assert!(sealer.open(&relabelled).is_err());
    }

    #[test]
    fn without_rotation_values_are_bare_hex_and_another_secret_cannot_open_them() {
        let sealer = Sealer::new(&Secrets::single(Secret::new(NEW.to_owned())));
        let sealed = sealer.seal(PLAIN).unwrap();
        assert!(sealed.bytes().all(|b| b.is_ascii_hexdigit()), "{sealed}");
        assert!(
            Sealer::new(&Secrets::single(Secret::new(OLD.to_owned())))
                .open(&sealed)
                .is_err()
        );
        for junk in ["", "zz", "$ba$", "$ba$x$00", "$ba$2$zz", "00ff"] {
            assert!(sealer.open(junk).is_err(), "{junk:?}");
        }
    }
}
