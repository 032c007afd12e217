//! How module runs report completion: signed webhooks to the gateway (and,
//! in the cloud topology, SQS).

pub mod sqs;
pub mod webhook;
