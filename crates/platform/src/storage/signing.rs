//! Signed URLs for the local object store: the gateway serves
//! `/api/storage/{key}` only to requests carrying a signature over the
//! method, the key and an expiry, made with the deployment's key.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const METHOD_PARAM: &str = "X-OAS-Method";
pub const EXPIRES_PARAM: &str = "X-OAS-Expires";
pub const SIGNATURE_PARAM: &str = "X-OAS-Signature";

#[derive(Clone)]
pub struct UrlSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner { .. }")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the URL has expired")]
    Expired,
    #[error("the URL's signature does not match")]
    Invalid,
}

impl UrlSigner {
    /// A signer whose key is derived from `secret` for this purpose only, so
    /// a storage URL can never double as any other signature.
    pub fn new(secret: &[u8]) -> Self {
        let mut mac = hmac_with(secret);
        mac.update(b"oas-storage-url-v1");
        Self {
            key: mac.finalize().into_bytes().to_vec(),
        }
    }

    pub fn sign(&self, method: &str, key: &str, expires: i64) -> String {
        let mut mac = hmac_with(&self.key);
        mac.update(format!("{method}\n{key}\n{expires}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    pub fn verify(
        &self,
        method: &str,
        key: &str,
        expires: i64,
        signature: &str,
        now: i64,
    ) -> Result<(), SignatureError> {
        let expected = self.sign(method, key, expires);
        if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
            return Err(SignatureError::Invalid);
        }
        if now >= expires {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }
}

pub(crate) fn hmac_with(key: &[u8]) -> Hmac<Sha256> {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_method_key_and_expiry() {
        let signer = UrlSigner::new(b"a deployment key of enough length");
        let signature = signer.sign("PUT", "org-1/a.csv", 2_000);
        assert!(
            signer
                .verify("PUT", "org-1/a.csv", 2_000, &signature, 1_000)
                .is_ok()
        );
        assert_eq!(
            signer.verify("GET", "org-1/a.csv", 2_000, &signature, 1_000),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            signer.verify("PUT", "org-1/b.csv", 2_000, &signature, 1_000),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            signer.verify("PUT", "org-1/a.csv", 3_000, &signature, 1_000),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            signer.verify("PUT", "org-1/a.csv", 2_000, &signature, 2_000),
            Err(SignatureError::Expired)
        );
        let other = UrlSigner::new(b"another deployment's key entirely");
        assert_eq!(
            other.verify("PUT", "org-1/a.csv", 2_000, &signature, 1_000),
            Err(SignatureError::Invalid)
        );
    }
}
