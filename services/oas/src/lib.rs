//! The OAS gateway: the HTTP API that label operations staff, finance and
//! their tools talk to, and the orchestrator of the module runs that do the
//! heavy data work.
//!
//! - `cli`: the `oas` binary's subcommands;
//! - `startup`: from settings to a running server (shared with the tests);
//! - `http`: the conventions every route follows (errors, pagination,
//!   request ids, metrics, CORS);
//! - `routes`: the handlers, one area per module;
//! - `runs`: the job runtime (launch module runs, hear their end);
//! - `workflows`: what a run's end leads to, one file per module;
//! - `background`: the error of that work outside requests;
//! - `accounts` and `auth`: accounts and credentials.

pub mod access;
pub mod accounts;
pub mod auth;
pub mod background;
pub mod cli;
pub mod http;
pub mod mail;
pub mod openapi;
pub mod routes;
pub mod runs;
pub mod startup;
pub mod state;
pub mod workflows;
