//! Members of an organisation and invitations by email.
//!
//! Owners and admins add, re-role and remove members; only owners grant or
//! remove the owner role; anyone may leave. An organisation always keeps at
//! least one owner.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{NaiveDateTime, Utc};
use oas_db::organisations::{
    INVITATION_KEY, Invitation, MEMBERSHIP_KEY, Membership, NewInvitation, NewMembership,
};
use oas_db::users::User;
use oas_db::{DbConnection, DbError};
use oas_domain::access::{Permission, Role};
use oas_domain::identity::Email as EmailAddress;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::access::{self, OrgAccess};
use crate::auth::Authenticated;
use crate::http::error::ErrorBody;
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::time::utc;
use crate::http::{ApiError, ApiJson};
use crate::mail::Email;
use crate::routes::views::UserRef;
use crate::state::AppState;

pub const LAST_OWNER: &str = "An organisation must keep at least one owner.";

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    /// The membership id (used in this resource's URLs).
    pub id: i64,
    pub user: UserRef,
    #[schema(value_type = String, example = "member")]
    pub role: Role,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

fn member_out(membership: Membership, user: &User) -> MemberOut {
    MemberOut {
        id: membership.id,
        user: UserRef::from(user),
        role: membership.role.parse().unwrap_or(Role::Viewer),
        created_at: membership.created_at,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationOut {
    pub id: i64,
    pub email: String,
    #[schema(value_type = String, example = "member")]
    pub role: Role,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

impl From<Invitation> for InvitationOut {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role.parse().unwrap_or(Role::Viewer),
            created_at: i.created_at,
        }
    }
}

/// What [`AddMember`]'s derive cannot say: a username or an email, not both.
pub fn add_member_one_of() -> serde_json::Value {
    serde_json::json!([
        {"required": ["username"],
         "properties": {"username": {"type": "string"}, "email": {"type": "null"}}},
        {"required": ["email"],
         "properties": {"email": {"type": "string"}, "username": {"type": "null"}}},
    ])
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    /// An existing account's username…
    #[validate(length(min = 1, max = 150))]
    #[schema(min_length = 1, max_length = 150)]
    pub username: Option<String>,
    /// …or an email: an existing account joins at once, anyone else is
    /// invited and joins when their account is created.
    #[validate(length(min = 1, max = 254))]
    #[schema(format = Email, min_length = 1, max_length = 254)]
    pub email: Option<String>,
    #[validate(required)]
    #[schema(example = "member", required = true, nullable = false, value_type = String, schema_with = crate::http::schema::role)]
    pub role: Option<Role>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    #[validate(required)]
    #[schema(example = "admin", required = true, nullable = false, value_type = String, schema_with = crate::http::schema::role)]
    pub role: Option<Role>,
}

/// Owners are managed by owners only.
fn may_touch(access: &OrgAccess, roles: &[Role]) -> Result<(), ApiError> {
    if roles.contains(&Role::Owner) && !access.role.can(Permission::ManageOwners) {
        return Err(ApiError::forbidden());
    }
    Ok(())
}

/// Refuses a change that would leave no owner.
fn keep_an_owner(
    conn: &mut DbConnection,
    organisation_id: i64,
    target: &Membership,
) -> Result<(), DbError> {
    if target.role == Role::Owner.as_str()
        && Membership::count_with_role(conn, organisation_id, Role::Owner.as_str())? <= 1
    {
        return Err(DbError::Conflict(LAST_OWNER.into()));
    }
    Ok(())
}

fn conflict_detail(error: DbError) -> ApiError {
    match error {
        DbError::Conflict(message) if message == LAST_OWNER => ApiError::conflict(LAST_OWNER),
        other => other.into(),
    }
}

/// The organisation's members.
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id"), PageQuery),
    responses(
        (status = 200, description = "A page of members", body = Page<MemberOut>),
        (status = 404, description = "Not found, not a member, or no account has the username given", body = ErrorBody),
    ),
)]
#[get("/api/organisations/{id}/members/")]
pub async fn list_members(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<MemberOut>>, ApiError> {
    let org = access::require(&state, &auth, *id, Permission::View)
        .await?
        .organisation;
    let pagination = Pagination::new(&query, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rows, total) = state
        .db
        .run(move |conn| Membership::list(conn, org.id, offset, limit))
        .await?;
    let results = rows.into_iter().map(|(m, u)| member_out(m, &u)).collect();
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        results,
    )?))
}

