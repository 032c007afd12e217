//! The gateway, driven over HTTP (an in-process server on port 0) and as the
//! real `oas` binary.
// Test code: a failed expectation should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod auth;
mod binary;
mod cloud;
mod contracts;
mod conventions;
mod deployment;
mod faults;
mod files;
mod jobs;
mod openapi;
mod ops;
mod organisations;
mod payees;
mod pipeline;
mod registrations;
mod robustness;
mod shutdown;
mod snapshots;
mod storage;
mod users;
