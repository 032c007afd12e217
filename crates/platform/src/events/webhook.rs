//! Signed webhooks. A delivery carries `X-OAS-Event-Id` (the job id, the
//! same on every retry), and `X-OAS-Signature: t=<unix time>,v1=<hex>`, an
//! HMAC-SHA256 with the deployment's webhook key over `{id}.{t}.{body}`.
//! Receivers refuse a missing, malformed or wrong signature, and one more
//! than five minutes away from their clock, so a captured delivery cannot be
//! replayed later.

use hmac::Mac;
use subtle::ConstantTimeEq;

use crate::storage::signing::hmac_with;

pub const ID_HEADER: &str = "X-OAS-Event-Id";
pub const SIGNATURE_HEADER: &str = "X-OAS-Signature";
/// How far a signature's time may be from the receiver's clock.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the delivery is not signed")]
    Missing,
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature is older or newer than five minutes")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

fn signature(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = hmac_with(secret);
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `X-OAS-Signature` value for a delivery made at `timestamp`.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        signature(secret, id, timestamp, body)
    )
}

/// Checks a delivery's signature header against its id and body at `now`.
pub fn verify(
    secret: &[u8],
    id: &str,
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), WebhookError> {
    let header = header.ok_or(WebhookError::Missing)?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => candidates.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::Malformed)?;
    if candidates.is_empty() {
        return Err(WebhookError::Malformed);
    }
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(WebhookError::Stale);
    }
    let expected = signature(secret, id, timestamp, body);
    // Several v1 values let a sender sign with an old and a new key while keys rotate.
    if candidates
        .iter()
        .any(|c| bool::from(expected.as_bytes().ct_eq(c.as_bytes())))
    {
        Ok(())
    } else {
        Err(WebhookError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"the deployment's webhook key, long enough";

    #[test]
    fn a_signed_delivery_verifies_and_any_change_breaks_it() {
        let body = br#"{"version":"1","job_id":"abc12345"}"#;
        let header = sign(KEY, "abc12345", 1_000_000, body);
        assert_eq!(
            verify(KEY, "abc12345", Some(&header), body, 1_000_100),
            Ok(())
        );
        assert_eq!(
            verify(KEY, "abc12346", Some(&header), body, 1_000_100),
            Err(WebhookError::Mismatch)
        );
        assert_eq!(
            verify(KEY, "abc12345", Some(&header), b"{}", 1_000_100),
            Err(WebhookError::Mismatch)
        );
        assert_eq!(
            verify(b"another key", "abc12345", Some(&header), body, 1_000_100),
            Err(WebhookError::Mismatch)
        );
        assert_eq!(
            verify(KEY, "abc12345", Some(&header), body, 1_000_301),
            Err(WebhookError::Stale)
        );
        assert_eq!(
            verify(KEY, "abc12345", Some(&header), body, 999_699),
            Err(WebhookError::Stale)
        );
        assert_eq!(
            verify(KEY, "abc12345", None, body, 1_000_000),
            Err(WebhookError::Missing)
        );
        assert_eq!(
            verify(KEY, "abc12345", Some("v1=00"), body, 1_000_000),
            Err(WebhookError::Malformed)
        );
        let forged_time = header.replace("t=1000000", "t=1000200");
        assert_eq!(
            verify(KEY, "abc12345", Some(&forged_time), body, 1_000_250),
            Err(WebhookError::Mismatch)
        );
    }
}