enum Added {
    Member(MemberOut),
    Invited(Invitation),
}

/// Add an existing account (by username or email), or invite an email that
/// has no account yet (answered 202, and an invitation email is sent).
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    request_body = AddMember,
    responses(
        (status = 201, description = "Added", body = MemberOut),
        (status = 202, description = "Invited by email", body = InvitationOut),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "The caller's role may not (only owners add owners)", body = ErrorBody),
        (status = 404, description = "Not found, not a member, or no account has the username given", body = ErrorBody),
        (status = 409, description = "Already a member or already invited", body = ErrorBody),
    ),
)]
#[post("/api/organisations/{id}/members/")]
pub async fn add_member(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<AddMember>,
) -> Result<HttpResponse, ApiError> {
    let access = access::require(&state, &auth, *id, Permission::ManageMembers).await?;
    let ApiJson(AddMember {
        username,
        email,
        role,
    }) = body;
    let role = role.unwrap_or(Role::Viewer);
    may_touch(&access, &[role])?;
    let email = match email {
        Some(raw) => Some(EmailAddress::parse(&raw).map_err(|e| ApiError::field("email", &e.0))?),
        None => None,
    };
    if username.is_some() == email.is_some() {
        return Err(ApiError::field(
            "non_field_errors",
            "Give either a username or an email.",
        ));
    }
    let organisation = access.organisation.clone();
    let inviter = auth.user.id;
    let added = state
        .db
        .transaction(move |conn| {
            let user = match (&username, &email) {
                (Some(name), _) => User::find_by_username(conn, name)?,
                (_, Some(address)) => User::find_by_email(conn, address.as_str())?,
                _ => None,
            };
            let now = Utc::now().naive_utc();
            match (user, email) {
                (Some(user), _) => {
                    let membership = Membership::insert(
                        conn,
                        &NewMembership {
                            organisation_id: organisation.id,
                            user_id: user.id,
                            role: role.as_str(),
                            created_at: now,
                        },
                    )?;
                    Ok(Added::Member(member_out(membership, &user)))
                }
                (None, Some(address)) => Ok(Added::Invited(Invitation::insert(
                    conn,
                    &NewInvitation {
                        organisation_id: organisation.id,
                        email: address.as_str(),
                        role: role.as_str(),
                        invited_by: Some(inviter),
                        created_at: now,
                    },
                )?)),
                (None, None) => Err(DbError::NotFound),
            }
        })
        .await
        .map_err(|e| match e {
            DbError::Conflict(c) if c.contains(MEMBERSHIP_KEY) || c.contains("memberships") => {
                ApiError::conflict("This user is already a member.")
            }
            DbError::Conflict(c) if c.contains(INVITATION_KEY) || c.contains("invitations") => {
                ApiError::conflict("This email is already invited.")
            }
            // The account named does not exist: 404, as for any missing
            // thing a request names.
            DbError::NotFound => ApiError::new(
                crate::http::error::ErrorCode::NotFound,
                "No account has this username.",
            ),
            other => other.into(),
        })?;
    match added {
        Added::Member(member) => Ok(HttpResponse::Created().json(member)),
        Added::Invited(invitation) => {
            let sent = state
                .mailer
                .send(Email {
                    to: invitation.email.clone(),
                    subject: format!("You are invited to {} on OAS", access.organisation.name),
                    body: format!(
                        "Hello,\n\n{} invited you to join {} on OAS as {}.\n\n\
                         Request an account with this email address; once an administrator approves it, \
                         you will find {} among your organisations.\n",
                        auth.user.username, access.organisation.name, role, access.organisation.name
                    ),
                })
                .await;
            if let Err(e) = sent {
                tracing::error!(error = %e, invitation = invitation.id, "invitation email not sent");
            }
            Ok(HttpResponse::Accepted().json(InvitationOut::from(invitation)))
        }
    }
}

