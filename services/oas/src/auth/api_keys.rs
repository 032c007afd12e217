//! API keys look like `A2QnAjPg.2tBY21luBv1V1X1krrXQtmadPpwcuUjH`: an
//! 8-character prefix that finds the stored row, a dot, and a 32-character
//! secret. The key has about 238 bits of entropy, so a fast SHA-256 of it is
//! enough to store (a slow password hash would only slow every request).

use chrono::{NaiveDateTime, Utc};
use oas_db::api_keys::{ApiKey, NewApiKey, PREFIX_KEY};
use oas_db::{Database, DbError};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const PREFIX_LEN: usize = 8;
pub const SECRET_LEN: usize = 32;

/// A freshly generated key, to be shown once.
pub struct IssuedKey {
    pub key: String,
    pub record: ApiKey,
}

fn random_text(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

pub fn hash(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The prefix of a well-formed key, or `None`.
pub fn prefix_of(key: &str) -> Option<&str> {
    let (prefix, secret) = key.split_once('.')?;
    let alphanumeric = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    (prefix.len() == PREFIX_LEN
        && secret.len() == SECRET_LEN
        && alphanumeric(prefix)
        && alphanumeric(secret))
    .then_some(prefix)
}

/// Whether `key` is the one `stored` was made from (constant time).
pub fn matches(key: &str, stored: &ApiKey) -> bool {
    hash(key)
        .as_bytes()
        .ct_eq(stored.key_hash.as_bytes())
        .into()
}

/// Creates a key for `user_id`; the plain key exists only in the result.
pub async fn issue(
    db: &Database,
    user_id: i64,
    name: &str,
    expires_at: Option<NaiveDateTime>,
) -> Result<IssuedKey, DbError> {
    let name = name.to_owned();
    db.run(move |conn| {
        // A prefix collision (one in 62^8 per pair) is retried, never shared.
        let mut attempts = 0;
        loop {
            let key = format!("{}.{}", random_text(PREFIX_LEN), random_text(SECRET_LEN));
            let record = ApiKey::insert(
                conn,
                &NewApiKey {
                    user_id,
                    name: &name,
                    prefix: &key[..PREFIX_LEN],
                    key_hash: &hash(&key),
                    created_at: Utc::now().naive_utc(),
                    expires_at,
                },
            );
            match record {
                Ok(record) => return Ok(IssuedKey { key, record }),
                Err(e) if e.is_conflict_on(PREFIX_KEY) && attempts < 3 => attempts += 1,
                Err(e) => return Err(e),
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_documented_shape() {
        let key = format!("{}.{}", random_text(PREFIX_LEN), random_text(SECRET_LEN));
        assert_eq!(key.len(), 41);
        assert_eq!(prefix_of(&key), Some(&key[..8]));
        assert_eq!(
            prefix_of("A2QnAjPg.2tBY21luBv1V1X1krrXQtmadPpwcuUjH"),
            Some("A2QnAjPg")
        );
        for bad in [
            "",
            "A2QnAjPg",
            "A2QnAjP.2tBY21luBv1V1X1krrXQtmadPpwcuUjHx",
            "A2QnAjPg.2tBY21luBv1V1X1krrXQtmadPpwcuUj!",
            "A2QnAjPg-2tBY21luBv1V1X1krrXQtmadPpwcuUjH",
        ] {
            assert_eq!(prefix_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
