//! Who may do what inside an organisation. Every route asks this one table.
//!
//! Owners may do everything; admins manage the organisation, its members
//! (but not its owners), contacts and settings; members also process files
//! and create reports; viewers read. Activating or deactivating an
//! organisation and granting or removing ownership are for owners alone.
//! Global superusers act as owners everywhere.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
}

/// Something a member may be allowed to do in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See the organisation, its members, contacts and settings.
    View,
    /// Change name, currencies, image.
    Update,
    /// Activate or deactivate the organisation.
    ChangeStatus,
    /// Add, invite, re-role and remove members other than owners.
    ManageMembers,
    /// Grant or remove the owner role.
    ManageOwners,
    ManageContacts,
    ManageSettings,
    /// Upload, clean, import and delete sales files.
    ProcessFiles,
    /// Request reports and statements.
    CreateReports,
}

impl Permission {
    pub const ALL: [Permission; 9] = [
        Permission::View,
        Permission::Update,
        Permission::ChangeStatus,
        Permission::ManageMembers,
        Permission::ManageOwners,
        Permission::ManageContacts,
        Permission::ManageSettings,
        Permission::ProcessFiles,
        Permission::CreateReports,
    ];
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    pub fn can(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Owner => true,
            Role::Admin => !matches!(permission, ChangeStatus | ManageOwners),
            Role::Member => matches!(permission, View | ProcessFiles | CreateReports),
            Role::Viewer => matches!(permission, View),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a role: expected owner, admin, member or viewer")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            "viewer" => Ok(Role::Viewer),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Permission::*;
    use super::*;

    /// The whole table, written out: a change to it is a change to this test.
    #[test]
    fn each_role_has_exactly_its_permissions() {
        let expected: [(Role, &[Permission]); 4] = [
            (Role::Owner, &Permission::ALL),
            (
                Role::Admin,
                &[
                    View,
                    Update,
                    ManageMembers,
                    ManageContacts,
                    ManageSettings,
                    ProcessFiles,
                    CreateReports,
                ],
            ),
            (Role::Member, &[View, ProcessFiles, CreateReports]),
            (Role::Viewer, &[View]),
        ];
        for (role, allowed) in expected {
            for permission in Permission::ALL {
                assert_eq!(
                    role.can(permission),
                    allowed.contains(&permission),
                    "{role} {permission:?}"
                );
            }
        }
    }

    #[test]
    fn roles_round_trip_through_text() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("superuser".parse::<Role>().is_err());
    }
}
