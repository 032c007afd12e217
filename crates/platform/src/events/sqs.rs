//! Completion events through SQS: module runs publish, the gateway
//! consumes with long polling and deletes a message only once handled. A
//! message that fails (unreadable, or the gateway could not apply it) is
//! left alone: it comes back after the queue's visibility timeout, and after
//! the redrive policy's `maxReceiveCount` SQS moves it to the dead-letter
//! queue, where an operator can look at it.

use std::future::Future;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use oas_domain::job::JobEvent;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the queue service failed: {0}")]
    Service(String),
    #[error("cannot encode the event: {0}")]
    Encode(String),
}

fn service<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: aws_sdk_sqs::error::SdkError<E, R>,
) -> QueueError {
    QueueError::Service(DisplayErrorContext(&error).to_string())
}

/// One queue of job events.
#[derive(Debug, Clone)]
pub struct EventQueue {
    client: Client,
    url: String,
}

/// What handling one message came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Done: the message is deleted.
    Done,
    /// Not done: the message stays, to be retried or dead-lettered.
    Retry,
}

impl EventQueue {
    /// With the standard AWS configuration (`AWS_ENDPOINT_URL_SQS` for a
    /// local stand-in).
    pub async fn from_environment(url: &str) -> Self {
        let shared = aws_config::load_from_env().await;
        Self::new(Client::new(&shared), url)
    }

    pub fn new(client: Client, url: &str) -> Self {
        Self {
            client,
            url: url.to_owned(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn publish(&self, event: &JobEvent) -> Result<(), QueueError> {
        let body = serde_json::to_string(event).map_err(|e| QueueError::Encode(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(service)?;
        Ok(())
    }

    /// Receives up to ten messages, waiting up to `wait` for the first
    /// (long polling), hands each to `handle`, and deletes those handled.
    /// Returns how many were received.
    pub async fn consume_once<F, Fut>(
        &self,
        wait: Duration,
        mut handle: F,
    ) -> Result<usize, QueueError>
    where
        F: FnMut(Result<JobEvent, String>) -> Fut,
        Fut: Future<Output = Handled>,
    {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(i32::try_from(wait.as_secs().min(20)).unwrap_or(20))
            .send()
            .await
            .map_err(service)?;
        let messages = received.messages.unwrap_or_default();
        for message in &messages {
            let event = message
                .body()
                .ok_or_else(|| "an empty message".to_owned())
                .and_then(|body| {
                    serde_json::from_str::<JobEvent>(body)
                        .map_err(|e| format!("not a job event: {e}"))
                });
            if let Err(e) = &event {
                tracing::warn!(message_id = ?message.message_id(), error = %e, "unreadable queue message left for the dead-letter queue");
            }
            if handle(event).await == Handled::Done
                && let Some(receipt) = message.receipt_handle()
            {
                self.client
                    .delete_message()
                    .queue_url(&self.url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .map_err(service)?;
            }
        }
        Ok(messages.len())
    }
}
