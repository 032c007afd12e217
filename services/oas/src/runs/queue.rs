//! Completion events from SQS, beside the webhook. An event is deleted
//! once applied, or once it can never apply (unknown job, mismatch); one
//! that failed for a passing reason (the database) is left to come back,
//! and an unreadable one goes to the dead-letter queue.

use std::time::Duration;

use oas_domain::job::JobEvent;
use oas_platform::events::sqs::{EventQueue, Handled};

use super::apply_event;
use crate::state::AppState;

/// Consumes the queue for as long as the runtime lives.
pub fn spawn_queue_consumer(state: AppState, queue: EventQueue) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let consumed = queue
                .consume_once(Duration::from_secs(20), |event| {
                    handle_queued(&state, event)
                })
                .await;
            if let Err(e) = consumed {
                tracing::error!(error = %e, queue = %queue.url(), "cannot read the events queue; retrying");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    })
}

/// Applies one event from the queue.
pub async fn handle_queued(state: &AppState, event: Result<JobEvent, String>) -> Handled {
    let Ok(event) = event else {
        return Handled::Retry;
    };
    let job_id = event.job_id().to_owned();
    match apply_event(state, event).await {
        Ok(applied) => {
            tracing::info!(job.id = %job_id, ?applied, "queued event handled");
            Handled::Done
        }
        Err(e) if e.is_passing() => Handled::Retry,
        Err(e) => {
            tracing::warn!(job.id = %job_id, error = %e, "queued event cannot apply; dropped");
            Handled::Done
        }
    }
}
