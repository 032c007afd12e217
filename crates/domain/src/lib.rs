//! The OAS domain: types that validate themselves at construction and the
//! rules of the business, with no I/O. Every other crate of the workspace may
//! depend on this one; it depends on none of ours.

pub mod access;
pub mod catalog;
pub mod fetch;
pub mod file;
pub mod identity;
pub mod job;
pub mod money;
pub mod period;
pub mod statement;
