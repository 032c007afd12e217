//! JWTs as the API hands them out: HS256-signed, with the claims
//! `token_type`, `exp`, `iat`, `jti` and `user_id`. Access tokens are
//! stateless and short-lived; refresh tokens are recorded by `jti` so each
//! can be exchanged once and revoked.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: TokenType,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub user_id: i64,
}

impl Claims {
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or_default()
    }

    pub fn issued_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.iat, 0).unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token is invalid or expired")]
    Invalid,
    #[error("cannot sign a token: {0}")]
    Signing(String),
}

/// Signs and checks tokens with the deployment's JWT key.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl Tokens {
    pub fn new(secret: &SecretString, access_ttl: Duration, refresh_ttl: Duration) -> Self {
        let key = secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            access_ttl,
            refresh_ttl,
        }
    }

    /// A new token of `token_type` for `user_id`, issued at `now`.
    pub fn issue(
        &self,
        token_type: TokenType,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(String, Claims), TokenError> {
        let ttl = match token_type {
            TokenType::Access => self.access_ttl,
            TokenType::Refresh => self.refresh_ttl,
        };
        let claims = Claims {
            token_type,
            iat: now.timestamp(),
            exp: now.timestamp() + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            user_id,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| TokenError::Signing(e.to_string()))?;
        Ok((token, claims))
    }

    /// Checks signature, expiry (no leeway) and type.
    pub fn verify(&self, token: &str, expected: TokenType) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat"]);
        let claims = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        if claims.token_type != expected {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &str) -> Tokens {
        Tokens::new(
            &SecretString::from(secret.to_owned()),
            Duration::from_secs(900),
            Duration::from_secs(86_400),
        )
    }

    #[test]
    fn issued_tokens_carry_the_documented_claims() {
        let t = tokens(&"k".repeat(40));
        let now = Utc::now();
        let (token, claims) = t.issue(TokenType::Access, 7, now).unwrap();
        assert_eq!(claims.exp - claims.iat, 900);
        assert_eq!(claims.jti.len(), 32);
        let verified = t.verify(&token, TokenType::Access).unwrap();
        assert_eq!(verified, claims);
        let payload = token.split('.').nth(1).unwrap();
        use base64::Engine;
        let json: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, ["exp", "iat", "jti", "token_type", "user_id"]);
        assert_eq!(json["token_type"], "access");
    }

    #[test]
    fn wrong_type_wrong_key_expired_and_tampered_tokens_are_refused() {
        let t = tokens(&"k".repeat(40));
        let (refresh, _) = t.issue(TokenType::Refresh, 7, Utc::now()).unwrap();
        assert!(t.verify(&refresh, TokenType::Access).is_err());
        assert!(
            tokens(&"x".repeat(40))
                .verify(&refresh, TokenType::Refresh)
                .is_err()
        );
        let (old, _) = t
            .issue(
                TokenType::Access,
                7,
                Utc::now() - chrono::Duration::hours(1),
            )
            .unwrap();
        assert!(t.verify(&old, TokenType::Access).is_err());
        let (good, _) = t.issue(TokenType::Access, 7, Utc::now()).unwrap();
        let mut tampered = good.clone();
        tampered.pop();
        assert!(t.verify(&tampered, TokenType::Access).is_err());
    }
}