/// Change a member's role. Only owners grant or take away the owner role.
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id"), ("member_id" = i64, Path, description = "Membership id")),
    request_body = ChangeRole,
    responses(
        (status = 200, description = "Changed", body = MemberOut),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "The caller's role may not", body = ErrorBody),
        (status = 404, description = "No such member here", body = ErrorBody),
        (status = 409, description = "It would leave no owner", body = ErrorBody),
    ),
)]
#[patch("/api/organisations/{id}/members/{member_id}/")]
pub async fn change_member_role(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(i64, i64)>,
    body: ApiJson<ChangeRole>,
) -> Result<web::Json<MemberOut>, ApiError> {
    let (org_id, member_id) = path.into_inner();
    let access = access::require(&state, &auth, org_id, Permission::ManageMembers).await?;
    let role = body.0.role.unwrap_or(Role::Viewer);
    let (target, user) = state
        .db
        .run(move |conn| Membership::find(conn, org_id, member_id))
        .await?;
    let current = target.role.parse().unwrap_or(Role::Viewer);
    may_touch(&access, &[current, role])?;
    let member = state
        .db
        .transaction(move |conn| {
            if role != Role::Owner {
                keep_an_owner(conn, org_id, &target)?;
            }
            Membership::set_role(conn, target.id, role.as_str())?;
            let (updated, user) = Membership::find(conn, org_id, target.id)?;
            Ok(member_out(updated, &user))
        })
        .await
        .map_err(conflict_detail)?;
    debug_assert_eq!(member.user.id, user.id);
    Ok(web::Json(member))
}

/// Remove a member, or leave (any member may remove themselves).
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id"), ("member_id" = i64, Path, description = "Membership id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "The caller's role may not", body = ErrorBody),
        (status = 404, description = "No such member here", body = ErrorBody),
        (status = 409, description = "It would leave no owner", body = ErrorBody),
    ),
)]
#[delete("/api/organisations/{id}/members/{member_id}/")]
pub async fn remove_member(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (org_id, member_id) = path.into_inner();
    let access = access::require(&state, &auth, org_id, Permission::View).await?;
    let leaving = access
        .membership
        .as_ref()
        .is_some_and(|m| m.id == member_id);
    if !leaving {
        if !access.role.can(Permission::ManageMembers) {
            return Err(ApiError::forbidden());
        }
        let (target, _) = state
            .db
            .run(move |conn| Membership::find(conn, org_id, member_id))
            .await?;
        may_touch(&access, &[target.role.parse().unwrap_or(Role::Viewer)])?;
    }
    state
        .db
        .transaction(move |conn| {
            let (target, _) = Membership::find(conn, org_id, member_id)?;
            keep_an_owner(conn, org_id, &target)?;
            Membership::delete(conn, target.id)?;
            User::clear_active_organisation(conn, target.user_id, org_id)
        })
        .await
        .map_err(conflict_detail)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Invitations not yet accepted (owners and admins).
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id"), PageQuery),
    responses(
        (status = 200, description = "A page of invitations", body = Page<InvitationOut>),
        (status = 403, description = "The caller's role may not", body = ErrorBody),
        (status = 404, description = "Not found, or not a member", body = ErrorBody),
    ),
)]
#[get("/api/organisations/{id}/invitations/")]
pub async fn list_invitations(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<InvitationOut>>, ApiError> {
    let org = access::require(&state, &auth, *id, Permission::ManageMembers)
        .await?
        .organisation;
    let pagination = Pagination::new(&query, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rows, total) = state
        .db
        .run(move |conn| Invitation::list_pending(conn, org.id, offset, limit))
        .await?;
    let results = rows.into_iter().map(InvitationOut::from).collect();
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        results,
    )?))
}

/// Withdraw an invitation (owners and admins).
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id"), ("invitation_id" = i64, Path, description = "Invitation id")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, description = "The caller's role may not", body = ErrorBody),
        (status = 404, description = "No such pending invitation here", body = ErrorBody),
    ),
)]
#[delete("/api/organisations/{id}/invitations/{invitation_id}/")]
pub async fn withdraw_invitation(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (org_id, invitation_id) = path.into_inner();
    let org = access::require(&state, &auth, org_id, Permission::ManageMembers)
        .await?
        .organisation;
    state
        .db
        .run(move |conn| Invitation::delete(conn, org.id, invitation_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
