//! The one place organisation-scoped requests are authorised.
//!
//! Someone who is not a member learns nothing: the organisation "does not
//! exist" for them (404). A member without the permission gets 403. Global
//! superusers act as owners of every organisation.

use oas_db::organisations::{Membership, Organisation};
use oas_domain::access::{Permission, Role};

use crate::auth::Authenticated;
use crate::http::ApiError;
use crate::http::error::ErrorCode;
use crate::state::AppState;

pub const ORGANISATION_NOT_FOUND: &str = "Organization not found.";

pub fn organisation_not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, ORGANISATION_NOT_FOUND)
}

/// An organisation the caller may act on, and the role they act with.
#[derive(Debug, Clone)]
pub struct OrgAccess {
    pub organisation: Organisation,
    pub role: Role,
    /// The caller's own membership (none for a superuser who is not a member).
    pub membership: Option<Membership>,
}

/// Loads the organisation and checks the caller holds `permission` in it.
pub async fn require(
    state: &AppState,
    auth: &Authenticated,
    organisation_id: i64,
    permission: Permission,
) -> Result<OrgAccess, ApiError> {
    let user_id = auth.user.id;
    let found = state
        .db
        .run(move |conn| Membership::organisation_for_user(conn, organisation_id, user_id))
        .await?;
    let Some((organisation, membership)) = found else {
        return Err(organisation_not_found());
    };
    let role = match &membership {
        Some(m) => m.role.parse::<Role>().map_err(ApiError::internal)?,
        None if auth.user.is_superuser => Role::Owner,
        None => return Err(organisation_not_found()),
    };
    if !role.can(permission) {
        return Err(ApiError::forbidden());
    }
    Ok(OrgAccess {
        organisation,
        role,
        membership,
    })
}

/// As [`require`], for something that belongs to an organisation (a file,
/// a job): when the caller is no member, the thing itself "does not exist".
pub async fn require_for_object(
    state: &AppState,
    auth: &Authenticated,
    organisation_id: i64,
    permission: Permission,
) -> Result<OrgAccess, ApiError> {
    require(state, auth, organisation_id, permission)
        .await
        .map_err(|e| {
            if e.code() == ErrorCode::NotFound {
                ApiError::not_found()
            } else {
                e
            }
        })
}
