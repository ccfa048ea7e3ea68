//! Escrow of new values: age encryption to the recipient configured in `tokenops.yaml`
//! (`escrow.recipient`), decryption with the identity the CLI read from the environment.
//! The ledger only ever holds the ASCII-armored ciphertext. When a value cannot be opened,
//! the error says which of the two ends is wrong: the identity in the environment (compared
//! with `escrow.recipient`), or the escrowed text in the ledger.

use std::io::{Read, Write};
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroize;

/// Escrow could not be done or undone.
#[derive(Debug, thiserror::Error)]
pub enum EscrowError {
    /// The configured recipient does not parse.
    #[error(
        "tokenops.yaml escrow.recipient is not an age X25519 recipient ({0}); generate one with \
         `age-keygen` and put the public `age1…` line there"
    )]
    BadRecipient(String),
    /// The identity does not parse.
    #[error(
        "the escrow identity in {env} is not an age X25519 identity (`AGE-SECRET-KEY-1…`); export \
         the secret key that matches escrow.recipient"
    )]
    BadIdentity {
        /// The environment variable.
        env: String,
    },
    /// No identity is available to read escrowed values back.
    #[error(
        "an unfinished rotation needs its escrowed value, but {env} is not set; export the age \
         identity that matches escrow.recipient and run apply again"
    )]
    NoIdentity {
        /// The environment variable.
        env: String,
    },
    /// The identity is not the key the value was sealed to ("No matching keys found").
    #[error(
        "the escrowed value cannot be opened with the identity in {env}: it was sealed to \
         another key (age: No matching keys found). {why} Check with `age-keygen -y` which \
         recipient a secret key belongs to, and compare it with escrow.recipient in \
         tokenops.yaml"
    )]
    WrongKey {
        /// The environment variable.
        env: String,
        /// Which end is wrong, in words.
        why: String,
    },
    /// The escrowed text is damaged or cut short (e.g. "failed to fill whole buffer").
    #[error(
        "the escrowed value in the ledger is damaged or cut short (age: {reason}), so it \
         cannot be opened; {env} and escrow.recipient are not the cause (a wrong key says \
         \"No matching keys found\"). Check whether something edited or truncated the ledger, \
         and restore it from its previous copy (the CI artifact or the state backend's history)"
    )]
    Damaged {
        /// The environment variable.
        env: String,
        /// What age said.
        reason: String,
    },
    /// Encryption or decryption failed.
    #[error("escrow {0}")]
    Crypto(String),
}

/// Encrypts to a recipient and, given the identity, decrypts.
#[derive(Clone)]
pub struct Escrow {
    recipient: age::x25519::Recipient,
    identity: Option<SecretString>,
    identity_env: String,
}

impl std::fmt::Debug for Escrow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Escrow")
            .field("recipient", &self.recipient.to_string())
            .field("identity", &self.identity.as_ref().map(|_| "[set]"))
            .finish()
    }
}

impl Escrow {
    /// An escrow to `recipient`; `identity` (from `identity_env`) is needed only to resume.
    pub fn new(
        recipient: &str,
        identity: Option<SecretString>,
        identity_env: &str,
    ) -> Result<Escrow, EscrowError> {
        let recipient = age::x25519::Recipient::from_str(recipient.trim())
            .map_err(|e| EscrowError::BadRecipient(e.to_string()))?;
        if let Some(id) = &identity {
            age::x25519::Identity::from_str(id.expose_secret().trim()).map_err(|_| {
                EscrowError::BadIdentity {
                    env: identity_env.to_string(),
                }
            })?;
        }
        Ok(Escrow {
            recipient,
            identity,
            identity_env: identity_env.to_string(),
        })
    }

    /// The value, encrypted and armored.
    pub fn seal(&self, value: &SecretString) -> Result<String, EscrowError> {
        let crypto = |e: std::io::Error| EscrowError::Crypto(format!("encryption failed: {e}"));
        let encryptor = age::Encryptor::with_recipients(std::iter::once(
            &self.recipient as &dyn age::Recipient,
        ))
        .map_err(|e| EscrowError::Crypto(format!("encryption failed: {e}")))?;
        let mut out = Vec::new();
        let armored =
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
                .map_err(crypto)?;
        let mut writer = encryptor.wrap_output(armored).map_err(crypto)?;
        writer
            .write_all(value.expose_secret().as_bytes())
            .map_err(crypto)?;
        writer.finish().and_then(|a| a.finish()).map_err(crypto)?;
        String::from_utf8(out).map_err(|e| EscrowError::Crypto(e.to_string()))
    }

    /// The value an armored escrow holds.
    pub fn open(&self, armored: &str) -> Result<SecretString, EscrowError> {
        let Some(identity) = &self.identity else {
            return Err(EscrowError::NoIdentity {
                env: self.identity_env.clone(),
            });
        };
        let identity =
            age::x25519::Identity::from_str(identity.expose_secret().trim()).map_err(|_| {
                EscrowError::BadIdentity {
                    env: self.identity_env.clone(),
                }
            })?;
        let damaged = |reason: String| EscrowError::Damaged {
            env: self.identity_env.clone(),
            reason,
        };
        let decryptor = age::Decryptor::new(age::armor::ArmoredReader::new(armored.as_bytes()))
            .map_err(|e| damaged(e.to_string()))?;
        let mut reader = decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => self.wrong_key(&identity),
                other => damaged(other.to_string()),
            })?;
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| damaged(e.to_string()))?;
        let text = String::from_utf8(bytes.clone())
            .map_err(|_| EscrowError::Crypto("decryption gave non-UTF-8 bytes".to_string()));
        bytes.zeroize();
        text.map(SecretString::from)
    }
}

impl Escrow {
    /// Says which end is wrong when `identity` is not the key a value was sealed to.
    fn wrong_key(&self, identity: &age::x25519::Identity) -> EscrowError {
        let own = identity.to_public().to_string();
        let configured = self.recipient.to_string();
        let env = &self.identity_env;
        let why = if own == configured {
            format!(
                "{env} matches escrow.recipient ({configured}), so the value was sealed to an \
                 earlier recipient: export that earlier identity in {env} for this run, and the \
                 unfinished rotation completes."
            )
        } else {
            format!(
                "{env} is the key of {own}, but escrow.recipient is {configured}: export the \
                 secret key that matches escrow.recipient in {env} (or, if escrow.recipient was \
                 changed since the rotation started, the key of the earlier recipient)."
            )
        };
        EscrowError::WrongKey {
            env: env.clone(),
            why,
        }
    }
}

/// A fresh identity and its recipient (for tests and first-time setup).
pub fn generate_identity() -> (SecretString, String) {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let secret = identity.to_string();
    (
        SecretString::from(secret.expose_secret().to_string()),
        recipient,
    )
}
